"""PyTorch's ops: implementation 3's chunked block product, index tables and tracer state."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np


def tracing_for_export() -> bool:
    """`torch.export` (also behind the dynamo ONNX exporter) or TorchScript tracing (the
    ONNX exporter with dynamic shapes)."""
    import torch

    return torch.compiler.is_exporting() or torch.jit.is_tracing()


def compiling() -> bool:
    import torch

    return torch.compiler.is_compiling()


def constant(array):
    """On the device Keras puts tensors on."""
    import keras

    return keras.ops.convert_to_tensor(array)


def take(x, indices, axis: int):
    """`torch.index_select`: Keras' `ops.take` ravels its indices first, an op the
    TorchScript ONNX exporter cannot express."""
    import keras
    import torch

    x = keras.ops.convert_to_tensor(x)  # a Keras variable (the kernel) too
    return torch.index_select(x, axis, torch.as_tensor(indices, device=x.device))


#: The patches one step of implementation 3's product copies at once: small enough that
#: the product never holds more than a few MiB beyond its inputs, outputs and kernel, large
#: enough that each step is a sizeable batched matmul.
CHUNK_BYTES = 4 * 2**20

#: The batch sizes whose boxes a layer keeps (`SparseProduct.schedule`).
MAX_SCHEDULES = 8


class Box(NamedTuple):
    """A box of implementation 3's product: its flat output positions `[start, end)`, its
    blocks (`count`: positions x groups), the `(size, strides, offset)` of its patches'
    view of the padded input `(padded features, batch)`, and per class of its positions
    whose windows do not overlap the views of that class's part of the box's rows-gradient
    and of the padded input it is added into; None where the box's gradient is added row
    by row instead."""

    start: int
    end: int
    count: int
    patches: tuple
    window_adds: tuple | None


#: The fewest entries of one tap's part of a box's input gradient (positions x group
#: channels x batch) for which the backward adds the box's gradient with strided `add_`s,
#: one per class of positions whose windows do not overlap; below it, with one `index_add_`
#: of its rows (the crossing measured between 18.4k and 25k: docs/performance.md).
WINDOW_ADD_MIN_ENTRIES = 20 * 1024


class SparseProduct:
    """Implementation 3's block-sparse product, a box of output positions at a time: each box
    copies its patches (`(taps * group channels, batch)` per position and group) from one
    strided view of the padded input, `(padded features, batch)`, and multiplies them with
    their kernel blocks. A tap reads, across the output grid, a lattice of the padded input:
    the view's strides are the output's strides and the taps' dilations, so the patches are
    copied, not gathered by an index per entry. Forward and backward hold one box's patches at
    a time, so that training memory is the inputs', outputs' and kernel's plus a few MiB.
    torch.compile does not trace the box loop: compiled, the layer runs its portable
    formulation."""

    traceable = False

    def __init__(self, plan) -> None:
        self.plan = plan
        geometry, rank = plan.geometry, plan.rank
        self._output_size = geometry.output_size
        padded_size = geometry.padded_size
        # The input feature each feature of the padded input holds, the zero row for a zero.
        position, channel = geometry.padded_inputs, np.arange(plan.channels)
        source = (plan.input_feature(position[None, :], channel[:, None]) if plan.channels_first
                  else plan.input_feature(position[:, None], channel[None, :])).reshape(-1)
        # Padding, wrapped or mirrored positions: the padded input is gathered from the
        # inputs' rows and a zero row; without padding it is the inputs' rows themselves.
        self._source = None if np.array_equal(source, np.arange(plan.input_features)) else constant(source)
        # Strides in (padded features) rows of the padded input, whose features are ordered
        # (padded positions, channels) for channels_last, (channels, padded positions) for
        # channels_first: per output dimension, then of a box's patches past its positions.
        position_rows = [math.prod(padded_size[d + 1:]) * (1 if plan.channels_first else plan.channels)
                         for d in range(rank)]
        self._output_strides = tuple(s * r for s, r in zip(geometry.strides, position_rows))
        tap_strides = tuple(d * r for d, r in zip(geometry.dilation, position_rows))
        groups, group_channels = plan.groups, plan.group_channels
        if plan.channels_first:  # features (group channels, taps), as the kernel's rows
            channel_rows = math.prod(padded_size)
            self._patch_size = (groups, group_channels) + geometry.kernel_size
            self._patch_strides = (group_channels * channel_rows, channel_rows) + tap_strides
        else:  # features (taps, group channels)
            self._patch_size = (groups,) + geometry.kernel_size + (group_channels,)
            self._patch_strides = (group_channels,) + tap_strides + (1,)
        # (positions, groups, features): the padded input's row each kernel row reads, for
        # the backward's `index_add_` (the rows the view reads, laid out as the view).
        lattice = np.lib.stride_tricks.as_strided(
            np.arange(source.size, dtype=np.int64), self._output_size + self._patch_size,
            [s * 8 for s in self._output_strides + self._patch_strides])
        self._rows_read = constant(lattice.reshape(geometry.num_outputs, groups, plan.features).copy())
        self._schedules = {}  # per (batch, itemsize): the boxes, made at the first call
        self._function = _autograd_function()

    def schedule(self, batch: int, itemsize: int) -> tuple:
        """The boxes of a batch, each a `Box` with every view it needs worked out, made at the
        first call with that batch and kept, so that the loops over boxes only call PyTorch's
        ops: working the views out at every call took 8-9% of the step on the bench's b16 L4
        and channels_first cases."""
        key = (batch, itemsize)
        if key not in self._schedules:
            if len(self._schedules) >= MAX_SCHEDULES:  # many batch sizes: keep the latest ones
                self._schedules.pop(next(iter(self._schedules)))
            budget = max(1, CHUNK_BYTES // (self.plan.groups * self.plan.features * batch * itemsize))
            self._schedules[key] = tuple(self._box(box, batch) for box in self._make_boxes(budget))
        return self._schedules[key]

    def _make_boxes(self, positions: int):
        """Boxes of at most `positions` output positions (at least one), in order: runs of
        whole rows (planes in 3D) of the output grid, or parts of one row where a row holds
        more. Each is `(start, end, offset, size, strides)`: the flat positions `[start,
        end)` and, in rows of the padded input, where the box's first position reads, the
        box's shape and its strides."""
        output, rank = self._output_size, len(self._output_size)
        # The outermost dimension along which runs of whole sub-grids fit `positions`.
        depth = next(d for d in range(rank) if math.prod(output[d + 1:]) <= positions)
        inner = math.prod(output[depth + 1:])
        run = max(1, positions // inner)
        for prefix in np.ndindex(*output[:depth]):
            prefix_offset = sum(i * s for i, s in zip(prefix, self._output_strides))
            prefix_start = int(np.ravel_multi_index(prefix + (0,) * (rank - depth), output))
            for a in range(0, output[depth], run):
                b = min(output[depth], a + run)
                yield (prefix_start + a * inner, prefix_start + b * inner,
                       prefix_offset + a * self._output_strides[depth],
                       (b - a,) + output[depth + 1:], self._output_strides[depth:])

    def _box(self, box, batch: int) -> Box:
        start, end, offset, size, strides = box
        patches = (size + self._patch_size + (batch,),
                   tuple(s * batch for s in strides + self._patch_strides) + (1,), offset * batch)
        count = (end - start) * self.plan.groups
        window_adds = None
        if count * self.plan.group_channels * batch >= WINDOW_ADD_MIN_ENTRIES:
            window_adds = tuple(self._window_adds(patches, len(size)))
        return Box(start, end, count, patches, window_adds)

    def _window_adds(self, patches, box_rank: int):
        """The adds of a box's rows-gradient `(*box, *patch, batch)` (contiguous) into the
        padded input, one per class of the box's positions whose windows do not overlap
        (positions a window's span apart along each dimension): per class, `(size, strides,
        offset)` of its part of the rows-gradient and of the padded input's entries it
        reads, each position's whole window at once."""
        size, strides, offset = patches
        contiguous = [math.prod(size[a + 1:]) for a in range(len(size))]
        geometry = self.plan.geometry
        # Per box dimension, the fewest positions apart whose windows do not overlap.
        spans = [(k - 1) * d + 1 for k, d in zip(geometry.kernel_size, geometry.dilation)]
        apart = [-(-span // s) for span, s in zip(spans, geometry.strides)][len(spans) - box_rank:]
        for first in np.ndindex(*[min(m, n) for m, n in zip(apart, size)]):
            class_size = tuple(-(-(n - f) // m) for n, f, m in zip(size, first, apart)) + size[box_rank:]
            rows = (class_size, tuple(m * c for m, c in zip(apart, contiguous)) + tuple(contiguous[box_rank:]),
                    sum(f * c for f, c in zip(first, contiguous)))
            padded = (class_size, tuple(m * t for m, t in zip(apart, strides)) + tuple(strides[box_rank:]),
                      offset + sum(f * t for f, t in zip(first, strides)))
            yield rows, padded

    def __call__(self, inputs, kernel):
        import keras
        import torch

        plan = self.plan
        inputs, kernel = keras.ops.convert_to_tensor(inputs), keras.ops.convert_to_tensor(kernel)
        flat = torch.reshape(inputs, (-1, plan.input_features))
        boxes = self.schedule(max(1, flat.shape[0]), flat.element_size())
        outputs = self._function.apply(kernel, flat, self, boxes)
        return outputs.permute(2, 0, 1)  # (batch, positions, filters)


#: The fewest entries of an input batch that `_rows` and `_flat` copy on all threads; also
#: the entries of each piece `_flat` concatenates.
PARALLEL_TRANSPOSE_MIN_ENTRIES = 2**16


def _rows(flat, zero_row: bool):
    """`(features [+ a zero row], batch)` from `flat`, `(batch, features)`. A large batch is
    copied as a 3-D permute, which PyTorch runs on all threads: 0.43x-0.75x the time of its
    2-D transpose copy, which is serial, on 1-12 MiB (2x on 128 KiB, hence the bound)."""
    batch, features = flat.shape
    rows = flat.new_empty(features + zero_row, batch)
    if flat.numel() >= PARALLEL_TRANSPOSE_MIN_ENTRIES:
        rows[:features].view(features, 1, batch).copy_(flat.reshape(batch, features, 1).permute(1, 2, 0))
    else:
        rows[:features].copy_(flat.T)
    if zero_row:
        rows[features].zero_()
    return rows


def _flat(rows):
    """`(batch, features)` from `rows`, `(features, batch)`: the inverse of `_rows`. In this
    direction the 3-D permute is slower still (2-3x the 2-D copy); a concatenation of the
    rows' transposed pieces of 64k entries runs on all threads, 0.50x-0.84x the time of the
    2-D copy on 1-12 MiB."""
    features, batch = rows.shape
    if rows.numel() < PARALLEL_TRANSPOSE_MIN_ENTRIES:
        return rows.T.contiguous()
    import torch

    piece = max(1, PARALLEL_TRANSPOSE_MIN_ENTRIES // batch)
    return torch.cat([rows[start:start + piece].T for start in range(0, features, piece)], dim=1)


@functools.cache
def _autograd_function():
    """The autograd function, made when the first layer is built, so that importing this
    module does not import PyTorch. Its backward copies each box's patches again rather than
    keeping them, and adds the inputs' gradient back into the padded input, whole windows of
    positions at a time with strided `add_`s or row by row with `index_add_`
    (`WINDOW_ADD_MIN_ENTRIES`)."""
    import torch

    def box_patches(padded, box, buffer, features, batch):
        """`(positions, features, batch)` of one box, copied into `buffer`."""
        size, strides, offset = box.patches
        patches = buffer[:math.prod(size)].view(size)
        patches.copy_(padded.as_strided(size, strides, offset))
        return patches.view(-1, features, batch)

    def buffer_for(like, boxes, features, batch):
        return like.new_empty(max(box.count for box in boxes) * features * batch)

    class BlockProduct(torch.autograd.Function):
        @staticmethod
        def forward(ctx, kernel, flat, product, boxes):
            positions, features, filters = kernel.shape
            groups = product.plan.groups
            group_filters, batch = filters // groups, flat.shape[0]
            rows = _rows(flat, zero_row=product._source is not None)  # the padding reads the zero row
            padded = rows if product._source is None else rows.index_select(0, product._source)
            # (positions, groups, group filters, features): each block's rows, a view.
            blocks = kernel.view(positions, features, groups, group_filters).permute(0, 2, 3, 1)
            outputs = torch.empty(positions, groups, group_filters, batch, dtype=rows.dtype, device=rows.device)
            buffer = buffer_for(rows, boxes, features, batch)
            for box in boxes:
                torch.bmm(blocks[box.start:box.end].reshape(box.count, group_filters, features),
                          box_patches(padded, box, buffer, features, batch),
                          out=outputs[box.start:box.end].view(box.count, group_filters, batch))
            # The padded input, not the inputs' rows: the backward reads it again.
            ctx.save_for_backward(kernel, padded)
            ctx.product, ctx.boxes, ctx.features = product, boxes, flat.shape[1]
            return outputs.view(positions, filters, batch)

        @staticmethod
        def backward(ctx, upstream):
            kernel, padded = ctx.saved_tensors
            product, boxes = ctx.product, ctx.boxes
            positions, features, filters = kernel.shape
            groups, batch = product.plan.groups, padded.shape[1]
            group_filters = filters // groups
            upstream = upstream.contiguous().view(positions, groups, group_filters, batch)
            # (positions, groups, features, group filters): each block's transpose, a view.
            blocks = kernel.view(positions, features, groups, group_filters).permute(0, 2, 1, 3)
            # The kernel gradient in the blocks' order, so that each box's product writes
            # its part in place; for more than one group, reordered once at the end.
            kernel_gradient = torch.empty(positions, groups, features, group_filters, dtype=kernel.dtype,
                                          device=kernel.device) if ctx.needs_input_grad[0] else None
            padded_gradient = torch.zeros_like(padded) if ctx.needs_input_grad[1] else None
            buffer = buffer_for(padded, boxes, features, batch)
            for box in boxes:
                block_upstream = upstream[box.start:box.end].reshape(box.count, group_filters, batch)
                if kernel_gradient is not None:
                    torch.bmm(box_patches(padded, box, buffer, features, batch), block_upstream.transpose(1, 2),
                              out=kernel_gradient[box.start:box.end].view(box.count, features, group_filters))
                if padded_gradient is None:
                    continue
                block_rows = torch.bmm(blocks[box.start:box.end].reshape(box.count, features, group_filters),
                                       block_upstream)
                if box.window_adds is None:
                    indices = product._rows_read[box.start:box.end].reshape(-1)
                    padded_gradient.index_add_(0, indices, block_rows.view(-1, batch))
                    continue
                for rows_view, padded_view in box.window_adds:
                    padded_gradient.as_strided(*padded_view).add_(block_rows.as_strided(*rows_view))
            if kernel_gradient is not None:
                kernel_gradient = kernel_gradient.transpose(1, 2).reshape(positions, features, filters)
            flat_gradient = None
            if padded_gradient is not None:
                rows_gradient = padded_gradient
                if product._source is not None:  # summed into the inputs' rows and the zero row
                    rows_gradient = padded.new_zeros(ctx.features + 1, batch).index_add_(
                        0, product._source, padded_gradient)[:ctx.features]
                flat_gradient = _flat(rows_gradient)
            return kernel_gradient, flat_gradient, None, None

    return BlockProduct
