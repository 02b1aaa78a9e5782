"""Taking weights from tf-keras `LocallyConnected1D`/`LocallyConnected2D` layers.

tf-keras stores a different kernel for each implementation; `convert_tf_keras_weights`
maps any of them onto this package's single layout, and `from_tf_keras` turns a live
tf-keras layer into the equal layer of this package. tf-keras is not needed for the
conversion itself, only to hand over a live layer. The layouts themselves are described
in `locally_connected.keras2`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from locally_connected import keras2
from locally_connected.keras2 import convert_tf_keras_weights, keras3_config, read_tf_keras_h5_weights
from locally_connected.layers import LocallyConnected, LocallyConnected1D, LocallyConnected2D

__all__ = ["convert_tf_keras_weights", "from_tf_keras", "keras3_config", "read_tf_keras_h5_weights"]


def from_tf_keras(
    layer: Any, implementation: int | None = None, input_shape: Sequence[int] | None = None
) -> LocallyConnected:
    """Returns a layer of this package equal to a built tf-keras LocallyConnected1D/2D.

    The tf-keras layer may have been built in a model, called eagerly, or inside a custom
    layer; `input_shape` (without the batch dimension) overrides the shape it was built with.

    The new layer has the same configuration (name, dtype policy, `trainable`,
    initializers, regularizers, constraints, the activation, custom functions included),
    the converted weights, and gives the same outputs. `implementation` defaults to the
    tf-keras layer's.

    Raises:
        ValueError: if the tf-keras layer is not built, or its "same" geometry is not
            Conv's (see `convert_tf_keras_weights`).
    """
    input_shape = keras2.built_input_shape(layer, input_shape)
    layer_class = LocallyConnected1D if len(input_shape) == 2 else LocallyConnected2D
    arguments = keras2.tf_keras_layer_arguments(layer, inspect.signature(layer_class).parameters)
    arguments["weights"] = convert_tf_keras_weights(
        layer.get_weights(),
        input_shape=input_shape,
        filters=arguments["filters"],
        kernel_size=arguments["kernel_size"],
        strides=arguments["strides"],
        padding=arguments["padding"],
        data_format=arguments["data_format"],
        implementation=arguments["implementation"],
        layer_name=layer.name,
    )
    if implementation is not None:
        arguments["implementation"] = implementation
    ours = layer_class(**arguments)
    ours.build((None,) + input_shape)
    return ours
