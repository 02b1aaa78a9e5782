"""The layers themselves: the Conv oracle, implementation agreement, shapes, weights,
save/load and training."""

import doctest
import inspect
import math

import keras
import numpy as np
import pytest

from locally_connected import LocallyConnected1D, LocallyConnected2D, LocallyConnected3D, set_dense_kernel_budget
from locally_connected import layers as layers_module
from locally_connected.implementations import choose_implementation

import reference
from helpers import fit_position_scale, input_shape, random_inputs, random_weights

LAYERS = {1: LocallyConnected1D, 2: LocallyConnected2D, 3: LocallyConnected3D}
CONVS = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}


ORACLE_CASES = [
    # spatial, kernel, strides
    ((9, 8), (3, 3), (1, 1)),
    ((9, 8), (2, 2), (1, 1)),
    ((9, 8), (3, 2), (2, 3)),
    ((8, 8), (4, 4), (2, 2)),
    ((7, 7), (1, 3), (3, 1)),
    ((6, 6), (6, 5), (1, 2)),
    ((11,), (3,), (1,)),
    ((11,), (4,), (2,)),
    ((12,), (5,), (3,)),
    ((5, 6, 4), (3, 3, 3), (1, 1, 1)),
    ((6, 5, 5), (2, 3, 2), (2, 1, 2)),
    ((4, 4, 6), (1, 2, 3), (1, 2, 2)),
]


