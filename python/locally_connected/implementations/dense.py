"""Implementation 2: the kernel scattered into a dense masked matrix, then one matmul."""

from __future__ import annotations

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
        self._indices = backend.constant(plan.kernel_rows)
        # Taps that read padding write one extra row, cut off after the scatter.
        self._padding_row = plan.has_padding_taps
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
        # An update of zeros, not ops.scatter: Keras' PyTorch scatter loops over the indices in
        # Python (seconds per step). Rows are unique but the padding row, which is cut off.
        dense = ops.scatter_update(
            ops.zeros((rows + self._padding_row, outputs, filters), dtype=kernel.dtype),
            self._indices, ops.reshape(kernel, (-1, filters)),
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
