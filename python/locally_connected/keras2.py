"""What Keras 2 and tf-keras wrote, read as this package's layers take it.

Everything about Keras 2's `LocallyConnected1D`/`LocallyConnected2D` lives here: their
configs (a batch dimension in `input_shape`, dtype policies as dicts), tf-keras's three
kernel layouts (one per implementation) and its "same" windows. Nothing here depends on
the layer classes: they call it when they read a config or saved arrays, and
`tf_keras_weights.from_tf_keras` when it takes a live tf-keras layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from locally_connected import _arguments, _keras_internals
from locally_connected.geometry import Geometry
from locally_connected.plan import Plan


def keras3_config(config: dict) -> dict:
    """A LocallyConnected1D/2D config as this package's layers take it.

    Configs written by Keras 2 / tf-keras (they lack `resolved_implementation`) carry the
    batch dimension in `input_shape` (Keras 3's legacy loader renames their
    `batch_input_shape` to it) and may name a mixed-precision policy as a dict; this
    package's own configs are returned unchanged.
    """
    if "resolved_implementation" in config:
        return config
    config = dict(config)
    batch_input_shape = config.pop("input_shape", None)
    if batch_input_shape is not None:
        config["input_shape"] = tuple(batch_input_shape)[1:]
        config.setdefault("batch_size", batch_input_shape[0])
    dtype = config.get("dtype")
    if isinstance(dtype, dict) and dtype.get("class_name") == "Policy":
        config["dtype"] = dtype["config"]["name"]
    return config


def _tf_keras_connected(n: int, k: int, s: int, o: int, padding: str) -> np.ndarray:
    """tf-keras's `conv_connected_inputs` along one dimension, as an `(n, o)` bool mask."""
    center = np.arange(o) * s + (k // 2 if padding == "valid" else 0)
    start = np.maximum(0, center - k // 2)
    end = np.minimum(n, center + k - k // 2)
    position = np.arange(n)[:, None]
    return (position >= start[None, :]) & (position < end[None, :])


def _our_connected(geometry: Geometry, d: int) -> np.ndarray:
    n, k, s = geometry.input_size[d], geometry.kernel_size[d], geometry.strides[d]
    o, before = geometry.output_size[d], geometry.pad_before[d]
    position = np.arange(n)[:, None] - (np.arange(o) * s - before)[None, :]
    return (position >= 0) & (position < k)


def check_representable(geometry: Geometry, layer_name: str | None = None) -> None:
    """Refuses tf-keras "same" geometries whose windows are not Conv's."""
    for d in range(len(geometry.input_size)):
        args = (geometry.input_size[d], geometry.kernel_size[d], geometry.strides[d],
                geometry.output_size[d], geometry.padding)
        if not np.array_equal(_tf_keras_connected(*args), _our_connected(geometry, d)):
            raise ValueError(
                f"{'' if layer_name is None else f'Layer {layer_name!r}: '}"
                f"tf-keras's padding={geometry.padding!r} windows for input size "
                f"{geometry.input_size}, kernel_size={geometry.kernel_size} and "
                f"strides={geometry.strides} are not Conv2D's 'same' windows (tf-keras centres "
                "each window at position*stride and cuts it at the border), so these weights "
                "cannot be represented by locally_connected's layers. Odd kernel sizes with "
                "stride 1 always convert."
            )


def convert_tf_keras_weights(
    weights: Sequence[Any],
    *,
    input_shape: Sequence[int],
    filters: int,
    kernel_size: Any,
    strides: Any,
    padding: str,
    data_format: str,
    implementation: int,
    layer_name: str | None = None,
) -> list[np.ndarray]:
    """Converts a tf-keras LocallyConnected1D/2D's `[kernel, bias]` to this package's layout.

    Args:
        weights: `layer.get_weights()` of the tf-keras layer (or the arrays of its `.h5`
            file, see `read_tf_keras_h5_weights`): `[kernel]` or `[kernel, bias]`.
        input_shape: the tf-keras layer's input shape without the batch dimension.
        filters, kernel_size, strides, padding, data_format, implementation: the
            tf-keras layer's arguments.
        layer_name: named in errors.

    tf-keras kernels: implementation 1 is already this layout; implementation 2 is a dense
    `(*in, channels, *out, filters)` (channels_last) or `(channels, *in, filters, *out)`
    (channels_first) array multiplied by a mask; implementation 3 is the vector of
    nonzeros in sorted `(output index, input index)` order. Biases are identical.

    Raises:
        ValueError: for tf-keras "same" geometries that Conv2D's "same" cannot express.
    """
    input_shape = tuple(_arguments.integer(n, "input_shape") for n in input_shape)
    rank = len(input_shape) - 1
    channels_first = _arguments.data_format(data_format) == "channels_first"
    spatial = input_shape[1:] if channels_first else input_shape[:-1]
    plan = Plan(
        Geometry(
            spatial,
            _arguments.integer_tuple(kernel_size, rank, "kernel_size"),
            _arguments.integer_tuple(strides, rank, "strides"),
            _arguments.choice(padding, "padding", _arguments.PADDINGS),
        ),
        channels=input_shape[0] if channels_first else input_shape[-1],
        filters=_arguments.integer(filters, "filters"),
        channels_first=channels_first,
        dtype="float32",
    )
    implementation = _arguments.implementation(implementation)
    if not 1 <= len(weights) <= 2:
        raise ValueError(f"`weights` must be [kernel] or [kernel, bias]. Received {len(weights)} arrays.")
    kernel, rest = np.asarray(weights[0]), [np.asarray(w) for w in weights[1:]]
    if implementation == 1:
        return [kernel] + rest
    return [_kernel_in_our_layout(kernel, plan, implementation, layer_name)] + rest


def _kernel_in_our_layout(kernel: np.ndarray, plan: Plan, implementation: int, layer_name: str | None) -> np.ndarray:
    """A tf-keras implementation 2 (dense masked) or 3 (vector of nonzeros) kernel in this
    package's layout."""
    check_representable(plan.geometry, layer_name)
    filters = plan.filters
    rows = plan.kernel_rows
    in_size, out_size = plan.input_features, plan.geometry.num_outputs
    connected = rows[:, 0] < in_size  # taps that read padding stay zero
    input_feature, output = rows[connected, 0], rows[connected, 1]
    ours = np.zeros((out_size * plan.features, filters), dtype=kernel.dtype)
    if implementation == 2:
        if plan.channels_first:
            ours[connected] = kernel.reshape(in_size, filters, out_size)[input_feature, :, output]
        else:
            ours[connected] = kernel.reshape(in_size, out_size, filters)[input_feature, output, :]
    else:
        filter_index = np.arange(filters)[None, :]
        if plan.channels_first:
            out_index = filter_index * out_size + output[:, None]
        else:
            out_index = output[:, None] * filters + filter_index
        keys = out_index * in_size + input_feature[:, None]
        if keys.size != kernel.size:
            raise ValueError(
                f"The implementation-3 kernel has {kernel.size} values; this geometry has "
                f"{keys.size} connections. Check input_shape and the layer arguments."
            )
        ours[connected] = kernel[np.searchsorted(np.sort(keys, axis=None), keys)]
    return ours.reshape(plan.kernel_shape)


def saved_kernel_in_our_layout(kernel: np.ndarray, plan: Plan, layer_name: str | None = None) -> np.ndarray:
    """A kernel read from a file for a layer built with `plan`: tf-keras's implementation 2
    (its `2 * rank + 2` dimensions) and 3 (a vector) layouts converted, any other returned
    as it is (ours, tf-keras's implementation 1, or a wrong shape Keras names itself)."""
    kernel = np.asarray(kernel)
    if kernel.shape == plan.kernel_shape:
        return kernel
    implementation = {1: 3, 2 * plan.rank + 2: 2}.get(kernel.ndim)
    if implementation is None:
        return kernel
    return _kernel_in_our_layout(kernel, plan, implementation, layer_name)


def read_tf_keras_h5_weights(path: str, layer_name: str) -> list[np.ndarray]:
    """Reads one layer's `[kernel, bias]` from a tf-keras `.h5` weights or model file."""
    import h5py

    with h5py.File(path, "r") as file:
        group = file["model_weights"] if "model_weights" in file else file
        if layer_name not in group:
            raise ValueError(
                f"`layer_name` {layer_name!r} is not in {path}. Layers there: {list(group.keys())}."
            )
        layer_group = group[layer_name]
        names = [n.decode() if isinstance(n, bytes) else n for n in layer_group.attrs["weight_names"]]
        return [np.asarray(layer_group[name]) for name in names]


_CARRIED_OBJECTS = (
    "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
    "activity_regularizer", "kernel_constraint", "bias_constraint",
)


def _keras3_object(config: Any) -> Any:
    """A tf-keras initializer/regularizer/constraint config as the equal Keras 3 config."""
    if config is None:
        return None
    return {"class_name": config["class_name"], "config": config["config"]}


def _keras3_activation(activation: Any) -> Any:
    """tf-keras's own activations by name (so they serialize as Keras 3's), anything else
    (a custom function) as the function itself."""
    import keras

    name = getattr(activation, "__name__", None)
    is_tf_keras_builtin = getattr(activation, "__module__", "").startswith("tf_keras.src.activations")
    if is_tf_keras_builtin and name is not None:
        try:
            return keras.activations.get(name)
        except ValueError:
            pass
    return activation


def tf_keras_layer_arguments(layer: Any, parameters: Sequence[str]) -> dict:
    """The arguments, among `parameters`, of this package's layer equal to the live
    tf-keras `layer`: its config's values, its objects as Keras 3 configs, its activation
    as a Keras 3 activation (or the custom function itself), its name, dtype policy and
    `trainable`."""
    config = layer.get_config()
    arguments = {name: config[name] for name in parameters if name in config}
    arguments.update({name: _keras3_object(config[name]) for name in _CARRIED_OBJECTS if name in arguments})
    arguments["activation"] = _keras3_activation(layer.activation)
    arguments.update(name=layer.name, dtype=layer.dtype_policy.name, trainable=layer.trainable)
    return arguments


def built_input_shape(layer: Any, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    """The input shape (without the batch) a live tf-keras layer was built with."""
    if not getattr(layer, "built", False):
        raise ValueError(
            f"The tf-keras layer {layer.name!r} is not built, so it has no weights to take: call "
            "it on an input (or build it) first."
        )
    if input_shape is None:
        # tf-keras records the shape it was built with, however it was called (eagerly,
        # inside a custom layer, in a model).
        built_shape = getattr(layer, "_build_input_shape", None)
        if built_shape is None:
            raise ValueError(
                f"The tf-keras layer {layer.name!r} does not record its input shape: pass "
                "`input_shape` (without the batch dimension)."
            )
        input_shape = tuple(built_shape)[1:]
    return tuple(input_shape)


def register_keras2_names(layer_classes) -> None:
    """Lets Keras 3 find the layer classes by the names Keras 2 files give them: bare
    (`"LocallyConnected2D"`, `.h5` files; an entry the user made under that name is kept)
    and as the built-ins `keras.layers.LocallyConnected2D` (tf-keras's `.keras` files)."""
    import keras

    for layer_class in layer_classes:
        keras.saving.get_custom_objects().setdefault(layer_class.__name__, layer_class)
        _keras_internals.find_as_keras_builtin(f"keras.layers.{layer_class.__name__}", layer_class)
