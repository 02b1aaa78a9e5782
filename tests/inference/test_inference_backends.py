"""Keras' inference-only backends (`numpy`, and `openvino` where it installs): every
implementation (1, 2, 3, "auto") and rank, both data formats, with Conv's arguments and shared
kernels, equals the per-position NumPy reference (atol = rtol = 1e-5); a `.keras` file that
TensorFlow saved predicts here what TensorFlow predicted. Implementation 3 takes the generic
`keras.ops` sparse product (the default of `backend.SPARSE_PRODUCTS`) on these backends.
"""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from locally_connected import LocallyConnected1D, LocallyConnected2D, LocallyConnected3D, backend

from helpers import input_shape, random_weights
from reference import locally_connected as reference

BACKEND = keras.backend.backend()
LAYERS = {1: LocallyConnected1D, 2: LocallyConnected2D, 3: LocallyConnected3D}
TOLERANCE = dict(rtol=1e-5, atol=1e-5)
ARGUMENTS = {
    "valid": dict(kernel_size=2),
    "same-strided": dict(kernel_size=3, strides=2, padding="same"),
    "circular-dilated-grouped-shared": dict(kernel_size=2, padding="circular", dilation_rate=2, groups=2,
                                            weight_sharing=2),
}


def test_runs_on_an_inference_only_backend():
    assert BACKEND in ("numpy", "openvino")
    assert BACKEND not in backend.SPARSE_PRODUCTS  # the generic product runs here


@pytest.mark.parametrize("arguments", list(ARGUMENTS))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("implementation", [1, 2, 3, "auto"])
@pytest.mark.parametrize("rank", [1, 2, 3])
def test_inference_equals_the_numpy_reference(rank, implementation, data_format, arguments):
    args = ARGUMENTS[arguments]
    rng = np.random.default_rng(rank)
    x = rng.standard_normal((2,) + input_shape((7, 6, 5)[:rank], 4, data_format)).astype("float32")
    layer = LAYERS[rank](4, data_format=data_format, implementation=implementation, **args)
    layer.build(x.shape)
    kernel, bias = random_weights(layer, rng)
    y = np.asarray(keras.ops.convert_to_numpy(layer(x)))
    expected = reference(
        x, kernel, bias, (args["kernel_size"],) * rank, (args.get("strides", 1),) * rank,
        args.get("padding", "valid"), data_format, dilation_rate=args.get("dilation_rate"),
        groups=args.get("groups", 1), weight_sharing=args.get("weight_sharing"))
    assert y.shape == expected.shape == tuple(layer.compute_output_shape(x.shape))
    np.testing.assert_allclose(y, expected, **TOLERANCE)


def test_a_keras_file_saved_by_tensorflow_predicts_what_tensorflow_predicted(tmp_path):
    """The backends suite's model (every implementation, both data formats, 1D and 2D),
    saved with its inputs and outputs by a TensorFlow process."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "backends", "test_backends.py")
    environment = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
    completed = subprocess.run([sys.executable, script, "save", str(tmp_path)], env=environment,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-4000:]
    saved = np.load(tmp_path / "expected.npz")
    assert str(saved["backend"]) == "tensorflow"
    loaded = keras.models.load_model(tmp_path / "model.keras")
    for i, w in enumerate(loaded.get_weights()):
        np.testing.assert_array_equal(w, saved[f"weight_{i}"])
    # A direct call: Keras' OpenVINO predict() compiles with OpenVINO's default precision,
    # bf16 on CPUs that have it, for any model.
    y = np.asarray(keras.ops.convert_to_numpy(loaded(saved["x"])))
    np.testing.assert_allclose(y, saved["y"], **TOLERANCE)
