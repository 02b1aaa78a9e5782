"""Backend-agnostic formulations, the default of every table in `backend`."""

from __future__ import annotations

import numpy as np
from keras import ops


def tracing_for_export() -> bool:
    return False


def constant(array):
    return array


def take(x, indices, axis: int):
    return ops.take(x, indices, axis=axis)


def compiling() -> bool:
    return False


class SparseProduct:
    """Implementation 3's product `flat @ S.T` for a plan's block-sparse `S`: each block of
    `S`'s rows (an output position and a group of filters) reads the same `taps * channels //
    groups` columns, so the product gathers those columns of the inputs (a gather, never a
    `(non-zeros x batch)` product) and multiplies each block with its values (a batched
    matmul). The inputs are gathered with the batch innermost, `(features, batch)` per
    position, so that neither the product nor its gradient copies the gathered columns; the
    gradient gathers them again instead of keeping them, and adds the inputs' gradient back
    with a segment sum."""

    traceable = True

    def __init__(self, plan) -> None:
        self.plan = plan
        taps = plan.geometry.taps
        self._padded = plan.has_padding_taps
        # Every (position, tap)'s input position; padding reads the zero row after them. The
        # same table gathers forward and sums backward, as int32: Keras' OpenVINO segment_sum
        # refuses int64 segment ids.
        self._gather = np.where(taps >= 0, taps, plan.geometry.num_inputs).reshape(-1).astype(np.int32)

    def __call__(self, inputs, kernel):
        """`(batch, positions, filters)` from the inputs and the per-position kernel."""
        plan = self.plan
        positions, groups, features = plan.geometry.num_outputs, plan.groups, plan.features
        taps, group_channels, group_filters = plan.geometry.num_taps, plan.group_channels, plan.group_filters
        inputs_count = plan.geometry.num_inputs
        # (groups, inputs, group channels, batch): the input, batch innermost.
        if plan.channels_first:
            x = ops.reshape(inputs, (-1, groups, group_channels, inputs_count))
            x = ops.transpose(x, (1, 3, 2, 0))
            # The kernel's (channels, taps) rows in the gathered (taps, channels) order.
            kernel = ops.reshape(kernel, (positions, group_channels, taps, plan.filters))
            kernel = ops.transpose(kernel, (0, 2, 1, 3))
        else:
            x = ops.transpose(ops.reshape(inputs, (-1, inputs_count, groups, group_channels)), (2, 1, 3, 0))
        # (groups, positions, group filters, features)
        kernel = ops.transpose(ops.reshape(kernel, (positions, features, groups, group_filters)), (2, 0, 3, 1))

        def gathered(x):  # -> (groups, positions, features, batch)
            if self._padded:
                x = ops.concatenate([x, ops.zeros_like(x[:, :1])], axis=1)
            return ops.reshape(ops.take(x, self._gather, axis=1), (groups, positions, features, -1))

        @ops.custom_gradient
        def product(x, kernel):
            outputs = ops.matmul(kernel, gathered(x))  # (groups, positions, group filters, batch)

            def grad(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                kernel_gradient = ops.matmul(upstream, ops.transpose(gathered(x), (0, 1, 3, 2)))
                # (groups, positions * taps, group channels * batch): rows to add into the inputs.
                rows = ops.matmul(ops.transpose(kernel, (0, 1, 3, 2)), upstream)
                rows = ops.reshape(rows, (groups, positions * taps, -1))
                # Groups apart in each row (no copy for one group).
                rows = rows[0] if groups == 1 else ops.transpose(rows, (1, 0, 2))
                summed = ops.segment_sum(rows, self._gather, num_segments=inputs_count + 1)
                if groups == 1:
                    summed = summed[:, None]
                inputs_gradient = ops.transpose(summed[:inputs_count], (1, 0, 2))
                return ops.reshape(inputs_gradient, ops.shape(x)), kernel_gradient

            return outputs, grad

        outputs = product(x, kernel)
        return ops.reshape(ops.transpose(outputs, (3, 1, 0, 2)), (-1, positions, plan.filters))
