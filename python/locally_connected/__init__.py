"""Locally connected (unshared-weight convolution) layers for Keras 3."""

from locally_connected import distribution, tf_keras_weights
from locally_connected._version import __version__
from locally_connected.front_door import (
    compose_layer,
    layer_locally_connected_1d,
    layer_locally_connected_2d,
    layer_locally_connected_3d,
)
from locally_connected.layers import (
    LocallyConnected1D,
    LocallyConnected2D,
    LocallyConnected3D,
    set_dense_kernel_budget,
)

__all__ = [
    "__version__",
    "LocallyConnected1D",
    "LocallyConnected2D",
    "LocallyConnected3D",
    "compose_layer",
    "distribution",
    "layer_locally_connected_1d",
    "layer_locally_connected_2d",
    "layer_locally_connected_3d",
    "set_dense_kernel_budget",
    "tf_keras_weights",
]
