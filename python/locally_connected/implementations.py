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
import warnings

import keras
import numpy as np
from keras import ops

from locally_connected.geometry import Geometry


def _spatial_first(inputs, rank: int, channels_first: bool):
    """(batch, *spatial, channels) or (batch, channels, *spatial) -> (*spatial, batch, channels)."""
    spatial = list(range(2, rank + 2)) if channels_first else list(range(1, rank + 1))
    channels = 1 if channels_first else rank + 1
    return ops.transpose(inputs, spatial + [0, channels])


def _phase_length(geometry: Geometry) -> tuple[int, ...]:
    """Per dimension, the length of each stride phase of the padded input."""
    return tuple(
        -(-(n + before + after) // s)
        for n, before, after, s in zip(
            geometry.input_size, geometry.pad_before, geometry.pad_after, geometry.strides
        )
    )


def _tap_windows(geometry: Geometry):
    """Per kernel tap (row-major): its index into the phase-split input
    `(L_1, s_1, ..., L_r, s_r, batch, channels)`. Tap `q * s + r` of a dimension reads
    phase `r` from position `q`, so every tap is a unit-stride slice of one phase."""
    for offset in itertools.product(*(range(k) for k in geometry.kernel_size)):
        index = ()
        for start, o, s in zip(offset, geometry.output_size, geometry.strides):
            q, r = divmod(start, s)
            index += (slice(q, q + o), r)
        yield index


def extract_patches(inputs, geometry: Geometry, channels_first: bool):
    """`(num_outputs, batch, taps * channels)` patches of the input, features ordered
    `(taps, channels)` in both data formats (the channels_last kernel order).

    The (padded) input is split into stride phases so that each kernel tap is one
    unit-stride slice; the slices are stacked. The gradient adds each tap's gradient into
    its phase with one pad per tap and interleaves the phases back (autodiff of strided
    slices would build a full-size tensor per tap through slow strided-slice gradients).
    """
    rank = len(geometry.input_size)
    windows = list(_tap_windows(geometry))
    lengths = _phase_length(geometry)
    split_shape = tuple(v for length, s in zip(lengths, geometry.strides) for v in (length, s))

    @ops.custom_gradient
    def patches(inputs):
        x = _spatial_first(inputs, rank, channels_first)
        channels = x.shape[-1]
        pads = [
            (before, length * s - n - before)
            for n, before, length, s in zip(geometry.input_size, geometry.pad_before, lengths, geometry.strides)
        ]
        if any(p != (0, 0) for p in pads):
            x = ops.pad(x, pads + [(0, 0), (0, 0)])
        x = ops.reshape(x, split_shape + (-1, channels))
        # Channels innermost in both data formats: each tap writes whole channel rows.
        stacked = ops.stack([x[window] for window in windows], axis=-2)
        result = ops.reshape(stacked, (geometry.num_outputs, -1, channels * len(windows)))

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            per_tap = ops.reshape(upstream, geometry.output_size + (-1, len(windows), channels))
            phases = {}
            for index, window in enumerate(windows):
                tap = per_tap[..., index, :]
                positions, phase = window[0::2], window[1::2]
                placed = ops.pad(
                    tap,
                    [(p.start, length - p.stop) for p, length in zip(positions, lengths)] + [(0, 0), (0, 0)],
                )
                phases[phase] = placed if phase not in phases else phases[phase] + placed
            gradient = _interleave(phases, geometry.strides, ops.zeros_like(placed))
            inside = tuple(slice(b, b + n) for b, n in zip(geometry.pad_before, geometry.input_size))
            gradient = ops.reshape(gradient, tuple(length * s for length, s in zip(lengths, geometry.strides))
                                   + (-1, channels))[inside]
            # (*spatial, batch, channels) back to the input's layout.
            order = (rank, rank + 1) + tuple(range(rank)) if channels_first else (
                (rank,) + tuple(range(rank)) + (rank + 1,))
            return ops.transpose(gradient, order)

        return result, grad

    return patches(inputs)


def _interleave(phases: dict, strides: tuple[int, ...], zeros, prefix: tuple = ()):
    """Stacks phase tensors `(L_1, ..., L_r, batch, channels)` into
    `(L_1, s_1, ..., L_r, s_r, batch, channels)`; phases no tap reads are zeros."""
    depth = len(prefix)
    if depth == len(strides):
        return phases.get(prefix, zeros)
    parts = [_interleave(phases, strides, zeros, prefix + (r,)) for r in range(strides[depth])]
    return ops.stack(parts, axis=depth + 1)


def patches_matmul(inputs, kernel, geometry: Geometry, channels_first: bool):
    """Implementation 1: patches (one unit-stride slice of a stride phase per kernel tap),
    then one batched matmul over output positions: `(P, batch, features) @ (P, features, filters)`."""
    patches = extract_patches(inputs, geometry, channels_first)
    if channels_first:
        # The kernel's (channels, taps) rows to the patches' (taps, channels): the kernel is
        # smaller than the patches, and patches with a tap innermost are slow to write.
        outputs, features, filters = kernel.shape
        kernel = ops.reshape(kernel, (outputs, features // geometry.num_taps, geometry.num_taps, filters))
        kernel = ops.reshape(ops.transpose(kernel, (0, 2, 1, 3)), (outputs, features, filters))
    return ops.transpose(ops.matmul(patches, kernel), (1, 0, 2))


def dense_kernel_size(geometry: Geometry, channels: int, filters: int) -> int:
    """Number of entries of implementation 2's dense masked kernel."""
    return geometry.num_inputs * channels * geometry.num_outputs * filters


@functools.lru_cache(maxsize=16)
def kernel_rows(geometry: Geometry, channels: int, channels_first: bool) -> np.ndarray:
    """`(outputs * features, 2)`: for every kernel row `(output, feature)`, in kernel order,
    the input feature it multiplies (in the input's own flattening order, or
    `inputs * channels` where the tap reads padding) and its output position."""
    taps, channel = geometry.taps, np.arange(channels)
    if channels_first:  # features (channel, tap); input features channel-major
        position = taps[:, None, :]
        row = channel[None, :, None] * geometry.num_inputs + position
    else:  # features (tap, channel); input features position-major
        position = taps[:, :, None]
        row = position * channels + channel[None, None, :]
    row = np.where(position >= 0, row, geometry.num_inputs * channels)
    output = np.broadcast_to(np.arange(geometry.num_outputs)[:, None, None], row.shape)
    return np.stack([row.ravel(), output.ravel()], axis=1)


def dense_masked_matmul(inputs, kernel, geometry: Geometry, channels_first: bool):
    """Implementation 2: scatter the kernel into a dense masked matrix, then one matmul.

    The dense matrix is the only large allocation; its zeros are not parameters. Its
    product makes one NaN/Inf input NaN in every output of the sample (0 * NaN = NaN), so a
    batch that is not all finite takes the patches product, as local as a convolution.
    """
    return ops.cond(
        ops.all(ops.isfinite(inputs)),
        lambda: _dense_product(inputs, kernel, geometry, channels_first),
        lambda: patches_matmul(inputs, kernel, geometry, channels_first),
    )


def _dense_product(inputs, kernel, geometry: Geometry, channels_first: bool):
    features, filters = kernel.shape[1], kernel.shape[2]
    channels = features // geometry.num_taps
    rows = geometry.num_inputs * channels
    indices = kernel_rows(geometry, channels, channels_first)
    padded = bool((geometry.taps < 0).any())
    # An update of zeros, not ops.scatter: Keras' PyTorch scatter loops over the indices in
    # Python (seconds per step). Rows are unique but the padding row, which is cut off.
    dense = ops.scatter_update(
        ops.zeros((rows + padded, geometry.num_outputs, filters), dtype=kernel.dtype),
        indices, ops.reshape(kernel, (-1, filters)),
    )
    if padded:
        dense = dense[:rows]
    dense = ops.reshape(dense, (rows, geometry.num_outputs * filters))
    flat = ops.reshape(inputs, (-1, rows))
    return ops.reshape(ops.matmul(flat, dense), (-1, geometry.num_outputs, filters))


@functools.lru_cache(maxsize=16)
def _sparse_indices(geometry: Geometry, channels: int, filters: int, channels_first: bool) -> np.ndarray:
    """COO indices `(row, column)` of the `(outputs * filters, inputs * channels + 1)` sparse
    matrix, one per kernel entry in the kernel's own order, so the flattened kernel is the
    value vector as it is. Taps that read padding point at the last column, a zero input."""
    rows = kernel_rows(geometry, channels, channels_first)  # (P * features, 2): column, output
    filter_index = np.arange(filters, dtype=np.int64)
    row = rows[:, 1:2] * filters + filter_index[None, :]
    column = np.broadcast_to(rows[:, 0:1], row.shape)
    return np.stack([row.ravel(), column.ravel()], axis=1)


def sparse_matmul(inputs, kernel, geometry: Geometry, channels_first: bool):
    """Implementation 3: one sparse-dense matmul over the kernel entries only."""
    channels, filters = kernel.shape[1] // geometry.num_taps, kernel.shape[2]
    key = (geometry, channels, filters, channels_first)
    flat = ops.reshape(inputs, (-1, geometry.num_inputs * channels))
    flat = ops.pad(flat, [(0, 0), (0, 1)])  # the zero input that padding taps read
    result = _sparse_dense_matmul(key, ops.reshape(kernel, (-1,)), _sparse_shape(geometry, channels, filters), flat)
    return ops.reshape(result, (-1, geometry.num_outputs, filters))


def _sparse_shape(geometry: Geometry, channels: int, filters: int) -> tuple[int, int]:
    """Implementation 3's sparse matrix: a row per (output, filter), a column per input
    feature plus the zero input that padding taps read."""
    return geometry.num_outputs * filters, geometry.num_inputs * channels + 1


@functools.lru_cache(maxsize=16)
def _csr_plan(geometry: Geometry, channels: int, filters: int, channels_first: bool):
    """Implementation 3's matrix `S` and its transpose in CSR form, each as (row pointers,
    column of every entry, the kernel entry each one holds), and for every kernel entry its
    place in `S`'s CSR order."""
    indices = _sparse_indices(geometry, channels, filters, channels_first)
    sizes = _sparse_shape(geometry, channels, filters)

    def csr(row: np.ndarray, column: np.ndarray, rows: int):
        order = np.lexsort((column, row))
        pointers = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=rows))])
        return pointers, column[order], order

    matrix = csr(indices[:, 0], indices[:, 1], sizes[0])
    transposed = csr(indices[:, 1], indices[:, 0], sizes[1])
    place = np.empty_like(matrix[2])
    place[matrix[2]] = np.arange(len(place))
    return matrix, transposed, place


