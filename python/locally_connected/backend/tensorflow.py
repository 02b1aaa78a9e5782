"""TensorFlow's products (`tf.sparse`)."""

from __future__ import annotations

from locally_connected import _keras_internals


class SparseProduct:
    """`tf.sparse.sparse_dense_matmul`, which has no XLA kernel."""

    supports_xla = False
    traceable = True

    def __init__(self, indices, dense_shape) -> None:
        self._indices, self._dense_shape = indices, dense_shape

    def __call__(self, values, flat):
        import tensorflow as tf

        if _keras_internals.tensorflow_compiles_with_xla():
            raise ValueError(
                "`implementation` = 3 runs tf.sparse, which XLA cannot compile, and this call is "
                "being compiled with XLA (`jit_compile=True`). Use implementation 1 or 2, or "
                "compile the model with `jit_compile=False`."
            )
        matrix = tf.SparseTensor(self._indices, values, self._dense_shape)
        return tf.transpose(tf.sparse.sparse_dense_matmul(matrix, flat, adjoint_b=True))
