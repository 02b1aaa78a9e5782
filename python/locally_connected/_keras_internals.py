"""Every private Keras or TensorFlow API this package uses, and only those.

Each is used where no public hook exists, written against the version named beside it,
and has a fallback for a version that lacks it. The compatibility run of `make test`
(the oldest and newest supported Keras and TensorFlow) exercises every one.
"""

from __future__ import annotations

import functools
import threading
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


_export_state = threading.local()


def keras_is_exporting() -> bool:
    """Whether Keras is tracing a model for an exported artifact (`Model.export`, or a
    `keras.export.ExportArchive` endpoint), in this thread."""
    return getattr(_export_state, "depth", 0) > 0


def _while_exporting(function: Callable) -> Callable:
    if getattr(function, "marks_export", False):
        return function

    @functools.wraps(function)
    def exporting(*args, **kwargs):
        _export_state.depth = getattr(_export_state, "depth", 0) + 1
        try:
            return function(*args, **kwargs)
        finally:
            _export_state.depth -= 1

    exporting.marks_export = True
    return exporting


def mark_keras_exports() -> bool:
    """Makes `keras_is_exporting()` true while Keras traces a model to export it.

    Keras has no hook that tells a layer it is being exported. `Model.export` looks its
    exporter up when it is called: `keras.src.export.export_saved_model`, `export_onnx`,
    `export_openvino`, `export_litert` and `export_torch` (Keras 3.15.1), or
    `keras.src.export.export_lib.export_model` (Keras 3.6.0); SavedModel endpoints are traced
    by `ExportArchive.add_endpoint` and `track_and_add_endpoint` (both versions). Those are
    wrapped. Returns False on a Keras without them: there exports trace the implementation
    the layer trains with, and the backend's own tracer state (`backend.tracing_for_export`)
    is all the layer knows.
    """
    try:
        import keras.src.export as export_package
    except ImportError:
        return False
    marked = False
    modules = [export_package, getattr(export_package, "export_lib", None)]
    for module in filter(None, modules):
        for name in ("export_saved_model", "export_onnx", "export_openvino", "export_litert", "export_torch",
                     "export_model"):
            function = getattr(module, name, None)
            if callable(function):
                setattr(module, name, _while_exporting(function))
                marked = True
    archive = getattr(export_package, "ExportArchive", None)
    for name in ("add_endpoint", "track_and_add_endpoint"):
        method = getattr(archive, name, None)
        if method is not None:
            setattr(archive, name, _while_exporting(method))
    return marked


def find_as_keras_builtin(api_name: str, layer_class: type) -> bool:
    """Lets Keras 3 deserialize `{"module": "keras.layers", "class_name": ...}` configs as
    `layer_class`: what tf-keras 2.13+ writes into `.keras` files for its built-in
    LocallyConnected layers, with no registered name that Keras' public registry could match.

    Keras 3 looks such names up in `keras.src.api_export.REGISTERED_NAMES_TO_OBJS` (Keras 3.6
    to 3.15.1); only that direction is written, so this package's own layers still save under
    their registered names. Returns False on a Keras without it: there tf-keras `.keras` files
    need `custom_objects={"LocallyConnected2D": LocallyConnected2D}` (or 1D) to load.
    """
    try:
        from keras.src import api_export
    except ImportError:
        return False
    names = getattr(api_export, "REGISTERED_NAMES_TO_OBJS", None)
    if not isinstance(names, dict):
        return False
    names.setdefault(api_name, layer_class)
    return True


def tensorflow_compiles_with_xla() -> bool:
    """Whether TensorFlow is tracing this call into a function that XLA compiles:
    `tf.function(jit_compile=True)`, which is what Keras' `jit_compile=True` is on TensorFlow.

    TensorFlow has no public way to ask. Such a function is traced inside an XLA control-flow
    context, which `tensorflow.python.ops.control_flow_util.GraphOrParentsInXlaContext` finds
    (TensorFlow 2.16 to 2.21). Returns False on a TensorFlow without it: there XLA compiles
    whichever product the layer chose outside XLA (the same function, possibly slower).
    """
    try:
        from tensorflow.python.framework import ops
        from tensorflow.python.ops import control_flow_util
    except ImportError:
        return False
    in_xla_context = getattr(control_flow_util, "GraphOrParentsInXlaContext", None)
    return bool(in_xla_context(ops.get_default_graph())) if in_xla_context is not None else False
