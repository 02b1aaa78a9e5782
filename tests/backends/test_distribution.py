"""`locally_connected.distribution.layout_map`: which variables it shards, how, and its errors.

The LayoutMap is plain data on every backend; tests/scale_out trains with it on devices.
"""

import keras
import pytest

from locally_connected import LocallyConnected1D, LocallyConnected2D, LocallyConnected3D, distribution
from locally_connected.layers import LocallyConnected


def mesh(model_devices=4, batch_devices=1):
    devices = [f"cpu:{i}" for i in range(model_devices * batch_devices)]
    return keras.distribution.DeviceMesh((batch_devices, model_devices), ("batch", "model"), devices)


def axes(layouts, path):
    layout = layouts[path]
    return None if layout is None else tuple(layout.axes)


def test_mesh_form_matches_every_default_named_layer_at_any_depth():
    layouts = distribution.layout_map(mesh())
    assert axes(layouts, "sequential/locally_connected2d/kernel") == ("model", None, None)
    assert axes(layouts, "sequential/locally_connected2d/bias") == ("model", None, None)
    assert axes(layouts, "functional_3/inner/locally_connected2d_12/kernel") == ("model", None, None)
    assert axes(layouts, "locally_connected1d_1/bias") == ("model", None)
    assert axes(layouts, "locally_connected3d/bias") == ("model", None, None, None)
    assert axes(layouts, "locally_connected3d/kernel") == ("model", None, None)
    for other in ("conv2d/kernel", "my_locally_connected2d/kernel", "locally_connected2d/kernel_1",
                  "locally_connected2d_x/kernel", "dense/bias"):
        assert layouts[other] is None, other


def test_mesh_form_keys_match_the_layers_real_paths():
    model = keras.Sequential([
        keras.Input((6, 6, 2)),
        LocallyConnected2D(2, 3),
        keras.layers.Reshape((16, 2)),
        LocallyConnected1D(2, 2, strides=2),
        keras.layers.Reshape((2, 2, 2, 2)),
        LocallyConnected3D(1, 1),
    ])
    layouts = distribution.layout_map(mesh(2))
    for variable in model.weights:
        assert layouts[variable.path] is not None, variable.path
        assert len(layouts[variable.path].axes) == len(variable.shape)


def test_entries_join_the_users_own_layout_map():
    users = keras.distribution.LayoutMap(mesh())
    users[".*dense.*kernel"] = (None, "model")
    result = distribution.layout_map(users.device_mesh, into=users)
    assert result is users
    assert axes(users, "dense/kernel") == (None, "model")
    assert axes(users, "locally_connected2d/kernel") == ("model", None, None)


def model_with_named_layers():
    # "+" and "(": names that are patterns too (PyTorch refuses "." in names).
    inner = keras.Sequential([keras.Input((8, 4)), LocallyConnected1D(3, 2, strides=2, name="local+1d")],
                             name="inner")
    inputs = keras.Input((8, 8, 1))
    hidden = LocallyConnected2D(4, 3, padding="same", name="faces")(inputs)
    hidden = LocallyConnected2D(2, 1, use_bias=False, name="no_bias(1x1)")(hidden)
    outputs = inner(keras.layers.Reshape((8, 16))(keras.layers.Conv2D(2, 1)(hidden))[..., :4])
    return keras.Model(inputs, outputs, name="outer")


def test_model_form_gives_exact_paths_of_any_names_and_wins_over_user_patterns():
    model = model_with_named_layers()
    users = keras.distribution.LayoutMap(mesh())
    users[".*kernel"] = (None, None, None, "model")  # would match every kernel
    distribution.layout_map(model, into=users)
    ours = {v.path for layer in model._flatten_layers() if isinstance(layer, LocallyConnected) for v in layer.weights}
    assert len(ours) == 5, ours
    for variable in model.weights:
        if variable.path in ours:
            assert axes(users, variable.path) == ("model",) + (None,) * (len(variable.shape) - 1), variable.path
        elif variable.path.endswith("kernel"):
            assert axes(users, variable.path) == (None, None, None, "model"), variable.path
        else:
            assert users[variable.path] is None, variable.path


