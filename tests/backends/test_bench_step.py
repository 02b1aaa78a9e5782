"""The bench's training step on this backend computes the layer's outputs, not only the
gradients: those of `sum(outputs * probe)` do not depend on the outputs, so a graph compiler
(TensorFlow's, XLA) would prune the forward from a step that returned the gradients alone."""

import os
import sys

import keras
import numpy as np

from locally_connected import LocallyConnected2D

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "bench"))

import backends as bench_backends  # noqa: E402


def test_bench_step_returns_the_loss_of_the_forward():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 6, 3)).astype("float32")
    probe = rng.standard_normal((2, 3, 4, 4)).astype("float32")
    layer = LocallyConnected2D(4, 3, bias_initializer="random_normal")
    result = bench_backends._keras_layer_step(layer, x, probe)()
    loss = result if keras.backend.backend() == "torch" else result[0]
    expected = np.sum(keras.ops.convert_to_numpy(layer(x)).astype("float64") * probe)
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(loss)), expected, rtol=1e-5)
