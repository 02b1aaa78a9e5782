"""Keras 3 locally connected layers: convolutions whose weights are not shared."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import activations, constraints, initializers, ops, regularizers

from locally_connected import _arguments, _keras_internals, backend, keras2
from locally_connected.geometry import Geometry
from locally_connected.implementations import (
    IMPLEMENTATIONS,
    GatheredPatches,
    choose_implementation,
    set_dense_kernel_budget,
)
from locally_connected.plan import Plan

__all__ = ["LocallyConnected", "LocallyConnected1D", "LocallyConnected2D", "LocallyConnected3D",
           "set_dense_kernel_budget"]


class LocallyConnected(keras.layers.Layer):
    """Base of `LocallyConnected1D`, `2D` and `3D`; `rank` is the number of spatial dims.

    The kernel has shape `(num_output_positions, prod(kernel_size) * input_channels,
    filters)`, features ordered `(*kernel_size, channels)` for channels_last and
    `(channels, *kernel_size)` for channels_first, for every `implementation`; the bias
    has shape `(*output_size, filters)` (docs/layers.md, "Weight layout").

    At `build` the layer makes its `Plan` (geometry, channels, filters, data format,
    dtype) and its implementation from it; `call` runs that implementation.
    """

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        implementation: int | str = 1,
        batch_size: int | None = None,
        weights: Sequence[Any] | None = None,
        dilation_rate: int | Sequence[int] = 1,
        groups: int = 1,
        weight_sharing: int | Sequence[int] = 1,
        resolved_implementation: int | None = None,
        **kwargs: Any,
    ) -> None:
        activity_regularizer = _keras_object(regularizers.get, activity_regularizer, "activity_regularizer")
        _check_keras_arguments(kwargs)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = _arguments.integer(filters, "filters")
        self.kernel_size = _arguments.integer_tuple(kernel_size, rank, "kernel_size")
        self.strides = _arguments.integer_tuple(strides, rank, "strides")
        self.padding = _arguments.padding(padding, rank)
        self.data_format = _arguments.data_format(data_format)
        self.activation = _keras_object(activations.get, activation, "activation")
        self.use_bias = _arguments.boolean(use_bias, "use_bias")
        self.kernel_initializer = _keras_object(initializers.get, kernel_initializer, "kernel_initializer")
        self.bias_initializer = _keras_object(initializers.get, bias_initializer, "bias_initializer")
        self.kernel_regularizer = _keras_object(regularizers.get, kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = _keras_object(regularizers.get, bias_regularizer, "bias_regularizer")
        self.kernel_constraint = _keras_object(constraints.get, kernel_constraint, "kernel_constraint")
        self.bias_constraint = _keras_object(constraints.get, bias_constraint, "bias_constraint")
        self.implementation = _arguments.implementation(implementation)
        # What "auto" chose; saved in the config so a reloaded model runs the same math.
        self.resolved_implementation = (
            self.implementation if self.implementation != "auto"
            else None if resolved_implementation is None
            else _arguments.implementation(resolved_implementation)
        )
        self.batch_size = _arguments.optional_integer(batch_size, "batch_size")
        self._initial_weights = _weight_list(weights)
        self.dilation_rate = _arguments.integer_tuple(dilation_rate, rank, "dilation_rate")
        self.groups = _arguments.integer(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(
                f"`groups` must divide `filters` (and the input channels), as in Conv: each group "
                f"has filters // groups filters. Received: groups={self.groups}, filters={self.filters}."
            )
        self.weight_sharing = _arguments.integer_tuple(weight_sharing, rank, "weight_sharing")
        self._plan: Plan | None = None
        self._implementation = self._portable_implementation = self._bias_of_position = None
        self.input_spec = keras.InputSpec(ndim=rank + 2)
        input_shape = getattr(self, "_input_shape_arg", None)
        if input_shape is not None:
            if len(input_shape) != rank + 1:
                raise ValueError(
                    f"`input_shape` must have {rank + 1} entries ({rank} spatial dims and channels, "
                    f"without the batch). Received: input_shape={tuple(input_shape)}."
                )
            self.build((self.batch_size,) + tuple(input_shape))

    @property
    def _channels_first(self) -> bool:
        return self.data_format == "channels_first"

    def _split_shape(self, input_shape) -> tuple[tuple, Any]:
        """Returns (spatial dims, channels) of a full input shape."""
        if self._channels_first:
            return tuple(input_shape[2:]), input_shape[1]
        return tuple(input_shape[1:-1]), input_shape[-1]

    def _geometry(self, spatial: tuple[int, ...]) -> Geometry:
        return Geometry(spatial, self.kernel_size, self.strides, self.padding, self.dilation_rate)

    def _checked_plan(self, input_shape: tuple) -> Plan:
        """The plan of this layer on `input_shape`, or a clear error."""
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} expects inputs of rank {self.rank + 2} "
                f"(batch, {'channels, ' if self._channels_first else ''}{self.rank} spatial dims"
                f"{'' if self._channels_first else ', channels'}). Received input_shape={input_shape}."
            )
        spatial, channels = self._split_shape(input_shape)
        if channels is None or any(n is None for n in spatial):
            raise ValueError(
                f"{type(self).__name__} needs fully known spatial dimensions and channels: "
                f"every output position has its own weights. Received input_shape={input_shape} "
                f"(data_format={self.data_format!r})."
            )
        if self.batch_size is not None and input_shape[0] not in (None, self.batch_size):
            raise ValueError(
                f"`batch_size` is {self.batch_size} but the layer received inputs with batch "
                f"dimension {input_shape[0]}."
            )
        if channels % self.groups:
            raise ValueError(
                f"`groups` must divide the input channels (and `filters`), as in Conv: each group "
                f"reads channels // groups channels. Received: groups={self.groups} for inputs with "
                f"{channels} channels (input_shape={input_shape})."
            )
        geometry = self._geometry(spatial)
        if any(o <= 0 for o in geometry.output_size):
            dilation = "" if set(self.dilation_rate) == {1} else f", dilation_rate={self.dilation_rate}"
            raise ValueError(
                f"{type(self).__name__} '{self.name}' would produce an output of spatial size "
                f"{geometry.output_size}: kernel_size={self.kernel_size} with strides={self.strides}"
                f"{dilation} and padding={self.padding!r} does not fit the input's spatial size {spatial}. "
                "Use a smaller kernel_size or padding='same'."
            )
        return Plan(geometry, channels, self.filters, self._channels_first, self.variable_dtype,
                    groups=self.groups, weight_sharing=self.weight_sharing)

    def _check_memory(self, plan: Plan, input_shape: tuple) -> None:
        """Refuses kernels larger than the machine, and what the implementation refuses."""
        memory = _physical_memory_bytes()
        # Shared kernels are read per position: that is what the implementations multiply.
        entries = plan.connections
        if memory is not None and entries * plan.itemsize > memory:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' would need a kernel of {entries:,} "
                f"entries ({entries * plan.itemsize / 2**30:,.1f} GiB) for input shape {input_shape}, "
                f"more than this machine's memory ({memory / 2**30:,.1f} GiB): check `kernel_size` "
                f"({self.kernel_size}) and `filters` ({self.filters})."
            )
        error = IMPLEMENTATIONS[self.resolved_implementation].memory_error(plan)
        if error is not None:
            raise ValueError(f"{type(self).__name__} '{self.name}' with input shape {input_shape}: {error}")

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        plan = self._checked_plan(input_shape)
        if self.resolved_implementation is None:
            self.resolved_implementation = choose_implementation(plan, batch=input_shape[0])
        self._check_memory(plan, input_shape)
        self._plan = plan
        self._implementation = IMPLEMENTATIONS[self.resolved_implementation](plan)
        self._portable_implementation = GatheredPatches(plan)
        # With weight_sharing, each position reads its block's bias.
        self._bias_of_position = backend.constant(plan.kernel_of_position) if plan.shares_weights else None
        self.kernel = self.add_weight(
            name="kernel",
            shape=plan.kernel_shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=plan.bias_shape,
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        axes = {i: n for i, n in enumerate(input_shape) if i > 0}
        self.input_spec = keras.InputSpec(ndim=self.rank + 2, axes=axes)
        self.built = True
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self._set_initial_weights(weights)

    def _set_initial_weights(self, weights: list[np.ndarray]) -> None:
        expected = [tuple(v.shape) for v in self.weights]
        received = [tuple(np.shape(w)) for w in weights]
        if received != expected:
            raise ValueError(
                f"`weights` must be a list of arrays with shapes {expected} "
                f"([kernel{', bias' if self.use_bias else ''}] in locally_connected's layout) for "
                f"this layer. Received shapes {received}."
            )
        self.set_weights(weights)

    def call(self, inputs):
        # Keras autocasts only floating inputs; integer/bool inputs (R integer arrays)
        # are computed as floats by every implementation (matmuls and segment sums need it).
        if "float" not in keras.backend.standardize_dtype(inputs.dtype):
            inputs = ops.cast(inputs, self.compute_dtype)
        implementation = self._implementation
        if (not implementation.exportable and _exporting()) or (not implementation.traceable and backend.compiling()):
            # The same function of the same weights, in ops every exporter and graph compiler
            # expresses; the saved config keeps the user's implementation.
            implementation = self._portable_implementation
        outputs = implementation(inputs, self.kernel)
        return self.activation(self._in_output_layout(outputs))

    def _in_output_layout(self, outputs):
        """(batch, positions, filters) -> the layer's output layout, plus the bias.

        The bias is stored as `(*output_size, filters)` in every data format; with
        channels_first it is read in `(filters, *output_size)` order, as tf-keras does.
        """
        plan, filters = self._plan, self.filters
        output_size = plan.geometry.output_size
        if self._channels_first:
            outputs = ops.reshape(ops.transpose(outputs, (0, 2, 1)), (-1, filters) + output_size)
            if self.bias is not None:
                bias = ops.reshape(self.bias, (filters, plan.num_kernels))
                if self._bias_of_position is not None:
                    bias = backend.take(bias, self._bias_of_position, axis=1)
                outputs = outputs + ops.reshape(bias, (filters,) + output_size)
            return outputs
        outputs = ops.reshape(outputs, (-1,) + output_size + (filters,))
        if self.bias is not None:
            bias = self.bias
            if self._bias_of_position is not None:
                bias = backend.take(ops.reshape(bias, (plan.num_kernels, filters)), self._bias_of_position, axis=0)
                bias = ops.reshape(bias, output_size + (filters,))
            outputs = outputs + bias
        return outputs

    def compute_output_shape(self, input_shape):
        spatial, _ = self._split_shape(input_shape)
        output_size = tuple(
            None if n is None else o
            for n, o in zip(spatial, self._geometry(tuple(n or 1 for n in spatial)).output_size)
        )
        if self._channels_first:
            return (input_shape[0], self.filters) + output_size
        return (input_shape[0],) + output_size + (self.filters,)

    def load_own_variables(self, store) -> None:
        """Keras' `.keras` and `.weights.h5` reader: kernels that tf-keras's implementations
        2 and 3 wrote (tf-keras 2.13+ writes these formats too) are converted to this
        layer's layout first."""
        values = {key: store[key] for key in store.keys()}
        if self.built and "0" in values:
            values["0"] = keras2.saved_kernel_in_our_layout(values["0"], self._plan, self.name)
        super().load_own_variables(values)

    def _saved_values_in_our_layout(self, values: list) -> list:
        """`[kernel, bias]` read from an `.h5` file, the kernel in this layer's layout."""
        if values and self.built:
            values[0] = keras2.saved_kernel_in_our_layout(values[0], self._plan, self.name)
        return values

    @classmethod
    def from_config(cls, config: dict) -> LocallyConnected:
        with warnings.catch_warnings():
            # A Keras 2 file's batch_input_shape is not a user passing `input_shape`.
            warnings.filterwarnings("ignore", message="Do not pass an `input_shape`", category=UserWarning)
            return super().from_config(keras2.keras3_config(config))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                "groups": self.groups,
                "weight_sharing": self.weight_sharing,
                "data_format": self.data_format,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "implementation": self.implementation,
                "resolved_implementation": (
                    self.resolved_implementation if self.implementation == "auto" else None
                ),
                "batch_size": self.batch_size,
            }
        )
        return config