@pytest.mark.parametrize("implementation", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", ORACLE_CASES)
def test_position_scaled_conv_is_the_oracle(case, padding, data_format, implementation, rng):
    """Position p holds scale[p] * Conv's kernel and a bias of its own, so the output is
    scale * Conv(x) + bias: a position reading another position's weights shows."""
    spatial, kernel_size, strides = case
    rank, channels, filters = len(spatial), 3, 4
    shape = input_shape(spatial, channels, data_format)
    x = random_inputs(rng, (2,) + shape)
    # TF's CPU convolutions only run channels_last: compute the oracle there and transpose.
    conv = CONVS[rank](filters, kernel_size, strides=strides, padding=padding, use_bias=False)
    to_last = (0,) + tuple(range(2, rank + 2)) + (1,) if data_format == "channels_first" else None
    x_last = np.transpose(x, to_last) if to_last else x
    conv.build(x_last.shape)
    random_weights(conv, rng)
    conv_output = np.asarray(conv(x_last))
    if to_last:
        conv_output = np.transpose(conv_output, np.argsort(to_last))
    output_size = conv_output.shape[2:] if data_format == "channels_first" else conv_output.shape[1:-1]
    weights, scale, bias = reference.position_scaled_weights(conv.get_weights()[0], output_size, data_format, rng)
    layer = LAYERS[rank](filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, implementation=implementation)
    layer.build((None,) + shape)
    layer.set_weights(weights)
    expected = reference.scaled_conv_output(conv_output, scale, bias, data_format)
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape((2,) + shape) == expected.shape


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_implementations_share_weights_and_outputs(rank, data_format, padding, rng):
    spatial, kernel_size, filters, channels = (7, 6, 5)[:rank], (3,) * rank, 5, 3
    shape = input_shape(spatial, channels, data_format)
    x = random_inputs(rng, (4,) + shape)
    outputs, weights = [], []
    for implementation in (1, 2, 3):
        keras.utils.set_random_seed(7)
        layer = LAYERS[rank](filters, kernel_size, strides=2, padding=padding, data_format=data_format,
                             implementation=implementation, bias_initializer="random_normal")
        outputs.append(np.asarray(layer(x)))
        weights.append(layer.get_weights())
        output_size = tuple(outputs[-1].shape[2:] if data_format == "channels_first" else outputs[-1].shape[1:-1])
        # Exactly [kernel, bias] in the one layout, and the parameters the formula counts.
        assert [w.shape for w in weights[-1]] == [
            (math.prod(output_size), math.prod(kernel_size) * channels, filters), output_size + (filters,)]
        assert layer.count_params() == reference.parameter_count(output_size, kernel_size, channels, filters)
    expected = reference.locally_connected(x, *weights[0], kernel_size, (2,) * rank, padding, data_format)
    for implementation_weights, implementation_outputs in zip(weights, outputs, strict=True):
        for a, b in zip(weights[0], implementation_weights, strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(implementation_outputs, expected, rtol=1e-5, atol=1e-5)


def test_count_params_is_the_number_of_free_parameters():
    layer = LocallyConnected2D(32, 3, implementation=2)
    layer.build((None, 32, 32, 16))
    assert layer.count_params() == 30 * 30 * 3 * 3 * 16 * 32 + 30 * 30 * 32
    assert layer.kernel.shape == (900, 144, 32)


@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_input_gradient_matches_finite_differences(implementation, rng):
    import tensorflow as tf

    layer = LocallyConnected2D(2, (2, 3), strides=(1, 2), padding="same", implementation=implementation,
                               activation="tanh", dtype="float64", bias_initializer="random_normal")
    x = tf.constant(rng.standard_normal((2, 5, 6, 2)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x) ** 2)
    grads = [tape.gradient(loss, t).numpy() for t in (x, layer.kernel, layer.bias)]
    eps = 1e-6
    flat = x.numpy().ravel()
    for index in rng.choice(flat.size, 10, replace=False):
        plus, minus = flat.copy(), flat.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric = (
            float(tf.reduce_sum(layer(plus.reshape(x.shape)) ** 2))
            - float(tf.reduce_sum(layer(minus.reshape(x.shape)) ** 2))
        ) / (2 * eps)
        assert grads[0].ravel()[index] == pytest.approx(numeric, rel=1e-5, abs=1e-7)
    kernel = layer.kernel.numpy()
    for index in rng.choice(kernel.size, 10, replace=False):
        shifted = []
        for sign in (1, -1):
            k = kernel.ravel().copy()
            k[index] += sign * eps
            layer.kernel.assign(k.reshape(kernel.shape))
            shifted.append(float(tf.reduce_sum(layer(x) ** 2)))
        layer.kernel.assign(kernel)
        assert grads[1].ravel()[index] == pytest.approx((shifted[0] - shifted[1]) / (2 * eps),
                                                         rel=1e-5, abs=1e-7)
    assert np.abs(grads[2]).sum() > 0


@pytest.mark.parametrize("implementation", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [1, 2])
def test_xla_compiled_step_equals_the_plain_one(rank, data_format, implementation, rng):
    """model.compile(jit_compile=True), and Keras's default on GPU machines, compile the layer
    and its gradients with XLA: the same numbers as without."""
    import tensorflow as tf

    spatial = (7, 6)[:rank]
    layer = LAYERS[rank](3, 3, strides=2, padding="same", data_format=data_format,
                         implementation=implementation, bias_initializer="random_normal")
    x = tf.constant(random_inputs(rng, (2,) + input_shape(spatial, 2, data_format)))
    layer.build(x.shape)

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.sin(layer(x)))
        return [loss] + tape.gradient(loss, [x, layer.kernel, layer.bias])

    plain, compiled = tf.function(step)(x), tf.function(step, jit_compile=True)(x)
    assert layer.supports_jit
    for expected, actual in zip(plain, compiled):
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_model_compiled_with_xla_keeps_xla_for_every_implementation(rng):
    """`model.compile(jit_compile=True)` (Keras's default on GPU machines) compiles every
    implementation: Keras does not fall back to plain graphs."""
    x = random_inputs(rng, (4, 5, 5, 1))
    for implementation in (1, 2, 3):
        model = keras.Sequential([keras.Input((5, 5, 1)), LocallyConnected2D(2, 3, implementation=implementation)])
        model.compile(optimizer="sgd", loss="mse", jit_compile=True)
        assert model.jit_compile is True
        model.fit(x, np.zeros((4, 3, 3, 2), "float32"), verbose=0)


@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_fit_learns_a_position_dependent_target(implementation, rng):
    """Each pixel is scaled by its own factor: a conv cannot fit this, a locally
    connected layer can."""
    first, _, last, kernel, scale = fit_position_scale(
        lambda: LocallyConnected2D(1, 1, implementation=implementation), (6, 6), 256, 30, rng)
    assert last < first * 0.01
    np.testing.assert_allclose(kernel, scale, atol=0.05)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_save_and_load_keras_file_is_bit_identical(rank, implementation, tmp_path, rng):
    shape = ((8, 7, 6)[:rank]) + (3,)
    model = keras.Sequential([
        keras.Input(shape),
        LAYERS[rank](4, 3, strides=2, padding="same", activation="relu", implementation=implementation,
                     kernel_regularizer="l2", bias_constraint="non_neg", data_format="channels_last",
                     name="lc"),
    ])
    random_weights(model, rng)
    x = random_inputs(rng, (5,) + shape)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(loaded(x)))
    assert loaded.get_layer("lc").get_config() == model.get_layer("lc").get_config()


