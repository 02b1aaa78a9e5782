"""Sharding locally connected weights over output positions with `keras.distribution`.

A locally connected layer's kernel, `(positions, taps * channels, filters)`, is its big
tensor, and every output position owns one slice of it. Splitting it over positions gives
each device its share of the weights and keeps each position's product on the device that
holds its weights. `layout_map()` writes the `LayoutMap` entries that do so, for use with
`keras.distribution.ModelParallel` (JAX backend).
"""

from __future__ import annotations

import re

import keras

from locally_connected import _keras_internals
from locally_connected.layers import LocallyConnected

# The default names Keras gives the layers: locally_connected2d, locally_connected2d_1, ...
# at any depth of a model's path. Anchored: Keras 3.6 to 3.13 match LayoutMap keys with
# re.search, later versions with re.fullmatch; both then match whole paths only.
_DEFAULT_PATH = r"^(?:.*/)?locally_connected{rank}d(?:_\d+)?/{weight}$"


def layout_map(
    model_or_mesh,
    mesh: keras.distribution.DeviceMesh | None = None,
    *,
    axis: str = "model",
    into: keras.distribution.LayoutMap | None = None,
) -> keras.distribution.LayoutMap:
    """`LayoutMap` entries that shard every locally connected kernel and bias over output positions.

    The kernel `(kernels, features, filters)` (one kernel per output position, or per block
    of positions with `weight_sharing`) is split along its first axis over the mesh axis
    `axis`, and the bias `(*output_size or *blocks, filters)` along its first spatial axis,
    so that each device holds the kernels and biases of its own contiguous block of
    output positions. Every other variable is left to the user's entries (or replicated).

    Args:
        model_or_mesh: either
            - a `keras.distribution.DeviceMesh`: the entries are patterns matching the
              weights of every locally connected layer with a default name
              (`locally_connected2d`, `locally_connected2d_3`, at any depth); use it
              before the model exists, as `ModelParallel` needs;
            - a Keras model or layer, built: the entries are the exact paths of the
              weights of each locally connected layer in it, whatever its name, and each
              layer's positions are checked to split evenly. Give the mesh as `mesh`
              (or through `into`).
        mesh: the `DeviceMesh`, when `model_or_mesh` is a model or layer.
        axis: the mesh axis to shard positions over.
        into: an existing `LayoutMap` (the user's own entries) to add the entries to;
            a new one on the mesh otherwise. Exact paths take precedence over patterns,
            so entries made from a model never clash with the user's patterns.

    Returns:
        The `LayoutMap` (`into` when given), to pass to
        `keras.distribution.ModelParallel(layout_map=...)`.

    Example:

    ```python
    mesh = keras.distribution.DeviceMesh((2, 4), ("batch", "model"), keras.distribution.list_devices())
    layouts = keras.distribution.LayoutMap(mesh)
    layouts[".*dense.*kernel"] = (None, "model")
    locally_connected.distribution.layout_map(mesh, into=layouts)
    keras.distribution.set_distribution(
        keras.distribution.ModelParallel(layout_map=layouts, batch_dim_name="batch"))
    model = make_model()  # variables created sharded
    ```
    """
    if isinstance(model_or_mesh, keras.distribution.DeviceMesh):
        if mesh is not None:
            raise ValueError("`mesh` is only for a model or layer: `model_or_mesh` is already a DeviceMesh.")
        mesh = model_or_mesh
    elif not isinstance(model_or_mesh, keras.layers.Layer):
        raise TypeError(
            "`model_or_mesh` must be a keras.distribution.DeviceMesh or a Keras model or layer; "
            f"received {type(model_or_mesh).__name__}."
        )
    mesh = _mesh(mesh, into)
    if axis not in mesh.axis_names:
        raise ValueError(f"`axis` must be one of the mesh's axis names {tuple(mesh.axis_names)}; received {axis!r}.")
    result = into if into is not None else keras.distribution.LayoutMap(mesh)
    if isinstance(model_or_mesh, keras.distribution.DeviceMesh):
        entries = _pattern_entries(axis)
    else:
        shards = mesh.shape[list(mesh.axis_names).index(axis)]
        entries = _model_entries(model_or_mesh, axis, shards)
    for key, axes in entries:
        result[key] = axes
    return result


def _mesh(mesh, into):
    if into is not None:
        if not isinstance(into, keras.distribution.LayoutMap):
            raise TypeError(f"`into` must be a keras.distribution.LayoutMap; received {type(into).__name__}.")
        if mesh is not None and mesh is not into.device_mesh:
            raise ValueError("`mesh` and `into`'s device mesh differ: give one of them.")
        mesh = into.device_mesh
    if not isinstance(mesh, keras.distribution.DeviceMesh):
        raise ValueError(
            "Give the keras.distribution.DeviceMesh to shard over, as `mesh` or through `into`; "
            f"received mesh={mesh!r}."
        )
    return mesh


def _layout(axis: str, rank: int) -> tuple:
    return (axis,) + (None,) * (rank - 1)


def _pattern_entries(axis: str):
    for rank in (1, 2, 3):
        yield _DEFAULT_PATH.format(rank=rank, weight="kernel"), _layout(axis, 3)
        yield _DEFAULT_PATH.format(rank=rank, weight="bias"), _layout(axis, rank + 1)


def _model_entries(model, axis: str, shards: int):
    layers = [layer for layer in _keras_internals.flatten_layers(model) if isinstance(layer, LocallyConnected)]
    if not layers:
        raise ValueError(f"`model_or_mesh` ({model.name!r}) holds no locally connected layer to shard.")
    for layer in layers:
        if not layer.built:
            raise ValueError(f"Layer {layer.name!r} is not built: build the model before reading its paths.")
        # One kernel per output position, or per block of positions with weight_sharing.
        kernels = layer.kernel.shape[0]
        shared = set(layer.weight_sharing) != {1}
        # The bias (*output_size or *blocks, filters) splits along its first spatial axis.
        first = layer.bias.shape[0] if layer.use_bias else None
        if kernels % shards or (first is not None and first % shards):
            along = f" ({first} along the first spatial axis)" if first is not None else ""
            what = f"kernels (blocks of weight_sharing={layer.weight_sharing})" if shared else "output positions"
            raise ValueError(
                f"Layer {layer.name!r}: its {kernels} {what}{along} do not split "
                f"evenly over the {shards} devices of mesh axis {axis!r}. "
                "Change the mesh axis size, or the layer's input size, strides, padding"
                f"{' or weight_sharing' if shared else ''}."
            )
        yield _exact_key(layer.kernel.path, model), _layout(axis, 3)
        if layer.use_bias:
            yield _exact_key(layer.bias.path, model), _layout(axis, len(layer.bias.shape))


def _exact_key(path: str, model) -> str:
    """The path itself when, read as a pattern, it matches no other variable of the model:
    LayoutMap looks a path up as is before it tries keys as patterns, so the entry then wins
    over the user's patterns. Otherwise (names with pattern characters) its escape, anchored
    (Keras 3.6 to 3.13 match keys anywhere in a path, with re.search)."""
    try:
        if not any(re.search(path, v.path) for v in model.weights if v.path != path):
            return path
    except re.error:
        pass
    return f"^{re.escape(path)}$"
