"""The R-signature front door: signature, composition, coercion and bad input."""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from locally_connected import (
    LocallyConnected1D,
    LocallyConnected2D,
    LocallyConnected3D,
    layer_locally_connected_1d,
    layer_locally_connected_2d,
    layer_locally_connected_3d,
)

R_ORDER = [
    "object", "filters", "kernel_size", "strides", "padding", "data_format", "activation",
    "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
    "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
    "implementation", "batch_size", "name", "trainable", "weights",
    # Keras 3's Conv arguments and kernels shared over blocks: after R keras 2.x's, so that
    # every R keras 2.x call keeps its meaning.
    "dilation_rate", "groups", "weight_sharing", "kwargs",
]


@pytest.mark.parametrize("function, strides", [(layer_locally_connected_2d, (1, 1)),
                                               (layer_locally_connected_1d, 1),
                                               (layer_locally_connected_3d, (1, 1, 1))])
def test_signature_mirrors_r_keras(function, strides):
    parameters = inspect.signature(function).parameters
    assert list(parameters) == R_ORDER
    assert parameters["strides"].default == strides
    assert parameters["padding"].default == "valid"
    assert parameters["implementation"].default == 1
    assert parameters["kernel_initializer"].default == "glorot_uniform"
    assert parameters["use_bias"].default is True


def test_none_object_returns_the_layer():
    layer = layer_locally_connected_2d(filters=2, kernel_size=3)
    assert isinstance(layer, LocallyConnected2D) and not layer.built
    assert isinstance(layer_locally_connected_1d(None, 2, 3), LocallyConnected1D)
    layer = layer_locally_connected_3d(None, 2.0, [3, 3.0, 2], strides=2.0, implementation=2.0)
    assert isinstance(layer, LocallyConnected3D)
    assert (layer.filters, layer.kernel_size, layer.strides, layer.implementation) == (2, (3, 3, 2), (2, 2, 2), 2)


def test_sequential_object_gets_the_layer_added_and_is_returned():
    model = keras.Sequential([keras.Input((8, 8, 2))])
    result = layer_locally_connected_2d(model, filters=3, kernel_size=2)
    assert result is model
    assert isinstance(model.layers[-1], LocallyConnected2D)
    assert model.output_shape == (None, 7, 7, 3)


def test_r_keras_2_own_test_pipeline():
    """R keras 2.x: keras_model_sequential() %>% layer_dense(32, input_shape = c(784)) %>%
    layer_reshape(c(2, 4, 4)) %>% layer_locally_connected_2d(filters = 3, kernel_size = c(2, 2))."""
    model = keras.Sequential()
    model.add(keras.layers.Dense(32, input_shape=(784,)))
    model.add(keras.layers.Reshape((2, 4, 4)))
    model = layer_locally_connected_2d(model, filters=3.0, kernel_size=[2.0, 2.0])
    assert model.output_shape == (None, 1, 3, 3)
    assert model.predict(np.zeros((2, 784), "float32"), verbose=0).shape == (2, 1, 3, 3)


def test_layer_with_input_shape_and_batch_size_starts_a_sequential_model():
    model = layer_locally_connected_1d(keras.Sequential(), filters=2, kernel_size=3,
                                       input_shape=[10.0, 4.0], batch_size=6.0)
    assert model.inputs[0].shape == (6, 10, 4)
    assert model.output_shape == (6, 8, 2)
    first = layer_locally_connected_1d(None, filters=2, kernel_size=3, input_shape=(10, 4))
    assert keras.Sequential([first]).output_shape == (None, 8, 2)


@pytest.mark.parametrize("make_input", [
    lambda: keras.Input((6, 5, 2)),
    lambda: np.ones((3, 6, 5, 2), "float32"),
    lambda: tf.ones((3, 6, 5, 2)),
])
def test_tensor_object_returns_the_output(make_input):
    x = make_input()
    y = layer_locally_connected_2d(x, filters=4, kernel_size=(3, 2))
    assert tuple(y.shape)[1:] == (4, 4, 4)
    if not keras.backend.is_keras_tensor(y):
        assert y.shape[0] == 3


