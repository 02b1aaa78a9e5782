"""Which input position each kernel tap of each output position reads (pure NumPy).

All three implementations are built from this one table, so they cannot disagree
about the geometry. "same" uses exactly Conv1D/Conv2D's geometry: the output has
`ceil(n / stride)` positions and the total padding is split with the smaller half
before, as TensorFlow and Keras' convolutions do.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np


def output_length(length: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
        return -(-length // stride)
    return (length - kernel) // stride + 1


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Spatial geometry of a locally connected layer on one input size."""

    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str

    @property
    def output_size(self) -> tuple[int, ...]:
        return tuple(
            output_length(n, k, s, self.padding)
            for n, k, s in zip(self.input_size, self.kernel_size, self.strides)
        )

    @property
    def pad_before(self) -> tuple[int, ...]:
        return tuple(total // 2 for total in self._pad_total)

    @property
    def pad_after(self) -> tuple[int, ...]:
        return tuple(total - total // 2 for total in self._pad_total)

    @property
    def _pad_total(self) -> tuple[int, ...]:
        if self.padding == "valid":
            return (0,) * len(self.input_size)
        return tuple(
            max((o - 1) * s + k - n, 0)
            for n, k, s, o in zip(self.input_size, self.kernel_size, self.strides, self.output_size)
        )

    @property
    def num_outputs(self) -> int:
        return math.prod(self.output_size)

    @property
    def num_inputs(self) -> int:
        return math.prod(self.input_size)

    @property
    def num_taps(self) -> int:
        return math.prod(self.kernel_size)

    @functools.cached_property
    def taps(self) -> np.ndarray:
        """int64 `(num_outputs, num_taps)`: flat input position read, -1 where it is padding.

        Outputs and taps are both in row-major order of their spatial indices.
        """
        per_dim = []
        for k, s, o, before in zip(self.kernel_size, self.strides, self.output_size, self.pad_before):
            position = np.arange(o)[:, None] * s + np.arange(k)[None, :] - before
            per_dim.append(position)
        rank = len(per_dim)
        # Broadcast to (o_1, ..., o_r, k_1, ..., k_r).
        flat = np.zeros((1,) * (2 * rank), dtype=np.int64)
        inside = np.ones((1,) * (2 * rank), dtype=bool)
        for d, (position, n) in enumerate(zip(per_dim, self.input_size)):
            view = [1] * (2 * rank)
            view[d], view[rank + d] = position.shape
            position = position.reshape(view)
            flat = flat * n + position
            inside = inside & (position >= 0) & (position < n)
        table = np.where(inside, flat, -1)
        return table.reshape(self.num_outputs, self.num_taps)
