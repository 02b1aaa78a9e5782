"""What a built layer computes, fixed when it is built (pure NumPy).

A layer makes one `Plan` at `build` from its arguments and its input shape; its
implementation is built from the plan and keeps its own index tables. Nothing here
depends on a backend.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from locally_connected.geometry import Geometry


@dataclasses.dataclass(frozen=True)
class Plan:
    """The geometry, channels, filters, groups, kernel sharing, data format and weight
    dtype of one built layer.

    The kernel is `(kernels, taps * channels // groups, filters)`: one kernel per block of
    `weight_sharing` output positions (one per position by default), features ordered
    `(taps, channels)` for channels_last and `(channels, taps)` for channels_first within a
    group, filters group-major. Every implementation computes `(batch, positions, filters)`.
    """

    geometry: Geometry
    channels: int
    filters: int
    channels_first: bool
    dtype: str
    groups: int = 1
    weight_sharing: tuple[int, ...] | None = None

    @property
    def rank(self) -> int:
        return self.geometry.rank

    @property
    def group_channels(self) -> int:
        return self.channels // self.groups

    @property
    def group_filters(self) -> int:
        return self.filters // self.groups

    @property
    def features(self) -> int:
        """Kernel rows per kernel: one per (tap, channel of the filter's group)."""
        return self.geometry.num_taps * self.group_channels

    @property
    def blocks(self) -> tuple[int, ...]:
        """Per dimension, the number of blocks of output positions that share a kernel."""
        sharing = self.weight_sharing or (1,) * self.rank
        return tuple(-(-o // w) for o, w in zip(self.geometry.output_size, sharing))

    @property
    def shares_weights(self) -> bool:
        return self.blocks != self.geometry.output_size

    @property
    def num_kernels(self) -> int:
        return math.prod(self.blocks)

    @property
    def kernel_shape(self) -> tuple[int, int, int]:
        return (self.num_kernels, self.features, self.filters)

    @property
    def bias_shape(self) -> tuple[int, ...]:
        return self.blocks + (self.filters,)

    @property
    def input_features(self) -> int:
        """Entries of one flattened input sample."""
        return self.geometry.num_inputs * self.channels

    @property
    def itemsize(self) -> int:
        return np.dtype(self.dtype).itemsize

    @property
    def kernel_entries(self) -> int:
        """The kernel's size: its free parameters."""
        return self.num_kernels * self.features * self.filters

    @property
    def connections(self) -> int:
        """Entries of the kernel read per output position (the kernel itself, when each
        position has its own): the multiply-adds per sample."""
        return self.geometry.num_outputs * self.features * self.filters

    @property
    def has_padding_taps(self) -> bool:
        """Whether some tap of some output position reads a zero of the padding."""
        return bool((self.geometry.taps < 0).any())

    @functools.cached_property
    def kernel_of_position(self) -> np.ndarray:
        """int64 `(positions,)`: the kernel each output position reads (its block's)."""
        sharing = self.weight_sharing or (1,) * self.rank
        index = np.indices(self.geometry.output_size).reshape(self.rank, -1)
        block = [i // w for i, w in zip(index, sharing)]
        return np.ravel_multi_index(block, self.blocks).astype(np.int64)

    def input_feature(self, position: np.ndarray, channel: np.ndarray) -> np.ndarray:
        """The input feature (in the input's own flattening order: channel-major for
        channels_first, position-major for channels_last) of `channel` at flat input
        `position`, broadcast; `input_features` (the zero input) where `position` is -1."""
        if self.channels_first:
            feature = channel * self.geometry.num_inputs + position
        else:
            feature = position * self.channels + channel
        return np.where(position >= 0, feature, self.input_features)

    @functools.cached_property
    def kernel_rows(self) -> np.ndarray:
        """int64 `(positions * features * groups, 3)`: for every row of every position's
        kernel and every group, in kernel order, the input feature it multiplies (in the
        input's own flattening order, or `input_features` where the tap reads padding), the
        output position and the group."""
        geometry, groups, channels = self.geometry, self.groups, self.group_channels
        taps = geometry.taps[:, :, None, None]  # (positions, taps, 1, 1)
        channel = np.arange(channels)[None, None, :, None] + channels * np.arange(groups)[None, None, None, :]
        row = self.input_feature(taps, channel)
        if self.channels_first:  # kernel rows (channel, tap)
            row = row.transpose(0, 2, 1, 3)
        row = row.reshape(geometry.num_outputs, self.features, groups)
        output, _, group = np.indices(row.shape)
        return np.stack([row.ravel(), output.ravel(), group.ravel()], axis=1)