@pytest.mark.parametrize("bad_object, message", [
    ("model", "cannot be extended in place"),
    ("a string", "Received: object of type str"),
    ([1, 2, 3], "Received: object of type list"),
])
def test_other_objects_are_a_type_error(bad_object, message):
    if bad_object == "model":
        inputs = keras.Input((4, 4, 1))
        bad_object = keras.Model(inputs, keras.layers.Flatten()(inputs))
    with pytest.raises(TypeError, match="`object` must be None") as error:
        layer_locally_connected_2d(bad_object, filters=2, kernel_size=2)
    assert message in str(error.value)


@pytest.mark.parametrize("argument, value, expected", [
    ("kernel_size", 3, (3, 3)),
    ("kernel_size", 3.0, (3, 3)),
    ("kernel_size", [3.0, 2.0], (3, 2)),
    ("kernel_size", np.array([3, 2]), (3, 2)),
    ("kernel_size", np.int32(2), (2, 2)),
    ("kernel_size", (2, 3), (2, 3)),
    ("strides", 2.0, (2, 2)),
    ("strides", [1, 2.0], (1, 2)),
    ("filters", 4.0, 4),
    ("filters", np.float64(4), 4),
    ("implementation", 2.0, 2),
    ("implementation", np.int64(3), 3),
    ("implementation", "AUTO", "auto"),
    ("padding", "SAME", "same"),
    ("padding", "Valid", "valid"),
    ("data_format", "CHANNELS_FIRST", "channels_first"),
    ("batch_size", 16.0, 16),
])
def test_r_style_numbers_are_coerced(argument, value, expected):
    arguments = {"filters": 2, "kernel_size": 2, argument: value}
    layer = layer_locally_connected_2d(**arguments)
    assert getattr(layer, argument) == expected
    assert type(getattr(layer, argument)) is type(expected)


BAD_INPUTS = [
    # argument, value, exception, message
    ("filters", None, TypeError, "`filters` is required"),
    ("kernel_size", None, TypeError, "`kernel_size` is required"),
    ("filters", 3.5, ValueError, "`filters` must be an integer >= 1; non-integral"),
    ("filters", 0, ValueError, "`filters` must be an integer >= 1"),
    ("filters", -1, ValueError, "`filters` must be an integer >= 1"),
    ("filters", "3", TypeError, "`filters` must be an integer >= 1"),
    ("filters", True, TypeError, "`filters` must be an integer >= 1"),
    ("filters", float("nan"), ValueError, "`filters` must be an integer >= 1"),
    ("kernel_size", 3.5, ValueError, "`kernel_size` must be an integer >= 1"),
    ("kernel_size", [3, 2.5], ValueError, "`kernel_size` must be an integer >= 1"),
    ("kernel_size", 0, ValueError, "`kernel_size` must be an integer >= 1"),
    ("kernel_size", [3, 3, 3], ValueError, "`kernel_size` must be an integer or a sequence of 2"),
    ("kernel_size", [3], ValueError, "`kernel_size` must be an integer or a sequence of 2"),
    ("kernel_size", "3", TypeError, "`kernel_size` must be an integer or a sequence of 2"),
    ("kernel_size", float("inf"), ValueError, "`kernel_size` must be an integer >= 1"),
    ("strides", 0, ValueError, "`strides` must be an integer >= 1"),
    ("strides", -2, ValueError, "`strides` must be an integer >= 1"),
    ("strides", (1, 1, 1), ValueError, "`strides` must be an integer or a sequence of 2"),
    ("padding", "full", ValueError,
     r"`padding` must be one of \['valid', 'same'.*'circular', 'reflect'\] or a sequence of 2 \(before, after\) pairs"),
    ("padding", [[1, 1]] * 3, ValueError, r"`padding` must be .* a sequence of 2 \(before, after\) pairs"),
    ("padding", [[1, -1]] * 2, ValueError, "`padding` must be an integer >= 0"),
    ("padding", [[1, 0.5]] * 2, ValueError, "`padding` must be an integer >= 0; non-integral"),
    ("padding", 1, TypeError, "`padding` must be one of"),
    ("data_format", "NHWC", ValueError, "`data_format` must be one of"),
    ("implementation", 4, ValueError, r"`implementation` must be one of \[1, 2, 3\]"),
    ("implementation", 0, ValueError, "`implementation` must be one of"),
    ("implementation", 1.5, ValueError, "`implementation` must be one of"),
    ("implementation", "2", ValueError, r"`implementation` must be one of \[1, 2, 3\] or 'auto'"),
    ("implementation", None, TypeError, "`implementation` must be one of"),
    ("use_bias", "yes", TypeError, "`use_bias` must be TRUE/FALSE"),
    ("batch_size", 0, ValueError, "`batch_size` must be an integer >= 1"),
    ("batch_size", 2.5, ValueError, "`batch_size` must be an integer >= 1"),
    ("trainable", 1, TypeError, "`trainable` must be TRUE/FALSE"),
    ("name", 3, TypeError, "`name` must be a string"),
    ("weights", np.zeros(3), TypeError, "`weights` must be a list"),
    ("input_shape", "8x8", TypeError, "`input_shape` must be a sequence of integers"),
    ("input_shape", [8, 0, 1], ValueError, "`input_shape` must be an integer >= 1"),
    ("unknown_argument", 1, TypeError, r"Unknown argument\(s\) \['unknown_argument'\]"),
    ("dilation_rate", 0, ValueError, "`dilation_rate` must be an integer >= 1"),
    ("dilation_rate", [2, 1.5], ValueError, "`dilation_rate` must be an integer >= 1; non-integral"),
    ("dilation_rate", [1, 1, 1], ValueError, "`dilation_rate` must be an integer or a sequence of 2"),
    ("weight_sharing", 0, ValueError, "`weight_sharing` must be an integer >= 1"),
    ("weight_sharing", [2, 2, 2], ValueError, "`weight_sharing` must be an integer or a sequence of 2"),
    ("groups", 0, ValueError, "`groups` must be an integer >= 1"),
    ("groups", 2.5, ValueError, "`groups` must be an integer >= 1; non-integral"),
    ("groups", 3, ValueError, r"`groups` must divide `filters` .* Received: groups=3, filters=2"),
]