def _exporting() -> bool:
    """Whether this call is traced for an exported artifact: by Keras' `export()` or by
    the backend's own exporter (torch.export, TorchScript)."""
    return _keras_internals.keras_is_exporting() or backend.tracing_for_export()


def _check_keras_arguments(kwargs: dict) -> None:
    """The Keras layer arguments this layer checks itself, so that Python and R users get
    the same errors: `name`, `trainable`, `input_shape` and `dtype`."""
    name = kwargs.get("name")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"`name` must be a string or None. Received: name={name!r}.")
    if "trainable" in kwargs:
        kwargs["trainable"] = _arguments.boolean(kwargs["trainable"], "trainable")
    if kwargs.get("input_shape") is not None:
        kwargs["input_shape"] = _arguments.shape(kwargs["input_shape"], "input_shape")
    if kwargs.get("dtype") is not None:
        _keras_object(keras.dtype_policies.get, kwargs["dtype"], "dtype")


def _keras_object(getter, value: Any, name: str) -> Any:
    """`getter(value)` (activations.get, initializers.get, ...) with the argument named in errors."""
    try:
        return getter(value)
    except (ValueError, TypeError) as error:
        raise type(error)(f"`{name}`: {error}") from error


def _physical_memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _weight_list(weights: Any) -> list[np.ndarray] | None:
    """`weights` as arrays; None and `[]` (an unbuilt layer's `get_weights()`, which code
    written for tf-keras passes on) are no initial weights."""
    if weights is None:
        return None
    if not isinstance(weights, (list, tuple)):
        raise TypeError(
            "`weights` must be a list of arrays [kernel, bias] (or [kernel] without bias). "
            f"Received: weights of type {type(weights).__name__}."
        )
    return [np.asarray(w) for w in weights] or None


