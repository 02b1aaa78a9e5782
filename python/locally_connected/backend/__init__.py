"""The one place where the package's maths differs by Keras backend.

Each backend-specific operation has one table, keyed by `keras.backend.backend()`, whose
default is a `keras.ops` formulation that any backend runs (Keras' numpy backend among
them). A backend's module imports its framework only when its class is first used, so
no backend imports another's framework.
"""

from __future__ import annotations

import keras

from locally_connected import _keras_internals
from locally_connected.backend import generic, jax, tensorflow, torch

#: Implementation 3's block-sparse product, built from a plan: on PyTorch, eager, a loop over
#: boxes of positions (bounded memory, no graph to trace); on JAX a loop over chunks of
#: positions that XLA compiles (bounded memory); elsewhere one gathered block product that
#: TensorFlow graphs and XLA compile whole, on TensorFlow with the batch as the blocks' rows
#: (0.62-0.92x the time of the default's order there) and its inputs' gradient summed by a
#: sparse segment sum.
SPARSE_PRODUCTS = {"torch": torch.SparseProduct, "tensorflow": tensorflow.SparseProduct, "jax": jax.SparseProduct}

#: Whether implementation 1 computes channels_first inputs with the block product (3's)
#: rather than the patches product, which transposes input, kernel and outputs to the
#: channels_last order at every step, while the block product reads its patches from the
#: input's own layout. On PyTorch each of those transposes is a copy, the step 1.1-1.5x the
#: channels_last one; on TensorFlow the block product is the faster on the bench's shapes. Not
#: on JAX, whose block product gathers each chunk's patches twice: over the patches product, its
#: training step took 0.56x-1.13x of the time on the calibration's channels_first shapes with
#: up to 36 features, but 1.08x-2.25x with 144 at batches 16 and 32; "auto" chooses (3 or 1).
CHANNELS_FIRST_PATCHES_AS_BLOCKS = {"torch": True, "tensorflow": True}

#: The same for a layer with one kernel (a Conv: `weight_sharing` over the whole output), where
#: the patches product is one matmul over all positions: only on PyTorch, whose transposes are
#: copies (the block product 0.17x-0.56x of the patches product's time on three such
#: channels_first shapes, against 1.24x-1.53x on TensorFlow and 0.54x-1.58x on JAX).
CHANNELS_FIRST_ONE_KERNEL_AS_BLOCKS = {"torch": True}

#: Per backend, whether implementation 1 computes channels_last inputs with the block product
#: too, asked of the call being run or traced. On PyTorch, unless torch.compile traces it:
#: eager, the block product is faster on every channels_last case of the bench (the patches
#: product copies once per tap and per transpose there); torch.compile does not trace its loop
#: and compiles the patches product. On TensorFlow, unless XLA compiles it: in graphs, with or
#: without oneDNN, the block product is faster on every channels_last case; under XLA it is
#: slower on four of them.
CHANNELS_LAST_PATCHES_AS_BLOCKS = {
    "torch": lambda: not torch.compiling(),
    "tensorflow": lambda: not _keras_internals.tensorflow_compiles_with_xla(),
}

#: Whether the backend's own tracer is recording this call for an exported program.
TRACING_FOR_EXPORT = {"torch": torch.tracing_for_export}

#: A NumPy index table as the backend keeps it for the life of a layer.
CONSTANT = {"torch": torch.constant}

#: Whether the backend's graph compiler (other than XLA) is tracing this call.
COMPILING = {"torch": torch.compiling}

#: `take(x, indices, axis)` with a fixed 1-D NumPy `indices`, in ops every exporter reads.
TAKE = {"torch": torch.take}


def sparse_product(plan):
    """The active backend's sparse product for `plan`: call it with the inputs and the
    per-position kernel; it returns `(batch, positions, filters)`."""
    return SPARSE_PRODUCTS.get(keras.backend.backend(), generic.SparseProduct)(plan)


def patches_as_blocks(plan) -> bool:
    """Whether implementation 1 computes `plan` with the block product on the active backend."""
    name = keras.backend.backend()
    if plan.num_kernels == 1 and not CHANNELS_FIRST_ONE_KERNEL_AS_BLOCKS.get(name, False):
        return False
    return plan.channels_first and CHANNELS_FIRST_PATCHES_AS_BLOCKS.get(name, False)


def channels_last_patches_as_blocks(plan) -> bool:
    """Whether implementation 1 computes `plan`, channels_last, with the block product on the
    active backend in the calls that `patches_as_blocks_in_this_call` allows. A layer with one
    kernel (a Conv) keeps the patches product's one matmul over all positions."""
    return (not plan.channels_first and plan.num_kernels > 1
            and keras.backend.backend() in CHANNELS_LAST_PATCHES_AS_BLOCKS)


def patches_as_blocks_in_this_call() -> bool:
    """Whether the call being run or traced computes implementation 1's channels_last inputs
    with the block product (where `channels_last_patches_as_blocks`)."""
    return CHANNELS_LAST_PATCHES_AS_BLOCKS[keras.backend.backend()]()


def take(x, indices, axis: int):
    """`x`'s slices `indices` (a 1-D NumPy array) along `axis`."""
    return TAKE.get(keras.backend.backend(), generic.take)(x, indices, axis)


def constant(array):
    """A NumPy index table made at build, as the backend's ops take it on every call: a
    tensor on the layer's device on PyTorch (which its compiler traces; a NumPy array it
    cannot), the array itself elsewhere (a constant of each traced function)."""
    return CONSTANT.get(keras.backend.backend(), generic.constant)(array)


def compiling() -> bool:
    """Whether this call is traced by the backend's own graph compiler (torch.compile),
    which breaks the graph at a branch on a tensor's value."""
    return COMPILING.get(keras.backend.backend(), generic.compiling)()


def tracing_for_export() -> bool:
    """Whether this call is traced for an exported artifact by the backend's own tracer,
    outside Keras' `export()` (which the layer is told of separately)."""
    return TRACING_FOR_EXPORT.get(keras.backend.backend(), generic.tracing_for_export)()
