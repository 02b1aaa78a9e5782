"""The three implementations, and the cost model that "auto" chooses among them with.

Every implementation takes the same kernel, shaped `(positions, taps * channels,
filters)` with features ordered `(taps, channels)` for channels_last and `(channels,
taps)` for channels_first (tf-keras implementation 1's layout), and returns `(batch,
positions, filters)`. They differ only in speed and memory.
"""

from __future__ import annotations

import keras

from locally_connected.implementations.base import Implementation
from locally_connected.implementations.dense import (
    DenseMasked,
    dense_kernel_budget_bytes,
    set_dense_kernel_budget,
)
from locally_connected.implementations.patches import GatheredPatches, Patches
from locally_connected.implementations.sparse import Sparse
from locally_connected.plan import Plan

IMPLEMENTATIONS: dict[int, type[Implementation]] = {cls.number: cls for cls in (Patches, DenseMasked, Sparse)}

# The rule of "auto", calibrated by `make bench` on a 2-core CPU (bench/results/backends.md
# and calibration.md; docs/performance.md says which measurement sets each bound). The block
# product (3) wins on PyTorch everywhere, where its chunks stay in cache, and on TensorFlow
# everywhere but where the dense masked product (2) is small in absolute terms and not much
# larger than the real weights. On JAX it wins always with few filters, and wherever its
# per-position products (features x filters of a group) are small and either the batch fills
# their rows or a sample's patches are few, where they are somewhat larger but a sample's
# patches fewer still and the batch at most Keras' default, and with channels_first inputs
# (which the patches product, 1, must transpose); elsewhere the patches product.
AUTO_DENSE_MAX_ENTRIES = 1_000_000
AUTO_DENSE_MAX_RATIO = 12
AUTO_SPARSE_MAX_FILTERS = 8
AUTO_SPARSE_MAX_BLOCK = 80 * 32
AUTO_SPARSE_MIN_BATCH = 32
#: Below AUTO_SPARSE_MIN_BATCH: the most patch entries (positions x features) of one sample.
AUTO_SPARSE_MAX_SAMPLE_PATCHES = 2**17
#: Products up to this size still run 3 at batches up to AUTO_SPARSE_MIN_BATCH while a sample
#: has at most AUTO_SPARSE_MAX_SAMPLE_PATCHES_LARGER_BLOCK patch entries: the bound the CPUs
#: measured disagree on most (24x24x16 F32 inside it, 32x32x16 F32 outside).
AUTO_SPARSE_MAX_LARGER_BLOCK = 144 * 32
AUTO_SPARSE_MAX_SAMPLE_PATCHES_LARGER_BLOCK = 96 * 1024
#: The batch "auto" chooses for when the layer is built without one: the default batch size
#: of Keras' fit, evaluate and predict.
AUTO_DEFAULT_BATCH = 32


def choose_implementation(plan: Plan, backend: str | None = None, batch: int | None = None) -> int:
    """The implementation "auto" runs for `plan` on `backend` (the active one by default)
    with inputs of `batch` samples (`AUTO_DEFAULT_BATCH` when None).

    Never picks 2 when its dense kernel would exceed the budget
    (`set_dense_kernel_budget`).
    """
    backend = backend or keras.backend.backend()
    batch = AUTO_DEFAULT_BATCH if batch is None else batch
    if backend == "torch":
        return Sparse.number
    if backend == "tensorflow":
        dense = DenseMasked.dense_entries(plan)
        budget_entries = dense_kernel_budget_bytes() // plan.itemsize
        small = dense <= min(budget_entries, AUTO_DENSE_MAX_ENTRIES) and (
            dense <= AUTO_DENSE_MAX_RATIO * plan.connections)
        return DenseMasked.number if small else Sparse.number
    sample_patches = plan.geometry.num_outputs * plan.features
    block = plan.group_filters * plan.features
    small_blocks = block <= AUTO_SPARSE_MAX_BLOCK and (
        batch >= AUTO_SPARSE_MIN_BATCH or sample_patches <= AUTO_SPARSE_MAX_SAMPLE_PATCHES)
    larger_blocks = (block <= AUTO_SPARSE_MAX_LARGER_BLOCK and batch <= AUTO_SPARSE_MIN_BATCH
                     and sample_patches <= AUTO_SPARSE_MAX_SAMPLE_PATCHES_LARGER_BLOCK)
    if (plan.filters <= AUTO_SPARSE_MAX_FILTERS or small_blocks or larger_blocks
            or (backend == "jax" and plan.channels_first)):
        return Sparse.number
    return Patches.number


__all__ = [
    "IMPLEMENTATIONS",
    "DenseMasked",
    "GatheredPatches",
    "Implementation",
    "Patches",
    "Sparse",
    "choose_implementation",
    "set_dense_kernel_budget",
]