_ARGUMENTS_DOC = """
    Args:
        filters: int, the number of output channels.
        kernel_size: int or tuple of {rank} ints, the window size.
        strides: int or tuple of {rank} ints, the window step.
        padding: `"valid"` (no padding), `"same"` (pads as `{conv}` does: the output has
            `ceil(input / strides)` positions),{causal} `"circular"` or `"reflect"` (the
            amounts of `"same"`, filled by wrapping around or mirroring, as flax's
            ConvLocal does), case-insensitive; or explicit `(before, after)` pairs of
            integers >= 0, one per spatial dimension.
        data_format: `"channels_last"`, `"channels_first"`, or None for
            `keras.config.image_data_format()`.
        activation: activation function or its name; None applies none.
        use_bias: bool, whether every output position and filter has a bias.
        kernel_initializer, bias_initializer: initializers (objects or names).
        kernel_regularizer, bias_regularizer, activity_regularizer: regularizers or None.
        kernel_constraint, bias_constraint: constraints or None.
        implementation: 1 (patches and one batched matmul over positions; 3's product where
            that is faster: channels_first inputs on PyTorch and TensorFlow, channels_last
            ones on PyTorch eager and in TensorFlow graphs), 2 (one matmul
            with a dense masked kernel; refused over `set_dense_kernel_budget()`), 3 (a
            block-sparse product that keeps no patches: the least memory), or `"auto"`
            (chosen at build from the shapes, the batch size the layer is built with, 32
            without one, and the backend; the choice is saved with the model). Same weights,
            same results; only speed and memory differ.
        batch_size: fixed batch size, checked against the input when the layer is built.
        weights: initial `[kernel, bias]` in this layer's layout, set when it is built
            (`[]` is none).
        dilation_rate: int or tuple of {rank} ints >= 1, the spacing of a window's taps, as
            in `{conv}`; any strides may go with it.
        groups: int >= 1 dividing the input channels and `filters`: filter `f` reads the
            channels of group `f // (filters // groups)`, as in `{conv}`.
        weight_sharing: int or tuple of {rank} ints >= 1: output positions are grouped in
            blocks of this size (row-major; a dimension's last block may be smaller), and
            each block has one kernel and one bias. 1 is one per position; a block covering
            the whole output is a `{conv}`.
        **kwargs: Keras layer arguments (`name`, `dtype`, `trainable`, `input_shape`).

    Weights:
        `kernel`: `(kernels, prod(kernel_size) * channels // groups, filters)`, one kernel
        per output position (or per block of `weight_sharing`), features ordered
        `(*kernel_size, channels)` (channels_last) or `(channels, *kernel_size)`
        (channels_first) within a group, filters group-major; `bias`: `(*blocks, filters)`
        (`(*output_size, filters)` by default), read in `(filters, *blocks)` order with
        channels_first. tf-keras implementation 1's layout, for every implementation.
"""