ROUND_TRIP_ARGUMENTS = dict(
    filters=3, kernel_size=(2, 3), strides=(2, 1), padding="SAME", data_format="channels_first",
    activation="relu", use_bias=True, kernel_initializer="he_normal",
    bias_initializer=keras.initializers.Constant(0.5), kernel_regularizer=keras.regularizers.L1(0.1),
    bias_regularizer=keras.regularizers.L2(0.3), activity_regularizer=keras.regularizers.L1L2(0.2, 0.4),
    kernel_constraint=keras.constraints.MaxNorm(2.5), bias_constraint="non_neg", implementation=3,
    batch_size=8, name="lc", trainable=False, dtype="float64",
)


def _assert_has_round_trip_arguments(layer):
    """The layer's own objects, against what ROUND_TRIP_ARGUMENTS passed in."""
    assert (layer.filters, layer.kernel_size, layer.strides) == (3, (2, 3), (2, 1))
    assert (layer.padding, layer.data_format, layer.use_bias) == ("same", "channels_first", True)
    assert layer.activation is keras.activations.relu
    assert type(layer.kernel_initializer) is keras.initializers.HeNormal
    assert type(layer.bias_initializer) is keras.initializers.Constant
    assert float(layer.bias_initializer.value) == 0.5
    assert type(layer.kernel_regularizer) is keras.regularizers.L1
    assert float(layer.kernel_regularizer.l1) == pytest.approx(0.1)
    assert type(layer.bias_regularizer) is keras.regularizers.L2
    assert float(layer.bias_regularizer.l2) == pytest.approx(0.3)
    assert type(layer.activity_regularizer) is keras.regularizers.L1L2
    assert (float(layer.activity_regularizer.l1), float(layer.activity_regularizer.l2)) == pytest.approx((0.2, 0.4))
    assert type(layer.kernel_constraint) is keras.constraints.MaxNorm
    assert float(layer.kernel_constraint.max_value) == 2.5
    assert type(layer.bias_constraint) is keras.constraints.NonNeg
    assert (layer.implementation, layer.batch_size, layer.name) == (3, 8, "lc")
    assert layer.trainable is False
    assert layer.dtype_policy.name == "float64"


def test_config_round_trip_keeps_every_argument(tmp_path):
    layer = LocallyConnected2D(**ROUND_TRIP_ARGUMENTS)
    _assert_has_round_trip_arguments(layer)
    _assert_has_round_trip_arguments(LocallyConnected2D.from_config(layer.get_config()))
    model = keras.Sequential([keras.Input((2, 6, 5), batch_size=8), layer])
    model.save(tmp_path / "model.keras")
    _assert_has_round_trip_arguments(keras.models.load_model(tmp_path / "model.keras").get_layer("lc"))


def test_weights_argument_sets_weights_at_build(rng):
    kernel = rng.standard_normal((4 * 3, 2 * 2 * 2, 3)).astype("float32")
    bias = rng.standard_normal((4, 3, 3)).astype("float32")
    layer = LocallyConnected2D(3, 2, weights=[kernel, bias])
    x = random_inputs(rng, (1, 5, 4, 2))
    layer(x)
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    np.testing.assert_array_equal(layer.get_weights()[1], bias)
    # With input_shape known, the weights are set at construction.
    built = LocallyConnected2D(3, 2, weights=[kernel, bias], input_shape=(5, 4, 2))
    assert built.built
    np.testing.assert_array_equal(built.get_weights()[0], kernel)


