"""Property-based tests (hypothesis, TensorFlow backend) over random configurations.

Every property runs with `derandomize=True` (the same examples on every run) and no
deadline. Examples per property:

- `test_shape_and_position_scaled_conv`: 60 random valid configs (1D/2D, kernel 1-4,
  strides 1-3, valid/same, both data formats, implementations 1-3, batch 1-3, spatial
  1-9, channels 1-3, filters 1-3): output shape == `compute_output_shape` == Conv's, and
  with position p holding scale[p] * Conv's kernel and its own bias, the output equals
  scale * `Conv1D`/`Conv2D` + bias (rtol = atol = 1e-5, float32).
- `test_implementations_agree_with_the_per_position_reference`: 50 configs:
  implementations 1, 2, 3 built with the same seed have exactly [kernel, bias], equal
  weights, the formula's parameter count, and outputs equal to the per-position NumPy
  reference (tests/support/reference.py) within atol = rtol = 1e-5 (float32).
- `test_gradients_match_central_differences`: 40 configs in float64 (spatial 1-6): the
  output equals the NumPy reference (1e-12), and gradients w.r.t. input, kernel and bias
  agree with central differences
  (eps = 1e-6) along random directions and single coordinates, rel 1e-6 / abs 1e-7.
- `test_invalid_arguments_name_the_argument`: 200 random invalid values for the
  R-signature front doors (`layer_locally_connected_1d` / `_2d`): always a ValueError or
  TypeError whose message names the argument in backticks.
- `test_save_load_round_trip`: 15 configs round-trip through a `.keras` file with
  bit-identical weights and outputs.

Not drawn but listed (plain pytest cases):
- `test_r_na_values_name_the_argument`: R's NA values as reticulate 1.28 delivers them.
- `test_huge_values_are_clean_errors_or_work`: 10**30, 1e30, 2**63, 10**12, 10**6 for
  kernel_size / strides / filters / batch_size / implementation, and values that must be
  accepted; each case's outcome (message or output shape) is pinned.
- `test_keras_getter_arguments_name_the_argument`, `test_input_shape_of_wrong_rank_...`.
Total runtime: about 20 s of tests (35 s with TensorFlow's start) on 2 cores.
"""

from __future__ import annotations

import dataclasses
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from locally_connected import (
    LocallyConnected1D,
    LocallyConnected2D,
    layer_locally_connected_1d,
    layer_locally_connected_2d,
)

import reference
from helpers import random_weights

LAYERS = {1: LocallyConnected1D, 2: LocallyConnected2D}
CONVS = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D}
FRONT_DOORS = {1: layer_locally_connected_1d, 2: layer_locally_connected_2d}

