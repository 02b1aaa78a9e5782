"""Every private Keras or TensorFlow API this package uses, and only those.

Each is used where no public hook exists, written against the version named beside it,
and has a fallback for a version that lacks it. The compatibility run of `make test`
(the oldest and newest supported Keras and TensorFlow) exercises every one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import keras


def convert_values_before_legacy_h5_assignment(convert: Callable[[Any, list], list]) -> bool:
    """Lets `convert(layer, values)` rewrite a layer's arrays read from an `.h5` file
    right before Keras assigns them to the layer's variables.

    Keras reads `.h5` files (its own and Keras 2's, full models and weights) through
    `keras.src.legacy.saving.legacy_h5_format._set_weights` (Keras 3.6 to 3.15.1), which
    compares each array's shape with its variable's before assigning it; no layer method
    is called before that. Returns False, changing nothing, on a Keras without it: there
    tf-keras's implementation 2 and 3 kernels in `.h5` files fail Keras' shape check, and
    `locally_connected.tf_keras_weights.convert_tf_keras_weights` converts them by hand.
    """
    try:
        from keras.src.legacy.saving import legacy_h5_format
    except ImportError:
        return False
    assign = getattr(legacy_h5_format, "_set_weights", None)
    if assign is None:
        return False
    if getattr(assign, "converts_values", False):
        return True

    @functools.wraps(assign)
    def set_weights(instance, symbolic_weights, weight_values, *args, **kwargs):
        return assign(instance, symbolic_weights, convert(instance, list(weight_values)), *args, **kwargs)

    set_weights.converts_values = True
    legacy_h5_format._set_weights = set_weights
    return True


def tensorflow_compiles_with_xla() -> bool:
    """Whether TensorFlow is tracing this call for XLA (`tf.function(jit_compile=True)`).

    `tensorflow.python.ops.control_flow_util.GraphOrParentsInXlaContext` (TensorFlow 2.16
    to 2.21); without it False, and XLA reports the op it cannot compile itself.
    """
    import tensorflow as tf

    try:
        from tensorflow.python.ops import control_flow_util
    except ImportError:
        return False
    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def flatten_layers(layer: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    """`layer` and every layer inside it, at any depth.

    `Layer._flatten_layers` (Keras 3.6 to 3.15.1) also finds layers held by custom layers;
    without it, the public `layers` of models, recursively.
    """
    flatten = getattr(layer, "_flatten_layers", None)
    if flatten is not None:
        yield from flatten(include_self=True, recursive=True)
        return
    yield layer
    for inner in getattr(layer, "layers", ()):
        yield from flatten_layers(inner)
