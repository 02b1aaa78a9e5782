"""The one place where the package's maths differs by Keras backend.

Each backend-specific operation has one table, keyed by `keras.backend.backend()`, whose
default is a `keras.ops` formulation that any backend runs (Keras' numpy backend among
them). A backend's module imports its framework only when its class is first used, so
no backend imports another's framework.
"""

from __future__ import annotations

import keras

from locally_connected.backend import generic, jax, tensorflow, torch

#: `flat @ S.T` for a fixed sparse pattern `S`: the product of implementation 3.
SPARSE_PRODUCTS = {
    "tensorflow": tensorflow.SparseProduct,
    "jax": jax.SparseProduct,
    "torch": torch.SparseProduct,
}


def sparse_product_class(backend: str | None = None) -> type:
    """The sparse product of `backend` (the active one by default)."""
    return SPARSE_PRODUCTS.get(backend or keras.backend.backend(), generic.SparseProduct)


def sparse_product(indices, dense_shape):
    """The active backend's sparse product for the pattern `indices` (`(entries, 2)` COO
    `(row, column)` pairs) of a `dense_shape` matrix: call it with the entries' values (in
    the order of `indices`) and a dense `(batch, columns)` matrix."""
    return sparse_product_class()(indices, dense_shape)