@keras.saving.register_keras_serializable(package="locally_connected")
class LocallyConnected1D(LocallyConnected):
    """Locally connected layer for sequences: a Conv1D whose weights are not shared.

    Every output step has its own filters.
    {arguments}
    Input shape:
        `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`.

    Output shape:
        `(batch, new_steps, filters)` or `(batch, filters, new_steps)`.

    Example:

    >>> x = np.random.rand(4, 10, 3)
    >>> tuple(LocallyConnected1D(2, 3)(x).shape)
    (4, 8, 2)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        implementation: int | str = 1,
        batch_size: int | None = None,
        weights: Sequence[Any] | None = None,
        dilation_rate: int | Sequence[int] = 1,
        groups: int = 1,
        weight_sharing: int | Sequence[int] = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(1, **_arguments.named_locals(locals()), **kwargs)


@keras.saving.register_keras_serializable(package="locally_connected")
class LocallyConnected2D(LocallyConnected):
    """Locally connected layer for images: a Conv2D whose weights are not shared.

    Every output position has its own `kernel_size` filter bank.
    {arguments}
    Input shape:
        `(batch, rows, cols, channels)` (channels_last) or `(batch, channels, rows, cols)`.

    Output shape:
        `(batch, new_rows, new_cols, filters)` or `(batch, filters, new_rows, new_cols)`.

    Example:

    >>> x = np.random.rand(4, 10, 10, 3)
    >>> tuple(LocallyConnected2D(2, 3, strides=2, padding="same")(x).shape)
    (4, 5, 5, 2)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        implementation: int | str = 1,
        batch_size: int | None = None,
        weights: Sequence[Any] | None = None,
        dilation_rate: int | Sequence[int] = (1, 1),
        groups: int = 1,
        weight_sharing: int | Sequence[int] = (1, 1),
        **kwargs: Any,
    ) -> None:
        super().__init__(2, **_arguments.named_locals(locals()), **kwargs)