@functools.lru_cache(maxsize=16)
def _torch_csr_plan(key: tuple, device: str):
    import torch

    matrix, transposed, place = _csr_plan(*key)
    as_tensors = lambda arrays: tuple(torch.as_tensor(a, device=device) for a in arrays)  # noqa: E731
    return as_tensors(matrix), as_tensors(transposed), torch.as_tensor(place, device=device)


@functools.lru_cache(maxsize=1)
def _torch_sparse_product():
    """`flat @ S.T` with its gradients as sparse products: PyTorch's own gradient of a sparse
    matrix forms the dense `(rows x columns)` product first (seconds per step); the kernel's
    gradient is `S`'s pattern sampled from `grad.T @ flat` (SDDMM), and the input's `S.T @ grad`."""
    import torch

    class SparseProduct(torch.autograd.Function):
        @staticmethod
        def forward(ctx, values, flat, plan, dense_shape):
            (pointers, columns, order), _, _ = plan
            matrix = _csr_tensor(pointers, columns, values[order], dense_shape)
            ctx.save_for_backward(values, flat)
            # The matrix is also the pattern that the kernel's gradient samples.
            ctx.matrix, ctx.plan, ctx.dense_shape = matrix, plan, dense_shape
            return (matrix @ flat.T).T

        @staticmethod
        def backward(ctx, grad):
            values, flat = ctx.saved_tensors
            _, (t_pointers, t_columns, t_order), place = ctx.plan
            values_grad = flat_grad = None
            grad_rows = grad.T.contiguous()
            if ctx.needs_input_grad[0]:
                values_grad = torch.sparse.sampled_addmm(ctx.matrix, grad_rows, flat, beta=0.0).values()[place]
            if ctx.needs_input_grad[1]:
                transposed = _csr_tensor(t_pointers, t_columns, values[t_order], ctx.dense_shape[::-1])
                flat_grad = (transposed @ grad_rows).T
            return values_grad, flat_grad, None, None

    return SparseProduct


