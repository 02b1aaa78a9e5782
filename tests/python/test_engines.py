"""The layers under TensorFlow's engines: distribution, mixed precision, unusual data.

- Distributed: `tf.distribute.MirroredStrategy` over two logical CPU devices gives the
  weights of one-device training after `model.fit` (SGD, shuffle=False, fixed data and
  seed) within atol 1e-6 / rtol 1e-5 (measured: <= 1e-7). Logical devices must be set
  before TensorFlow initialises its devices, so this runs in a subprocess
  (`distributed_fit_helper.py`).
- Mixed precision ("mixed_float16"): compute dtype float16, variables float32, output
  float16, within atol = rtol = 2e-3 of the float32 layer with the same weights.
- Bad data: NaN/Inf inputs give the non-finite pattern of Conv2D with tied weights;
  float64 inputs are autocast as Conv2D's are; integer inputs give the float result of the
  same values as float32 (see `test_integer_inputs_are_computed_as_floats` for why that,
  and not Conv2D's behaviour, is the one to match).
"""

import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from locally_connected import LocallyConnected1D, LocallyConnected2D, layer_locally_connected_2d

from helpers import random_weights, tied_weights

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# Distribution
# ---------------------------------------------------------------------------


def test_mirrored_strategy_on_two_devices_equals_one_device(tmp_path):
    path = tmp_path / "weights.npz"
    environment = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="2")
    completed = subprocess.run(
        [sys.executable, os.path.join(HERE, "distributed_fit_helper.py"), str(path)],
        env=environment, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    results = np.load(path)
    assert int(results["num_replicas"]) == 2
    cases = sorted({key.split("/")[0] for key in results.files if "/" in key})
    assert cases == ["1d_impl1", "2d_impl1", "2d_impl2", "2d_impl3"]
    for case in cases:
        finals = sorted(k for k in results.files if k.startswith(f"{case}/mirrored/final/"))
        assert len(finals) == 4  # kernel, bias of the layer; kernel, bias of the Dense head
        for key in finals:
            one = key.replace("/mirrored/", "/one/")
            np.testing.assert_array_equal(results[key.replace("final", "initial")],
                                          results[one.replace("final", "initial")])
            # Training moved the weights, and both strategies moved them the same way.
            assert np.abs(results[key] - results[key.replace("final", "initial")]).max() > 1e-3
            np.testing.assert_allclose(results[key], results[one], rtol=1e-5, atol=1e-6, err_msg=key)
        np.testing.assert_allclose(results[f"{case}/mirrored/loss"], results[f"{case}/one/loss"], rtol=1e-5)
        assert results[f"{case}/mirrored/loss"][-1] < results[f"{case}/mirrored/loss"][0]


# ---------------------------------------------------------------------------
# Mixed precision
# ---------------------------------------------------------------------------

# float16 rounds inputs and weights to 2**-11 relative (4.9e-4). The largest difference from
# the float32 layer measured over these tests' shapes (5 random draws each) was 6.1e-4;
# the tolerance leaves about 3x that.
MIXED_TOLERANCE = dict(rtol=2e-3, atol=2e-3)


def _check_mixed(layer, reference, x):
    assert layer.compute_dtype == "float16"
    assert layer.variable_dtype == "float32"
    layer.build(x.shape)
    assert all(w.dtype == "float32" for w in layer.weights)
    layer.set_weights(reference.get_weights())
    y = layer(x)
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    np.testing.assert_allclose(np.asarray(y, "float32"), np.asarray(reference(x)), **MIXED_TOLERANCE)


@pytest.mark.parametrize("implementation", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_mixed_float16_through_the_layer_and_the_front_door(implementation, data_format, rng):
    shape = (2, 7, 6) if data_format == "channels_first" else (7, 6, 2)
    x = rng.standard_normal((3,) + shape).astype("float32")
    arguments = dict(filters=3, kernel_size=3, strides=(2, 1), padding="same", data_format=data_format,
                     implementation=implementation, bias_initializer="random_normal", activation="tanh")
    reference = LocallyConnected2D(**arguments)
    reference.build(x.shape)
    _check_mixed(LocallyConnected2D(**arguments, dtype="mixed_float16"), reference, x)
    layer = layer_locally_connected_2d(**arguments, dtype="mixed_float16")
    assert isinstance(layer, LocallyConnected2D)
    _check_mixed(layer, reference, x)


def test_global_mixed_precision_policy(rng):
    x = rng.standard_normal((2, 9, 3)).astype("float32")
    reference = LocallyConnected1D(2, 3, implementation=3)
    reference.build(x.shape)
    previous = keras.config.dtype_policy()
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        for implementation in (1, 2, 3):
            _check_mixed(LocallyConnected1D(2, 3, implementation=implementation), reference, x)
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.config.dtype_policy().name == previous.name == "float32"
    assert LocallyConnected1D(2, 3).compute_dtype == "float32"


@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_mixed_precision_fit_runs(implementation, rng):
    keras.utils.set_random_seed(0)
    x = rng.standard_normal((64, 6, 6, 1)).astype("float32")
    y = (x * np.linspace(-1, 1, 36).reshape(1, 6, 6, 1)).astype("float32")
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        LocallyConnected2D(2, 3, padding="same", implementation=implementation, dtype="mixed_float16"),
        LocallyConnected2D(1, 1, implementation=implementation, dtype="float32"),
    ])
    # compile() wraps the optimizer only under a global mixed policy: wrap it here.
    model.compile(optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.02)), loss="mse")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]
    assert all(np.isfinite(history))
    assert history[-1] < history[0]
    assert model.layers[0].kernel.dtype == "float32"