@keras.saving.register_keras_serializable(package="locally_connected")
class LocallyConnected3D(LocallyConnected):
    """Locally connected layer for volumes: a Conv3D whose weights are not shared.

    Every output voxel has its own `kernel_size` filter bank. The kernel grows with the
    number of output voxels: a layer whose kernel would not fit in memory is refused when
    it is built, with its size and the arguments to change.
    {arguments}
    Input shape:
        `(batch, dim1, dim2, dim3, channels)` (channels_last) or
        `(batch, channels, dim1, dim2, dim3)` (channels_first).

    Output shape:
        `(batch, new_dim1, new_dim2, new_dim3, filters)` or
        `(batch, filters, new_dim1, new_dim2, new_dim3)`.

    Example:

    >>> x = np.random.rand(2, 6, 6, 6, 1)
    >>> tuple(LocallyConnected3D(2, 3, strides=2, padding="same")(x).shape)
    (2, 3, 3, 3, 2)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = (1, 1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        implementation: int | str = 1,
        batch_size: int | None = None,
        weights: Sequence[Any] | None = None,
        dilation_rate: int | Sequence[int] = (1, 1, 1),
        groups: int = 1,
        weight_sharing: int | Sequence[int] = (1, 1, 1),
        **kwargs: Any,
    ) -> None:
        super().__init__(3, **_arguments.named_locals(locals()), **kwargs)


# One argument list for every docstring (absent under python -OO).
for _layer_class, _conv in ((LocallyConnected1D, "Conv1D"), (LocallyConnected2D, "Conv2D"),
                            (LocallyConnected3D, "Conv3D")):
    if _layer_class.__doc__:
        _layer_class.__doc__ = _layer_class.__doc__.format(
            arguments=_ARGUMENTS_DOC.format(
                rank=_layer_class.__name__[-2], conv=_conv,
                causal='\n            `"causal"` (as Conv1D: `(kernel_size - 1) * dilation_rate` before),'
                if _conv == "Conv1D" else ""))


def _h5_values_in_our_layout(layer: keras.layers.Layer, values: list) -> list:
    return layer._saved_values_in_our_layout(values) if isinstance(layer, LocallyConnected) else values


keras2.register_keras2_names((LocallyConnected1D, LocallyConnected2D))  # tf-keras never had a 3D layer
_keras_internals.convert_values_before_legacy_h5_assignment(_h5_values_in_our_layout)
_keras_internals.mark_keras_exports()
