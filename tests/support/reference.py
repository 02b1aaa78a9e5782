"""Oracles that know which output position owns which weights, written from the layer's
definition and independent of the package's geometry and implementations (pure NumPy:
tests/python and the backends suite, tests/backends, both use them)."""

from __future__ import annotations

import itertools
import math

import numpy as np

_FILLS = {"circular": "wrap", "reflect": "reflect"}


def _geometry(spatial, kernel_size, strides, padding, dilation):
    """Output size, padding `(before, after)` and NumPy pad mode per spatial dim, as Conv
    (and, for "circular" and "reflect", flax's ConvLocal) define them."""
    extent = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation)]
    if not isinstance(padding, str):
        pads = [tuple(pair) for pair in padding]
    elif padding == "valid":
        pads = [(0, 0)] * len(spatial)
    elif padding == "causal":
        pads = [(e - 1, 0) for e in extent]
    else:  # "same" and its two fills
        total = [max((-(-n // s) - 1) * s + e - n, 0) for n, s, e in zip(spatial, strides, extent)]
        pads = [(t // 2, t - t // 2) for t in total]
    output = [(n + b + a - e) // s + 1 for n, (b, a), e, s in zip(spatial, pads, extent, strides)]
    mode = _FILLS.get(padding, "constant") if isinstance(padding, str) else "constant"
    return output, pads, mode


def _windows(output, kernel_size, strides, dilation):
    """(flat output position, its index, slices into the padded channels_last input) in
    row-major order."""
    for p, index in enumerate(itertools.product(*(range(o) for o in output))):
        yield p, index, tuple(slice(i * s, i * s + (k - 1) * d + 1, d)
                              for i, s, k, d in zip(index, strides, kernel_size, dilation))


def locally_connected(x, kernel, bias, kernel_size, strides, padding, data_format, probe=None,
                      dilation_rate=None, groups=1, weight_sharing=None):
    """The layer's output in float64; with `probe`, also the gradients of `sum(y * probe)`
    w.r.t. (x, kernel, bias). Weights are in the package's layout: kernel
    `(kernels, features, filters)`, one kernel per block of `weight_sharing` output
    positions (row-major, the last block of a dimension may be smaller), features
    `(*kernel, channels of the group)` (channels_last) or `(channels of the group, *kernel)`
    (channels_first), filter `f` in group `f // (filters // groups)`; bias `(*blocks,
    filters)`, read in `(filters, *blocks)` order with channels_first. The input is padded
    with NumPy's constant (zeros), wrap ("circular") or reflect ("reflect") mode."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    channels_first = data_format == "channels_first"
    if channels_first:
        x = np.moveaxis(x, 1, -1)
    batch, spatial, channels = x.shape[0], x.shape[1:-1], x.shape[-1]
    rank = len(spatial)
    dilation = tuple(np.broadcast_to(dilation_rate or 1, (rank,)))
    sharing = tuple(np.broadcast_to(weight_sharing or 1, (rank,)))
    output, pads, mode = _geometry(spatial, kernel_size, strides, padding, dilation)
    padded = np.pad(x, [(0, 0)] + pads + [(0, 0)], mode=mode)
    filters = kernel.shape[-1]
    group_channels, group_filters = channels // groups, filters // groups
    blocks = [-(-o // w) for o, w in zip(output, sharing)]

    def block_of(index):
        return int(np.ravel_multi_index([i // w for i, w in zip(index, sharing)], blocks))

    def group_rows(values, g):
        """(batch, *kernel, channels) -> (batch, features) of group g, in kernel order."""
        values = values[..., g * group_channels:(g + 1) * group_channels]
        if channels_first:
            values = np.moveaxis(values, -1, 1)
        return values.reshape(values.shape[0], -1)

    positions = math.prod(output)
    windows = list(_windows(output, kernel_size, strides, dilation))
    y = np.zeros((batch, positions, filters))
    for p, index, window in windows:
        values = padded[(slice(None),) + window]
        b = block_of(index)
        for g in range(groups):
            columns = slice(g * group_filters, (g + 1) * group_filters)
            y[:, p, columns] = group_rows(values, g) @ kernel[b][:, columns]
    if bias is not None:
        bias = np.asarray(bias, np.float64)
        per_block = bias.reshape(filters, -1).T if channels_first else bias.reshape(-1, filters)
        y = y + np.stack([per_block[block_of(index)] for _, index, _ in windows])

    def layout(a):  # (batch, positions, filters) -> the layer's output layout
        a = a.reshape((a.shape[0],) + tuple(output) + (filters,))
        return np.moveaxis(a, -1, 1) if channels_first else a

    def unlayout(a):
        a = np.moveaxis(a, 1, -1) if channels_first else a
        return a.reshape(a.shape[0], -1, filters)

    if probe is None:
        return layout(y)
    probe = unlayout(np.asarray(probe, np.float64))
    kernel_gradient = np.zeros_like(kernel)
    bias_gradient = np.zeros((math.prod(blocks), filters))
    padded_gradient = np.zeros_like(padded)
    for p, index, window in windows:
        values = padded[(slice(None),) + window]
        b = block_of(index)
        bias_gradient[b] += probe[:, p].sum(0)
        window_gradient = np.zeros_like(values)
        for g in range(groups):
            columns = slice(g * group_filters, (g + 1) * group_filters)
            kernel_gradient[b][:, columns] += group_rows(values, g).T @ probe[:, p, columns]
            rows = probe[:, p, columns] @ kernel[b][:, columns].T  # (batch, features)
            shape = (batch, group_channels) + tuple(kernel_size) if channels_first else \
                (batch,) + tuple(kernel_size) + (group_channels,)
            rows = rows.reshape(shape)
            if channels_first:
                rows = np.moveaxis(rows, 1, -1)
            window_gradient[..., g * group_channels:(g + 1) * group_channels] += rows
        padded_gradient[(slice(None),) + window] += window_gradient
    # Fold the padded input's gradient back onto the input (crop for zeros; the wrapped or
    # mirrored copies add to their source positions).
    x_gradient = padded_gradient
    for d, (n, pair) in enumerate(zip(spatial, pads)):
        source = np.pad(np.arange(n), pair, mode="constant", constant_values=-1) if mode == "constant" \
            else np.pad(np.arange(n), pair, mode=mode)
        folded = np.zeros(x_gradient.shape[:d + 1] + (n,) + x_gradient.shape[d + 2:])
        kept = source >= 0
        np.add.at(folded, (slice(None),) * (d + 1) + (source[kept],), np.compress(kept, x_gradient, axis=d + 1))
        x_gradient = folded
    bias_gradient = (bias_gradient.T if channels_first else bias_gradient).reshape(np.shape(bias))
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
