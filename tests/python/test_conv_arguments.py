"""Conv's arguments and flax ConvLocal's paddings, and kernels shared over blocks.

Oracles, not restatements:
- `dilation_rate`, `groups` and `padding="causal"` against Keras' own Conv1D/2D/3D with the
  same arguments, through position-scaled weights (position `p` holds `scale[p]` times the
  Conv's kernel and a bias of its own, so the output is `scale * Conv(x) + bias`);
- `weight_sharing` over the whole output against Conv2D with the very same kernel;
- strides with dilation (which Conv refuses), "circular", "reflect", explicit pairs and
  partial blocks against the per-position NumPy reference (tests/support/reference.py,
  which pads with NumPy's wrap / reflect / constant modes); every backend runs the same
  cases in tests/backends.
Every implementation and both data formats; atol = rtol = 1e-5 (float32).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from locally_connected import (
    LocallyConnected1D,
    LocallyConnected2D,
    LocallyConnected3D,
    layer_locally_connected_1d,
    layer_locally_connected_2d,
)

import reference
from helpers import input_shape, random_inputs, random_weights

LAYERS = {1: LocallyConnected1D, 2: LocallyConnected2D, 3: LocallyConnected3D}
CONVS = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}
IMPLEMENTATIONS = [1, 2, 3, "auto"]
FORMATS = ["channels_last", "channels_first"]
TOLERANCE = dict(rtol=1e-5, atol=1e-5)


def _conv_oracle(rank, x, data_format, rng, **conv_arguments):
    """Keras' Conv on channels_last (TF's CPU convolutions only run that), with random
    weights; returns its output in `data_format` and its kernel."""
    to_last = (0,) + tuple(range(2, rank + 2)) + (1,) if data_format == "channels_first" else None
    x_last = np.transpose(x, to_last) if to_last else x
    conv = CONVS[rank](use_bias=False, **conv_arguments)
    conv.build(x_last.shape)
    random_weights(conv, rng)
    output = np.asarray(conv(x_last))
    if to_last:
        output = np.transpose(output, np.argsort(to_last))
    return output, conv.get_weights()[0]


CONV_CASES = [
    # rank, spatial, channels, filters, Conv arguments (same as ours)
    (1, (13,), 4, 6, dict(kernel_size=3, dilation_rate=2)),
    (1, (13,), 4, 6, dict(kernel_size=3, dilation_rate=3, padding="same", groups=2)),
    (1, (11,), 3, 4, dict(kernel_size=3, padding="causal")),
    (1, (11,), 4, 4, dict(kernel_size=4, dilation_rate=2, padding="causal", groups=4)),
    (1, (11,), 2, 4, dict(kernel_size=2, strides=3, padding="causal")),
    (2, (9, 8), 4, 6, dict(kernel_size=(3, 2), dilation_rate=(2, 3))),
    (2, (9, 8), 6, 4, dict(kernel_size=3, groups=2, padding="same")),
    (2, (9, 9), 4, 8, dict(kernel_size=3, dilation_rate=2, groups=4, padding="same")),
    (2, (8, 7), 4, 6, dict(kernel_size=2, strides=2, groups=2)),
    (3, (7, 6, 5), 4, 4, dict(kernel_size=(3, 2, 2), dilation_rate=(2, 1, 2), groups=2)),
    (3, (5, 6, 5), 2, 4, dict(kernel_size=2, dilation_rate=2, padding="same")),
]


def _case_id(case):
    rank, spatial, channels, filters, arguments = case
    return f"{rank}d-" + "-".join(f"{k}={v}" for k, v in arguments.items())


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("case", CONV_CASES, ids=_case_id)
def test_position_scaled_conv_with_the_same_arguments_is_the_oracle(case, data_format, implementation, rng):
    rank, spatial, channels, filters, arguments = case
    shape = input_shape(spatial, channels, data_format)
    x = random_inputs(rng, (2,) + shape)
    conv_output, conv_kernel = _conv_oracle(rank, x, data_format, rng, filters=filters, **arguments)
    output_size = conv_output.shape[2:] if data_format == "channels_first" else conv_output.shape[1:-1]
    weights, scale, bias = reference.position_scaled_weights(conv_kernel, output_size, data_format, rng)
    layer = LAYERS[rank](filters, data_format=data_format, implementation=implementation, **arguments)
    layer.build((None,) + shape)
    layer.set_weights(weights)
    expected = reference.scaled_conv_output(conv_output, scale, bias, data_format)
    np.testing.assert_allclose(np.asarray(layer(x)), expected, **TOLERANCE)
    assert layer.compute_output_shape((2,) + shape) == expected.shape
    groups = arguments.get("groups", 1)
    kernel_size = np.broadcast_to(arguments["kernel_size"], (rank,))
    assert tuple(layer.kernel.shape) == (math.prod(output_size), math.prod(kernel_size) * channels // groups, filters)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("padding, strides, groups", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2)])
def test_one_block_over_the_whole_output_is_conv2d(padding, strides, groups, data_format, implementation, rng):
    """weight_sharing covering the output: one kernel and a per-filter bias, exactly Conv2D's."""
    shape = input_shape((9, 8), 4, data_format)
    x = random_inputs(rng, (3,) + shape)
    to_last = (0, 2, 3, 1) if data_format == "channels_first" else None
    conv = keras.layers.Conv2D(6, (3, 2), strides=strides, padding=padding, groups=groups)
    x_last = np.transpose(x, to_last) if to_last else x
    conv.build(x_last.shape)
    conv_kernel, conv_bias = random_weights(conv, rng)
    expected = np.asarray(conv(x_last))
    if to_last:
        expected = np.transpose(expected, (0, 3, 1, 2))
    layer = LocallyConnected2D(6, (3, 2), strides=strides, padding=padding, groups=groups, data_format=data_format,
                               implementation=implementation, weight_sharing=(100, 8))
    layer.build((None,) + shape)
    kernel = np.moveaxis(conv_kernel, 2, 0) if data_format == "channels_first" else conv_kernel
    layer.set_weights([kernel.reshape(1, -1, 6), conv_bias.reshape(1, 1, 6)])
    assert layer.count_params() == conv.count_params()
    np.testing.assert_allclose(np.asarray(layer(x)), expected, **TOLERANCE)


