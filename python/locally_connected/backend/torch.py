"""PyTorch's products: CSR matrices with gradients that stay sparse.

PyTorch's own gradient of a sparse matrix product forms the dense `(rows x columns)`
product first (seconds per step). Here the kernel's gradient is `S`'s pattern sampled from
`grad.T @ flat` (SDDMM) and the input's is `S.T @ grad`, both CSR products.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np


def tracing_for_export() -> bool:
    """`torch.export` (also behind the dynamo ONNX exporter) or TorchScript tracing (the
    ONNX exporter with dynamic shapes)."""
    import torch

    return torch.compiler.is_exporting() or torch.jit.is_tracing()


def compiling() -> bool:
    import torch

    return torch.compiler.is_compiling()


def constant(array):
    """On the device Keras puts tensors on."""
    import keras

    return keras.ops.convert_to_tensor(array)


def take(x, indices, axis: int):
    """`torch.index_select`: Keras' `ops.take` ravels its indices first, an op the
    TorchScript ONNX exporter cannot express."""
    import keras
    import torch

    x = keras.ops.convert_to_tensor(x)  # a Keras variable (the kernel) too
    return torch.index_select(x, axis, torch.as_tensor(indices, device=x.device))


class SparseProduct:
    """`flat @ S.T` with `S` in CSR form; float16/bfloat16 run in float32, as PyTorch's
    CPU sparse products have no half kernels. torch.compile cannot trace sparse CSR
    tensors."""

    supports_xla = True
    traceable = False

    def __init__(self, indices, dense_shape) -> None:
        self._dense_shape = tuple(dense_shape)
        self._plan = _csr_plan(indices, self._dense_shape)
        self._plan_on_device: dict[str, tuple] = {}
        self._function = _autograd_function()

    def _device_plan(self, device) -> tuple:
        """The CSR plan as tensors on `device`, made once per device."""
        key = str(device)
        if key not in self._plan_on_device:
            import torch

            def as_tensors(arrays):
                return tuple(torch.as_tensor(a, device=device) for a in arrays)

            matrix, transposed, place = self._plan
            self._plan_on_device[key] = (as_tensors(matrix), as_tensors(transposed),
                                         torch.as_tensor(place, device=device))
        return self._plan_on_device[key]

    def __call__(self, values, flat):
        import torch

        plan = self._device_plan(values.device)
        function = self._function
        if values.dtype in (torch.float32, torch.float64):
            return function.apply(values, flat, plan, self._dense_shape)
        result = function.apply(values.float(), flat.float(), plan, self._dense_shape)
        return result.to(values.dtype)


def _csr_plan(indices: np.ndarray, dense_shape: tuple[int, int]):
    """`S` and its transpose in CSR form, each as (row pointers, column of every entry, the
    entry of `indices` each one holds), and for every entry of `indices` its place in `S`'s
    CSR order."""

    def csr(row: np.ndarray, column: np.ndarray, rows: int):
        order = np.lexsort((column, row))
        pointers = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=rows))])
        return pointers, column[order], order

    matrix = csr(indices[:, 0], indices[:, 1], dense_shape[0])
    transposed = csr(indices[:, 1], indices[:, 0], dense_shape[1])
    place = np.empty_like(matrix[2])
    place[matrix[2]] = np.arange(len(place))
    return matrix, transposed, place


@functools.cache
def _autograd_function():
    """The autograd function, made when the first layer is built, so that importing this
    module does not import PyTorch."""
    import torch

    class SparseProductFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, values, flat, plan, dense_shape):
            (pointers, columns, order), _, _ = plan
            matrix = _csr_tensor(pointers, columns, values[order], dense_shape)
            ctx.save_for_backward(values, flat)
            # The matrix is also the pattern that the kernel's gradient samples.
            ctx.matrix, ctx.plan, ctx.dense_shape = matrix, plan, dense_shape
            return (matrix @ flat.T).T

        @staticmethod
        def backward(ctx, grad):
            values, flat = ctx.saved_tensors
            _, (t_pointers, t_columns, t_order), place = ctx.plan
            values_grad = flat_grad = None
            grad_rows = grad.T.contiguous()
            if ctx.needs_input_grad[0]:
                values_grad = torch.sparse.sampled_addmm(ctx.matrix, grad_rows, flat, beta=0.0).values()[place]
            if ctx.needs_input_grad[1]:
                transposed = _csr_tensor(t_pointers, t_columns, values[t_order], ctx.dense_shape[::-1])
                flat_grad = (transposed @ grad_rows).T
            return values_grad, flat_grad, None, None

    return SparseProductFunction


def _csr_tensor(pointers, columns, values, shape):
    import torch

    with warnings.catch_warnings():
        # "Sparse CSR tensor support is in beta state": said on every first use, not ours to act on.
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
        # The plan is valid by construction: no invariant checks at every step.
        return torch.sparse_csr_tensor(pointers, columns, values, shape, check_invariants=False)
