"""The math of the three implementations, as pure functions of (inputs, kernel).

Every implementation takes the same kernel, shaped `(num_outputs, taps * channels,
filters)` with features ordered `(taps, channels)` for channels_last and
`(channels, taps)` for channels_first (tf-keras implementation 1's layout), and
returns `(batch, num_outputs, filters)`. The layer chooses among them; they differ
only in speed and memory.
"""

from __future__ import annotations

import functools
import itertools

import keras
import numpy as np
from keras import ops

from locally_connected.geometry import Geometry


def _spatial_first(inputs, rank: int, channels_first: bool):
    """(batch, *spatial, channels) or (batch, channels, *spatial) -> (*spatial, batch, channels)."""
    spatial = list(range(2, rank + 2)) if channels_first else list(range(1, rank + 1))
    channels = 1 if channels_first else rank + 1
    return ops.transpose(inputs, spatial + [0, channels])


def patches_matmul(inputs, kernel, geometry: Geometry, channels_first: bool):
    """Implementation 1: one strided slice per kernel tap, then one batched matmul.

    The slices are taken from a spatial-first copy of the input so that stacking them
    gives `(num_outputs, batch, features)` without moving the (larger) patch tensor.
    """
    rank = len(geometry.input_size)
    x = _spatial_first(inputs, rank, channels_first)
    if geometry.padding == "same":
        pads = list(zip(geometry.pad_before, geometry.pad_after)) + [(0, 0), (0, 0)]
        x = ops.pad(x, pads)
    taps = []
    for offset in itertools.product(*(range(k) for k in geometry.kernel_size)):
        window = tuple(
            slice(start, start + (o - 1) * s + 1, s)
            for start, o, s in zip(offset, geometry.output_size, geometry.strides)
        )
        taps.append(x[window])
    patches = ops.stack(taps, axis=-1 if channels_first else -2)
    patches = ops.reshape(patches, (geometry.num_outputs, -1, kernel.shape[1]))
    return ops.transpose(ops.matmul(patches, kernel), (1, 0, 2))


@functools.lru_cache(maxsize=16)
def _connections(geometry: Geometry, channels: int, channels_first: bool):
    """The in-bounds (output, kernel feature, input feature) triples, as NumPy index arrays.

    Input features are indexed in the input's own flattening order, so the input needs
    no transpose; kernel features follow the layout's `(taps, channels)` or
    `(channels, taps)` order. Triples come sorted by output, then kernel feature, which
    is also increasing input feature within each output: positions grow with the tap.
    """
    taps = geometry.taps
    output, tap, channel = np.meshgrid(
        np.arange(taps.shape[0]), np.arange(taps.shape[1]), np.arange(channels), indexing="ij"
    )
    position = taps[output, tap]
    if channels_first:
        output, tap, channel, position = (
            np.swapaxes(a, 1, 2) for a in (output, tap, channel, position)
        )
        feature = channel * taps.shape[1] + tap
        input_feature = channel * geometry.num_inputs + position
    else:
        feature = tap * channels + channel
        input_feature = position * channels + channel
    inside = position >= 0
    return output[inside], feature[inside], input_feature[inside]


def dense_kernel_size(geometry: Geometry, channels: int, filters: int) -> int:
    """Number of entries of implementation 2's dense masked kernel."""
    return geometry.num_inputs * channels * geometry.num_outputs * filters


def dense_masked_matmul(inputs, kernel, geometry: Geometry, channels_first: bool):
    """Implementation 2: scatter the kernel into a dense masked matrix, then one matmul.

    The dense matrix is the only large allocation; its zeros are not parameters.
    """
    features, filters = kernel.shape[1], kernel.shape[2]
    channels = features // geometry.num_taps
    output, feature, input_feature = _connections(geometry, channels, channels_first)
    values = ops.take(ops.reshape(kernel, (-1, filters)), output * features + feature, axis=0)
    dense = ops.scatter(
        np.stack([input_feature, output], axis=1),
        values,
        (geometry.num_inputs * channels, geometry.num_outputs, filters),
    )
    dense = ops.reshape(dense, (geometry.num_inputs * channels, geometry.num_outputs * filters))
    flat = ops.reshape(inputs, (-1, geometry.num_inputs * channels))
    return ops.reshape(ops.matmul(flat, dense), (-1, geometry.num_outputs, filters))


