"""JAX's ops: implementation 3's block product in chunks of output positions."""

from __future__ import annotations

import numpy as np

from locally_connected.backend import generic

#: The patches one chunk of JAX's block product gathers: as on PyTorch, a few MiB, so that
#: training holds the inputs', outputs' and kernel's memory and little more.
CHUNK_BYTES = 4 * 2**20


class SparseProduct(generic.SparseProduct):
    """The block product (the filters as each block's rows, as in `generic.SparseProduct`),
    a chunk of output positions at a time in a loop that XLA compiles (`lax.scan`): each chunk
    gathers its patches, forward and again backward, multiplies them with its part of the
    kernel and, backward, writes its part of the kernel's gradient and adds its rows of the
    patches' gradient into the inputs'. Timed as one product over all positions, the block
    product gathered the patches twice and transposed the whole kernel and its gradient, and
    took more memory in training than the patches product (1); a chunk's temporaries are a few
    MiB. The last chunk starts early enough to end at the last position; the positions it
    shares with the chunk before add nothing to the inputs' gradient a second time."""

    def __call__(self, inputs, kernel):
        from keras import ops

        plan = self.plan
        x = self._batch_innermost(inputs)
        if self._padded:  # the zero row the padding reads
            x = ops.concatenate([x, ops.zeros_like(x[:, :1])], axis=1)
        outputs = self._product(x.shape[-1], x.dtype.itemsize)(x, ops.convert_to_tensor(kernel))
        return ops.reshape(self._outputs(outputs), (-1, plan.geometry.num_outputs, plan.filters))

    def _product(self, batch: int, itemsize: int):
        """The product of `(groups, inputs [+ 1], group channels, batch)` inputs and the
        `(positions, features, filters)` kernel, with its gradient."""
        import jax
        import jax.numpy as jnp
        from jax import lax

        plan = self.plan
        positions, features, taps = plan.geometry.num_outputs, plan.features, plan.geometry.num_taps
        groups, group_channels, group_filters = plan.groups, plan.group_channels, plan.group_filters
        chunk = max(1, min(positions, CHUNK_BYTES // max(1, groups * features * batch * itemsize)))
        # NumPy constants, not JAX arrays: arrays made here would be tracers of the enclosing
        # trace (a `lax.cond` branch, say), which the custom VJP below may not close over.
        firsts = np.arange(0, positions, chunk, dtype=np.int32)
        # (start, first new position) per chunk; the last one starts early.
        steps = (np.minimum(firsts, positions - chunk).astype(np.int32), firsts)
        gather = self._gather.reshape(positions, taps)

        def rows_read(start):
            return lax.dynamic_slice_in_dim(gather, start, chunk).reshape(-1)

        def patches(x, start):  # (groups, chunk, features, batch), features (taps, channels)
            return jnp.take(x, rows_read(start), axis=1, mode="clip").reshape(groups, chunk, features, batch)

        def swap_row_order(kernel_rows, order):  # a chunk's kernel rows from `order` to the other one
            if not plan.channels_first:  # rows (taps, channels), as the patches
                return kernel_rows
            swapped = kernel_rows.reshape((chunk,) + order + (-1,)).transpose(0, 2, 1, 3)
            return swapped.reshape(chunk, features, -1)

        def to_patch_order(kernel_rows):  # channels_first rows (channels, taps) -> (taps, channels)
            return swap_row_order(kernel_rows, (group_channels, taps))

        def from_patch_order(kernel_rows):
            return swap_row_order(kernel_rows, (taps, group_channels))

        def blocks(kernel, start):  # (groups, chunk, group filters, features)
            part = to_patch_order(lax.dynamic_slice_in_dim(kernel, start, chunk))
            return part.reshape(chunk, features, groups, group_filters).transpose(2, 0, 3, 1)

        def forward(x, kernel):
            def step(outputs, start_first):
                start, _ = start_first
                products = jnp.matmul(blocks(kernel, start), patches(x, start))
                return lax.dynamic_update_slice_in_dim(outputs, products, start, axis=1), None

            outputs = jnp.zeros((groups, positions, group_filters, batch), jnp.result_type(x, kernel))
            return lax.scan(step, outputs, steps)[0]

        def backward(residuals, upstream):
            x, kernel = residuals

            def step(gradients, start_first):
                inputs_gradient, kernel_gradient = gradients
                start, first = start_first
                chunk_upstream = lax.dynamic_slice_in_dim(upstream, start, chunk, axis=1)
                # (groups, chunk, group filters, features) -> the kernel's (chunk, features, filters)
                part = jnp.matmul(chunk_upstream, jnp.swapaxes(patches(x, start), 2, 3))
                part = from_patch_order(part.transpose(1, 3, 0, 2).reshape(chunk, features, plan.filters))
                kernel_gradient = lax.dynamic_update_slice_in_dim(kernel_gradient, part.astype(kernel.dtype), start, 0)
                new = (start + jnp.arange(chunk)) >= first  # not added by the chunk before
                chunk_upstream = jnp.where(new[None, :, None, None], chunk_upstream, 0)
                rows = jnp.matmul(jnp.swapaxes(blocks(kernel, start), 2, 3), chunk_upstream)
                rows = rows.reshape(groups, chunk * taps, group_channels * batch).transpose(1, 0, 2)
                inputs_gradient = inputs_gradient.at[rows_read(start)].add(rows.astype(x.dtype))
                return (inputs_gradient, kernel_gradient), None

            start = (jnp.zeros((x.shape[1], groups, group_channels * batch), x.dtype), jnp.zeros_like(kernel))
            inputs_gradient, kernel_gradient = lax.scan(step, start, steps)[0]
            inputs_gradient = inputs_gradient.reshape(x.shape[1], groups, group_channels, batch).transpose(1, 0, 2, 3)
            return inputs_gradient, kernel_gradient

        product = jax.custom_vjp(forward)
        product.defvjp(lambda x, kernel: (forward(x, kernel), (x, kernel)), backward)
        return product