PROPERTY = dict(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@dataclasses.dataclass(frozen=True)
class Config:
    rank: int
    spatial: tuple
    channels: int
    filters: int
    kernel_size: tuple
    strides: tuple
    padding: str
    data_format: str
    implementation: int
    batch: int
    seed: int

    @property
    def shape(self) -> tuple:
        """Input shape without the batch dimension."""
        if self.data_format == "channels_first":
            return (self.channels,) + self.spatial
        return self.spatial + (self.channels,)

    @property
    def to_last(self) -> tuple | None:
        """Axis permutation channels_first -> channels_last (None for channels_last)."""
        if self.data_format == "channels_last":
            return None
        return (0,) + tuple(range(2, self.rank + 2)) + (1,)

    def layer(self, **kwargs):
        arguments = dict(strides=self.strides, padding=self.padding, data_format=self.data_format,
                         implementation=self.implementation)
        arguments.update(kwargs)
        return LAYERS[self.rank](self.filters, self.kernel_size, **arguments)

    def inputs(self, dtype="float32"):
        rng = np.random.default_rng(self.seed)
        return rng.standard_normal((self.batch,) + self.shape).astype(dtype)


@st.composite
def configs(draw, max_spatial=9, implementations=(1, 2, 3)):
    rank = draw(st.sampled_from((1, 2)))
    kernel_size = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    padding = draw(st.sampled_from(("valid", "same")))
    # "valid" needs the kernel to fit; "same" works on any size.
    spatial = tuple(draw(st.integers(k if padding == "valid" else 1, max_spatial)) for k in kernel_size)
    return Config(
        rank=rank,
        spatial=spatial,
        channels=draw(st.integers(1, 3)),
        filters=draw(st.integers(1, 3)),
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        data_format=draw(st.sampled_from(("channels_last", "channels_first"))),
        implementation=draw(st.sampled_from(implementations)),
        batch=draw(st.integers(1, 3)),
        seed=draw(st.integers(0, 2**31 - 1)),
    )


# ---------------------------------------------------------------------------
# Valid configurations
# ---------------------------------------------------------------------------


@settings(max_examples=60, **PROPERTY)
@given(config=configs())
def test_shape_and_position_scaled_conv(config):
    rng = np.random.default_rng(config.seed + 1)
    x = config.inputs()
    # TF's CPU convolutions only run channels_last: compute the oracle there and transpose.
    x_last = np.transpose(x, config.to_last) if config.to_last else x
    conv = CONVS[config.rank](config.filters, config.kernel_size, strides=config.strides,
                              padding=config.padding, use_bias=False)
    conv.build(x_last.shape)
    random_weights(conv, rng)
    conv_output = np.asarray(conv(x_last))
    if config.to_last:
        conv_output = np.transpose(conv_output, np.argsort(config.to_last))
    layer = config.layer()
    layer.build((None,) + config.shape)
    output_size = conv_output.shape[2:] if config.data_format == "channels_first" else conv_output.shape[1:-1]
    weights, scale, bias = reference.position_scaled_weights(conv.get_weights()[0], output_size,
                                                             config.data_format, rng)
    layer.set_weights(weights)
    expected = reference.scaled_conv_output(conv_output, scale, bias, config.data_format)
    y = np.asarray(layer(x))
    assert y.shape == expected.shape
    assert layer.compute_output_shape((config.batch,) + config.shape) == y.shape
    assert layer.compute_output_shape((None,) + config.shape) == (None,) + y.shape[1:]
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=50, **PROPERTY)
@given(config=configs())
def test_implementations_agree_with_the_per_position_reference(config):
    x = config.inputs()
    weights, outputs = [], []
    for implementation in (1, 2, 3):
        keras.utils.set_random_seed(config.seed)
        layer = config.layer(implementation=implementation, bias_initializer="random_normal")
        outputs.append(np.asarray(layer(x)))
        weights.append(layer.get_weights())
        assert len(weights[-1]) == 2
        output_size = layer.compute_output_shape(x.shape)[1:-1] if config.data_format == "channels_last" \
            else layer.compute_output_shape(x.shape)[2:]
        assert layer.count_params() == reference.parameter_count(output_size, config.kernel_size,
                                                                 config.channels, config.filters)
    expected = reference.locally_connected(x, *weights[0], config.kernel_size, config.strides,
                                           config.padding, config.data_format)
    for implementation_weights, implementation_outputs in zip(weights, outputs, strict=True):
        for a, b in zip(weights[0], implementation_weights, strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(implementation_outputs, expected, rtol=1e-5, atol=1e-5)


def _loss(layer, x, probe):
    return tf.reduce_sum(layer(x) * probe)


@settings(max_examples=40, **PROPERTY)
@given(config=configs(max_spatial=6))
def test_gradients_match_central_differences(config):
    """float64; the loss `sum(tanh(layer(x)) * probe)` is checked along 2 random unit
    directions and 2 single coordinates for each of input, kernel and bias."""
    eps, rel, abs_ = 1e-6, 1e-6, 1e-7
    rng = np.random.default_rng(config.seed + 2)
    layer = config.layer(activation="tanh", dtype="float64", bias_initializer="random_normal")
    x = tf.constant(config.inputs("float64"))
    layer.build(x.shape)
    # The function itself first, position by position: the differences below compare the
    # code with itself.
    np.testing.assert_allclose(
        np.tanh(reference.locally_connected(x.numpy(), layer.kernel.numpy(), layer.bias.numpy(),
                                            config.kernel_size, config.strides, config.padding,
                                            config.data_format)),
        layer(x).numpy(), rtol=1e-12, atol=1e-12)
    probe = tf.constant(rng.standard_normal(layer.compute_output_shape(x.shape)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = _loss(layer, x, probe)
    gradients = tape.gradient(loss, [x, layer.kernel, layer.bias])

    def directions(size):
        for _ in range(2):
            d = rng.standard_normal(size)
            yield d / np.linalg.norm(d)
        for index in rng.choice(size, min(2, size), replace=False):
            d = np.zeros(size)
            d[index] = 1.0
            yield d

    # Input.
    flat = x.numpy().ravel()
    for d in directions(flat.size):
        plus = float(_loss(layer, tf.constant((flat + eps * d).reshape(x.shape)), probe))
        minus = float(_loss(layer, tf.constant((flat - eps * d).reshape(x.shape)), probe))
        analytic = float(np.dot(gradients[0].numpy().ravel(), d))
        assert analytic == pytest.approx((plus - minus) / (2 * eps), rel=rel, abs=abs_)
    # Kernel and bias.
    for variable, gradient in zip((layer.kernel, layer.bias), gradients[1:]):
        value = variable.numpy()
        for d in directions(value.size):
            shifted = []
            for sign in (1, -1):
                variable.assign((value.ravel() + sign * eps * d).reshape(value.shape))
                shifted.append(float(_loss(layer, x, probe)))
            variable.assign(value)
            analytic = float(np.dot(np.asarray(gradient).ravel(), d))
            assert analytic == pytest.approx((shifted[0] - shifted[1]) / (2 * eps), rel=rel, abs=abs_)


_example_numbers = itertools.count()


# tmp_path is shared by the examples of one test: each example saves under its own name.
@settings(max_examples=15, **dict(PROPERTY, suppress_health_check=PROPERTY["suppress_health_check"]
                                  + [HealthCheck.function_scoped_fixture]))
@given(config=configs(), activation=st.sampled_from([None, "relu", "tanh"]), use_bias=st.booleans())
def test_save_load_round_trip(tmp_path, config, activation, use_bias):
    rng = np.random.default_rng(config.seed + 3)
    model = keras.Sequential([keras.Input(config.shape),
                              config.layer(activation=activation, use_bias=use_bias, name="lc")])
    random_weights(model, rng)
    x = config.inputs()
    path = tmp_path / f"model_{next(_example_numbers)}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.get_layer("lc")) is LAYERS[config.rank]
    assert loaded.get_layer("lc").get_config() == model.get_layer("lc").get_config()
    assert len(loaded.get_weights()) == len(model.get_weights()) == (2 if use_bias else 1)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(loaded(x)))


# ---------------------------------------------------------------------------
# Invalid arguments
# ---------------------------------------------------------------------------

NA_REAL = float("nan")           # R NA_real_ through reticulate
NA_INTEGER = -2147483648         # R NA_integer_ through reticulate
NA_LOGICAL = True                # R NA (logical) through reticulate 1.28 (measured: `r_to_py(NA)` is True)
NA_CHARACTER = "NA"              # R NA_character_ through reticulate 1.28 (measured)

# An integer plus a fraction in (0, 1): 3.5, -0.25, 2.000001, ... (R doubles that need rounding).
non_integral_floats = st.one_of(
    st.builds(lambda i, f: i + f, st.integers(-1000, 1000), st.floats(1e-6, 1 - 1e-6)),
    st.sampled_from([0.5, 1.5, 2.5, 3.0000001, np.float32(2.5), np.array([3.5])]),
)
non_finite = st.sampled_from([float("nan"), float("inf"), float("-inf"), np.float32("nan"),
                              np.float64("-inf"), np.array([np.nan]), NA_REAL])
non_positive = st.one_of(st.integers(max_value=0), st.integers(-10, 0).map(float),
                         st.just(NA_INTEGER), st.integers(-5, 0).map(np.int32))
wrong_types = st.one_of(
    st.text(max_size=4), st.just(NA_CHARACTER), st.booleans(), st.just(NA_LOGICAL),
    st.just(np.bool_(True)), st.binary(max_size=3), st.complex_numbers(max_magnitude=5),
    st.dictionaries(st.integers(1, 3), st.integers(1, 3), max_size=2), st.just({2, 3}), st.just(object()),
)
bad_numbers = st.one_of(non_integral_floats, non_finite, non_positive, wrong_types)


def _sequences(element, sizes):
    return st.integers(*sizes).flatmap(
        lambda n: st.one_of(st.lists(element, min_size=n, max_size=n),
                            st.lists(element, min_size=n, max_size=n).map(tuple),
                            st.lists(element, min_size=n, max_size=n).map(np.array)))


def _bad_tuples(rank):
    """kernel_size / strides: bad scalars, wrong lengths, a bad element, bad arrays."""
    good = st.integers(1, 3)
    wrong_length = st.one_of(st.lists(good, max_size=rank - 1) if rank > 1 else st.just([]),
                             st.lists(good, min_size=rank + 1, max_size=rank + 3),
                             st.lists(good, min_size=rank + 1, max_size=rank + 3).map(np.array),
                             st.just(np.array([], dtype=float)))
    one_bad = st.tuples(st.lists(good, min_size=rank - 1, max_size=rank - 1),
                        st.one_of(non_integral_floats, non_finite, non_positive, st.none(), st.text(max_size=2),
                                  st.booleans(), st.lists(good, min_size=1, max_size=2)),
                        st.integers(0, rank - 1)).map(lambda t: t[0][:t[2]] + [t[1]] + t[0][t[2]:])
    arrays_2d = st.integers(1, 3).map(lambda n: np.ones((n, rank), dtype=int))
    return st.one_of(bad_numbers, st.none(), wrong_length, one_bad, arrays_2d)


def _bad_arguments(rank):
    not_a_string = st.one_of(st.integers(), st.floats(), st.booleans(), st.lists(st.text(max_size=3), max_size=2))
    unknown_string = st.text(max_size=12)
    bad_shapes = st.one_of(
        st.lists(st.one_of(non_integral_floats, non_finite, non_positive, st.text(max_size=2)),
                 min_size=1, max_size=rank + 1).map(lambda v: [4] * rank + v[:1]),
        st.one_of(st.text(max_size=4), st.dictionaries(st.integers(), st.integers(), max_size=1)),
    )
    numbers_wrong_length = _sequences(st.integers(1, 3), (2, 4))
    return st.one_of(
        st.tuples(st.just("filters"), st.one_of(bad_numbers, st.none(), numbers_wrong_length)),
        st.tuples(st.just("kernel_size"), _bad_tuples(rank)),
        st.tuples(st.just("strides"), _bad_tuples(rank)),
        st.tuples(st.just("padding"), st.one_of(
            unknown_string.filter(lambda s: s.lower() not in ("valid", "same", "circular", "reflect")
                                  + (("causal",) if rank == 1 else ())),
            st.just("causal") if rank > 1 else st.just("full"),
            not_a_string, st.none(), st.just(NA_CHARACTER), st.just(NA_REAL))),
        st.tuples(st.just("data_format"), st.one_of(
            unknown_string.filter(lambda s: s.lower() not in ("channels_last", "channels_first")),
            not_a_string, st.just(NA_CHARACTER), st.just(NA_LOGICAL))),
        st.tuples(st.just("implementation"), st.one_of(
            st.integers().filter(lambda v: v not in (1, 2, 3)), non_integral_floats, non_finite,
            st.just(10**30), st.just(1e30), st.just(NA_INTEGER), st.none(),
            # "auto" (any case) may be a valid implementation: never draw it.
            wrong_types.filter(lambda v: not (isinstance(v, str) and v.lower() == "auto")),
            st.just([1, 2]))),
        st.tuples(st.just("batch_size"), st.one_of(bad_numbers, numbers_wrong_length)),
        st.tuples(st.just("use_bias"), st.one_of(st.integers(), st.floats(), st.text(max_size=3),
                                                  st.none(), st.just([True, False]))),
        st.tuples(st.just("trainable"), st.one_of(st.integers(), st.floats(), st.text(max_size=3),
                                                   st.just(np.array([True, False])))),
        st.tuples(st.just("name"), st.one_of(st.integers(), st.floats(), st.booleans(),
                                              st.lists(st.text(max_size=3), min_size=1, max_size=2))),
        st.tuples(st.just("weights"), st.one_of(
            st.text(max_size=3), st.integers(), st.just(np.zeros(3)),
            # [] is no initial weights (test_migration.py).
            st.lists(st.integers(1, 4).map(lambda n: np.zeros((n, n))), min_size=1, max_size=3))),
        st.tuples(st.just("input_shape"), bad_shapes),
        st.tuples(st.just("dilation_rate"), _bad_tuples(rank)),
        st.tuples(st.just("weight_sharing"), _bad_tuples(rank)),
        # filters and channels are 2: 3 and more divide neither.
        st.tuples(st.just("groups"), st.one_of(bad_numbers, st.none(), st.integers(3, 50))),
        st.tuples(st.just("padding"), st.one_of(
            # Pairs, but not one per spatial dimension.
            _sequences(st.tuples(st.integers(0, 3), st.integers(0, 3)), (0, rank - 1)),
            _sequences(st.tuples(st.integers(0, 3), st.integers(0, 3)), (rank + 1, rank + 2)),
            st.lists(st.tuples(st.one_of(non_integral_floats, non_finite, st.integers(-9, -1)),
                               st.integers(0, 3)), min_size=rank, max_size=rank),
            st.lists(st.lists(st.integers(0, 3), min_size=3, max_size=3), min_size=rank, max_size=rank))),
    )


@settings(max_examples=200, **PROPERTY)
@given(data=st.data())
def test_invalid_arguments_name_the_argument(data):
    rank = data.draw(st.sampled_from((1, 2)), label="rank")
    argument, value = data.draw(_bad_arguments(rank), label="argument, value")
    event(f"argument: {argument}")
    event(f"value type: {type(value).__name__}")
    # input_shape makes the layer build at once, so errors found only at build count too.
    arguments = {"filters": 2, "kernel_size": 2, "input_shape": (5,) * rank + (2,), argument: value}
    with pytest.raises((ValueError, TypeError)) as error:
        FRONT_DOORS[rank](**arguments)
    assert f"`{argument}`" in str(error.value), (
        f"{argument}={value!r} raised {type(error.value).__name__} without naming the argument: "
        f"{error.value}")


def test_r_na_values_name_the_argument():
    """The R NA values as reticulate 1.28 delivers them (measured): NA_real_ -> nan,
    NA_integer_ -> -2147483648, NA (logical) -> True, NA_character_ -> 'NA'."""
    cases = [
        ("filters", NA_REAL), ("filters", NA_INTEGER), ("filters", NA_LOGICAL),
        ("kernel_size", NA_REAL), ("kernel_size", [3.0, NA_REAL]), ("kernel_size", NA_INTEGER),
        ("kernel_size", [3, NA_INTEGER]), ("kernel_size", NA_LOGICAL), ("strides", [NA_LOGICAL, 1]),
        ("strides", NA_REAL), ("implementation", NA_INTEGER), ("implementation", NA_REAL),
        ("implementation", NA_LOGICAL), ("batch_size", NA_INTEGER), ("batch_size", NA_REAL),
        ("padding", NA_CHARACTER), ("data_format", NA_CHARACTER), ("padding", NA_LOGICAL),
        ("input_shape", [8, NA_REAL, 1]), ("input_shape", [8, NA_INTEGER, 1]),
    ]
    for argument, value in cases:
        with pytest.raises((ValueError, TypeError), match=f"`{argument}`"):
            layer_locally_connected_2d(**{"filters": 2, "kernel_size": 2, argument: value})
    # NA as a logical arrives as True, indistinguishable from TRUE: only R can refuse it.
    assert layer_locally_connected_2d(filters=2, kernel_size=2, use_bias=NA_LOGICAL).use_bias is True


# Huge values: each case's outcome is pinned. Refused: a ValueError naming the argument, at
# construction or build (never another exception type, a hang, or an error only when the
# layer is called). Accepted: the layer builds and runs with the output shape given (a
# stride larger than the input is a legitimate 1-position output). Input (1, 5, 5, 2).
INTEGER_LIMIT = r"must be an integer >= 1 and <= 2147483647"
HUGE_CASES = [
    # argument, value, padding, implementation, error message or output shape
    ("kernel_size", 10**30, "valid", 1, f"`kernel_size` {INTEGER_LIMIT}"),
    ("kernel_size", 1e30, "valid", 3, f"`kernel_size` {INTEGER_LIMIT}"),
    ("kernel_size", 10**30, "same", 1, f"`kernel_size` {INTEGER_LIMIT}"),
    ("kernel_size", 1e30, "same", 2, f"`kernel_size` {INTEGER_LIMIT}"),
    ("kernel_size", 2**63, "same", 3, f"`kernel_size` {INTEGER_LIMIT}"),
    ("kernel_size", 10**6, "same", 1, r"would need a kernel of 100,000,000,000,000 entries .* check `kernel_size`"),
    ("kernel_size", 6, "valid", 1, r"kernel_size=\(6, 6\) .* does not fit the input's spatial size"),
    ("strides", 10**30, "valid", 3, f"`strides` {INTEGER_LIMIT}"),
    ("strides", 2**63, "same", 3, f"`strides` {INTEGER_LIMIT}"),
    ("strides", 10**30, "valid", 1, f"`strides` {INTEGER_LIMIT}"),
    ("strides", 10**30, "same", 2, f"`strides` {INTEGER_LIMIT}"),
    ("filters", 10**30, "valid", 1, f"`filters` {INTEGER_LIMIT}"),
    ("filters", 1e30, "valid", 3, f"`filters` {INTEGER_LIMIT}"),
    ("filters", 10**12, "valid", 1, f"`filters` {INTEGER_LIMIT}"),
    ("filters", 2 * 10**6, "valid", 2, r"`implementation` = 2 would allocate a dense masked kernel"),
    ("batch_size", 10**30, "valid", 1, f"`batch_size` {INTEGER_LIMIT}"),
    ("implementation", 10**30, "valid", 1, r"`implementation` must be one of \[1, 2, 3\] or 'auto'"),
    # Accepted.
    ("strides", 7, "valid", 1, (1, 1, 1, 2)),
    ("strides", 2**31 - 1, "same", 2, (1, 1, 1, 2)),
    ("strides", 100, "same", 3, (1, 1, 1, 2)),
    ("kernel_size", 5, "valid", 2, (1, 1, 1, 2)),
    ("kernel_size", 6, "same", 1, (1, 5, 5, 2)),
    ("filters", 10**4, "valid", 1, (1, 4, 4, 10**4)),
    ("batch_size", 10**9, "valid", 3, (1, 4, 4, 2)),
]


def _huge_case(case):
    argument, value, padding, implementation, outcome = case
    kind = "works" if isinstance(outcome, tuple) else "refused"
    return pytest.param(*case, id=f"{argument}={value:.0e}-{padding}-impl{implementation}-{kind}")


@pytest.mark.parametrize("argument, value, padding, implementation, outcome", [_huge_case(c) for c in HUGE_CASES])
def test_huge_values_are_clean_errors_or_work(argument, value, padding, implementation, outcome):
    arguments = {"filters": 2, "kernel_size": 2, "padding": padding, "implementation": implementation,
                 argument: value}
    if isinstance(outcome, str):
        with pytest.raises(ValueError, match=outcome):
            layer = layer_locally_connected_2d(**arguments)
            layer.build((None, 5, 5, 2))
        return
    layer = layer_locally_connected_2d(**arguments)
    layer.build((None, 5, 5, 2))
    y = layer(np.ones((1, 5, 5, 2), "float32"))
    assert tuple(y.shape) == outcome == layer.compute_output_shape((1, 5, 5, 2))


# Arguments handed to Keras' own getters (activation, initializers, regularizers,
# constraints, dtype): Keras' own messages do not say which argument was wrong, so the
# layer adds the name.
KERAS_GETTER_CASES = [
    ("activation", "relu "),
    ("kernel_initializer", "nope"),
    ("bias_initializer", 3.0),
    ("kernel_regularizer", "nope"),
    ("bias_regularizer", 1.0),
    ("activity_regularizer", 5),
    ("kernel_constraint", "nope"),
    ("bias_constraint", [1]),
    ("dtype", "float17"),
]


@pytest.mark.parametrize("argument, value", KERAS_GETTER_CASES)
def test_keras_getter_arguments_name_the_argument(argument, value):
    with pytest.raises((ValueError, TypeError), match=f"`{argument}`"):
        layer_locally_connected_2d(filters=2, kernel_size=2, **{argument: value})


@pytest.mark.parametrize("value", [[], [8, 8], [8, 8, 1, 1]])
def test_input_shape_of_wrong_rank_names_input_shape(value):
    with pytest.raises(ValueError, match="`input_shape`"):
        layer_locally_connected_2d(filters=2, kernel_size=2, input_shape=value)
