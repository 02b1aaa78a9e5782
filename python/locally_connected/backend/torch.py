"""PyTorch's ops: implementation 3's chunked block product, index tables and tracer state."""

from __future__ import annotations

import functools


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


#: The patches one step of implementation 3's product gathers at once: small enough that
#: the product never holds more than a few MiB beyond its inputs, outputs and kernel, large
#: enough that each step is a sizeable batched matmul.
CHUNK_BYTES = 4 * 2**20


class SparseProduct:
    """Implementation 3's block-sparse product, block by block: a chunk of output positions
    at a time gathers its patches (`(taps * group channels, batch)` per position and group)
    and multiplies them with their kernel blocks. Forward and backward hold one chunk's
    patches at a time, so that training memory is the inputs', outputs' and kernel's plus a
    few MiB. torch.compile does not trace the chunk loop: compiled, the layer runs its
    portable formulation."""

    traceable = False

    def __init__(self, plan) -> None:
        self.plan = plan
        positions, groups = plan.geometry.num_outputs, plan.groups
        # (positions, groups, features): the input feature each kernel row reads, the zero
        # input (the last) where it reads padding.
        self._gather = constant(plan.kernel_rows[:, 0].reshape(positions, plan.features, groups).transpose(0, 2, 1))
        self._function = _autograd_function()

    def __call__(self, inputs, kernel):
        import keras
        import torch

        plan = self.plan
        inputs, kernel = keras.ops.convert_to_tensor(inputs), keras.ops.convert_to_tensor(kernel)
        flat = torch.reshape(inputs, (-1, plan.input_features))
        # (input features + 1, batch): a row per input feature, the last the zero input.
        rows = torch.cat([flat, torch.zeros_like(flat[:, :1])], dim=1).T.contiguous()
        batch = max(1, rows.shape[1])
        chunk = max(1, CHUNK_BYTES // (plan.groups * plan.features * batch * rows.element_size()))
        outputs = self._function.apply(kernel, rows, self._gather, plan.groups, chunk)
        return outputs.permute(2, 0, 1)  # (batch, positions, filters)


@functools.cache
def _autograd_function():
    """The autograd function, made when the first layer is built, so that importing this
    module does not import PyTorch. Its backward gathers each chunk's patches again rather
    than keeping them, and adds the inputs' gradient back with `index_add_`."""
    import torch

    def chunks(positions: int, size: int):
        return ((start, min(positions, start + size)) for start in range(0, positions, size))

    class BlockProduct(torch.autograd.Function):
        @staticmethod
        def forward(ctx, kernel, rows, gather, groups, chunk):
            positions, features, filters = kernel.shape
            group_filters, batch = filters // groups, rows.shape[1]
            # (positions, groups, group filters, features): each block's rows, a view.
            blocks = kernel.view(positions, features, groups, group_filters).permute(0, 2, 3, 1)
            outputs = torch.empty(positions, groups, group_filters, batch, dtype=rows.dtype, device=rows.device)
            for start, end in chunks(positions, chunk):
                count = (end - start) * groups
                patches = rows.index_select(0, gather[start:end].reshape(-1)).view(count, features, batch)
                torch.bmm(blocks[start:end].reshape(count, group_filters, features), patches,
                          out=outputs[start:end].view(count, group_filters, batch))
            ctx.save_for_backward(kernel, rows, gather)
            ctx.groups, ctx.chunk = groups, chunk
            return outputs.view(positions, filters, batch)

        @staticmethod
        def backward(ctx, upstream):
            kernel, rows, gather = ctx.saved_tensors
            positions, features, filters = kernel.shape
            groups, group_filters, batch = ctx.groups, filters // ctx.groups, rows.shape[1]
            upstream = upstream.contiguous().view(positions, groups, group_filters, batch)
            # (positions, groups, features, group filters): each block's transpose, a view.
            blocks = kernel.view(positions, features, groups, group_filters).permute(0, 2, 1, 3)
            # The kernel gradient in the blocks' order, so that each chunk's product writes
            # its part in place; for more than one group, reordered once at the end.
            kernel_gradient = torch.empty(positions, groups, features, group_filters, dtype=kernel.dtype,
                                          device=kernel.device) if ctx.needs_input_grad[0] else None
            rows_gradient = torch.zeros_like(rows) if ctx.needs_input_grad[1] else None
            for start, end in chunks(positions, ctx.chunk):
                count = (end - start) * groups
                indices = gather[start:end].reshape(-1)
                block_upstream = upstream[start:end].reshape(count, group_filters, batch)
                if kernel_gradient is not None:
                    patches = rows.index_select(0, indices).view(count, features, batch)
                    torch.bmm(patches, block_upstream.transpose(1, 2),
                              out=kernel_gradient[start:end].view(count, features, group_filters))
                if rows_gradient is not None:
                    block_rows = torch.bmm(blocks[start:end].reshape(count, features, group_filters), block_upstream)
                    rows_gradient.index_add_(0, indices, block_rows.view(-1, batch))
            if kernel_gradient is not None:
                kernel_gradient = kernel_gradient.transpose(1, 2).reshape(positions, features, filters)
            return kernel_gradient, rows_gradient, None, None, None

    return BlockProduct