BAD_INPUTS_1D = [
    (argument, value, exception, message.replace("sequence of 2", "sequence of 1"))
    for argument, value, exception, message in BAD_INPUTS
    if not (argument in ("kernel_size", "strides", "dilation_rate", "weight_sharing", "padding")
            and isinstance(value, (list, tuple)))
] + [
    ("kernel_size", [3, 3], ValueError, "`kernel_size` must be an integer or a sequence of 1"),
    ("strides", [2.5], ValueError, "`strides` must be an integer >= 1; non-integral"),
    ("strides", (1, 1), ValueError, "`strides` must be an integer or a sequence of 1"),
    ("padding", [[1, 1], [1, 1]], ValueError, r"`padding` must be .* a sequence of 1 \(before, after\) pairs"),
]


@pytest.mark.parametrize("argument, value, exception, message", BAD_INPUTS)
def test_bad_inputs_name_the_argument_2d(argument, value, exception, message):
    with pytest.raises(exception, match=message):
        layer_locally_connected_2d(**{"filters": 2, "kernel_size": 2, argument: value})


@pytest.mark.parametrize("argument, value, exception, message", BAD_INPUTS_1D)
def test_bad_inputs_name_the_argument_1d(argument, value, exception, message):
    with pytest.raises(exception, match=message):
        layer_locally_connected_1d(**{"filters": 2, "kernel_size": 2, argument: value})


def test_trainable_and_name_are_passed_and_none_keeps_defaults():
    layer = layer_locally_connected_2d(filters=2, kernel_size=2, trainable=False, name="local")
    assert layer.trainable is False and layer.name == "local"
    default = layer_locally_connected_2d(filters=2, kernel_size=2)
    assert default.trainable is True and default.name.startswith("locally_connected2d")


def test_weights_through_the_front_door(rng):
    kernel = rng.standard_normal((9, 4, 2)).astype("float32")
    bias = rng.standard_normal((9, 2)).astype("float32")
    y = layer_locally_connected_1d(np.ones((1, 10, 2), "float32"), 2, 2, weights=[kernel, bias])
    expected = np.einsum("pk,pkf->pf", np.ones((9, 4), "float32"), kernel) + bias
    np.testing.assert_allclose(np.asarray(y)[0], expected, rtol=1e-5)


def test_dtype_is_accepted():
    layer = layer_locally_connected_2d(filters=2, kernel_size=2, dtype="float64")
    assert layer.dtype == "float64"
