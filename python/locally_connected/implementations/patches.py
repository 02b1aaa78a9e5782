"""Implementation 1: patches, then one batched matmul over output positions."""

from __future__ import annotations

import itertools

import numpy as np
from keras import ops

from locally_connected import backend
from locally_connected.implementations.base import Implementation
from locally_connected.plan import Plan


class Patches(Implementation):
    """`(positions, batch, features) @ (positions, features, filters)`.

    The (padded) input is split into stride phases so that every kernel tap is one
    unit-stride slice of one phase; the slices are stacked into the patches. The patches'
    gradient adds each tap's gradient into its phase with one pad per tap and interleaves
    the phases back: autodiff of strided slices would build a full-size tensor per tap
    through slow strided-slice gradients.
    """

    number = 1

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        geometry = plan.geometry
        # Per dimension, the length of each stride phase of the padded input.
        self._phase_lengths = tuple(
            -(-(n + before + after) // s)
            for n, before, after, s in zip(
                geometry.input_size, geometry.pad_before, geometry.pad_after, geometry.strides
            )
        )
        self._pads = [
            (before, length * s - n - before)
            for n, before, length, s in zip(
                geometry.input_size, geometry.pad_before, self._phase_lengths, geometry.strides
            )
        ]
        self._split_shape = tuple(
            v for length, s in zip(self._phase_lengths, geometry.strides) for v in (length, s)
        )
        self._windows = tuple(_tap_windows(geometry.kernel_size, geometry.output_size, geometry.strides))
        # Where the real input lies in the interleaved gradient, and its axes back to the
        # input's layout from (*spatial, batch, channels).
        self._inside = tuple(slice(b, b + n) for b, n in zip(geometry.pad_before, geometry.input_size))
        rank = plan.rank
        self._spatial_first_order = (
            list(range(2, rank + 2)) + [0, 1] if plan.channels_first else list(range(1, rank + 1)) + [0, rank + 1]
        )
        self._input_order = (
            (rank, rank + 1) + tuple(range(rank)) if plan.channels_first else (rank,) + tuple(range(rank)) + (rank + 1,)
        )

    def __call__(self, inputs, kernel):
        patches = self.patches(inputs)
        if self.plan.channels_first:
            # The kernel's (channels, taps) rows to the patches' (taps, channels): the kernel is
            # smaller than the patches, and patches with a tap innermost are slow to write.
            outputs, features, filters = self.plan.kernel_shape
            taps = self.plan.geometry.num_taps
            kernel = ops.reshape(kernel, (outputs, features // taps, taps, filters))
            kernel = ops.reshape(ops.transpose(kernel, (0, 2, 1, 3)), (outputs, features, filters))
        return ops.transpose(ops.matmul(patches, kernel), (1, 0, 2))

    def patches(self, inputs):
        """`(positions, batch, taps * channels)`, features ordered `(taps, channels)` in both
        data formats (the channels_last kernel order)."""
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


def _tap_windows(kernel_size, output_size, strides):
    """Per kernel tap (row-major): its index into the phase-split input
    `(L_1, s_1, ..., L_r, s_r, batch, channels)`. Tap `q * s + r` of a dimension reads
    phase `r` from position `q`, so every tap is a unit-stride slice of one phase."""
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        index = ()
        for start, o, s in zip(offset, output_size, strides):
            q, r = divmod(start, s)
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

    Reshapes, one gather, a pad, transposes of rank 3 or 4 and one batched matmul: ops that
    every exporter (SavedModel, TFLite's builtins, ONNX, OpenVINO, torch.export) expresses,
    with no custom gradient and no control flow. The layer computes its exports with it,
    whichever implementation it trains with; the function and the weights are the same.
    """

    number = None
    exportable = True

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        # Every (position, tap)'s flat input position; padding reads the zero row after them.
        taps = plan.geometry.taps
        self._gather = backend.constant(np.where(taps >= 0, taps, plan.geometry.num_inputs).reshape(-1))
        self._padded = plan.has_padding_taps

    def __call__(self, inputs, kernel):
        plan = self.plan
        positions, taps, channels = plan.geometry.num_outputs, plan.geometry.num_taps, plan.channels
        if plan.channels_first:
            flat = ops.transpose(ops.reshape(inputs, (-1, channels, plan.geometry.num_inputs)), (0, 2, 1))
            # The kernel's (channels, taps) rows in the patches' (taps, channels) order.
            kernel = ops.reshape(kernel, (positions, channels, taps, plan.filters))
            kernel = ops.reshape(ops.transpose(kernel, (0, 2, 1, 3)), plan.kernel_shape)
        else:
            flat = ops.reshape(inputs, (-1, plan.geometry.num_inputs, channels))
        if self._padded:
            # A zero row to gather for padding (not ops.pad, which names a Keras operation
            # at every call: a side effect torch.cond cannot trace).
            flat = ops.concatenate([flat, ops.zeros_like(flat[:, :1])], axis=1)
        patches = ops.reshape(backend.take(flat, self._gather, axis=1), (-1, positions, taps * channels))
        outputs = ops.matmul(ops.transpose(patches, (1, 0, 2)), kernel)
        return ops.transpose(outputs, (1, 0, 2))
