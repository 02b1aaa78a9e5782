"""Implementation 3: one block-sparse product over the kernel's entries only."""

from __future__ import annotations

from locally_connected import backend
from locally_connected.implementations.base import Implementation
from locally_connected.plan import Plan


class Sparse(Implementation):
    """`flat @ S.T`, `S` the `(positions * filters, inputs * channels + 1)` sparse matrix
    whose entries are the kernel's; taps that read padding point at the last column, a zero
    input. `S` is never formed: each block of its rows (a position and a group of filters)
    reads the same columns, so the product gathers those and multiplies them with the block
    (`backend.SPARSE_PRODUCTS`: in chunks of positions on PyTorch, all at once elsewhere).
    Neither forms a `(non-zeros x batch)` intermediate, forward or backward, nor keeps the
    patches for the gradient, which gathers them again."""

    number = 3

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self._product = backend.sparse_product(plan)
        self.traceable = self._product.traceable
        self._kernel_of_position = backend.constant(plan.kernel_of_position) if plan.shares_weights else None

    def __call__(self, inputs, kernel):
        if self._kernel_of_position is not None:
            kernel = backend.take(kernel, self._kernel_of_position, axis=0)
        return self._product(inputs, kernel)

