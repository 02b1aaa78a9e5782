"""Backend-agnostic formulations in `keras.ops`: the default of every table in `backend`,
and the ones a backend's entry picks among them."""

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
    with a segment sum.

    Each block multiplies as `kernel.T @ patches`, `(group filters, batch)` per position;
    `BatchRowsSparseProduct` multiplies the same blocks the other way round."""

    traceable = True

    def __init__(self, plan) -> None:
        self.plan = plan
        taps = plan.geometry.taps
        self._padded = plan.has_padding_taps
        # Every (position, tap)'s input position; padding reads the zero row after them. The
        # same table gathers forward and sums backward, as int32: Keras' OpenVINO segment_sum
        # refuses int64 segment ids.
        self._gather = np.where(taps >= 0, taps, plan.geometry.num_inputs).reshape(-1).astype(np.int32)

    # The block product's layout, one method per operand.

    def _blocks(self, kernel):
        """`(groups, positions, group filters, features)`, from `(positions, features,
        groups, group filters)`."""
        return ops.transpose(kernel, (2, 0, 3, 1))

    def _multiply(self, blocks, patches):
        """The products of the blocks and their patches `(groups, positions, features,
        batch)`: here `(groups, positions, group filters, batch)`."""
        return ops.matmul(blocks, patches)

    def _blocks_gradient(self, patches, upstream):
        """The gradient of the blocks, in their layout, from the products' gradient."""
        return ops.matmul(upstream, ops.transpose(patches, (0, 1, 3, 2)))

    def _patches_gradient(self, blocks, upstream):
        """The gradient of the patches, `(groups, positions, features, batch)`."""
        return ops.matmul(ops.transpose(blocks, (0, 1, 3, 2)), upstream)

    def _outputs(self, products):
        """`(batch, positions, groups, group filters)` from the products."""
        return ops.transpose(products, (3, 1, 0, 2))

    def _batch_innermost(self, inputs):
        """`(groups, inputs, group channels, batch)`: the inputs, batch innermost."""
        plan = self.plan
        groups, group_channels, inputs_count = plan.groups, plan.group_channels, plan.geometry.num_inputs
        if plan.channels_first:
            return ops.transpose(ops.reshape(inputs, (-1, groups, group_channels, inputs_count)), (1, 3, 2, 0))
        return ops.transpose(ops.reshape(inputs, (-1, inputs_count, groups, group_channels)), (2, 1, 3, 0))

    def _sum_into_inputs(self, rows):
        """`(inputs, ...)`: each input's sum of the rows `(positions * taps, ...)` of the
        patches' gradient that read it."""
        inputs_count = self.plan.geometry.num_inputs
        return ops.segment_sum(rows, self._gather, num_segments=inputs_count + 1)[:inputs_count]

    def __call__(self, inputs, kernel):
        """`(batch, positions, filters)` from the inputs and the per-position kernel."""
        plan = self.plan
        positions, groups, features = plan.geometry.num_outputs, plan.groups, plan.features
        taps, group_channels, group_filters = plan.geometry.num_taps, plan.group_channels, plan.group_filters
        x = self._batch_innermost(inputs)
        if plan.channels_first:
            # The kernel's (channels, taps) rows in the gathered (taps, channels) order.
            kernel = ops.reshape(kernel, (positions, group_channels, taps, plan.filters))
            kernel = ops.transpose(kernel, (0, 2, 1, 3))
        blocks = self._blocks(ops.reshape(kernel, (positions, features, groups, group_filters)))

        def gathered(x):  # -> (groups, positions, features, batch)
            if self._padded:
                x = ops.concatenate([x, ops.zeros_like(x[:, :1])], axis=1)
            return ops.reshape(ops.take(x, self._gather, axis=1), (groups, positions, features, -1))

        @ops.custom_gradient
        def product(x, blocks):
            products = self._multiply(blocks, gathered(x))

            def grad(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                blocks_gradient = self._blocks_gradient(gathered(x), upstream)
                # (groups, positions * taps, group channels * batch): rows to add into the inputs.
                rows = ops.reshape(self._patches_gradient(blocks, upstream), (groups, positions * taps, -1))
                # Groups apart in each row (no copy for one group).
                rows = rows[0] if groups == 1 else ops.transpose(rows, (1, 0, 2))
                summed = self._sum_into_inputs(rows)
                if groups == 1:
                    summed = summed[:, None]
                inputs_gradient = ops.transpose(summed, (1, 0, 2))
                return ops.reshape(inputs_gradient, ops.shape(x)), blocks_gradient

            return products, grad

        return ops.reshape(self._outputs(product(x, blocks)), (-1, positions, plan.filters))


class BatchRowsSparseProduct(SparseProduct):
    """The same product with each block multiplied as `patches.T @ kernel`, `(batch, group
    filters)` per position: the kernel stays in its own `(features, group filters)` order
    (for one group, not transposed at all), and the patches are transposed in the product.
    Which of the two is faster is the compiler's: on TensorFlow this one, on XLA the other
    (bench/results, docs/performance.md)."""

    def _blocks(self, kernel):
        """`(groups, positions, features, group filters)`."""
        plan = self.plan
        if plan.groups == 1:
            return ops.reshape(kernel, (1, plan.geometry.num_outputs, plan.features, plan.group_filters))
        return ops.transpose(kernel, (2, 0, 1, 3))

    def _multiply(self, blocks, patches):
        """`(groups, positions, batch, group filters)`."""
        return ops.matmul(ops.transpose(patches, (0, 1, 3, 2)), blocks)

    def _blocks_gradient(self, patches, upstream):
        return ops.matmul(patches, upstream)

    def _patches_gradient(self, blocks, upstream):
        return ops.matmul(blocks, ops.transpose(upstream, (0, 1, 3, 2)))

    def _outputs(self, products):
        return ops.transpose(products, (2, 1, 0, 3))
