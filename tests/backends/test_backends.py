"""The layers on every Keras backend: the same file runs once per backend
(KERAS_BACKEND=jax, torch, tensorflow) in `.venv-backends` (NumPy 2).

- Forward parity with a pure NumPy reference (tests/support/reference.py: explicit patches
  and an einsum, in float64, written from Conv's definition, not from the package's
  geometry code), for implementations 1, 2, 3, both paddings and both data formats, 1D,
  2D and 3D:
  atol = rtol = 1e-5 (float32 layer).
- Gradients w.r.t. input, kernel and bias with the backend's own autodiff equal the
  NumPy reference gradients of `sum(y * probe)`: atol = rtol = 1e-5.
- Same seed, same weights (bit-identical) for all implementations.
- A fit that learns a position-dependent target (loss drops below 5% of the first).
- NaN/Inf inputs stay local as in a Conv; integer inputs compute as float32.
- A `.keras` file saved by another backend (in a subprocess started from the test: the
  previous one in the cycle jax <- torch <- tensorflow <- jax, or both others with
  LC_BACKEND_PAIRS=all) loads here with bit-identical weights, outputs within atol 1e-6 of
  the saving backend's, and equal to the NumPy reference.

Run as a script (`python test_backends.py save DIRECTORY`) it writes the cross-backend
model, its input, weights and outputs for the load test of another backend.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from locally_connected import LocallyConnected1D, LocallyConnected2D, LocallyConnected3D, backend

# The shared helpers and NumPy reference (also when this file runs as a script).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))
from helpers import fit_position_scale, input_shape, random_weights  # noqa: E402
from reference import locally_connected as reference  # noqa: E402

BACKEND = keras.backend.backend()
LAYERS = {1: LocallyConnected1D, 2: LocallyConnected2D, 3: LocallyConnected3D}
TOLERANCE = dict(rtol=1e-5, atol=1e-5)

# ---------------------------------------------------------------------------
# Backend helpers
# ---------------------------------------------------------------------------


def numpy(value) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


def forward(layer, x) -> np.ndarray:
    """`layer(x)`; on JAX compiled as one function (eager JAX compiles every op
    separately, which made this suite several times slower)."""
    if BACKEND == "jax":
        import jax

        values = [v.value for v in layer.trainable_variables]
        return np.asarray(jax.jit(lambda v, inputs: layer.stateless_call(v, [], inputs)[0])(values, x))
    return numpy(layer(x))


def gradients(layer, x, probe):
    """Gradients of `sum(layer(x) * probe)` w.r.t. (x, kernel, bias) by the backend's autodiff."""
    variables = [layer.kernel, layer.bias]
    if BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        def loss(values, inputs):
            y, _ = layer.stateless_call(values, [], inputs)
            return jnp.sum(y * probe)

        trainable = [v.value for v in layer.trainable_variables]
        grad_values, grad_x = jax.jit(jax.grad(loss, argnums=(0, 1)))(trainable, jnp.asarray(x))
        by_variable = {id(v): g for v, g in zip(layer.trainable_variables, grad_values)}
        return [np.asarray(grad_x)] + [np.asarray(by_variable[id(v)]) for v in variables]
    if BACKEND == "torch":
        import torch

        inputs = torch.tensor(x, requires_grad=True)
        for v in variables:
            v.value.grad = None
        loss = torch.sum(layer(inputs) * torch.as_tensor(probe))
        loss.backward()
        return [inputs.grad.numpy()] + [v.value.grad.detach().cpu().numpy() for v in variables]
    import tensorflow as tf

    inputs = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        loss = tf.reduce_sum(layer(inputs) * probe)
    # A gathered (shared) kernel's gradient is IndexedSlices: as the dense array.
    return [tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, [inputs] + [v.value for v in variables])]


# ---------------------------------------------------------------------------
# Forward and backward parity
# ---------------------------------------------------------------------------

GEOMETRIES = {
    # (rank, padding): spatial, kernel, strides
    (2, "valid"): ((7, 6), (3, 2), (2, 1)),
    (2, "same"): ((6, 7), (2, 4), (2, 3)),
    (1, "valid"): ((9,), (4,), (2,)),
    (1, "same"): ((8,), (3,), (3,)),
    (3, "valid"): ((5, 4, 4), (3, 2, 2), (2, 1, 1)),
    (3, "same"): ((4, 5, 3), (2, 3, 2), (1, 2, 2)),
}