# ---------------------------------------------------------------------------
# Bad data
# ---------------------------------------------------------------------------


def _conv_and_tied_layer(rank, filters, kernel_size, padding, implementation, x_last, rng, **layer_args):
    conv = (keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D)(filters, kernel_size, padding=padding)
    conv.build(x_last.shape)
    random_weights(conv, rng)
    expected = np.asarray(conv(x_last))
    layer = (LocallyConnected1D if rank == 1 else LocallyConnected2D)(
        filters, kernel_size, padding=padding, implementation=implementation, **layer_args)
    layer.build(x_last.shape)
    output_size = expected.shape[1:-1]
    layer.set_weights(tied_weights(*conv.get_weights(), math.prod(output_size), output_size, "channels_last"))
    return expected, layer


@pytest.mark.parametrize("implementation", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("rank", [1, 2])
def test_nan_and_inf_propagate_like_conv(rank, padding, implementation, rng):
    spatial = (8, 7)[:rank]
    x = rng.standard_normal((3,) + spatial + (2,)).astype("float32")
    # One NaN, +Inf and -Inf in sample 0, +Inf and -Inf next to each other in sample 1
    # (Inf - Inf = NaN where one window sees both), sample 2 finite.
    x[(0,) + (1,) * rank + (0,)] = np.nan
    x[(0,) + (5,) * rank + (1,)] = np.inf
    x[(0,) + (6,) * rank + (0,)] = -np.inf
    x[(1,) + (3,) * rank + (0,)] = np.inf
    x[(1,) + (4,) * rank + (1,)] = -np.inf
    expected, layer = _conv_and_tied_layer(rank, 2, 3, padding, implementation, x, rng)
    y = np.asarray(layer(x))
    assert np.isnan(expected).any() and np.isposinf(expected).any() and np.isneginf(expected).any()
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(y), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(y), np.isneginf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(y[finite], expected[finite], rtol=1e-5, atol=1e-5)
    assert np.isfinite(y[2]).all()


@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_float64_inputs(implementation, rng):
    x = rng.standard_normal((2, 7, 6, 2))  # float64
    # A float32 layer autocasts float64 inputs to float32, as Conv2D does.
    expected, layer = _conv_and_tied_layer(2, 3, 3, "same", implementation, x, rng)
    y = layer(x)
    assert keras.backend.standardize_dtype(y.dtype) == "float32" == expected.dtype
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-5, atol=1e-5)
    # A float64 layer computes in float64.
    wide = LocallyConnected2D(3, 3, padding="same", implementation=implementation, dtype="float64")
    wide.build(x.shape)
    wide.set_weights(layer.get_weights())
    y64 = wide(x)
    assert keras.backend.standardize_dtype(y64.dtype) == "float64"
    assert wide.kernel.dtype == "float64"
    np.testing.assert_allclose(np.asarray(y64), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["int32", "uint8", "int64"])
@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_integer_inputs_are_computed_as_floats(implementation, dtype, rng):
    """What Conv2D does with integer inputs (measured, Keras 3.15.1): Keras' autocast
    casts only floating inputs, so on TensorFlow an eager Conv2D call fails with
    ValueError ('Incompatible type conversion requested to type int32 for tf.Variable of
    type float32'), in a model with TypeError; on PyTorch it fails with RuntimeError; on
    JAX it promotes to float32. Its symbolic output dtype is float32 everywhere, as is
    Dense's actual output. Integer arrays are what R's integer vectors arrive as, so the
    behaviour to match is the one that works: float32 output, equal to the float32 input's."""
    x = rng.integers(0, 5, (2, 6, 5, 2)).astype(dtype)
    symbolic = LocallyConnected2D(2, 3, implementation=implementation)(keras.Input((6, 5, 2), dtype=dtype))
    conv_symbolic = keras.layers.Conv2D(2, 3)(keras.Input((6, 5, 2), dtype=dtype))
    assert symbolic.dtype == conv_symbolic.dtype == "float32"
    layer = LocallyConnected2D(2, 3, implementation=implementation, bias_initializer="random_normal")
    layer.build(x.shape)
    y = layer(x)
    assert keras.backend.standardize_dtype(y.dtype) == "float32"
    np.testing.assert_allclose(np.asarray(y), np.asarray(layer(x.astype("float32"))), rtol=1e-6, atol=1e-6)
    inputs = keras.Input((6, 5, 2), dtype=dtype)
    model = keras.Model(inputs, layer(inputs))
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(y), rtol=1e-6, atol=1e-6)
