"""Which input position each kernel tap of each output position reads (pure NumPy).

All implementations are built from this one table, so they cannot disagree about the
geometry. The paddings are Conv's: "valid"; "same" (the output has `ceil(n / stride)`
positions and the total padding is split with the smaller half before, as TensorFlow and
Keras' convolutions do); "causal" (Conv1D's: `(kernel_size - 1) * dilation_rate` before);
explicit `(before, after)` pairs; and flax ConvLocal's "circular" and "reflect", the amounts
of "same" filled by wrapping around or mirroring (NumPy's "wrap" and "reflect" modes).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

#: How each padding fills the padded positions, in NumPy's `np.pad` modes.
FILLS = {"circular": "wrap", "reflect": "reflect"}


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Spatial geometry of a locally connected layer on one input size.

    `padding` is a padding name or explicit `(before, after)` pairs; `dilation_rate` is
    the spacing of a kernel's taps (1: adjacent).
    """

    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str | tuple[tuple[int, int], ...]
    dilation_rate: tuple[int, ...] | None = None

    @property
    def rank(self) -> int:
        return len(self.input_size)

    @property
    def dilation(self) -> tuple[int, ...]:
        return self.dilation_rate or (1,) * self.rank

    @property
    def extent(self) -> tuple[int, ...]:
        """The span of a kernel's taps per dimension: `(kernel_size - 1) * dilation + 1`."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel_size, self.dilation))

    @property
    def fill(self) -> str:
        """`np.pad`'s mode for the padded positions: "constant" (zeros), "wrap", "reflect"."""
        return FILLS.get(self.padding, "constant") if isinstance(self.padding, str) else "constant"

    @functools.cached_property
    def pads(self) -> tuple[tuple[int, int], ...]:
        """Per dimension, the padding `(before, after)`."""
        if not isinstance(self.padding, str):
            return tuple(self.padding)
        if self.padding == "valid":
            return ((0, 0),) * self.rank
        if self.padding == "causal":
            return tuple((e - 1, 0) for e in self.extent)
        # "same" and its fills: ceil(n / s) outputs, the smaller half of the padding before.
        totals = (max((-(-n // s) - 1) * s + e - n, 0) for n, s, e in zip(self.input_size, self.strides, self.extent))
        return tuple((total // 2, total - total // 2) for total in totals)

    @property
    def pad_before(self) -> tuple[int, ...]:
        return tuple(before for before, _ in self.pads)

    @property
    def pad_after(self) -> tuple[int, ...]:
        return tuple(after for _, after in self.pads)

    @property
    def output_size(self) -> tuple[int, ...]:
        return tuple(
            (n + before + after - e) // s + 1
            for n, (before, after), e, s in zip(self.input_size, self.pads, self.extent, self.strides)
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

    def padded_positions(self, d: int) -> np.ndarray:
        """int64: for every position of dimension `d` of the padded input, the input
        position it holds, -1 for a zero."""
        n, pads = self.input_size[d], self.pads[d]
        if self.fill == "constant":
            return np.pad(np.arange(n), pads, mode="constant", constant_values=-1)
        return np.pad(np.arange(n), pads, mode=self.fill)

    @property
    def padded_size(self) -> tuple[int, ...]:
        """Per dimension, the size of the padded input."""
        return tuple(n + before + after for n, (before, after) in zip(self.input_size, self.pads))

    @functools.cached_property
    def padded_inputs(self) -> np.ndarray:
        """int64 `(prod(padded_size),)`: for every position of the padded input (row-major),
        the flat input position it holds, -1 for a zero of the padding."""
        rank = self.rank
        flat = np.zeros((1,) * rank, dtype=np.int64)
        inside = np.ones((1,) * rank, dtype=bool)
        for d, n in enumerate(self.input_size):
            position = self.padded_positions(d).reshape([-1 if e == d else 1 for e in range(rank)])
            flat, inside = flat * n + position, inside & (position >= 0)
        return np.where(inside, flat, -1).reshape(-1)

    @functools.cached_property
    def taps(self) -> np.ndarray:
        """int64 `(num_outputs, num_taps)`: flat input position read, -1 where it is a zero
        of the padding.

        Outputs and taps are both in row-major order of their spatial indices.
        """
        rank = self.rank
        # The padded position each (o_1, ..., o_r, k_1, ..., k_r) reads, flattened row-major.
        padded_flat = np.zeros((1,) * (2 * rank), dtype=np.int64)
        for d, (k, s, o, dilation, size) in enumerate(
            zip(self.kernel_size, self.strides, self.output_size, self.dilation, self.padded_size)
        ):
            padded = np.arange(o)[:, None] * s + np.arange(k)[None, :] * dilation
            view = [1] * (2 * rank)
            view[d], view[rank + d] = padded.shape
            padded_flat = padded_flat * size + padded.reshape(view)
        return self.padded_inputs[padded_flat].reshape(self.num_outputs, self.num_taps)