@pytest.mark.parametrize("implementation", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank, padding", list(GEOMETRIES))
def test_forward_and_gradients_equal_numpy_reference(rank, padding, data_format, implementation):
    spatial, kernel_size, strides = GEOMETRIES[rank, padding]
    channels, filters = 2, 3
    rng = np.random.default_rng([rank, len(padding), len(data_format)])
    shape = input_shape(spatial, channels, data_format)
    x = rng.standard_normal((2,) + shape).astype("float32")
    layer = LAYERS[rank](filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         implementation=implementation)
    layer.build(x.shape)
    kernel, bias = random_weights(layer, rng)
    y = forward(layer, x)
    probe = rng.standard_normal(y.shape).astype("float32")
    expected, expected_gradients = reference(x, kernel, bias, kernel_size, strides, padding, data_format, probe)
    assert y.dtype == np.float32
    assert y.shape == expected.shape == tuple(layer.compute_output_shape(x.shape))
    np.testing.assert_allclose(y, expected, **TOLERANCE)
    for name, actual, wanted in zip(("input", "kernel", "bias"), gradients(layer, x, probe), expected_gradients):
        assert actual.shape == wanted.shape, name
        np.testing.assert_allclose(actual, wanted, err_msg=f"gradient w.r.t. {name}", **TOLERANCE)


CONV_ARGUMENTS = {
    # Conv's dilation (with strides, which Conv refuses), groups, causal and explicit padding,
    # flax's circular and reflect fills, kernels shared over (partial) blocks.
    "2d-dilated-strided-grouped-same": (2, (8, 7), 4, 4, dict(kernel_size=(3, 2), strides=(2, 1), dilation_rate=(2, 3),
                                                              groups=2, padding="same")),
    "2d-circular-shared": (2, (7, 6), 2, 3, dict(kernel_size=3, padding="circular", weight_sharing=(2, 4))),
    "2d-reflect-explicit-strided": (2, (6, 7), 2, 3, dict(kernel_size=(2, 3), strides=2, padding="reflect")),
    "2d-explicit-pairs": (2, (6, 5), 2, 2, dict(kernel_size=3, padding=((2, 0), (1, 3)))),
    "1d-causal-dilated-shared": (1, (10,), 2, 3, dict(kernel_size=3, padding="causal", dilation_rate=2,
                                                      weight_sharing=3)),
    "1d-circular-wider-than-input": (1, (5,), 2, 2, dict(kernel_size=3, dilation_rate=3, padding="circular")),
    "3d-reflect-grouped": (3, (4, 5, 3), 2, 4, dict(kernel_size=2, padding="reflect", groups=2)),
}


def assert_equals_reference(layer, x, rng, rank, arguments, data_format):
    """`layer`, built for `x` with `arguments` and given random weights from `rng`: its
    output's shape, output and gradients are the NumPy reference's."""
    kernel, bias = random_weights(layer, rng)
    y = forward(layer, x)
    probe = rng.standard_normal(y.shape).astype("float32")
    expected, expected_gradients = reference(
        x, kernel, bias, tuple(np.broadcast_to(arguments["kernel_size"], (rank,))),
        tuple(np.broadcast_to(arguments.get("strides", 1), (rank,))), arguments["padding"], data_format, probe,
        dilation_rate=arguments.get("dilation_rate"), groups=arguments.get("groups", 1),
        weight_sharing=arguments.get("weight_sharing"))
    assert y.shape == expected.shape == tuple(layer.compute_output_shape(x.shape))
    np.testing.assert_allclose(y, expected, **TOLERANCE)
    for name, actual, wanted in zip(("input", "kernel", "bias"), gradients(layer, x, probe), expected_gradients):
        assert actual.shape == wanted.shape, name
        np.testing.assert_allclose(actual, wanted, err_msg=f"gradient w.r.t. {name}", **TOLERANCE)

@pytest.mark.parametrize("implementation", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", list(CONV_ARGUMENTS))
def test_conv_arguments_and_shared_kernels_equal_numpy_reference(case, data_format, implementation):
    rank, spatial, channels, filters, arguments = CONV_ARGUMENTS[case]
    rng = np.random.default_rng(len(case))
    x = rng.standard_normal((2,) + input_shape(spatial, channels, data_format)).astype("float32")
    layer = LAYERS[rank](filters, data_format=data_format, implementation=implementation, **arguments)
    layer.build(x.shape)
    assert_equals_reference(layer, x, rng, rank, arguments, data_format)


@pytest.mark.parametrize("rank", [1, 2])
def test_same_seed_same_weights_for_every_implementation(rank):
    shape = (6, 5, 2)[-(rank + 1):]
    x = np.random.default_rng(0).standard_normal((3,) + shape).astype("float32")
    weights, outputs = [], []
    for implementation in (1, 2, 3):
        # Seeded initializers rather than keras.utils.set_random_seed, which imports
        # TensorFlow when it is installed (3 s on JAX/PyTorch).
        layer = LAYERS[rank](3, 2, padding="same", implementation=implementation,
                             kernel_initializer=keras.initializers.GlorotUniform(seed=11),
                             bias_initializer=keras.initializers.RandomNormal(seed=12))
        layer.build(x.shape)
        outputs.append(forward(layer, x))
        weights.append([numpy(w) for w in layer.weights])
        assert layer.count_params() == sum(w.size for w in weights[-1])
    for other, other_outputs in zip(weights[1:], outputs[1:]):
        for a, b in zip(weights[0], other):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(other_outputs, outputs[0], **TOLERANCE)


@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_fit_learns(implementation):
    """Each pixel is scaled by its own factor: only unshared weights can fit this."""
    _, losses, _, kernel, scale = fit_position_scale(
        lambda: LocallyConnected2D(1, 1, implementation=implementation), (5, 5), 128, 25, np.random.default_rng(0))
    assert losses[-1] < 0.05 * losses[0], losses
    np.testing.assert_allclose(kernel, scale, atol=0.1)


@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_nan_and_inf_stay_local(implementation):
    """Non-finite inputs give the non-finite pattern of the reference (that of a Conv)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 6, 2)).astype("float32")
    x[0, 1, 1, 0], x[0, 5, 4, 1], x[1, 3, 3, 0], x[1, 4, 3, 1] = np.nan, np.inf, np.inf, -np.inf
    layer = LocallyConnected2D(2, 3, padding="same", implementation=implementation)
    layer.build(x.shape)
    kernel, bias = random_weights(layer, rng)
    y = forward(layer, x)
    with np.errstate(invalid="ignore"):
        expected = reference(x, kernel, bias, (3, 3), (1, 1), "same", "channels_last")
    assert np.isnan(expected).any() and np.isfinite(expected).any()
    for check in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(check(y), check(expected), err_msg=check.__name__)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(y[finite], expected[finite], **TOLERANCE)


@pytest.mark.parametrize("spatial, channels, filters, data_format, batch, chosen", [
    # chosen: on TensorFlow, JAX, PyTorch
    ((8, 8), 4, 8, "channels_last", None, (2, 3, 3)),
    ((28, 28), 1, 8, "channels_last", 16, (3, 3, 3)),
    ((28, 28), 1, 32, "channels_last", 64, (3, 3, 3)),
    ((16, 16), 4, 16, "channels_last", 32, (3, 1, 3)),
    ((16, 16), 8, 16, "channels_last", 16, (3, 1, 3)),
    ((64, 64), 8, 16, "channels_last", None, (3, 3, 3)),
    ((64, 64), 8, 16, "channels_last", 16, (3, 1, 3)),
    ((55, 55), 16, 16, "channels_last", 64, (3, 3, 3)),
    ((32, 32), 16, 32, "channels_last", 16, (3, 1, 3)),
    ((24, 24), 16, 4, "channels_last", 32, (3, 1, 3)),
    ((256,), 16, 32, "channels_last", 64, (3, 1, 3)),
    ((16, 16), 4, 16, "channels_first", None, (3, 3, 3)),
    ((32, 32), 4, 32, "channels_first", 32, (3, 3, 3)),
    ((32, 32), 4, 32, "channels_first", 64, (3, 1, 3)),
    ((55, 55), 16, 16, "channels_first", 16, (3, 1, 3)),
    ((24, 24), 16, 32, "channels_first", None, (3, 1, 3)),
    ((6,), 2, 3, "channels_last", None, (2, 3, 3)),
])
def test_auto_chooses_per_backend_and_batch(spatial, channels, filters, data_format, batch, chosen):
    """The cost model knows the backend and, on JAX, the batch the layer is built for (Keras'
    default 32 when it has none): the block product (3) everywhere on PyTorch, and on
    TensorFlow but for small layers, where the dense one (2) wins; on JAX 3 where a position's
    product has at most 288 kernel entries, for channels_first inputs while the batch's
    patches have at most 2^20 entries, and at batches of 32 and more where they have at least
    2^22, else the patches product (1)."""
    layer = LAYERS[len(spatial)](filters, 3, data_format=data_format, implementation="auto")
    layer.build((batch,) + input_shape(spatial, channels, data_format))
    assert layer.resolved_implementation == dict(zip(("tensorflow", "jax", "torch"), chosen))[BACKEND]


#: The chunked block product's cases: Conv's arguments and every padding and fill, in 1D, 2D
#: and 3D, with groups, strides and dilations.
CHUNK_CASES = {
    **CONV_ARGUMENTS,
    "2d-same-grouped": (2, (7, 6), 4, 6, dict(kernel_size=3, padding="same", groups=2)),
    "3d-same-strided-dilated": (3, (5, 6, 4), 2, 3, dict(kernel_size=(2, 3, 2), strides=(2, 1, 2),
                                                          dilation_rate=(2, 1, 1), padding="same")),
    "1d-explicit-strided": (1, (11,), 3, 2, dict(kernel_size=4, strides=3, padding=((3, 2),))),
}


@pytest.mark.parametrize("adds", ["by rows, serial transposes", "by windows, parallel transposes"])
@pytest.mark.parametrize("budget", [1, 3, 7])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", list(CHUNK_CASES))
def test_pytorch_block_product_in_many_chunks_equals_numpy_reference(case, data_format, budget, adds, monkeypatch):
    """PyTorch runs implementation 3 a box of at most `budget` output positions at a time
    (one position, parts of rows, whole rows or planes, the last one short), adds the
    inputs' gradient back row by row or a window at a time, and transposes the inputs and their
    gradient with the 2-D copy or with the parallel ones of large batches (here in pieces of
    one row): forward and gradients are the reference's."""
    if BACKEND != "torch":
        pytest.skip("the chunked block product is PyTorch's")
    from locally_connected.backend import torch as torch_backend

    by_windows = adds.startswith("by windows")
    monkeypatch.setattr(torch_backend, "WINDOW_ADD_MIN_ENTRIES", 1 if by_windows else 2**62)
    monkeypatch.setattr(torch_backend, "PARALLEL_TRANSPOSE_MIN_ENTRIES", 1 if by_windows else 2**62)
    assert_chunked_product_equals_reference(case, data_format, budget, torch_backend, monkeypatch)


@pytest.mark.parametrize("budget", [1, 3, 7, 10**6])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", list(CHUNK_CASES))
def test_pytorch_window_adds_add_each_entry_once_without_overlap(case, data_format, budget, monkeypatch):
    """PyTorch's backward adds each box's rows-gradient into the padded input a class of
    positions at a time, one strided `add_` each: together the adds read every entry of the
    box's gradient once and add it where that kernel row's input lies, and no add writes one
    entry twice (a class's windows do not overlap), which `add_` on large views would race on
    and small ones would not show."""
    if BACKEND != "torch":
        pytest.skip("the chunked block product is PyTorch's")
    from locally_connected.backend import torch as torch_backend

    monkeypatch.setattr(torch_backend, "WINDOW_ADD_MIN_ENTRIES", 1)
    rank, spatial, channels, filters, arguments = CHUNK_CASES[case]
    batch = 3
    layer = LAYERS[rank](filters, data_format=data_format, implementation=3, **arguments)
    layer.build((batch,) + input_shape(spatial, channels, data_format))
    product, plan = layer._implementation._product, layer._implementation.plan
    monkeypatch.setattr(torch_backend, "CHUNK_BYTES", budget * plan.groups * plan.features * batch * 4)
    rows_read = keras.ops.convert_to_numpy(product._rows_read)
    boxes = product.schedule(batch, 4)
    assert boxes[0].start == 0 and boxes[-1].end == plan.geometry.num_outputs
    for box in boxes:
        entries = box.count * plan.features * batch
        # The padded input's entry each entry of the box's (positions, groups, features, batch) gradient belongs to.
        wanted = (rows_read[box.start:box.end, :, :, None] * batch + np.arange(batch)).reshape(-1)
        read = []
        for (size, strides, offset), (padded_size, padded_strides, padded_offset) in box.window_adds:
            assert size == padded_size
            assert offset + sum((n - 1) * s for n, s in zip(size, strides)) < entries
            assert padded_offset + sum((n - 1) * s for n, s in zip(size, padded_strides)) <= wanted.max()
            entry = np.lib.stride_tricks.as_strided(np.arange(entries)[offset:], size, [8 * s for s in strides])
            written = np.lib.stride_tricks.as_strided(
                np.arange(wanted.max() + 1)[padded_offset:], size, [8 * s for s in padded_strides])
            assert np.unique(written).size == written.size, "one add writes an entry twice"
            np.testing.assert_array_equal(written.reshape(-1), wanted[entry.reshape(-1)])
            read.append(entry.reshape(-1))
        np.testing.assert_array_equal(np.sort(np.concatenate(read)), np.arange(entries))


def test_pytorch_block_product_keeps_boxes_of_a_few_batch_sizes(monkeypatch):
    """One layer called with more batch sizes than it keeps boxes for (the oldest are dropped
    and made again): every call's output and gradients are the NumPy reference's."""
    if BACKEND != "torch":
        pytest.skip("the chunked block product is PyTorch's")
    from locally_connected.backend import torch as torch_backend

    monkeypatch.setattr(torch_backend, "MAX_SCHEDULES", 2)
    monkeypatch.setattr(torch_backend, "WINDOW_ADD_MIN_ENTRIES", 1)
    rank, spatial, channels, filters, arguments = CHUNK_CASES["2d-same-grouped"]
    layer = LAYERS[rank](filters, implementation=3, **arguments)
    layer.build((None,) + input_shape(spatial, channels, "channels_last"))
    rng = np.random.default_rng(5)
    for batch in (1, 3, 2, 3, 1):
        x = rng.standard_normal((batch,) + input_shape(spatial, channels, "channels_last")).astype("float32")
        assert_equals_reference(layer, x, rng, rank, arguments, "channels_last")
        schedules = layer._implementation._product._schedules
        assert len(schedules) <= 2 and (batch, 4) in schedules


@pytest.mark.parametrize("budget", [1, 4, 7])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", list(CHUNK_CASES))
def test_jax_block_product_in_many_chunks_equals_numpy_reference(case, data_format, budget, monkeypatch):
    """JAX runs implementation 3 a chunk of `budget` output positions at a time, the last
    chunk starting early enough to end at the last position (sharing positions with the one
    before unless `budget` divides them): forward and gradients are the reference's."""
    if BACKEND != "jax":
        pytest.skip("the chunked block product is JAX's")
    from locally_connected.backend import jax as jax_backend

    assert_chunked_product_equals_reference(case, data_format, budget, jax_backend, monkeypatch)


def assert_chunked_product_equals_reference(case, data_format, budget, backend_module, monkeypatch):
    """Implementation 3 of `CHUNK_CASES[case]`, whose product in `backend_module` runs `budget`
    output positions at a time: its output and gradients are the NumPy reference's."""
    rank, spatial, channels, filters, arguments = CHUNK_CASES[case]
    rng = np.random.default_rng(len(case) + budget)
    x = rng.standard_normal((3,) + input_shape(spatial, channels, data_format)).astype("float32")
    layer = LAYERS[rank](filters, data_format=data_format, implementation=3, **arguments)
    layer.build(x.shape)
    plan = layer._implementation.plan
    monkeypatch.setattr(backend_module, "CHUNK_BYTES", budget * plan.groups * plan.features * x.shape[0] * x.itemsize)
    assert_equals_reference(layer, x, rng, rank, arguments, data_format)


def test_jax_block_product_inside_a_traced_branch():
    """Implementation 3 inside a `lax.cond` branch under `jit`, with its gradient (implementation
    2's guard against non-finite inputs is such a branch): its chunked product closes over no
    array of the enclosing trace."""
    if BACKEND != "jax":
        pytest.skip("the chunked block product is JAX's")
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 6, 5, 3)).astype("float32")
    layer = LocallyConnected2D(4, 3, padding="same", implementation=3)
    layer.build(x.shape)
    kernel, bias = random_weights(layer, rng)
    variables = [v.value for v in layer.trainable_variables]

    def loss(variables, x):
        def run(x):
            return layer.stateless_call(variables, [], x)[0]

        return jnp.sum(jax.lax.cond(jnp.all(jnp.isfinite(x)), run, lambda x: jnp.zeros_like(run(x)), x) ** 2)

    value, (_, input_gradient) = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(variables, x)
    expected = reference(x, kernel, bias, (3, 3), (1, 1), "same", "channels_last")
    np.testing.assert_allclose(float(value), float(np.sum(expected.astype("float64") ** 2)), rtol=1e-5)
    assert np.isfinite(np.asarray(input_gradient)).all() and np.abs(np.asarray(input_gradient)).sum() > 0