def _csr_tensor(pointers, columns, values, shape):
    import torch

    with warnings.catch_warnings():
        # "Sparse CSR tensor support is in beta state": said on every first use, not ours to act on.
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
        # The plan is valid by construction: no invariant checks at every step.
        return torch.sparse_csr_tensor(pointers, columns, values, shape, check_invariants=False)


def _sparse_dense_matmul(key: tuple, values, dense_shape, flat):
    """`flat @ S.T` for implementation 3's sparse `S` (`_sparse_indices(*key)`, its entries
    in the kernel's order), on the active backend."""
    indices = _sparse_indices(*key)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if _in_xla_function():
            raise ValueError(
                "`implementation` = 3 runs tf.sparse, which XLA cannot compile, and this call is "
                "being compiled with XLA (`jit_compile=True`). Use implementation 1 or 2, or "
                "compile the model with `jit_compile=False`."
            )
        matrix = tf.SparseTensor(indices, values, dense_shape)
        return tf.transpose(tf.sparse.sparse_dense_matmul(matrix, flat, adjoint_b=True))
    if backend == "jax":
        from jax.experimental import sparse as jax_sparse

        matrix = jax_sparse.BCOO((values, indices.astype(np.int32)), shape=dense_shape)
        return (matrix @ flat.T).T
    if backend == "torch":
        import torch

        plan = _torch_csr_plan(key, str(values.device))
        if values.dtype in (torch.float32, torch.float64):
            return _torch_sparse_product().apply(values, flat, plan, dense_shape)
        # PyTorch's CPU sparse products have no float16/bfloat16 kernels: float32 for them.
        result = _torch_sparse_product().apply(values.float(), flat.float(), plan, dense_shape)
        return result.to(values.dtype)
    # Any other backend: the same product as a gather and a segment sum.
    gathered = ops.take(flat, indices[:, 1], axis=1) * values
    summed = ops.segment_sum(ops.transpose(gathered), indices[:, 0], num_segments=dense_shape[0])
    return ops.transpose(summed)


