"""Implementation 2: the kernel scattered into a dense masked matrix, then one matmul."""

from __future__ import annotations

import numpy as np
from keras import ops

from locally_connected import _arguments, backend
from locally_connected.implementations.base import Implementation
from locally_connected.implementations.patches import Patches
from locally_connected.plan import Plan

#: Largest dense masked kernel (bytes) that implementation 2 may allocate.
_budget_bytes = 2 * 1024**3


def set_dense_kernel_budget(num_bytes: int) -> None:
    """Sets the largest dense masked kernel, in bytes, that `implementation=2` may allocate."""
    global _budget_bytes
    _budget_bytes = _arguments.integer(num_bytes, "num_bytes", maximum=None)


def dense_kernel_budget_bytes() -> int:
    return _budget_bytes


class DenseMasked(Implementation):
    """`(batch, inputs * channels) @ (inputs * channels, positions * filters)`.

    The dense matrix is the only large allocation; its zeros are not parameters. Its
    product makes one NaN/Inf input NaN in every output of the sample (0 * NaN = NaN), so a
    batch that is not all finite takes the patches product, as local as a convolution.
    """

    number = 2

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        rows = plan.kernel_rows  # (row, position, group) of every (position, feature, group)
        # Taps that read padding write one extra row, cut off after the scatter.
        self._padding_row = plan.has_padding_taps
        # Circular and reflect padding with a kernel wider than the input read one input
        # twice in a window: those entries are summed into their place first.
        real = rows[rows[:, 0] < plan.input_features]
        if len(np.unique(real, axis=0)) < len(real):
            places, self._place_of_entry = np.unique(rows, axis=0, return_inverse=True)
            self._place_of_entry = backend.constant(self._place_of_entry.reshape(-1))
        else:
            places, self._place_of_entry = rows, None
        self._indices = backend.constant(places)
        self._num_places = len(places)
        self._kernel_of_position = backend.constant(plan.kernel_of_position) if plan.shares_weights else None
        self._fallback = Patches(plan)

    def __call__(self, inputs, kernel):
        finite = ops.isfinite(inputs)
        if backend.compiling():
            # torch.compile would break the graph at the branch: both products and a select.
            # The dense one multiplies the finite inputs only, so its gradients stay finite.
            dense = self._dense_product(ops.where(finite, inputs, ops.zeros_like(inputs)), kernel)
            return ops.where(ops.all(finite), dense, self._fallback(inputs, kernel))
        return ops.cond(
            ops.all(finite),
            lambda: self._dense_product(inputs, kernel),
            lambda: self._fallback(inputs, kernel),
        )

    def _dense_product(self, inputs, kernel):
        plan = self.plan
        rows, outputs, filters = plan.input_features, plan.geometry.num_outputs, plan.filters
        groups, group_filters = plan.groups, plan.group_filters
        if self._kernel_of_position is not None:
            kernel = backend.take(kernel, self._kernel_of_position, axis=0)
        updates = ops.reshape(kernel, (-1, group_filters))  # one row per (position, feature, group)
        if self._place_of_entry is not None:
            updates = ops.segment_sum(updates, self._place_of_entry, num_segments=self._num_places)
        # An update of zeros, not ops.scatter: Keras' PyTorch scatter loops over the indices in
        # Python (seconds per step). Places are unique but the padding row, which is cut off.
        dense = ops.scatter_update(
            ops.zeros((rows + self._padding_row, outputs, groups, group_filters), dtype=kernel.dtype),
            self._indices, updates,
        )
        if self._padding_row:
            dense = dense[:rows]
        dense = ops.reshape(dense, (rows, outputs * filters))
        flat = ops.reshape(inputs, (-1, rows))
        return ops.reshape(ops.matmul(flat, dense), (-1, outputs, filters))

    @staticmethod
    def dense_entries(plan: Plan) -> int:
        """Entries of the dense masked kernel."""
        return plan.input_features * plan.geometry.num_outputs * plan.filters

    @classmethod
    def memory_error(cls, plan: Plan) -> str | None:
        entries = cls.dense_entries(plan)
        if entries * plan.itemsize <= _budget_bytes:
            return None
        return (
            f"`implementation` = 2 would allocate a dense masked kernel of {entries:,} entries "
            f"({entries * plan.itemsize / 2**30:.2f} GiB) for this input shape, more than the "
            f"budget of {_budget_bytes / 2**30:.2f} GiB. Use implementation 1 or 3, or raise the "
            "budget with locally_connected.set_dense_kernel_budget()."
        )