@pytest.mark.parametrize("shape", [(3, 5), (64, 3025 * 16), (7, 2**16 + 1)])
@pytest.mark.parametrize("zero_row", [False, True])
def test_pytorch_block_product_transposes_exactly(shape, zero_row):
    """The inputs as `(features [+ zero row], batch)` rows, and back, by whichever copy the
    size takes (the parallel ones from 2^16 entries, `_flat` in pieces of 2^16)."""
    if BACKEND != "torch":
        pytest.skip("PyTorch's block product transposes")
    import torch

    from locally_connected.backend import torch as torch_backend

    flat = torch.randn(shape)
    rows = torch_backend._rows(flat, zero_row)
    assert rows.is_contiguous() and rows.shape == (shape[1] + zero_row, shape[0])
    torch.testing.assert_close(rows[:shape[1]], flat.T, rtol=0, atol=0)
    if zero_row:
        assert not rows[-1].any()
    back = torch_backend._flat(rows[:shape[1]])
    assert back.is_contiguous()
    torch.testing.assert_close(back, flat, rtol=0, atol=0)


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("product", ["SparseProduct", "BatchRowsSparseProduct"])
def test_keras_ops_sparse_products_equal_numpy_reference(product, data_format, groups, monkeypatch):
    """Implementation 3 with each `keras.ops` block product (the default of
    `backend.SPARSE_PRODUCTS` and TensorFlow's), run on this backend."""
    product = getattr(backend.generic, product)
    monkeypatch.setitem(backend.SPARSE_PRODUCTS, BACKEND, product)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2,) + input_shape((6, 7), 4, data_format)).astype("float32")
    layer = LocallyConnected2D(6, (3, 2), strides=(2, 1), padding="same", data_format=data_format, groups=groups,
                               implementation=3)
    layer.build(x.shape)
    assert type(layer._implementation._product) is product
    kernel, bias = random_weights(layer, rng)
    y = forward(layer, x)
    probe = rng.standard_normal(y.shape).astype("float32")
    expected, expected_gradients = reference(x, kernel, bias, (3, 2), (2, 1), "same", data_format, probe,
                                             groups=groups)
    np.testing.assert_allclose(y, expected, **TOLERANCE)
    for name, actual, wanted in zip(("input", "kernel", "bias"), gradients(layer, x, probe), expected_gradients):
        np.testing.assert_allclose(actual, wanted, err_msg=f"gradient w.r.t. {name}", **TOLERANCE)


