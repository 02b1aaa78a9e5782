"""The R keras signature, for R (through reticulate) and for Python.

`layer_locally_connected_2d()` / `_1d()` take the arguments of R keras 2.x's functions
of the same names, in the same order with the same defaults, coerce R-style numbers,
and compose the new layer with `object` as R keras does.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import keras
import numpy as np

from locally_connected.layers import LocallyConnected, LocallyConnected1D, LocallyConnected2D, LocallyConnected3D

_OBJECT_ACCEPTED = (
    "`object` must be None (returns the layer), a keras.Sequential model (the layer is added "
    "and the same model returned), or a tensor / array (returns the layer's output)"
)


def compose_layer(object: Any, layer: keras.layers.Layer) -> Any:
    """Composes `layer` with `object` as R keras' layer functions do.

    None -> the layer; a Sequential model -> the same model with the layer added; a
    symbolic or eager tensor or array -> `layer(object)`. Anything else is a TypeError.
    """
    if object is None:
        return layer
    if isinstance(object, keras.Sequential):
        batch_size = getattr(layer, "batch_size", None)
        input_shape = getattr(layer, "_input_shape_arg", None)
        if not object.layers and input_shape is not None and batch_size is not None:
            # Sequential.add() would build the Input from input_shape alone and drop the batch size.
            object.add(keras.Input(batch_shape=(batch_size,) + tuple(input_shape)))
        object.add(layer)
        return object
    if isinstance(object, keras.Model):
        raise TypeError(
            f"{_OBJECT_ACCEPTED}. Received a {type(object).__name__} model, which cannot be "
            "extended in place: call the layer on the model's output tensor instead."
        )
    if keras.backend.is_keras_tensor(object) or keras.ops.is_tensor(object) or isinstance(
        object, np.ndarray
    ):
        return layer(object)
    raise TypeError(f"{_OBJECT_ACCEPTED}. Received: object of type {type(object).__name__}.")


#: Keras layer arguments that R keras' signature names between `batch_size` and
#: `weights` (Keras 3 layers take them as keyword arguments).
_R_KERAS_LAYER_ARGUMENTS = ("name", "trainable")
#: What R's `...` may pass on: the arguments that let the layer start a Sequential model.
_DOTS_ARGUMENTS = ("input_shape", "dtype")


def _r_signature(layer_class: type[LocallyConnected]) -> inspect.Signature:
    """R keras 2.x's signature, from the layer class's own: `object`, the class's arguments
    with `name` and `trainable` before `weights` (where R keras has them), then `...` as
    **kwargs. Every default is the class's; R keras drops NULL `name`/`trainable`."""
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter("object", positional, default=None)]
    for parameter in inspect.signature(layer_class).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        if parameter.name == "weights":
            parameters += [inspect.Parameter(n, positional, default=None) for n in _R_KERAS_LAYER_ARGUMENTS]
        default = None if parameter.default is inspect.Parameter.empty else parameter.default
        parameters.append(inspect.Parameter(parameter.name, positional, default=default))
    parameters.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(parameters)


def _front_door(layer_class: type[LocallyConnected], name: str, doc: str):
    signature = _r_signature(layer_class)

    def front_door(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        object, extra = arguments.pop("object"), arguments.pop("kwargs")
        unknown = sorted(set(extra) - set(_DOTS_ARGUMENTS))
        if unknown:
            raise TypeError(
                f"Unknown argument(s) {unknown}: the extra arguments accepted are "
                f"{' and '.join(_DOTS_ARGUMENTS)}."
            )
        for required in ("filters", "kernel_size"):
            if arguments[required] is None:
                raise TypeError(f"`{required}` is required.")
        # None means the default, as R keras drops NULL arguments.
        arguments.update(extra)
        for optional in _R_KERAS_LAYER_ARGUMENTS + _DOTS_ARGUMENTS:
            if arguments.get(optional, 0) is None:
                del arguments[optional]
        with warnings.catch_warnings():
            # input_shape is part of this signature (R keras passes it), not a misuse.
            warnings.filterwarnings("ignore", message="Do not pass an `input_shape`", category=UserWarning)
            layer = layer_class(**arguments)
        return compose_layer(object, layer)

    front_door.__signature__ = signature
    front_door.__name__ = front_door.__qualname__ = name
    front_door.__doc__ = doc
    return front_door


layer_locally_connected_2d = _front_door(
    LocallyConnected2D,
    "layer_locally_connected_2d",
    """Locally connected 2D layer with R keras' signature, composed with `object`.

    `layer_locally_connected_2d(object=None, filters, kernel_size, strides=(1, 1),
    padding="valid", data_format=None, activation=None, use_bias=True,
    kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
    bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
    bias_constraint=None, implementation=1, batch_size=None, name=None, trainable=None,
    weights=None, **kwargs)`

    `filters` and `kernel_size` are required. Numbers may be R doubles (`3.0`) and vectors
    lists. Returns the layer if `object` is None, `object` itself with the layer added if it
    is a `keras.Sequential`, and the layer's output if it is a tensor or array. `kwargs` takes
    `input_shape` (and then `batch_size` fixes the batch dimension) and `dtype`. See
    `LocallyConnected2D` for the meaning of each argument.
    """,
)

layer_locally_connected_1d = _front_door(
    LocallyConnected1D,
    "layer_locally_connected_1d",
    """Locally connected 1D layer with R keras' signature, composed with `object`.

    The same arguments as `layer_locally_connected_2d`, with `strides=1` and inputs
    `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`.
    """,
)

layer_locally_connected_3d = _front_door(
    LocallyConnected3D,
    "layer_locally_connected_3d",
    """Locally connected 3D layer with the signature of `layer_locally_connected_2d`, composed
    with `object`.

    The same arguments, with `strides=(1, 1, 1)` and inputs `(batch, d1, d2, d3, channels)`
    (channels_last) or `(batch, channels, d1, d2, d3)`. No tf-keras or R keras version had
    this layer; it follows the 2D one in every argument.
    """,
)
