"""Files written by Keras 2 / tf-keras (the format R keras 2.x wrote too) in Keras 3.

tf-keras writes the files here, on the fly; Keras 3 reads them with nothing but
`import locally_connected`: full models with `keras.models.load_model`, weights-only files
with `model.load_weights`, for every tf-keras implementation and both data formats.
"""

import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tf_keras

from locally_connected import LocallyConnected1D, LocallyConnected2D
from locally_connected.tf_keras_weights import from_tf_keras

from helpers import input_shape

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "examples"))
import deepface  # noqa: E402  (docs/examples/deepface.py: the documented example)

# Outputs of the loaded model equal tf-keras's to float32 rounding: measured at most
# 1.2e-7 on these cases; docs/migration.md promises 1e-5.
TOLERANCE = 1e-5

# (rank, spatial, kernel, strides, padding): "same" only where tf-keras's windows are Conv's.
GEOMETRIES = [
    (2, (7, 6), (3, 3), (1, 1), "valid"),
    (2, (8, 7), (2, 3), (2, 1), "valid"),
    (2, (7, 6), (3, 3), (1, 1), "same"),
    (2, (7, 7), (3, 3), (2, 2), "same"),
    (1, (10,), (3,), (1,), "valid"),
    (1, (11,), (4,), (3,), "valid"),
    (1, (9,), (3,), (1,), "same"),
]
CASES = [
    (geometry, implementation, data_format)
    for geometry in GEOMETRIES
    for implementation in (1, 2, 3)
    for data_format in ("channels_last", "channels_first")
    if not (geometry[-1] == "same" and implementation == 1)  # tf-keras has no such layer
]


def _case_id(case):
    (rank, spatial, kernel, strides, padding), implementation, data_format = case
    size = "x".join(map(str, spatial))
    return f"{rank}d-{size}-k{kernel[0]}-s{strides[0]}-{padding}-impl{implementation}-{data_format[9:]}"


def _tf_keras_model(geometry, implementation, data_format, compile=False):
    rank, spatial, kernel, strides, padding = geometry
    layer_class = tf_keras.layers.LocallyConnected2D if rank == 2 else tf_keras.layers.LocallyConnected1D
    tf_keras.utils.set_random_seed(0)
    model = tf_keras.Sequential([
        tf_keras.Input(input_shape(spatial, 3, data_format)),
        layer_class(4, kernel, strides=strides, padding=padding, data_format=data_format,
                    implementation=implementation, activation="tanh", name="old_lc",
                    bias_initializer="glorot_uniform"),
        tf_keras.layers.Flatten(),
        tf_keras.layers.Dense(2, name="head"),
    ])
    if compile:
        model.compile(optimizer="adam", loss="mse")
    return model


def _inputs(model, seed=1):
    shape = (3,) + tuple(model.input_shape[1:])
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


