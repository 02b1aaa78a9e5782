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
    """`flat @ S.T` as a gather and a segment sum: what a backend without a sparse
    product of its own runs."""

    supports_xla = True
    traceable = True

    def __init__(self, indices, dense_shape) -> None:
        # int32 segment ids: Keras' OpenVINO segment_sum refuses int64 ones.
        row_type = np.int32 if dense_shape[0] < 2**31 else np.int64
        self._rows, self._columns = indices[:, 0].astype(row_type), indices[:, 1]
        self._num_rows = dense_shape[0]

    def __call__(self, values, flat):
        gathered = ops.take(flat, self._columns, axis=1) * values
        summed = ops.segment_sum(ops.transpose(gathered), self._rows, num_segments=self._num_rows)
        return ops.transpose(summed)