@pytest.mark.parametrize("implementation", [1, 2, 3])
@pytest.mark.parametrize("policy, tolerance", [("mixed_float16", 5e-3), ("mixed_bfloat16", 3e-2)])
def test_mixed_precision_forward_and_gradients(policy, tolerance, implementation):
    """Computed in half precision with float32 weights, on every backend."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, 7, 3)).astype("float32")
    layer = LocallyConnected2D(4, (3, 2), strides=(1, 2), padding="same", implementation=implementation, dtype=policy)
    layer.build(x.shape)
    kernel, bias = random_weights(layer, rng)
    y = layer(x)
    assert keras.backend.standardize_dtype(y.dtype) == policy.split("_")[1]
    probe = rng.standard_normal(y.shape).astype("float32")
    expected, expected_gradients = reference(x, kernel, bias, (3, 2), (1, 2), "same", "channels_last", probe)
    actual = [numpy(y).astype("float32")] + [g.astype("float32") for g in gradients(layer, x, probe)]
    for name, got, wanted in zip(("output", "input gradient", "kernel gradient", "bias gradient"),
                                 actual, [expected] + list(expected_gradients)):
        assert np.abs(got - wanted).max() <= tolerance * np.abs(wanted).max(), name


@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_integer_inputs_are_computed_as_floats(implementation):
    """Integer arrays (what R integer vectors arrive as) give the float32 result of the
    same values. Keras' autocast casts only floating inputs; Conv2D itself fails on
    integers on TensorFlow and PyTorch and promotes on JAX (Keras 3.15.1)."""
    rng = np.random.default_rng(6)
    x = rng.integers(0, 5, (2, 6, 5, 2)).astype("int32")
    layer = LocallyConnected2D(2, 3, implementation=implementation)
    layer.build(x.shape)
    kernel, bias = random_weights(layer, rng)
    y = numpy(layer(x))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, reference(x, kernel, bias, (3, 3), (1, 1), "valid", "channels_last"),
                               **TOLERANCE)


# ---------------------------------------------------------------------------
# Saving on one backend, loading on another
# ---------------------------------------------------------------------------


def cross_backend_model() -> keras.Model:
    """Every implementation, both data formats, 1D and 2D, in one model."""
    inputs = keras.Input((7, 6, 2))
    branches = [
        LocallyConnected2D(3, 3, strides=2, padding="same", implementation=1, activation="tanh",
                           name="lc2d_impl1")(inputs),
        LocallyConnected2D(2, (2, 3), implementation=2, name="lc2d_impl2")(inputs),
        LocallyConnected2D(2, 3, padding="same", implementation=3, data_format="channels_first",
                           name="lc2d_impl3_first")(keras.layers.Permute((3, 1, 2))(inputs)),
        LocallyConnected1D(2, 4, strides=3, padding="same", implementation=3,
                           name="lc1d_impl3")(keras.layers.Reshape((42, 2))(inputs)),
        LocallyConnected1D(1, 2, implementation=2, use_bias=False, data_format="channels_first",
                           name="lc1d_impl2_first")(keras.layers.Reshape((2, 42))(inputs)),
    ]
    outputs = keras.layers.Concatenate()([keras.layers.Flatten()(b) for b in branches])
    return keras.Model(inputs, outputs)


def save_cross_backend_files(directory: str) -> None:
    rng = np.random.default_rng(2024)
    model = cross_backend_model()
    random_weights(model, rng)
    x = rng.standard_normal((3, 7, 6, 2)).astype("float32")
    model.save(os.path.join(directory, "model.keras"))
    weights = {f"weight_{i}": w for i, w in enumerate(model.get_weights())}
    y = model.predict(x, verbose=0)  # one compiled function: eager JAX compiles op by op
    np.savez(os.path.join(directory, "expected.npz"), x=x, y=y, backend=BACKEND, **weights)


# Each run loads a file saved by the previous backend in this cycle, so that over the
# three runs every backend saves once and loads once (a saving subprocess costs 5-13 s:
# Keras' saving code imports TensorFlow when it is installed). LC_BACKEND_PAIRS=all
# loads the files of both other backends.
SAVED_BY = {"jax": "torch", "torch": "tensorflow", "tensorflow": "jax"}


def _saving_backends():
    if os.environ.get("LC_BACKEND_PAIRS") == "all":
        return [b for b in ("tensorflow", "jax", "torch") if b != BACKEND]
    return [SAVED_BY[BACKEND]]


@pytest.mark.parametrize("saving_backend", _saving_backends())
def test_keras_file_saved_on_another_backend_loads_here(saving_backend, tmp_path):
    if importlib.util.find_spec(saving_backend) is None:
        pytest.skip(f"{saving_backend} is not installed in this environment")
    environment = dict(os.environ, KERAS_BACKEND=saving_backend, TF_CPP_MIN_LOG_LEVEL="2", JAX_PLATFORMS="cpu")
    completed = subprocess.run([sys.executable, os.path.abspath(__file__), "save", str(tmp_path)],
                               env=environment, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-4000:]
    saved = np.load(tmp_path / "expected.npz")
    assert str(saved["backend"]) == saving_backend
    loaded = keras.models.load_model(tmp_path / "model.keras")
    layers = {layer.name: layer for layer in loaded.layers}
    assert isinstance(layers["lc2d_impl3_first"], LocallyConnected2D)
    assert layers["lc2d_impl3_first"].implementation == 3
    assert layers["lc1d_impl2_first"].data_format == "channels_first"
    weights = loaded.get_weights()
    assert len(weights) == len([k for k in saved.files if k.startswith("weight_")])
    for i, w in enumerate(weights):
        np.testing.assert_array_equal(w, saved[f"weight_{i}"])
    x = saved["x"]
    # predict() compiles the whole model once (eager JAX compiles op by op).
    y = loaded.predict(x, verbose=0)
    # Another backend's kernels sum in another order: float32 rounding apart, no more.
    np.testing.assert_allclose(y, saved["y"], rtol=1e-6, atol=1e-6)
    # The same model built here from the same weights gives exactly the loaded model's output.
    fresh = cross_backend_model()
    fresh.set_weights(weights)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), y)
    # And the first branch equals the NumPy reference.
    first = layers["lc2d_impl1"]
    expected = np.tanh(reference(x, *first.get_weights(), (3, 3), (2, 2), "same", "channels_last"))
    np.testing.assert_allclose(y[:, :expected[0].size], expected.reshape(3, -1), **TOLERANCE)


def test_tensorflow_is_not_imported_on_other_backends():
    """The package (every implementation, forward and fit) never imports TensorFlow on
    the JAX and PyTorch backends. Run in a fresh process: Keras' own saving code and
    other tests may import it here. The TensorFlow run checks the JAX backend."""
    backend = "jax" if BACKEND == "tensorflow" else BACKEND
    code = (
        "import sys, numpy as np, keras\n"
        "from locally_connected import LocallyConnected1D, LocallyConnected2D\n"
        "x = np.ones((2, 5, 4, 2), 'float32')\n"
        "inputs = keras.Input((5, 4, 2))\n"
        "branches = [LocallyConnected1D(1, 3, implementation=i)(keras.layers.Reshape((20, 2))(\n"
        "    LocallyConnected2D(2, 2, padding='same', implementation=i)(inputs))) for i in (1, 2, 3)]\n"
        "m = keras.Model(inputs, keras.layers.Concatenate()(branches))\n"
        "m(x)\n"
        "m.compile('sgd', 'mse')\n"
        "m.fit(x, np.ones((2, 18, 3), 'float32'), epochs=1, verbose=0)\n"
        "assert 'tensorflow' not in sys.modules, sorted(k for k in sys.modules if 'tensorflow' in k)[:5]\n"
    )
    environment = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu")
    completed = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-4000:]


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "save":
        sys.exit("usage: python test_backends.py save DIRECTORY")
    save_cross_backend_files(sys.argv[2])


# ---------------------------------------------------------------------------
# torch.compile (jit_compile=True on the PyTorch backend)
# ---------------------------------------------------------------------------


def _compiled_fit(layer_factory, jit_compile, data_format="channels_last"):
    """Weights after two epochs of SGD on a small model, and the graph breaks counted."""
    import torch._dynamo

    rng = np.random.default_rng(9)
    shape = (3, 12, 12) if data_format == "channels_first" else (12, 12, 3)
    x = rng.standard_normal((8,) + shape).astype("float32")
    y = rng.standard_normal((8, 2)).astype("float32")
    inputs = keras.Input(shape)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(layer_factory()(inputs))))
    weights_rng = np.random.default_rng(10)
    model.set_weights([0.1 * weights_rng.standard_normal(w.shape).astype("float32") for w in model.get_weights()])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=jit_compile)
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    breaks = sum(torch._dynamo.utils.counters["graph_break"].values())
    predictions = model.predict(x, verbose=0)
    return [numpy(w) for w in model.weights], predictions, breaks


@pytest.mark.skipif(BACKEND != "torch", reason="torch.compile is PyTorch's")
def test_torch_compile_breaks_the_graph_no_more_than_conv_and_trains_the_same():
    _, _, conv_breaks = _compiled_fit(lambda: keras.layers.Conv2D(4, 3), jit_compile=True)
    # Implementation 1 with channels_first inputs runs 3's chunked product on PyTorch.
    for implementation, data_format in ((1, "channels_last"), (2, "channels_last"), (3, "channels_last"),
                                        (1, "channels_first")):
        def layer(implementation=implementation, data_format=data_format):
            return LocallyConnected2D(4, 3, implementation=implementation, data_format=data_format)

        compiled, compiled_predictions, breaks = _compiled_fit(layer, True, data_format)
        eager, eager_predictions, _ = _compiled_fit(layer, False, data_format)
        assert breaks <= conv_breaks, (implementation, data_format, breaks, conv_breaks)
        for a, b in zip(compiled, eager):
            np.testing.assert_allclose(a, b, err_msg=f"implementation {implementation}", **TOLERANCE)
        np.testing.assert_allclose(compiled_predictions, eager_predictions, **TOLERANCE)


@pytest.mark.skipif(BACKEND != "torch", reason="torch.compile is PyTorch's")
def test_torch_compiled_dense_implementation_keeps_non_finite_values_local():
    """Implementation 2's all-finite branch is a torch.cond under torch.compile."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 7, 6, 2)).astype("float32")
    x[0, 1, 1, 0], x[1, 3, 3, 0] = np.nan, np.inf
    layer = LocallyConnected2D(2, 3, padding="same", implementation=2)
    model = keras.Sequential([keras.Input((7, 6, 2)), layer])
    kernel, bias = random_weights(layer, rng)
    model.compile(jit_compile=True)
    y = model.predict(x, verbose=0)
    with np.errstate(invalid="ignore"):
        expected = reference(x, kernel, bias, (3, 3), (1, 1), "same", "channels_last")
    for check in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(check(y), check(expected), err_msg=check.__name__)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(y[finite], expected[finite], **TOLERANCE)