@functools.lru_cache(maxsize=16)
def _sparse_layout(geometry: Geometry, channels: int, filters: int, channels_first: bool):
    """COO indices of the `(outputs * filters, inputs * channels)` sparse matrix, sorted
    row-major, and for each entry the index of its weight in the flattened kernel."""
    output, feature, input_feature = _connections(geometry, channels, channels_first)
    counts = np.bincount(output, minlength=geometry.num_outputs)
    starts = np.cumsum(counts) - counts
    rank_in_output = np.arange(output.size) - starts[output]
    filter_index = np.arange(filters)
    # Sorted position of entry (j, f): the block of output o, then filter f, then rank.
    position = (
        (starts[output] * filters + rank_in_output)[:, None]
        + filter_index[None, :] * counts[output][:, None]
    ).ravel()
    indices = np.empty((position.size, 2), dtype=np.int64)
    indices[position, 0] = (output[:, None] * filters + filter_index[None, :]).ravel()
    indices[position, 1] = np.repeat(input_feature, filters)
    kernel_index = np.empty(position.size, dtype=np.int64)
    features = channels * geometry.num_taps
    kernel_index[position] = (
        (output * features + feature)[:, None] * filters + filter_index[None, :]
    ).ravel()
    return indices, kernel_index


def sparse_matmul(inputs, kernel, geometry: Geometry, channels_first: bool):
    """Implementation 3: one sparse-dense matmul over the connected weights only."""
    channels, filters = kernel.shape[1] // geometry.num_taps, kernel.shape[2]
    indices, kernel_index = _sparse_layout(geometry, channels, filters, channels_first)
    values = ops.take(ops.reshape(kernel, (-1,)), kernel_index, axis=0)
    flat = ops.reshape(inputs, (-1, geometry.num_inputs * channels))
    dense_shape = (geometry.num_outputs * filters, geometry.num_inputs * channels)
    result = _sparse_dense_matmul(indices, values, dense_shape, flat)
    return ops.reshape(result, (-1, geometry.num_outputs, filters))


def _sparse_dense_matmul(indices: np.ndarray, values, dense_shape, flat):
    """`flat @ S.T` for the sparse `S` given in sorted COO form, on the active backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        matrix = tf.SparseTensor(indices, values, dense_shape)
        return tf.transpose(tf.sparse.sparse_dense_matmul(matrix, flat, adjoint_b=True))
    if backend == "jax":
        from jax.experimental import sparse as jax_sparse

        matrix = jax_sparse.BCOO((values, indices.astype(np.int32)), shape=dense_shape,
                                 indices_sorted=True, unique_indices=True)
        return (matrix @ flat.T).T
    if backend == "torch":
        import torch

        index = torch.as_tensor(indices.T, device=values.device)
        matrix = torch.sparse_coo_tensor(index, values, dense_shape, is_coalesced=True)
        return torch.sparse.mm(matrix, flat.T).T
    # Any other backend: the same product as a gather and a segment sum.
    gathered = ops.take(flat, indices[:, 1], axis=1) * values
    summed = ops.segment_sum(ops.transpose(gathered), indices[:, 0], num_segments=dense_shape[0],
                             sorted=True)
    return ops.transpose(summed)


IMPLEMENTATION_FUNCTIONS = {1: patches_matmul, 2: dense_masked_matmul, 3: sparse_matmul}


def finish(outputs, geometry: Geometry, bias, channels_first: bool):
    """(batch, num_outputs, filters) -> the layer's output layout, plus the bias.

    The bias is stored as `(*output_size, filters)` in every data format; with
    channels_first it is read in `(filters, *output_size)` order, as tf-keras does.
    """
    filters = outputs.shape[-1]
    if channels_first:
        outputs = ops.transpose(outputs, (0, 2, 1))
        outputs = ops.reshape(outputs, (-1, filters) + geometry.output_size)
        if bias is not None:
            outputs = outputs + ops.reshape(bias, (filters,) + geometry.output_size)
        return outputs
    outputs = ops.reshape(outputs, (-1,) + geometry.output_size + (filters,))
    if bias is not None:
        outputs = outputs + bias
    return outputs
