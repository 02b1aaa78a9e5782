"""Helpers shared by the test suites (tests/python, tests/backends, tests/scale_out): one
copy of each, imported as `helpers` (each suite's conftest puts tests/support on the path).
The oracles themselves are in reference.py beside this file."""

from __future__ import annotations

import math

import keras
import numpy as np


def input_shape(spatial, channels, data_format):
    """Full input shape without batch for a spatial size, channel count and data format."""
    if data_format == "channels_first":
        return (channels,) + tuple(spatial)
    return tuple(spatial) + (channels,)


def random_inputs(rng, shape):
    return rng.standard_normal(shape).astype("float32")


def random_weights(layer_or_model, rng) -> list[np.ndarray]:
    """Sets standard-normal float32 weights of the current shapes, and returns them."""
    weights = [rng.standard_normal(w.shape).astype("float32") for w in layer_or_model.get_weights()]
    layer_or_model.set_weights(weights)
    return weights


def tied_weights(conv_kernel, conv_bias, num_outputs, output_size, data_format):
    """Our [kernel, bias] with every position's weights equal to one Conv kernel."""
    filters = conv_kernel.shape[-1]
    if data_format == "channels_first":
        rank = conv_kernel.ndim - 2
        conv_kernel = np.moveaxis(conv_kernel, rank, 0)  # (channels, *kernel, filters)
    kernel = np.broadcast_to(conv_kernel.reshape(1, -1, filters), (num_outputs,) + (conv_kernel[..., 0].size, filters))
    if data_format == "channels_first":
        # The bias is read in (filters, *output) order with channels_first, as in tf-keras.
        bias = np.repeat(conv_bias, num_outputs).reshape(output_size + (filters,))
    else:
        bias = np.broadcast_to(conv_bias, output_size + (filters,))
    return [np.array(kernel), np.array(bias)]


def fit_position_scale(make_layer, spatial, samples, epochs, rng):
    """Fits the layer `make_layer()` returns (one filter, 1-wide kernel, one input channel),
    made after Keras' seed is set, to multiply every input position by a factor of its own,
    which only unshared weights can do.

    Returns `(loss before, training losses per epoch, loss after, the learned kernel and
    the true factors, both flattened)`.
    """
    keras.utils.set_random_seed(0)
    layer = make_layer()
    spatial = tuple(spatial)
    x = rng.standard_normal((samples,) + spatial + (1,)).astype("float32")
    scale = np.linspace(-2, 2, math.prod(spatial)).reshape((1,) + spatial + (1,)).astype("float32")
    model = keras.Sequential([keras.Input(spatial + (1,)), layer])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    first = model.evaluate(x, x * scale, verbose=0)
    losses = model.fit(x, x * scale, epochs=epochs, batch_size=32, verbose=0).history["loss"]
    last = model.evaluate(x, x * scale, verbose=0)
    kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel)).ravel()
    return first, losses, last, kernel, scale.ravel()