# What tf-keras writes: legacy HDF5 (what R keras 2.x wrote too), and the Keras v3 formats of
# tf-keras 2.13+ (`.keras` full models, `.weights.h5` weights, read by other code in Keras 3).
@pytest.mark.parametrize("suffix", [".h5", ".keras"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_full_model_loads_with_the_saved_implementation(case, suffix, tmp_path):
    geometry, implementation, data_format = case
    reference = _tf_keras_model(geometry, implementation, data_format)
    path = str(tmp_path / f"old{suffix}")
    reference.save(path)
    x = _inputs(reference)

    loaded = keras.models.load_model(path)
    layer = loaded.get_layer("old_lc")
    assert type(layer) is (LocallyConnected2D if geometry[0] == 2 else LocallyConnected1D)
    assert layer.implementation == implementation
    assert layer.data_format == data_format and layer.padding == geometry[-1]
    # One layout whatever tf-keras saved: (positions, taps * channels, filters).
    positions = int(np.prod(loaded.get_layer("old_lc").output.shape[1:-1] if data_format == "channels_last"
                            else loaded.get_layer("old_lc").output.shape[2:]))
    assert tuple(layer.kernel.shape) == (positions, int(np.prod(geometry[2])) * 3, 4)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), reference.predict(x, verbose=0),
                               atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("suffix", [".h5", ".weights.h5"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_weights_only_file_loads_into_a_model_built_with_our_layers(case, suffix, tmp_path):
    geometry, implementation, data_format = case
    rank, spatial, kernel, strides, padding = geometry
    reference = _tf_keras_model(geometry, implementation, data_format)
    path = str(tmp_path / f"old_weights{suffix}")
    reference.save_weights(path)
    x = _inputs(reference)
    layer_class = LocallyConnected2D if rank == 2 else LocallyConnected1D
    model = keras.Sequential([
        keras.Input(input_shape(spatial, 3, data_format)),
        layer_class(4, kernel, strides=strides, padding=padding, data_format=data_format,
                    implementation=implementation, activation="tanh"),
        keras.layers.Flatten(),
        keras.layers.Dense(2),
    ])
    model.load_weights(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(x, verbose=0),
                               atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("suffix", [".h5", ".weights.h5"])
@pytest.mark.parametrize("our_implementation", [1, 2, 3, "auto"])
@pytest.mark.parametrize("tf_implementation", [2, 3])
def test_weights_of_any_tf_keras_implementation_load_into_any_of_ours(tf_implementation, our_implementation,
                                                                       suffix, tmp_path):
    geometry = (2, (7, 7), (3, 3), (2, 2), "same")
    reference = _tf_keras_model(geometry, tf_implementation, "channels_first")
    path = str(tmp_path / f"old_weights{suffix}")
    reference.save_weights(path)
    model = keras.Sequential([
        keras.Input((3, 7, 7)),
        LocallyConnected2D(4, 3, strides=2, padding="same", data_format="channels_first",
                           implementation=our_implementation, activation="tanh"),
        keras.layers.Flatten(),
        keras.layers.Dense(2),
    ])
    model.load_weights(path)
    x = _inputs(reference)
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(x, verbose=0),
                               atol=TOLERANCE, rtol=0)


def test_compiled_model_loads_without_its_compile_config(tmp_path):
    # A compiled tf-keras file also carries its training config; the layers load either way.
    reference = _tf_keras_model(GEOMETRIES[0], 2, "channels_last", compile=True)
    path = str(tmp_path / "compiled.h5")
    reference.save(path)
    loaded = keras.models.load_model(path, compile=False)
    x = _inputs(reference)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), reference.predict(x, verbose=0),
                               atol=TOLERANCE, rtol=0)


def test_a_fresh_process_needs_only_the_import(tmp_path):
    reference = _tf_keras_model(GEOMETRIES[2], 3, "channels_last")
    path = tmp_path / "old.h5"
    reference.save(str(path))
    x = _inputs(reference)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", reference.predict(x, verbose=0))
    script = (
        "import sys, numpy as np, keras, locally_connected\n"
        "assert 'tf_keras' not in sys.modules\n"
        f"model = keras.models.load_model({str(path)!r})\n"
        f"x, y = np.load({str(tmp_path / 'x.npy')!r}), np.load({str(tmp_path / 'y.npy')!r})\n"
        "print('difference', float(np.max(np.abs(model.predict(x, verbose=0) - y))))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert float(run.stdout.split()[-1]) <= TOLERANCE


@pytest.mark.parametrize("loader, suffix", [("load_model", ".h5"), ("load_model", ".keras"),
                                            ("load_weights", ".h5"), ("load_weights", ".weights.h5")])
def test_same_windows_conv_cannot_express_are_refused_naming_the_layer(loader, suffix, tmp_path):
    # tf-keras centres even kernels differently from Conv's "same": 6x6, kernel 2.
    tf_keras.utils.set_random_seed(0)
    reference = tf_keras.Sequential([
        tf_keras.Input((6, 6, 2)),
        tf_keras.layers.LocallyConnected2D(3, 2, padding="same", implementation=2, name="even_same"),
    ])
    path = str(tmp_path / f"even{suffix}")
    if loader == "load_model":
        reference.save(path)
        with pytest.raises(ValueError, match=r"Layer 'even_same': tf-keras's padding='same' windows"):
            keras.models.load_model(path)
    else:
        reference.save_weights(path)
        model = keras.Sequential([keras.Input((6, 6, 2)),
                                  LocallyConnected2D(3, 2, padding="same", implementation=2, name="ours")])
        with pytest.raises(ValueError, match=r"Layer 'ours': tf-keras's padding='same' windows .* not Conv2D"):
            model.load_weights(path)


def test_our_own_h5_files_still_load(tmp_path):
    model = keras.Sequential([keras.Input((6, 5, 2)),
                              LocallyConnected2D(3, 3, padding="same", implementation=2)])
    path = str(tmp_path / "ours.h5")
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(0).standard_normal((2, 6, 5, 2)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].implementation == 2


def _squash(x):
    return x / (1.0 + abs(x))


def test_from_tf_keras_keeps_name_dtype_trainable_and_custom_activation():
    layer = tf_keras.layers.LocallyConnected1D(2, 3, activation=_squash, dtype="float64", name="custom")
    layer.trainable = False
    x = np.random.default_rng(0).standard_normal((2, 8, 3))
    expected = layer(x).numpy()  # called eagerly: no inbound node, but built
    ours = from_tf_keras(layer)
    assert ours.name == "custom"
    assert ours.activation is _squash
    assert ours.dtype_policy.name == "float64" and ours.kernel.dtype == "float64"
    assert ours.trainable is False and ours.trainable_weights == []
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)), expected, atol=1e-12)


