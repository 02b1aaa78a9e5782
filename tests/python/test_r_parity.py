"""R and Python in one process (rpy2 -> R -> reticulate -> this interpreter).

The R package calls the Python front door, so a layer made in R is the very Python
object Python sees, and R's outputs equal Python's exactly for the same weights and input.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from locally_connected import LocallyConnected2D, layer_locally_connected_1d, layer_locally_connected_2d

import r_session
from helpers import random_weights


@pytest.fixture(scope="module")
def r():
    r_session.start_r()
    return r_session.r


def test_process_with_r_and_reticulate_exits_cleanly():
    result = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(__file__), "r_session.py")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Fatal Python error" not in result.stderr
    assert 'extern "Python"' not in result.stderr
    name, tempdir = result.stdout.split()[-2:]
    assert name == "LocallyConnected2D"
    assert not os.path.exists(tempdir), "R's tempdir() was not cleaned up at exit"


def test_layer_made_in_r_is_the_python_object(r):
    r("layer <- layer_locally_connected_2d(filters = 3, kernel_size = c(2, 2), name = 'from_r')")
    r("reticulate::py_set_attr(bridge, 'layer', layer)")
    layer = r_session.bridge().layer
    assert isinstance(layer, LocallyConnected2D)
    assert int(r("reticulate::py_id(layer)")[0]) == id(layer)
    model = keras.Sequential([keras.Input((5, 5, 2)), layer])
    assert model.output_shape == (None, 4, 4, 3)
    assert r("layer$built")[0], "R's handle does not see the build Python did"


def test_r_uses_the_module_python_imported_first(r):
    # Python imported the pip-installed copy before R: R must use it rather than import the
    # copy the R package carries (two copies would register the same Keras names twice).
    import locally_connected

    assert int(r("reticulate::py_id(locallyconnected:::python_module())")[0]) == id(locally_connected)
    registered = keras.saving.get_registered_object("locally_connected>LocallyConnected2D")
    assert registered is LocallyConnected2D
    copies = [m for m in sys.modules.values() if getattr(m, "LocallyConnected2D", None) is not None
              and getattr(m, "__name__", "").startswith("locally_connected")]
    assert {m.LocallyConnected2D for m in copies} == {LocallyConnected2D}


def test_r_errors_surface_with_the_argument_name(r):
    with pytest.raises(r_session.RError, match="`kernel_size` must be an integer >= 1"):
        r("layer_locally_connected_2d(filters = 2, kernel_size = 2.5)")


def test_layer_made_in_python_is_used_from_r(r):
    layer = layer_locally_connected_1d(filters=2, kernel_size=3, name="from_python")
    r_session.bridge().layer = layer
    r("layer <- reticulate::py_get_attr(bridge, 'layer')")
    r("x <- array(seq_len(2 * 7 * 4) / 10, c(2, 7, 4))")
    r("y <- reticulate::py_call(layer, reticulate::r_to_py(x))")
    r("reticulate::py_set_attr(bridge, 'y', y)")
    assert layer.built and layer.kernel.shape == (5, 12, 2)
    x = (np.arange(1, 2 * 7 * 4 + 1) / 10).reshape((2, 7, 4), order="F")
    np.testing.assert_array_equal(np.asarray(r_session.bridge().y), np.asarray(layer(x)))
    r("keras <- reticulate::import('keras')")
    r("model <- keras$Sequential(list(keras$Input(shape = reticulate::tuple(7L, 4L))))")
    r("model <- layer_locally_connected_1d(model, 3, 2)")
    r("reticulate::py_set_attr(bridge, 'model', model)")
    assert isinstance(r_session.bridge().model.layers[-1], type(layer))


PARITY_CASES = [
    # rank, spatial, channels, filters, kernel, strides, padding, data_format, implementation
    (2, (6, 7), 3, 4, (3, 3), (1, 1), "valid", "channels_last", 1),
    (2, (6, 7), 3, 4, (3, 2), (2, 1), "same", "channels_last", 2),
    (2, (7, 6), 2, 3, (2, 2), (2, 2), "same", "channels_first", 3),
    (2, (8, 8), 1, 2, (4, 3), (3, 2), "valid", "channels_first", 1),
    (2, (5, 5), 2, 2, (5, 5), (1, 1), "same", "channels_last", 3),
    (2, (6, 6), 2, 2, (1, 1), (1, 1), "valid", "channels_first", 2),
    (1, (10,), 3, 4, (3,), (1,), "valid", "channels_last", 1),
    (1, (11,), 2, 3, (4,), (2,), "same", "channels_first", 2),
    (1, (9,), 2, 2, (2,), (3,), "same", "channels_last", 3),
    (1, (9,), 1, 2, (3,), (2,), "valid", "channels_first", 3),
]


@pytest.mark.parametrize("case", PARITY_CASES, ids=lambda c: "-".join(map(str, c)))
def test_r_output_equals_python_output_exactly(r, case, rng):
    rank, spatial, channels, filters, kernel, strides, padding, data_format, implementation = case
    shape = ((channels,) + spatial) if data_format == "channels_first" else (spatial + (channels,))
    reference = (layer_locally_connected_2d if rank == 2 else layer_locally_connected_1d)(
        filters=filters, kernel_size=kernel, strides=strides, padding=padding,
        data_format=data_format, implementation=implementation, bias_initializer="random_normal",
    )
    x = rng.standard_normal((3,) + shape).astype("float32")
    expected = np.asarray(reference(x))
    weights = reference.get_weights()
    shared = r_session.bridge()
    shared.x, shared.kernel, shared.bias = x, weights[0], weights[1]
    function = f"layer_locally_connected_{rank}d"
    r(f"""
      y <- {function}(
        reticulate::py_to_r(bridge$x), filters = {float(filters)},
        kernel_size = c({', '.join(str(float(k)) for k in kernel)}),
        strides = c({', '.join(str(float(s)) for s in strides)}),
        padding = "{padding.upper()}", data_format = "{data_format}",
        implementation = {implementation}L,
        weights = list(reticulate::py_to_r(bridge$kernel), reticulate::py_to_r(bridge$bias)))
      reticulate::py_set_attr(bridge, "y", y)
    """)
    np.testing.assert_array_equal(np.asarray(shared.y), expected)


def test_model_saved_from_r_loads_in_python_and_back_bit_identical(r, tmp_path, rng):
    from_r, from_python = str(tmp_path / "from_r.keras"), str(tmp_path / "from_python.keras")
    r(f"""
      keras <- reticulate::import('keras')
      model <- keras$Sequential() |>
        layer_locally_connected_2d(filters = 3, kernel_size = c(2, 3), strides = 2, padding = "same",
                                   implementation = "auto", activation = "tanh", input_shape = c(7, 6, 2))
      model$save("{from_r}")
      reticulate::py_set_attr(bridge, "model_r", model)
    """)
    x = rng.standard_normal((4, 7, 6, 2)).astype("float32")
    model_r = r_session.bridge().model_r
    loaded = keras.models.load_model(from_r)
    for a, b in zip(model_r.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model_r(x)))
    random_weights(loaded, rng)
    loaded.save(from_python)
    r_session.bridge().x = x
    r(f"""
      back <- reticulate::import('keras')$models$load_model("{from_python}")
      reticulate::py_set_attr(bridge, "y_back", back(reticulate::py_get_attr(bridge, "x")))
      reticulate::py_set_attr(bridge, "weights_back", back$get_weights())
    """)
    np.testing.assert_array_equal(np.asarray(r_session.bridge().y_back), np.asarray(loaded(x)))
    for a, b in zip(r_session.bridge().weights_back, loaded.get_weights()):
        np.testing.assert_array_equal(np.asarray(a), b)