def _in_xla_function() -> bool:
    """Whether TensorFlow is tracing this call for XLA (tf.function(jit_compile=True))."""
    import tensorflow as tf

    try:
        from tensorflow.python.ops import control_flow_util
    except ImportError:  # a TensorFlow without this private module: let XLA report it
        return False
    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


# Calibrated by `make bench` on a 2-core CPU (docs/performance.md, bench/backends.py):
# - Every backend: the dense masked product (2) wins while the dense kernel is small in
#   absolute terms and not much larger than the useful weights; otherwise the patches
#   product (1) wins over 2.
# - PyTorch: its sparse product (3, CSR with SDDMM gradients) beats both with few filters,
#   where the patches product spends its time building patches rather than multiplying.
#   Measured t3/t1 (the 8 bench cases and 32 more shapes: 4 inputs x 4, 8, 16, 32 filters x
#   both data formats): at most 8 filters 0.17-0.94 (18 shapes); 16 filters 0.29-1.04 for
#   channels_first, whose patches cost PyTorch 1.5-3.5x more (5 shapes), but 0.84-2.2 for
#   channels_last (5); 32 filters and more 1.3-2.5 for channels_last but 0.47-1.53 for
#   channels_first. The rule below misses by 1.19x (28x28x1, 16 filters), 1.18x and 2.1x
#   (channels_first 32x32x4 and 28x28x1, 32 filters) on those shapes, where the 1.15x target
#   is not met. On TensorFlow and JAX, 3 never won.
AUTO_DENSE_MAX_ENTRIES = 1_000_000
AUTO_DENSE_MAX_RATIO = 12
AUTO_TORCH_SPARSE_MAX_FILTERS = {"channels_last": 8, "channels_first": 16}


def choose_implementation(geometry: Geometry, channels: int, filters: int, max_dense_entries: int,
                          channels_first: bool) -> int:
    """The cost model of implementation="auto" on the active backend: 3 for few filters on
    PyTorch, else 2 for small dense kernels, else 1.

    Never picks 2 when its dense kernel would exceed `max_dense_entries` (the budget).
    """
    data_format = "channels_first" if channels_first else "channels_last"
    if keras.backend.backend() == "torch" and filters <= AUTO_TORCH_SPARSE_MAX_FILTERS[data_format]:
        return 3
    dense = dense_kernel_size(geometry, channels, filters)
    useful = geometry.num_outputs * geometry.num_taps * channels * filters
    if dense <= min(max_dense_entries, AUTO_DENSE_MAX_ENTRIES) and dense <= AUTO_DENSE_MAX_RATIO * useful:
        return 2
    return 1


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
