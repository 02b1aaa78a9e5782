"""Implementation 3: one sparse-dense matmul over the kernel's entries only."""

from __future__ import annotations

import numpy as np
from keras import ops

from locally_connected import backend
from locally_connected.implementations.base import Implementation
from locally_connected.plan import Plan


class Sparse(Implementation):
    """`flat @ S.T`, `S` the `(positions * filters, inputs * channels + 1)` sparse matrix
    whose value vector is the flattened kernel itself; taps that read padding point at the
    last column, a zero input. The product is the active backend's own
    (`backend.SPARSE_PRODUCTS`)."""

    number = 3

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self._product = backend.sparse_product(sparse_indices(plan), sparse_shape(plan))
        self.traceable = self._product.traceable
        self._kernel_of_position = backend.constant(plan.kernel_of_position) if plan.shares_weights else None

    def __call__(self, inputs, kernel):
        plan = self.plan
        if self._kernel_of_position is not None:
            kernel = backend.take(kernel, self._kernel_of_position, axis=0)
        flat = ops.reshape(inputs, (-1, plan.input_features))
        # The zero input that padding taps read (ops.pad would name a Keras operation at
        # every call, and OpenVINO's pad of a dynamic batch mixes element types).
        flat = ops.concatenate([flat, ops.zeros_like(flat[:, :1])], axis=1)
        result = self._product(ops.reshape(kernel, (-1,)), flat)
        return ops.reshape(result, (-1, plan.geometry.num_outputs, plan.filters))

    @classmethod
    def supports_jit(cls, backend_name: str) -> bool:
        return backend.sparse_product_class(backend_name).supports_xla


def sparse_shape(plan: Plan) -> tuple[int, int]:
    """A row per (output, filter), a column per input feature plus the zero input."""
    return plan.geometry.num_outputs * plan.filters, plan.input_features + 1


def sparse_indices(plan: Plan) -> np.ndarray:
    """int64 `(positions * features * filters, 2)`: the `(row, column)` in `S` of every
    entry of the per-position kernel, in its own order, so that the flattened kernel is the
    value vector as it is. Filter `f` reads the channels of group `f // group_filters`."""
    rows = plan.kernel_rows.reshape(plan.geometry.num_outputs, plan.features, plan.groups, 3)
    column = np.repeat(rows[..., 0], plan.group_filters, axis=2)  # (positions, features, filters)
    row = rows[:, :1, :1, 1] * plan.filters + np.arange(plan.filters, dtype=np.int64)[None, None, :]
    row = np.broadcast_to(row, column.shape)
    return np.stack([row.ravel(), column.ravel()], axis=1)
