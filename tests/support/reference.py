"""Oracles that know which output position owns which weights, written from the layer's
definition and independent of the package's geometry and implementations (pure NumPy:
tests/python and the backends suite, tests/backends, both use them)."""

from __future__ import annotations

import itertools
import math

import numpy as np


def _geometry(spatial, kernel_size, strides, padding):
    """Output size and padding before each spatial dim, as Conv1D/Conv2D define them."""
    if padding == "valid":
        return [(n - k) // s + 1 for n, k, s in zip(spatial, kernel_size, strides)], [0] * len(spatial)
    output = [-(-n // s) for n, s in zip(spatial, strides)]
    total = [max((o - 1) * s + k - n, 0) for n, k, s, o in zip(spatial, kernel_size, strides, output)]
    return output, [(t // 2, t - t // 2) for t in total]


def _windows(output, kernel_size, strides):
    """(flat output position, slices into the padded channels_last input) in row-major order."""
    for p, index in enumerate(itertools.product(*(range(o) for o in output))):
        yield p, tuple(slice(i * s, i * s + k) for i, s, k in zip(index, strides, kernel_size))


def locally_connected(x, kernel, bias, kernel_size, strides, padding, data_format, probe=None):
    """The layer's output in float64; with `probe`, also the gradients of `sum(y * probe)`
    w.r.t. (x, kernel, bias). Weights are in the package's layout: kernel
    `(positions, features, filters)` with features `(*kernel, channels)` (channels_last) or
    `(channels, *kernel)` (channels_first); bias `(*output, filters)`, read in
    `(filters, *output)` order with channels_first."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    channels_first = data_format == "channels_first"
    if channels_first:
        x = np.moveaxis(x, 1, -1)
    batch, spatial, channels = x.shape[0], x.shape[1:-1], x.shape[-1]
    output, pads = _geometry(spatial, kernel_size, strides, padding)
    if padding == "same":
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    filters = kernel.shape[-1]
    patches = np.empty((batch, math.prod(output), math.prod(kernel_size) * channels))
    for p, window in _windows(output, kernel_size, strides):
        values = x[(slice(None),) + window]  # (batch, *kernel, channels)
        if channels_first:
            values = np.moveaxis(values, -1, 1)
        patches[:, p] = values.reshape(batch, -1)
    y = np.einsum("bpk,pkf->bpf", patches, kernel)
    if bias is not None:
        bias = np.asarray(bias, np.float64)
        y = y + (bias.reshape(filters, -1).T if channels_first else bias.reshape(-1, filters))

    def layout(a):  # (batch, positions, filters) -> the layer's output layout
        a = a.reshape((a.shape[0],) + tuple(output) + (filters,))
        return np.moveaxis(a, -1, 1) if channels_first else a

    def unlayout(a):
        a = np.moveaxis(a, 1, -1) if channels_first else a
        return a.reshape(a.shape[0], -1, filters)

    if probe is None:
        return layout(y)
    probe = unlayout(np.asarray(probe, np.float64))
    kernel_gradient = np.einsum("bpk,bpf->pkf", patches, probe)
    bias_gradient = probe.sum(0)
    bias_gradient = (bias_gradient.T if channels_first else bias_gradient).reshape(np.shape(bias))
    patch_gradient = np.einsum("bpf,pkf->bpk", probe, kernel)
    x_gradient = np.zeros_like(x)
    for p, window in _windows(output, kernel_size, strides):
        values = patch_gradient[:, p].reshape(
            (batch, channels) + tuple(kernel_size) if channels_first else (batch,) + tuple(kernel_size) + (channels,))
        if channels_first:
            values = np.moveaxis(values, 1, -1)
        x_gradient[(slice(None),) + window] += values
    if padding == "same":
        x_gradient = x_gradient[(slice(None),) + tuple(slice(b, b + n) for (b, _), n in zip(pads, spatial))]
    if channels_first:
        x_gradient = np.moveaxis(x_gradient, -1, 1)
    return layout(y), (x_gradient, kernel_gradient, bias_gradient)


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
