"""Taking weights from tf-keras `LocallyConnected1D`/`LocallyConnected2D` layers.

tf-keras stores a different kernel for each implementation (see `convert_tf_keras_weights`);
this module maps any of them onto this package's single layout. tf-keras is not needed
for the conversion itself, only to hand over a live layer.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

from locally_connected import _arguments
from locally_connected.geometry import Geometry
from locally_connected.implementations import kernel_rows
from locally_connected.layers import LocallyConnected, LocallyConnected1D, LocallyConnected2D


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


def _check_representable(geometry: Geometry, layer_name: str | None = None) -> None:
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
    data_format = _arguments.data_format(data_format)
    channels_first = data_format == "channels_first"
    spatial = input_shape[1:] if channels_first else input_shape[:-1]
    channels = input_shape[0] if channels_first else input_shape[-1]
    geometry = Geometry(
        spatial,
        _arguments.integer_tuple(kernel_size, rank, "kernel_size"),
        _arguments.integer_tuple(strides, rank, "strides"),
        _arguments.choice(padding, "padding", _arguments.PADDINGS),
    )
    implementation = _arguments.implementation(implementation)
    if not 1 <= len(weights) <= 2:
        raise ValueError(f"`weights` must be [kernel] or [kernel, bias]. Received {len(weights)} arrays.")
    kernel, rest = np.asarray(weights[0]), [np.asarray(w) for w in weights[1:]]
    if implementation == 1:
        return [kernel] + rest
    _check_representable(geometry, layer_name)
    features = geometry.num_taps * channels
    filters = _arguments.integer(filters, "filters")
    rows = kernel_rows(geometry, channels, channels_first)
    in_size, out_size = geometry.num_inputs * channels, geometry.num_outputs
    connected = rows[:, 0] < in_size  # taps that read padding stay zero
    input_feature, output = rows[connected, 0], rows[connected, 1]
    ours = np.zeros((out_size * features, filters), dtype=kernel.dtype)
    if implementation == 2:
        if channels_first:
            ours[connected] = kernel.reshape(in_size, filters, out_size)[input_feature, :, output]
        else:
            ours[connected] = kernel.reshape(in_size, out_size, filters)[input_feature, output, :]
    else:
        filter_index = np.arange(filters)[None, :]
        if channels_first:
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
    return [ours.reshape(geometry.num_outputs, features, filters)] + rest


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


def _built_input_shape(layer: Any, input_shape: Sequence[int] | None) -> tuple[int, ...]:
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


def from_tf_keras(
    layer: Any, implementation: int | None = None, input_shape: Sequence[int] | None = None
) -> LocallyConnected:
    """Returns a layer of this package equal to a built tf-keras LocallyConnected1D/2D.

    The tf-keras layer may have been built in a model, called eagerly, or inside a custom
    layer; `input_shape` (without the batch dimension) overrides the shape it was built with.

    The new layer has the same configuration (name, dtype policy, `trainable`,
    initializers, regularizers, constraints, the activation, custom functions included),
    the converted weights, and gives the same outputs. `implementation` defaults to the
    tf-keras layer's.

    Raises:
        ValueError: if the tf-keras layer is not built, or its "same" geometry is not
            Conv's (see `convert_tf_keras_weights`).
    """
    config = layer.get_config()
    input_shape = _built_input_shape(layer, input_shape)
    rank = len(input_shape) - 1
    weights = convert_tf_keras_weights(
        layer.get_weights(),
        input_shape=input_shape,
        filters=config["filters"],
        kernel_size=config["kernel_size"],
        strides=config["strides"],
        padding=config["padding"],
        data_format=config["data_format"],
        implementation=config["implementation"],
        layer_name=layer.name,
    )
    layer_class = LocallyConnected1D if rank == 1 else LocallyConnected2D
    ours = layer_class(
        filters=config["filters"],
        kernel_size=config["kernel_size"],
        strides=config["strides"],
        padding=config["padding"],
        data_format=config["data_format"],
        activation=_keras3_activation(layer.activation),
        use_bias=config["use_bias"],
        **{key: _keras3_object(config[key]) for key in _CARRIED_OBJECTS},
        implementation=config["implementation"] if implementation is None else implementation,
        weights=weights,
        name=layer.name,
        dtype=layer.dtype_policy.name,
        trainable=layer.trainable,
    )
    ours.build((None,) + input_shape)
    return ours


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


def tf_keras_values_in_our_layout(layer: LocallyConnected, values: Sequence[Any]) -> list[Any]:
    """`[kernel, bias]` read from an `.h5` file for a built `layer`, with a kernel that
    tf-keras's implementation 2 or 3 wrote converted to this package's layout; values
    already in this layout (ours, or tf-keras implementation 1) are returned as they are."""
    values = list(values)
    if not values or not layer.built:
        return values
    kernel = np.asarray(values[0])
    if kernel.shape == tuple(layer.kernel.shape):
        return values
    rank = layer.rank
    saved_implementation = {1: 3, 2 * rank + 2: 2}.get(kernel.ndim)
    if saved_implementation is None:
        return values  # Keras names the shape mismatch itself
    input_shape = tuple(layer.input_spec.axes[axis] for axis in range(1, rank + 2))
    return convert_tf_keras_weights(
        values,
        input_shape=input_shape,
        filters=layer.filters,
        kernel_size=layer.kernel_size,
        strides=layer.strides,
        padding=layer.padding,
        data_format=layer.data_format,
        implementation=saved_implementation,
        layer_name=layer.name,
    )


def _take_tf_keras_layouts_in_h5_files() -> None:
    """Lets `keras.models.load_model` / `model.load_weights` read tf-keras's kernels.

    Keras 3 reads `.h5` files (its own and Keras 2's) by assigning each saved array to the
    layer's variable of the same position, shapes compared first
    (`legacy_h5_format._set_weights`). tf-keras's implementations 2 and 3 saved kernels
    of other shapes than this package's one layout, so no variable of the layer can take
    them; converting the arrays right before that assignment is the one point where a
    weights-only file meets a model the user built. Every other layer, and this
    package's own files, pass through unchanged.
    """
    from keras.src.legacy.saving import legacy_h5_format

    assign = legacy_h5_format._set_weights
    if getattr(assign, "takes_tf_keras_layouts", False):
        return

    @functools.wraps(assign)
    def set_weights(instance, symbolic_weights, weight_values, *args, **kwargs):
        if isinstance(instance, LocallyConnected):
            weight_values = tf_keras_values_in_our_layout(instance, weight_values)
        return assign(instance, symbolic_weights, weight_values, *args, **kwargs)

    set_weights.takes_tf_keras_layouts = True
    legacy_h5_format._set_weights = set_weights


_take_tf_keras_layouts_in_h5_files()
