"""Oracles that know which output position owns which weights, written from the layer's
definition and independent of the package's geometry and implementations."""

from __future__ import annotations

import itertools
import math

import numpy as np


def _windows(spatial, kernel_size, strides, padding):
    """Output size and, per dimension, the first input index of each output's window
    (Conv's geometry: "same" outputs ceil(n / s) positions, the smaller padding half first)."""
    output, starts = [], []
    for n, k, s in zip(spatial, kernel_size, strides):
        if padding == "same":
            o = -(-n // s)
            before = max((o - 1) * s + k - n, 0) // 2
        else:
            o, before = (n - k) // s + 1, 0
        output.append(o)
        starts.append([i * s - before for i in range(o)])
    return tuple(output), starts


def locally_connected(x, kernel, bias, kernel_size, strides, padding, data_format):
    """The layer's output, position by position, in float64.

    `kernel` is `(positions, taps * channels, filters)` with features ordered
    `(*kernel_size, channels)` (channels_last) or `(channels, *kernel_size)`
    (channels_first); `bias` is stored `(*output_size, filters)` and read in
    `(filters, *output_size)` order with channels_first, as tf-keras does.
    """
    x = np.asarray(x, np.float64)
    channels_first = data_format == "channels_first"
    if channels_first:
        x = np.moveaxis(x, 1, -1)  # (batch, *spatial, channels)
    spatial, channels = x.shape[1:-1], x.shape[-1]
    output_size, starts = _windows(spatial, kernel_size, strides, padding)
    filters = kernel.shape[-1]
    result = np.zeros((x.shape[0],) + output_size + (filters,))
    for position, out_index in enumerate(itertools.product(*(range(o) for o in output_size))):
        patch = np.zeros((x.shape[0],) + tuple(kernel_size) + (channels,))
        for tap in itertools.product(*(range(k) for k in kernel_size)):
            source = tuple(starts[d][out_index[d]] + tap[d] for d in range(len(spatial)))
            if all(0 <= i < n for i, n in zip(source, spatial)):
                patch[(slice(None),) + tap] = x[(slice(None),) + source]
        if channels_first:
            patch = np.moveaxis(patch, -1, 1)  # features (channels, *kernel)
        result[(slice(None),) + out_index] = patch.reshape(x.shape[0], -1) @ np.asarray(kernel[position], np.float64)
    if channels_first:
        result = np.moveaxis(result, -1, 1)  # (batch, filters, *output)
    if bias is not None:
        natural = (filters,) + output_size if channels_first else output_size + (filters,)
        result = result + np.asarray(bias, np.float64).reshape(natural)
    return result


def position_scaled_weights(conv_kernel, output_size, data_format, rng):
    """Weights that make every position distinct while keeping a Conv as oracle: position
    `p` holds `scale[p] * conv_kernel` and a bias of its own. Returns `([kernel, bias],
    scale, bias)`, `scale` shaped `output_size` and `bias` in the output's own layout, so
    that the layer's output is `scale * conv_without_bias + bias`."""
    filters = conv_kernel.shape[-1]
    rank = conv_kernel.ndim - 2
    output_size = tuple(output_size)
    # Distinct factors of both signs, away from zero.
    scale = rng.uniform(0.5, 2.0, output_size) * rng.choice([-1.0, 1.0], output_size)
    if data_format == "channels_first":
        conv_kernel = np.moveaxis(conv_kernel, rank, 0)  # (channels, *kernel, filters)
    rows = conv_kernel.reshape(1, -1, filters)
    kernel = scale.reshape(-1, 1, 1) * rows
    natural = (filters,) + output_size if data_format == "channels_first" else output_size + (filters,)
    bias = rng.standard_normal(natural)
    stored_bias = bias.reshape(output_size + (filters,))  # the same values in storage order
    return [kernel.astype("float32"), stored_bias.astype("float32")], scale, bias


def scaled_conv_output(conv_output, scale, bias, data_format):
    """`scale * conv_output + bias` with the scale broadcast over batch and filters."""
    if data_format == "channels_first":
        return conv_output * scale[None, None] + bias[None]
    return conv_output * scale[None, ..., None] + bias[None]


def parameter_count(output_size, kernel_size, channels, filters, use_bias=True):
    """The layer's free parameters: a kernel row per (position, tap, channel), a bias per
    (position, filter)."""
    positions = math.prod(output_size)
    return positions * math.prod(kernel_size) * channels * filters + (positions * filters if use_bias else 0)