def test_weights_argument_with_wrong_shapes_names_weights():
    layer = LocallyConnected2D(3, 2, weights=[np.zeros((2, 2, 2))])
    with pytest.raises(ValueError, match="`weights` must be a list of arrays with shapes"):
        layer.build((None, 5, 4, 2))
    with pytest.raises(TypeError, match="`weights` must be a list"):
        LocallyConnected2D(3, 2, weights=np.zeros(3))


def test_built_layer_refuses_another_spatial_shape(rng):
    layer = LocallyConnected2D(2, 3)
    layer(random_inputs(rng, (1, 6, 6, 1)))
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 6"):
        layer(random_inputs(rng, (1, 7, 6, 1)))


@pytest.mark.parametrize(
    "layer_args, shape, message",
    [
        ((2, 3), (None, None, 6, 1), "needs fully known spatial dimensions"),
        ((2, 3), (None, 6, 6, None), "needs fully known spatial dimensions"),
        ((2, 5), (None, 4, 6, 1), r"would produce an output of spatial size \(0, 2\)"),
        ((2, 3), (None, 6, 1), "expects inputs of rank 4"),
    ],
)
def test_bad_input_shapes_are_clear_errors(layer_args, shape, message):
    with pytest.raises(ValueError, match=message):
        LocallyConnected2D(*layer_args).build(shape)


def test_implementation_2_refuses_a_kernel_over_the_budget():
    layer = LocallyConnected2D(16, 3, implementation=2)
    set_dense_kernel_budget(1024**2)
    try:
        with pytest.raises(ValueError, match=r"dense masked kernel of 2,073,600 entries.*budget"):
            layer.build((None, 20, 20, 1))
        LocallyConnected2D(16, 3, implementation=1).build((None, 20, 20, 1))
    finally:
        set_dense_kernel_budget(2 * 1024**3)
    LocallyConnected2D(16, 3, implementation=2).build((None, 20, 20, 1))


def test_batch_size_is_checked_against_the_input():
    layer = LocallyConnected1D(2, 3, batch_size=4)
    with pytest.raises(ValueError, match="`batch_size` is 4"):
        layer.build((3, 10, 1))
    layer.build((4, 10, 1))


def test_data_format_none_follows_keras_config():
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        assert LocallyConnected2D(2, 3).data_format == "channels_first"
    finally:
        keras.config.set_image_data_format(previous)
    assert LocallyConnected2D(2, 3).data_format == previous


@pytest.mark.parametrize(
    "spatial, channels, filters, expected",
    [((8, 8), 4, 8, 2), ((28, 28), 1, 8, 3), ((32, 32), 16, 32, 3), ((6,), 2, 3, 2)],
)
def test_auto_chooses_from_the_shapes_and_saves_its_choice(spatial, channels, filters, expected, tmp_path, rng):
    layer_class = LAYERS[len(spatial)]
    model = keras.Sequential([keras.Input(spatial + (channels,)),
                              layer_class(filters, 3, implementation="auto", name="lc")])
    layer = model.get_layer("lc")
    assert layer.implementation == "auto" and layer.resolved_implementation == expected
    assert layer.get_config()["resolved_implementation"] == expected
    path = tmp_path / "auto.keras"
    model.save(path)
    loaded = keras.models.load_model(path).get_layer("lc")
    assert loaded.resolved_implementation == expected
    # A saved choice is kept even where the cost model would now choose otherwise.
    other = 1 if expected != 1 else 3
    config = dict(layer.get_config(), resolved_implementation=other)
    assert layer_class.from_config(config).resolved_implementation == other


