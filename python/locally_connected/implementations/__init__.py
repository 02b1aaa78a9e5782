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
# and calibration.md; docs/performance.md says which measurement sets each bound), timing the
# whole training step: the forward, then every gradient. The block product (3) wins on PyTorch
# everywhere, where its chunks stay in cache, and on TensorFlow everywhere but where the dense
# masked product (2) is small in absolute terms and not much larger than the real weights. On
# JAX, where the block product runs in chunks of positions and gathers each chunk's patches
# twice (forward and backward) while the patches product (1) builds them once for both, 3 wins
# where the per-position products (features x filters of a group) are tiny, with
# channels_first inputs (which 1 must transpose) while the batch's patches are few, and where
# the batch's patches are many, at batches of 32 and more, as its chunks stay in cache;
# elsewhere 1.
AUTO_DENSE_MAX_ENTRIES = 1_000_000
AUTO_DENSE_MAX_RATIO = 12
AUTO_SPARSE_MAX_BLOCK = 288
#: With channels_first inputs, the most patch entries (batch x positions x features) for which
#: JAX's block product is chosen: 4 MiB of float32.
AUTO_SPARSE_MAX_CHANNELS_FIRST_PATCHES = 2**20
#: The fewest patch entries of a batch (16 MiB of float32) from which JAX's block product is
#: chosen at batches of at least AUTO_SPARSE_MIN_BATCH.
AUTO_SPARSE_MIN_PATCHES = 2**22
AUTO_SPARSE_MIN_BATCH = 32
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
    tiny_blocks = plan.group_filters * plan.features <= AUTO_SPARSE_MAX_BLOCK
    batch_patches = batch * plan.geometry.num_outputs * plan.features
    few_channels_first_patches = plan.channels_first and batch_patches <= AUTO_SPARSE_MAX_CHANNELS_FIRST_PATCHES
    many_patches = batch >= AUTO_SPARSE_MIN_BATCH and batch_patches >= AUTO_SPARSE_MIN_PATCHES
    return Sparse.number if tiny_blocks or few_channels_first_patches or many_patches else Patches.number


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
