"""Where the work goes when the kernel is split over positions on 4 devices (JAX): the
compiled training step of implementation 1 moves input rows between devices, never kernels;
implementation 2 gathers the whole kernel (docs/scale-out.md says which to use)."""

from __future__ import annotations

import math
import re

import jax
import keras
import numpy as np
import pytest

from locally_connected import LocallyConnected2D, LocallyConnected3D, distribution

COLLECTIVE = re.compile(
    r"= \w+\[([\d,]*)\]\S* (all-gather|all-reduce|reduce-scatter|all-to-all|collective-permute)(?:-start)?\(")


@pytest.fixture(autouse=True)
def model_parallel():
    assert len(jax.devices()) == 4, "conftest must split the CPU into 4 devices before JAX starts"
    mesh = keras.distribution.DeviceMesh((1, 4), ("batch", "model"), keras.distribution.list_devices())
    layouts = distribution.layout_map(mesh)
    with keras.distribution.ModelParallel(layout_map=layouts, batch_dim_name="batch").scope():
        yield


def collectives_of_training_step(layer, input_shape) -> list[tuple[str, int]]:
    """(kind, elements moved) of every collective in the compiled gradient of the layer."""
    layer.build((None,) + input_shape[1:])
    assert layer.kernel.value.sharding.spec[0] == "model"
    x = np.ones(input_shape, "float32")

    def loss(kernel, bias, inputs):
        outputs, _ = layer.stateless_call([kernel, bias], [], inputs)
        return (outputs ** 2).sum()

    step = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))
    text = step.lower(layer.kernel.value, layer.bias.value, x).compile().as_text()
    return [(kind, math.prod(int(d) for d in dims.split(",") if d)) for dims, kind in COLLECTIVE.findall(text)]


CASES = [
    (lambda implementation: LocallyConnected2D(16, 3, implementation=implementation), (8, 34, 34, 8)),
    (lambda implementation: LocallyConnected3D(4, 3, implementation=implementation), (2, 10, 6, 6, 2)),
]


@pytest.mark.parametrize("make_layer, input_shape", CASES)
def test_implementation_1_exchanges_inputs_not_kernels(make_layer, input_shape):
    layer = make_layer(1)
    moved = collectives_of_training_step(layer, input_shape)
    share = math.prod(layer.kernel.shape) // 4
    assert moved, "a sharded layer with a replicated input must exchange input rows"
    assert max(size for _, size in moved) < share, (share, moved)


@pytest.mark.parametrize("make_layer, input_shape", CASES)
def test_implementation_2_gathers_the_whole_kernel(make_layer, input_shape):
    layer = make_layer(2)
    moved = collectives_of_training_step(layer, input_shape)
    assert ("all-gather", math.prod(layer.kernel.shape)) in moved, moved
