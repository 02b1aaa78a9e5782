"""JAX's products (`jax.experimental.sparse`)."""

from __future__ import annotations

import numpy as np


class SparseProduct:
    """A BCOO matrix times the dense inputs."""

    supports_xla = True
    traceable = True

    def __init__(self, indices, dense_shape) -> None:
        self._indices, self._dense_shape = indices.astype(np.int32), dense_shape

    def __call__(self, values, flat):
        from jax.experimental import sparse

        matrix = sparse.BCOO((values, self._indices), shape=self._dense_shape)
        return (matrix @ flat.T).T
