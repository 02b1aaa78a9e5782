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

from locally_connected import _arguments
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


def _layer_kwargs(batch_size, name, trainable, weights, kwargs) -> dict:
    """The optional arguments R keras drops when NULL, validated; `kwargs` takes
    `input_shape` and `dtype` so the layer can start a Sequential model."""
    unknown = sorted(set(kwargs) - {"input_shape", "dtype"})
    if unknown:
        raise TypeError(
            f"Unknown argument(s) {unknown}: the extra arguments accepted are input_shape and dtype."
        )
    result = {"batch_size": _arguments.optional_integer(batch_size, "batch_size")}
    if "input_shape" in kwargs and kwargs["input_shape"] is not None:
        result["input_shape"] = _arguments.shape(kwargs["input_shape"], "input_shape")
    if kwargs.get("dtype") is not None:
        result["dtype"] = kwargs["dtype"]
    if name is not None:
        if not isinstance(name, str):
            raise TypeError(f"`name` must be a string or None. Received: name={name!r}.")
        result["name"] = name
    if trainable is not None:
        result["trainable"] = _arguments.boolean(trainable, "trainable")
    if weights is not None:
        result["weights"] = weights
    return result


def _required(value: Any, name: str) -> Any:
    if value is None:
        raise TypeError(f"`{name}` is required.")
    return value


def _r_signature(default_strides: Any) -> inspect.Signature:
    """R keras 2.x's signature: names, order and defaults, then `...` as **kwargs."""
    defaults = {
        "object": None, "filters": None, "kernel_size": None, "strides": default_strides,
        "padding": "valid", "data_format": None, "activation": None, "use_bias": True,
        "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None, "implementation": 1,
        "batch_size": None, "name": None, "trainable": None, "weights": None,
    }
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter(n, positional, default=d) for n, d in defaults.items()]
    parameters.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(parameters)


def _front_door(layer_class: type[LocallyConnected], default_strides: Any, name: str, doc: str):
    signature = _r_signature(default_strides)

    def front_door(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        object, extra = arguments.pop("object"), arguments.pop("kwargs")
        optional = _layer_kwargs(
            *(arguments.pop(n) for n in ("batch_size", "name", "trainable", "weights")), extra
        )
        for required in ("filters", "kernel_size"):
            _required(arguments[required], required)
        with warnings.catch_warnings():
            # input_shape is part of this signature (R keras passes it), not a misuse.
            warnings.filterwarnings("ignore", message="Do not pass an `input_shape`", category=UserWarning)
            layer = layer_class(**arguments, **optional)
        return compose_layer(object, layer)

    front_door.__signature__ = signature
    front_door.__name__ = front_door.__qualname__ = name
    front_door.__doc__ = doc
    return front_door


layer_locally_connected_2d = _front_door(
    LocallyConnected2D,
    (1, 1),
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
    1,
    "layer_locally_connected_1d",
    """Locally connected 1D layer with R keras' signature, composed with `object`.

    The same arguments as `layer_locally_connected_2d`, with `strides=1` and inputs
    `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`.
    """,
)

layer_locally_connected_3d = _front_door(
    LocallyConnected3D,
    (1, 1, 1),
    "layer_locally_connected_3d",
    """Locally connected 3D layer with the signature of `layer_locally_connected_2d`, composed
    with `object`.

    The same arguments, with `strides=(1, 1, 1)` and inputs `(batch, d1, d2, d3, channels)`
    (channels_last) or `(batch, channels, d1, d2, d3)`. No tf-keras or R keras version had
    this layer; it follows the 2D one in every argument.
    """,
)