def test_from_tf_keras_takes_a_layer_inside_a_custom_layer():
    class Block(tf_keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = tf_keras.layers.LocallyConnected2D(3, 2, implementation=3, activation="relu")

        def call(self, x):
            return self.inner(x)

    block = Block()
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 2)).astype("float32")
    expected = block(x).numpy()
    ours = from_tf_keras(block.inner)
    assert ours.implementation == 3
    assert ours.activation is keras.activations.relu
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)), expected, atol=1e-6)
    assert keras.layers.deserialize(keras.layers.serialize(ours)).get_config()["activation"] == "relu"


def test_from_tf_keras_says_when_the_layer_is_not_built():
    layer = tf_keras.layers.LocallyConnected2D(2, 3)
    with pytest.raises(ValueError, match="is not built, so it has no weights to take"):
        from_tf_keras(layer)


def test_deepface_weights_from_tf_keras_give_the_same_embeddings():
    # The documented example (docs/examples/deepface.py) at a smaller input: 72x72 is the
    # smallest that keeps every layer; the real 152x152 is run by hand (docs/migration.md).
    difference, largest = deepface.self_check(input_size=72)
    assert largest > 0.1, "the embeddings are too small to compare"
    assert difference <= TOLERANCE * largest


def test_empty_weights_are_no_initial_weights():
    """`weights=[]` is what an unbuilt layer's `get_weights()` returns, as code written for
    tf-keras passes it on (its layer test helper does): the initializers apply."""
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 1)).astype("float32")
    ours = LocallyConnected2D(2, 3, weights=[], bias_initializer="ones")
    assert tuple(ours(x).shape) == (2, 3, 3, 2)
    np.testing.assert_array_equal(ours.get_weights()[1], np.ones((3, 3, 2), "float32"))
    built = LocallyConnected2D(2, 3, weights=[], input_shape=(5, 5, 1))
    assert built.built and np.abs(built.get_weights()[0]).max() > 0


def test_tf_keras_saved_model_runs_through_tfsm_layer(tmp_path):
    """A SavedModel directory that tf-keras wrote (`model.save(path, save_format="tf")`) has
    no Keras 3 config to rebuild layers from: Keras 3 runs it for inference with TFSMLayer."""
    reference = _tf_keras_model(GEOMETRIES[3], 3, "channels_last")
    path = str(tmp_path / "saved_model")
    reference.save(path, save_format="tf")
    x = _inputs(reference)
    inputs = keras.Input(reference.input_shape[1:])
    served = keras.layers.TFSMLayer(path, call_endpoint="serving_default")(inputs)
    model = keras.Model(inputs, served)
    (output,) = model.predict(x, verbose=0).values()
    np.testing.assert_allclose(output, reference.predict(x, verbose=0), atol=TOLERANCE, rtol=0)