def _compiled(function):
    """`function` as the backend's compiler that the block product's rule checks for compiles it:
    torch.compile on PyTorch, XLA on TensorFlow and JAX."""
    if BACKEND == "jax":
        import jax

        return jax.jit(function)
    if BACKEND == "torch":
        import torch

        torch._dynamo.reset()
        compiled = torch.compile(function)
        return lambda x: compiled(torch.as_tensor(x))
    import tensorflow as tf

    return tf.function(function, jit_compile=True)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_implementation_1_runs_the_block_product_where_faster_and_a_compilable_one_compiled(monkeypatch, data_format):
    """Implementation 1 runs the block product where it is the faster one: for channels_first
    inputs on PyTorch and TensorFlow, for channels_last ones on PyTorch eager and in TensorFlow
    graphs; JAX runs the patches product.
    Under torch.compile (which does not trace PyTorch's block product) channels_last inputs get
    the patches product and channels_first ones the portable product; under XLA channels_last
    inputs get the patches product (faster there on some shapes) and channels_first ones still
    the block product."""
    from locally_connected.backend import generic
    from locally_connected.implementations import GatheredPatches, Patches

    block_product = backend.SPARSE_PRODUCTS.get(BACKEND, generic.SparseProduct)
    calls = []

    def spy(cls, method):
        original = getattr(cls, method)

        def counted(self, *args):
            calls.append(cls.__name__)
            return original(self, *args)
        monkeypatch.setattr(cls, method, counted)

    for cls, method in ((block_product, "__call__"), (Patches, "patches"), (GatheredPatches, "__call__")):
        spy(cls, method)
    blocks, patches, portable = block_product.__name__, "Patches", "GatheredPatches"
    rng = np.random.default_rng(12)
    layer = LocallyConnected2D(3, 3, padding="same", implementation=1, data_format=data_format)
    shape = (2, 2, 7, 6) if data_format == "channels_first" else (2, 7, 6, 2)
    x = rng.standard_normal(shape).astype("float32")
    layer.build(shape)
    kernel, bias = random_weights(layer, rng)
    expected = reference(x, kernel, bias, (3, 3), (1, 1), "same", data_format)

    if BACKEND == "tensorflow":
        import tensorflow as tf

        run = tf.function(layer.__call__)
    else:
        run = layer
    outputs = numpy(run(x))
    # JAX runs its patches product in both formats: its block product gathers the patches
    # again in the backward.
    assert calls == [patches if BACKEND == "jax" else blocks], calls
    calls.clear()
    compiled = numpy(_compiled(layer.__call__)(x))
    if data_format == "channels_last" or BACKEND == "jax":
        assert calls == [patches], calls
    else:
        assert calls == ([portable] if BACKEND == "torch" else [blocks]), calls
    for result in (outputs, compiled):
        np.testing.assert_allclose(result, expected, **TOLERANCE)

    # A Conv (one kernel shared by all positions) keeps the patches product's one matmul, but
    # for channels_first inputs on PyTorch, whose patches product copies at every transpose.
    calls.clear()
    LocallyConnected2D(3, 3, implementation=1, weight_sharing=8, data_format=data_format)(x)
    one_matmul = blocks if (BACKEND == "torch" and data_format == "channels_first") else patches
    assert calls == [one_matmul], calls
