"""Implementation 1: patches, then one batched matmul over output positions."""

from __future__ import annotations

import itertools

import numpy as np
from keras import ops

from locally_connected import backend
from locally_connected.implementations.base import Implementation
from locally_connected.implementations.sparse import Sparse
from locally_connected.plan import Plan


class Patches(Implementation):
    """`(positions, batch, features) @ (positions, features, filters)`.

    The (padded) input is split into stride phases so that every kernel tap is one
    unit-stride slice of one phase; the slices are stacked into the patches. The patches'
    gradient adds each tap's gradient into its phase with one pad per tap and interleaves
    the phases back: autodiff of strided slices would build a full-size tensor per tap
    through slow strided-slice gradients. Paddings filled by wrapping or mirroring are
    gathered onto the input first.

    Channels_first inputs take the block product (3's) where the backend runs it faster
    (`backend.CHANNELS_FIRST_PATCHES_AS_BLOCKS`: PyTorch and TensorFlow); channels_last
    inputs take it too in the calls where it is faster (`backend.CHANNELS_LAST_PATCHES_AS_BLOCKS`:
    PyTorch unless torch.compile traces the call, TensorFlow unless XLA compiles it).
    """

    number = 1

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self._blocks = Sparse(plan) if backend.patches_as_blocks(plan) else None
        if self._blocks is not None:  # none of the patches' tables is needed
            self.traceable = self._blocks.traceable
            return
        self._channels_last_blocks = Sparse(plan) if backend.channels_last_patches_as_blocks(plan) else None
        geometry, rank = plan.geometry, plan.rank
        if geometry.fill == "constant":
            self._fill = None
            sizes, zeros_before = geometry.input_size, geometry.pad_before
            zeros_total = tuple(b + a for b, a in geometry.pads)
        else:
            # Per spatial axis of the input, the input position each padded position holds.
            axes = range(2, rank + 2) if plan.channels_first else range(1, rank + 1)
            self._fill = [(axis, backend.constant(geometry.padded_positions(d))) for d, axis in enumerate(axes)]
            sizes = geometry.padded_size
            zeros_before = zeros_total = (0,) * rank
        # Per dimension, the length of each stride phase of the (zero-)padded input.
        self._phase_lengths = tuple(-(-(n + total) // s) for n, total, s in zip(sizes, zeros_total, geometry.strides))
        self._pads = [
            (before, length * s - n - before)
            for n, before, length, s in zip(sizes, zeros_before, self._phase_lengths, geometry.strides)
        ]
        self._split_shape = tuple(
            v for length, s in zip(self._phase_lengths, geometry.strides) for v in (length, s)
        )
        self._windows = tuple(_tap_windows(geometry.kernel_size, geometry.dilation, geometry.output_size,
                                           geometry.strides))
        # Where the (filled) input lies in the interleaved gradient, and its axes back to
        # the input's layout from (*spatial, batch, channels).
        self._inside = tuple(slice(b, b + n) for b, n in zip(zeros_before, sizes))
        self._spatial_first_order = (
            list(range(2, rank + 2)) + [0, 1] if plan.channels_first else list(range(1, rank + 1)) + [0, rank + 1]
        )
        self._input_order = (
            (rank, rank + 1) + tuple(range(rank)) if plan.channels_first else (rank,) + tuple(range(rank)) + (rank + 1,)
        )
        self._kernel_of_position = backend.constant(plan.kernel_of_position) if plan.shares_weights else None

    def __call__(self, inputs, kernel):
        plan = self.plan
        if self._blocks is not None:
            return self._blocks(inputs, kernel)
        if self._channels_last_blocks is not None and backend.patches_as_blocks_in_this_call():
            return self._channels_last_blocks(inputs, kernel)
        patches = self.patches(inputs)
        kernel = _kernel_in_patch_order(plan, kernel)
        one_kernel = plan.num_kernels == 1  # a Conv: one matmul over all positions
        if self._kernel_of_position is not None and not one_kernel:
            kernel = backend.take(kernel, self._kernel_of_position, axis=0)
        positions, features = plan.geometry.num_outputs, plan.features
        if plan.groups == 1:
            if one_kernel:
                outputs = ops.matmul(ops.reshape(patches, (-1, features)), kernel[0])
                return ops.transpose(ops.reshape(outputs, (positions, -1, plan.filters)), (1, 0, 2))
            return ops.transpose(ops.matmul(patches, kernel), (1, 0, 2))
        groups, group_filters = plan.groups, plan.group_filters
        patches = ops.reshape(patches, (positions, -1, plan.geometry.num_taps, groups, plan.group_channels))
        # (groups, positions, batch, features): each group's channels apart.
        patches = ops.reshape(ops.transpose(patches, (3, 0, 1, 2, 4)), (groups, positions, -1, features))
        kernel = ops.transpose(ops.reshape(kernel, (-1, features, groups, group_filters)), (2, 0, 1, 3))
        if one_kernel:
            outputs = ops.matmul(ops.reshape(patches, (groups, -1, features)), kernel[:, 0])
            outputs = ops.reshape(outputs, (groups, positions, -1, group_filters))
        else:
            outputs = ops.matmul(patches, kernel)  # (groups, positions, batch, group filters)
        return ops.reshape(ops.transpose(outputs, (2, 1, 0, 3)), (-1, positions, plan.filters))

    def patches(self, inputs):
        """`(positions, batch, taps * channels)`, features ordered `(taps, channels)` in both
        data formats (the channels_last kernel order)."""
        for axis, positions in self._fill or ():
            inputs = backend.take(inputs, positions, axis=axis)
        geometry, channels = self.plan.geometry, self.plan.channels
        windows, lengths = self._windows, self._phase_lengths

        @ops.custom_gradient
        def patches(inputs):
            x = ops.transpose(inputs, self._spatial_first_order)
            if any(p != (0, 0) for p in self._pads):
                x = ops.pad(x, self._pads + [(0, 0), (0, 0)])
            x = ops.reshape(x, self._split_shape + (-1, channels))
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
                padded_size = tuple(length * s for length, s in zip(lengths, geometry.strides))
                gradient = ops.reshape(gradient, padded_size + (-1, channels))[self._inside]
                return ops.transpose(gradient, self._input_order)

            return result, grad

        return patches(inputs)


def _kernel_in_patch_order(plan: Plan, kernel):
    """The kernel's rows in the patches' `(taps, channels)` order: channels_first kernels
    hold `(channels, taps)` rows. The kernel is smaller than the patches, and patches with a
    tap innermost are slow to write."""
    if not plan.channels_first:
        return kernel
    taps = plan.geometry.num_taps
    kernel = ops.reshape(kernel, (-1, plan.group_channels, taps, plan.filters))
    return ops.reshape(ops.transpose(kernel, (0, 2, 1, 3)), (-1, plan.features, plan.filters))


def _tap_windows(kernel_size, dilation, output_size, strides):
    """Per kernel tap (row-major): its index into the phase-split input
    `(L_1, s_1, ..., L_r, s_r, batch, channels)`. A tap at offset `q * s + r` of a
    dimension reads phase `r` from position `q`, so every tap is a unit-stride slice of one
    phase."""
    for taps in itertools.product(*(range(k) for k in kernel_size)):
        index = ()
        for tap, d, o, s in zip(taps, dilation, output_size, strides):
            q, r = divmod(tap * d, s)
            index += (slice(q, q + o), r)
        yield index


def _interleave(phases: dict, strides: tuple[int, ...], zeros, prefix: tuple = ()):
    """Stacks phase tensors `(L_1, ..., L_r, batch, channels)` into
    `(L_1, s_1, ..., L_r, s_r, batch, channels)`; phases no tap reads are zeros."""
    depth = len(prefix)
    if depth == len(strides):
        return phases.get(prefix, zeros)
    parts = [_interleave(phases, strides, zeros, prefix + (r,)) for r in range(strides[depth])]
    return ops.stack(parts, axis=depth + 1)


class GatheredPatches(Implementation):
    """Implementation 1's product with the patches gathered by one index table.

    Reshapes, one gather, a concatenation, transposes of rank 3 or 4 and one batched
    matmul: ops that every exporter (SavedModel, TFLite's builtins, ONNX, OpenVINO,
    torch.export) and graph compiler expresses, with no custom gradient and no control
    flow. The layer computes its exports with it, whichever implementation it trains with;
    the function and the weights are the same.
    """

    number = None
    exportable = True

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        # Every (position, tap)'s flat input position; padding reads the zero row after them.
        taps = plan.geometry.taps
        self._gather = backend.constant(np.where(taps >= 0, taps, plan.geometry.num_inputs).reshape(-1))
        self._padded = plan.has_padding_taps
        self._kernel_of_position = backend.constant(plan.kernel_of_position) if plan.shares_weights else None

    def __call__(self, inputs, kernel):
        plan = self.plan
        positions, taps, channels = plan.geometry.num_outputs, plan.geometry.num_taps, plan.channels
        groups, group_channels = plan.groups, plan.group_channels
        if plan.channels_first:
            flat = ops.transpose(ops.reshape(inputs, (-1, channels, plan.geometry.num_inputs)), (0, 2, 1))
        else:
            flat = ops.reshape(inputs, (-1, plan.geometry.num_inputs, channels))
        if self._padded:
            # A zero row to gather for padding (not ops.pad, which names a Keras operation
            # at every call: a side effect torch.cond cannot trace).
            flat = ops.concatenate([flat, ops.zeros_like(flat[:, :1])], axis=1)
        kernel = _kernel_in_patch_order(plan, kernel)
        if self._kernel_of_position is not None:
            # One kernel per position: batched matmuls that broadcast a shared kernel
            # crash TensorFlow's oneDNN kernels in some sequences of shapes.
            kernel = backend.take(kernel, self._kernel_of_position, axis=0)
        # (batch, groups, inputs, group channels): each group's channels gathered apart.
        flat = ops.transpose(ops.reshape(flat, (-1, flat.shape[1], groups, group_channels)), (0, 2, 1, 3))
        patches = ops.reshape(backend.take(flat, self._gather, axis=2), (-1, groups, positions, taps * group_channels))
        kernel = ops.reshape(kernel, (-1, plan.features, groups, plan.group_filters))
        outputs = ops.matmul(ops.transpose(patches, (2, 1, 0, 3)), ops.transpose(kernel, (0, 2, 1, 3)))
        return ops.reshape(ops.transpose(outputs, (2, 0, 1, 3)), (-1, positions, plan.filters))