def test_auto_chooses_for_the_batch_the_layer_is_built_with(monkeypatch):
    """The cost model is told the batch of the first call, a fixed `batch_size`, or none (for
    which it assumes 32, Keras' default); what it makes of it is the backend's
    (tests/backends)."""
    batches = []

    def choose(plan, batch=None):
        batches.append(batch)
        return choose_implementation(plan, batch=batch)

    monkeypatch.setattr(layers_module, "choose_implementation", choose)
    first_call = LocallyConnected2D(16, 3, implementation="auto")
    first_call(np.ones((16, 64, 64, 8), "float32"))
    fixed = LocallyConnected2D(16, 3, implementation="auto", batch_size=64)
    fixed.build((64, 64, 64, 8))
    keras.Sequential([keras.Input((64, 64, 8)), LocallyConnected2D(16, 3, implementation="auto", name="lc")])
    assert batches == [16, 64, None]
    # JAX's block product is chosen for channels_first inputs while the batch's patches are few.
    channels_first = LocallyConnected2D(16, 3, data_format="channels_first")
    channels_first.build((None, 4, 32, 32))
    plan = channels_first._implementation.plan
    assert choose_implementation(plan, backend="jax", batch=64) == 1
    for_batch_32 = choose_implementation(plan, backend="jax", batch=32)
    assert choose_implementation(plan, backend="jax", batch=None) == for_batch_32 == 3


def test_auto_never_exceeds_the_dense_kernel_budget():
    set_dense_kernel_budget(64 * 1024)  # 16k float32 entries; 8x8x4 k3 F8 needs 73,728
    try:
        layer = LocallyConnected2D(8, 3, implementation="auto")
        layer.build((None, 8, 8, 4))
        assert layer.resolved_implementation == 3  # what the rule picks without 2
    finally:
        set_dense_kernel_budget(2 * 1024**3)


@pytest.mark.parametrize("layer_class", [LocallyConnected1D, LocallyConnected2D, LocallyConnected3D])
def test_signature_and_docstring_spell_out_every_argument(layer_class):
    parameters = inspect.signature(layer_class).parameters
    assert list(parameters) == [
        "filters", "kernel_size", "strides", "padding", "data_format", "activation", "use_bias",
        "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "bias_constraint", "implementation",
        "batch_size", "weights", "dilation_rate", "groups", "weight_sharing", "kwargs",
    ]
    assert parameters["strides"].default == {LocallyConnected1D: 1, LocallyConnected2D: (1, 1),
                                             LocallyConnected3D: (1, 1, 1)}[layer_class]
    for name in list(parameters)[:-1]:
        assert name in layer_class.__doc__
    for section in ("Input shape:", "Output shape:", "Example:"):
        assert section in layer_class.__doc__
    finder = doctest.DocTestFinder()
    (test,) = finder.find(layer_class, globs={"np": np, layer_class.__name__: layer_class})
    result = doctest.DocTestRunner().run(test)
    assert result.attempted == 2 and result.failed == 0


@pytest.mark.parametrize("layer_class", [LocallyConnected1D, LocallyConnected2D, LocallyConnected3D])
def test_config_holds_every_argument_of_the_signature(layer_class):
    """The signature is the one argument list: get_config saves each of its arguments (but
    the initial `weights`, which the saved variables replace)."""
    arguments = [name for name in inspect.signature(layer_class).parameters if name not in ("weights", "kwargs")]
    config = layer_class(2, 3).get_config()
    assert [name for name in arguments if name not in config] == []
    rebuilt = layer_class.from_config(config)
    assert all(getattr(rebuilt, name) == getattr(layer_class(2, 3), name) for name in arguments
               if not hasattr(getattr(rebuilt, name), "get_config"))


@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_3d_fit_learns_a_position_dependent_target(implementation, rng):
    """Each voxel scaled by its own factor: Conv3D cannot fit this, the 3D layer can."""
    first, _, last, kernel, scale = fit_position_scale(
        lambda: LocallyConnected3D(1, 1, implementation=implementation), (3, 4, 3), 256, 30, rng)
    assert last < first * 0.01
    np.testing.assert_allclose(kernel, scale, atol=0.05)


def test_3d_kernel_larger_than_memory_names_its_size_and_the_arguments():
    layer = LocallyConnected3D(512, 9, padding="same")
    with pytest.raises(ValueError, match=r"would need a kernel of [\d,]+ entries \([\d,.]+ GiB\) .* "
                                         r"check `kernel_size` \(\(9, 9, 9\)\) and `filters` \(512\)"):
        layer.build((None, 64, 64, 64, 4))