REFERENCE_CASES = [
    # rank, spatial, channels, filters, our arguments
    (2, (9, 8), 2, 3, dict(kernel_size=3, strides=2, dilation_rate=2)),  # Conv refuses this
    (2, (8, 9), 2, 3, dict(kernel_size=(3, 2), strides=(1, 3), dilation_rate=(1, 3), padding="same")),
    (2, (7, 6), 2, 3, dict(kernel_size=3, padding="circular")),
    (2, (7, 6), 2, 4, dict(kernel_size=(2, 3), strides=2, padding="reflect", groups=2)),
    (2, (6, 7), 3, 2, dict(kernel_size=3, padding=((2, 0), (1, 3)), strides=(2, 1))),
    (2, (7, 8), 2, 3, dict(kernel_size=3, padding="same", weight_sharing=(2, 3))),  # partial blocks
    (2, (7, 7), 4, 4, dict(kernel_size=2, padding="circular", dilation_rate=2, groups=2, weight_sharing=(3, 1))),
    (1, (9,), 2, 3, dict(kernel_size=4, dilation_rate=3, padding="circular")),  # window wider than the input
    (1, (5,), 2, 2, dict(kernel_size=3, dilation_rate=2, padding="reflect", strides=2)),
    (1, (10,), 3, 3, dict(kernel_size=3, padding="causal", dilation_rate=2, strides=2, weight_sharing=4)),
    (3, (5, 4, 6), 2, 2, dict(kernel_size=(2, 3, 2), padding="reflect", weight_sharing=(1, 2, 3))),
]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("case", REFERENCE_CASES, ids=_case_id)
def test_every_combination_equals_the_per_position_reference(case, data_format, implementation, rng):
    rank, spatial, channels, filters, arguments = case
    shape = input_shape(spatial, channels, data_format)
    x = random_inputs(rng, (2,) + shape)
    layer = LAYERS[rank](filters, data_format=data_format, implementation=implementation, **arguments)
    layer.build((None,) + shape)
    kernel, bias = random_weights(layer, rng)
    kernel_size = tuple(np.broadcast_to(arguments["kernel_size"], (rank,)))
    strides = tuple(np.broadcast_to(arguments.get("strides", 1), (rank,)))
    expected = reference.locally_connected(
        x, kernel, bias, kernel_size, strides, arguments.get("padding", "valid"), data_format,
        dilation_rate=arguments.get("dilation_rate"), groups=arguments.get("groups", 1),
        weight_sharing=arguments.get("weight_sharing"))
    np.testing.assert_allclose(np.asarray(layer(x)), expected, **TOLERANCE)
    assert layer.compute_output_shape((None,) + shape) == (None,) + expected.shape[1:]


def test_parameter_counts_of_shared_and_grouped_kernels():
    """The docs' example: 32x32x16 input, 3x3 kernel, 32 filters, "same"."""
    def count(**arguments):
        layer = LocallyConnected2D(32, 3, padding="same", **arguments)
        layer.build((None, 32, 32, 16))
        return layer.count_params()

    assert count() == 1024 * (9 * 16 * 32 + 32) == 4_751_360
    assert count(groups=4) == 1024 * (9 * 4 * 32 + 32) == 1_212_416
    assert count(weight_sharing=4) == 64 * (9 * 16 * 32 + 32) == 296_960
    assert count(weight_sharing=32) == 9 * 16 * 32 + 32 == 4_640
    conv = keras.layers.Conv2D(32, 3, padding="same")
    conv.build((None, 32, 32, 16))
    assert count(weight_sharing=32) == conv.count_params()


