"""What a built layer computes, fixed when it is built (pure NumPy).

A layer makes one `Plan` at `build` from its arguments and its input shape; its
implementation is built from the plan and keeps its own index tables. Nothing here
depends on a backend.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from locally_connected.geometry import Geometry


@dataclasses.dataclass(frozen=True)
class Plan:
    """The geometry, channels, filters, data format and weight dtype of one built layer.

    The kernel is `(positions, taps * channels, filters)`, features ordered `(taps,
    channels)` for channels_last and `(channels, taps)` for channels_first; every
    implementation computes `(batch, positions, filters)` from it.
    """

    geometry: Geometry
    channels: int
    filters: int
    channels_first: bool
    dtype: str

    @property
    def rank(self) -> int:
        return len(self.geometry.input_size)

    @property
    def features(self) -> int:
        """Kernel rows per output position: one per (tap, channel)."""
        return self.geometry.num_taps * self.channels

    @property
    def kernel_shape(self) -> tuple[int, int, int]:
        return (self.geometry.num_outputs, self.features, self.filters)

    @property
    def bias_shape(self) -> tuple[int, ...]:
        return self.geometry.output_size + (self.filters,)

    @property
    def input_features(self) -> int:
        """Entries of one flattened input sample."""
        return self.geometry.num_inputs * self.channels

    @property
    def itemsize(self) -> int:
        return np.dtype(self.dtype).itemsize

    @property
    def kernel_entries(self) -> int:
        return self.geometry.num_outputs * self.features * self.filters

    @property
    def has_padding_taps(self) -> bool:
        """Whether some tap of some output position reads padding (a zero)."""
        return bool((self.geometry.taps < 0).any())

    @functools.cached_property
    def kernel_rows(self) -> np.ndarray:
        """int64 `(positions * features, 2)`: for every kernel row `(output, feature)`, in
        kernel order, the input feature it multiplies (in the input's own flattening order,
        or `input_features` where the tap reads padding) and its output position."""
        geometry, channel = self.geometry, np.arange(self.channels)
        taps = geometry.taps
        if self.channels_first:  # features (channel, tap); input features channel-major
            position = taps[:, None, :]
            row = channel[None, :, None] * geometry.num_inputs + position
        else:  # features (tap, channel); input features position-major
            position = taps[:, :, None]
            row = position * self.channels + channel[None, None, :]
        row = np.where(position >= 0, row, self.input_features)
        output = np.broadcast_to(np.arange(geometry.num_outputs)[:, None, None], row.shape)
        return np.stack([row.ravel(), output.ravel()], axis=1)