@pytest.mark.parametrize("model_devices, message", [
    (3, r"Layer 'faces': its 64 output positions \(8 along the first spatial axis\) do not split evenly "
        r"over the 3 devices of mesh axis 'model'"),
    (16, r"\(8 along the first spatial axis\) do not split evenly over the 16 devices"),
])
def test_model_form_refuses_positions_that_do_not_split(model_devices, message):
    with pytest.raises(ValueError, match=message):
        distribution.layout_map(model_with_named_layers(), mesh(model_devices))


@pytest.mark.parametrize("layer, input_shape, message", [
    # 16 positions split over 4, but the bias's 2 rows do not.
    (LocallyConnected2D(2, 1, name="wide"), (2, 8, 1),
     r"Layer 'wide': its 16 output positions \(2 along the first spatial axis\) do not split evenly over the 4"),
    (LocallyConnected2D(2, 1, use_bias=False, name="bare"), (3, 3, 1),
     r"Layer 'bare': its 9 output positions do not split evenly over the 4 devices of mesh axis 'model'\. "
     r"Change the mesh axis size"),
])
def test_model_form_checks_positions_and_bias_rows(layer, input_shape, message):
    model = keras.Sequential([keras.Input(input_shape), layer])
    with pytest.raises(ValueError, match=message):
        distribution.layout_map(model, mesh(4))


def test_model_form_accepts_a_split_by_the_batch_axis_too():
    layouts = distribution.layout_map(model_with_named_layers(), mesh(2, 2), axis="batch")
    assert axes(layouts, "faces/kernel") == ("batch", None, None)


@pytest.mark.parametrize("call, error, message", [
    (lambda: distribution.layout_map("mesh"), TypeError,
     r"`model_or_mesh` must be a keras.distribution.DeviceMesh or a Keras model or layer; received str"),
    (lambda: distribution.layout_map(mesh(), axis="models"), ValueError,
     r"`axis` must be one of the mesh's axis names \('batch', 'model'\); received 'models'"),
    (lambda: distribution.layout_map(mesh(), mesh()), ValueError, r"`mesh` is only for a model or layer"),
    (lambda: distribution.layout_map(model_with_named_layers()), ValueError,
     r"Give the keras.distribution.DeviceMesh to shard over, as `mesh` or through `into`"),
    (lambda: distribution.layout_map(model_with_named_layers(), mesh(), into={}), TypeError,
     r"`into` must be a keras.distribution.LayoutMap; received dict"),
    (lambda: distribution.layout_map(LocallyConnected2D(2, 3, name="lazy"), mesh()), ValueError,
     r"Layer 'lazy' is not built"),
    (lambda: distribution.layout_map(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)], name="plain"),
                                     mesh()), ValueError,
     r"`model_or_mesh` \('plain'\) holds no locally connected layer"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_model_form_splits_the_kernels_of_shared_blocks():
    """With weight_sharing, the kernel has one row per block of output positions (4 x 4
    blocks of 2 x 2 here), and that is the axis split over devices."""
    model = keras.Sequential([keras.Input((8, 8, 2)), LocallyConnected2D(3, 1, weight_sharing=2, name="blocks")])
    layouts = distribution.layout_map(model, mesh(4))
    assert tuple(model.get_layer("blocks").kernel.shape) == (16, 2, 3)
    assert axes(layouts, "sequential/blocks/kernel") == ("model", None, None)
    assert axes(layouts, "sequential/blocks/bias") == ("model", None, None)
    with pytest.raises(ValueError, match=r"Layer 'blocks': its 16 kernels \(blocks of weight_sharing=\(2, 2\)\) "
                                         r"\(4 along the first spatial axis\) do not split evenly over the 3 devices"):
        distribution.layout_map(model, mesh(3))