def test_config_and_keras_file_round_trip_keep_the_new_arguments(tmp_path, rng):
    layer = LocallyConnected2D(4, 3, padding=((1, 2), (0, 1)), dilation_rate=(2, 1), groups=2,
                               weight_sharing=(2, 3), implementation=3, name="lc")
    model = keras.Sequential([keras.Input((9, 8, 4)), layer])
    random_weights(model, rng)
    assert (layer.padding, layer.dilation_rate, layer.groups, layer.weight_sharing) == (
        ((1, 2), (0, 1)), (2, 1), 2, (2, 3))
    rebuilt = LocallyConnected2D.from_config(layer.get_config())
    assert (rebuilt.padding, rebuilt.dilation_rate, rebuilt.groups, rebuilt.weight_sharing) == (
        ((1, 2), (0, 1)), (2, 1), 2, (2, 3))
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    x = random_inputs(rng, (2, 9, 8, 4))
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    assert loaded.get_layer("lc").get_config() == layer.get_config()
    for name in ("circular", "reflect"):
        config = LocallyConnected2D(2, 3, padding=name.upper()).get_config()
        assert LocallyConnected2D.from_config(config).padding == name
    assert LocallyConnected1D.from_config(LocallyConnected1D(2, 3, padding="causal").get_config()).padding == "causal"


def test_front_door_takes_r_style_values_of_the_new_arguments():
    layer = layer_locally_connected_2d(filters=4.0, kernel_size=3.0, padding=[[1.0, 2.0], [0.0, 1.0]],
                                       dilation_rate=[2.0, 1.0], groups=2.0, weight_sharing=3.0)
    assert (layer.padding, layer.dilation_rate, layer.groups, layer.weight_sharing) == (
        ((1, 2), (0, 1)), (2, 1), 2, (3, 3))
    layer = layer_locally_connected_1d(filters=2, kernel_size=3, padding=[np.array([2.0, 0.0])])
    assert layer.padding == ((2, 0),)


@pytest.mark.parametrize("make, error, message", [
    (lambda: LocallyConnected2D(2, 3, padding="causal"), ValueError,
     r"`padding` = 'causal' is for 1D layers only .* Received: padding='causal'"),
    (lambda: LocallyConnected3D(2, 3, padding="Causal"), ValueError, r"'causal' is for 1D layers only"),
    (lambda: LocallyConnected2D(2, 3, padding=((1, 1),)), ValueError,
     r"`padding` must be one of .* or a sequence of 2 \(before, after\) pairs of integers >= 0"),
    (lambda: LocallyConnected2D(2, 3, padding=((1, 1, 1), (0, 0))), ValueError, r"sequence of 2 \(before, after\)"),
    (lambda: LocallyConnected1D(2, 3, padding=((-1, 2),)), ValueError, r"`padding` must be an integer >= 0"),
    (lambda: LocallyConnected2D(4, 3, groups=3), ValueError, r"`groups` must divide `filters`.*groups=3, filters=4"),
    (lambda: LocallyConnected2D(4, 3, groups=0), ValueError, r"`groups` must be an integer >= 1"),
    (lambda: LocallyConnected2D(4, 3, groups=True), TypeError, r"`groups` must be an integer >= 1"),
    (lambda: LocallyConnected2D(4, 3, weight_sharing=(2, 0)), ValueError, r"`weight_sharing` must be an integer >= 1"),
    (lambda: LocallyConnected2D(4, 3, weight_sharing=2.5), ValueError, r"`weight_sharing` .* non-integral"),
    (lambda: LocallyConnected2D(4, 3, dilation_rate=(1, 2, 1)), ValueError,
     r"`dilation_rate` must be an integer or a sequence of 2 integers"),
    (lambda: LocallyConnected2D(4, 3, dilation_rate=-1), ValueError, r"`dilation_rate` must be an integer >= 1"),
])
def test_bad_new_arguments_name_the_argument_and_what_is_accepted(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_groups_must_divide_the_input_channels_at_build():
    layer = LocallyConnected2D(4, 3, groups=2)
    with pytest.raises(ValueError, match=r"`groups` must divide the input channels .* groups=2 for inputs with 3 "):
        layer.build((None, 8, 8, 3))
    with pytest.raises(ValueError, match=r"would produce an output of spatial size \(0, 0\).* dilation_rate=\(4, 4\)"):
        LocallyConnected2D(4, 3, dilation_rate=4).build((None, 8, 8, 2))


def test_auto_counts_the_work_of_groups():
    """The dense masked product multiplies every input by every output: with groups it
    does more useless work per real weight, and "auto" (here on TensorFlow) stops choosing it."""
    ungrouped = LocallyConnected2D(16, 3, implementation="auto")
    ungrouped.build((None, 8, 8, 4))
    grouped = LocallyConnected2D(16, 3, groups=2, implementation="auto")
    grouped.build((None, 8, 8, 4))
    assert (ungrouped.resolved_implementation, grouped.resolved_implementation) == (2, 3)
