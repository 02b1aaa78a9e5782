"""Parity with tf-keras 2.21's LocallyConnected1D/2D, which is the reference behaviour.

Each case builds a tf-keras layer with random weights (any implementation), converts
its weights with `from_tf_keras`, and checks that every one of our implementations
returns tf-keras's output.
"""

import numpy as np
import pytest
import tf_keras

from locally_connected import LocallyConnected1D, LocallyConnected2D
from locally_connected.tf_keras_weights import (
    convert_tf_keras_weights,
    from_tf_keras,
    read_tf_keras_h5_weights,
)

from helpers import input_shape, random_inputs, random_weights

CASES_2D = [
    # spatial, channels, kernel, strides, padding
    ((6, 7), 3, (3, 3), (1, 1), "valid"),
    ((8, 6), 2, (2, 3), (2, 1), "valid"),
    ((9, 9), 4, (4, 4), (3, 2), "valid"),
    ((5, 5), 1, (1, 1), (1, 1), "valid"),
    ((6, 6), 2, (3, 3), (1, 1), "same"),
    ((7, 7), 3, (3, 3), (2, 2), "same"),
    ((7, 5), 2, (5, 3), (1, 1), "same"),
]
CASES_1D = [
    ((10,), 3, (3,), (1,), "valid"),
    ((11,), 2, (4,), (3,), "valid"),
    ((9,), 3, (3,), (1,), "same"),
    ((9,), 2, (3,), (2,), "same"),
]


def _tf_keras_layer(rank, filters, kernel, strides, padding, data_format, implementation, shape, rng):
    layer_class = tf_keras.layers.LocallyConnected2D if rank == 2 else tf_keras.layers.LocallyConnected1D
    layer = layer_class(filters, kernel, strides=strides, padding=padding, data_format=data_format,
                        implementation=implementation, activation="tanh")
    layer(tf_keras.Input(shape))
    random_weights(layer, rng)
    return layer


# tf-keras implementation 1 has no "same" padding.
PARITY_PARAMS = [
    (case, implementation) for case in CASES_2D + CASES_1D for implementation in (1, 2, 3)
    if not (case[-1] == "same" and implementation == 1)
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case, tf_implementation", PARITY_PARAMS)
def test_outputs_equal_tf_keras(case, tf_implementation, data_format, rng):
    spatial, channels, kernel, strides, padding = case
    shape = input_shape(spatial, channels, data_format)
    reference = _tf_keras_layer(len(spatial), 4, kernel, strides, padding, data_format,
                                tf_implementation, shape, rng)
    x = random_inputs(rng, (3,) + shape)
    expected = reference(x).numpy()
    for implementation in (1, 2, 3):
        ours = from_tf_keras(reference, implementation=implementation)
        np.testing.assert_allclose(np.asarray(ours(x)), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "spatial, kernel, strides",
    [((6, 6), (2, 2), (1, 1)), ((6, 6), (3, 3), (2, 2)), ((8, 8), (4, 4), (2, 2))],
)
@pytest.mark.parametrize("tf_implementation", [2, 3])
def test_unrepresentable_same_geometry_is_refused(spatial, kernel, strides, tf_implementation, rng):
    shape = input_shape(spatial, 2, "channels_last")
    reference = _tf_keras_layer(2, 3, kernel, strides, "same", "channels_last", tf_implementation, shape, rng)
    with pytest.raises(ValueError, match="cannot be represented"):
        from_tf_keras(reference)


def test_same_weights_same_parameter_count_as_tf_keras_implementation_1(rng):
    shape = (7, 6, 3)
    reference = _tf_keras_layer(2, 5, (3, 2), (2, 1), "valid", "channels_last", 1, shape, rng)
    ours = from_tf_keras(reference, implementation=3)
    assert ours.count_params() == reference.count_params()
    for theirs, mine in zip(reference.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(theirs, mine)


@pytest.mark.parametrize("tf_implementation", [1, 2, 3])
def test_weights_from_tf_keras_h5_file(tmp_path, tf_implementation, rng):
    shape = (4, 9, 8)
    inputs = tf_keras.Input(shape)
    outputs = tf_keras.layers.LocallyConnected2D(
        3, 3, padding="valid" if tf_implementation == 1 else "same", data_format="channels_first",
        implementation=tf_implementation, name="lc")(inputs)
    model = tf_keras.Model(inputs, outputs)
    random_weights(model, rng)
    path = str(tmp_path / "weights.h5")
    model.save_weights(path)
    config = model.get_layer("lc").get_config()
    weights = convert_tf_keras_weights(
        read_tf_keras_h5_weights(path, "lc"), input_shape=shape, filters=3, kernel_size=3,
        strides=1, padding=config["padding"], data_format="channels_first",
        implementation=tf_implementation,
    )
    ours = LocallyConnected2D(3, 3, padding=config["padding"], data_format="channels_first",
                              weights=weights)
    x = random_inputs(rng, (2,) + shape)
    np.testing.assert_allclose(np.asarray(ours(x)), model(x).numpy(), rtol=1e-5, atol=1e-5)


def test_regularizers_and_constraints_are_carried_over(rng):
    reference = tf_keras.layers.LocallyConnected1D(
        2, 3, kernel_regularizer=tf_keras.regularizers.L2(0.25),
        bias_constraint=tf_keras.constraints.NonNeg(), activity_regularizer="l1")
    reference.build((None, 8, 2))  # built, never called
    if getattr(reference, "_build_input_shape", None) is None:
        # tf-keras before 2.17 records the shape only when the layer is called.
        with pytest.raises(ValueError, match=r"does not record its input shape: pass `input_shape`"):
            from_tf_keras(reference)
        ours = from_tf_keras(reference, input_shape=(8, 2))
    else:
        ours = from_tf_keras(reference)
    assert ours.input_spec.axes == {1: 8, 2: 2}
    assert isinstance(ours, LocallyConnected1D)
    assert float(ours.kernel_regularizer.l2) == pytest.approx(0.25)
    assert type(ours.bias_constraint).__name__ == "NonNeg"
    assert type(ours.activity_regularizer).__name__ == "L1"
