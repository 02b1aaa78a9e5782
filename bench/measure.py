"""Measures one (case, library, implementation) in a fresh process; prints one JSON line.

Run by bench/run.py. A fresh process per measurement gives each its own peak memory
(ru_maxrss) and keeps tf-keras's huge graphs from slowing later measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from cases import CASES, matmul_operands  # noqa: E402
from timing import median_seconds  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _make_layer(library: str, case: dict, implementation):
    arguments = dict(
        filters=case["filters"], kernel_size=case["kernel"], strides=case["strides"],
        padding="valid", data_format=case["data_format"], implementation=implementation,
    )
    if library == "tf_keras":
        import tf_keras

        layers = tf_keras.layers
    else:
        import locally_connected as layers
    name = "LocallyConnected2D" if len(case["spatial"]) == 2 else "LocallyConnected1D"
    return getattr(layers, name)(**arguments)


def _timed(function, x, repeats: int) -> float:
    """Median milliseconds of `function(x)`, its results fetched."""
    return median_seconds(lambda: tf.nest.map_structure(lambda t: t.numpy(), function(x)), repeats) * 1e3


def measure(case_name: str, library: str, implementation, repeats: int, jit: bool) -> dict:
    case = CASES[case_name]
    x = tf.constant(np.random.default_rng(0).standard_normal(case["input_shape"]).astype("float32"))
    baseline = _rss_mb()
    layer = _make_layer(library, case, implementation)
    start = time.perf_counter()
    layer.build(x.shape)
    build_s = time.perf_counter() - start

    @tf.function(jit_compile=jit)
    def train_step(x):
        # The layer sits inside a network: the input gradient is part of the step.
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_mean(tf.square(y))
        return tape.gradient(loss, [x] + layer.trainable_variables)

    @tf.function(jit_compile=jit)
    def forward(x):
        return layer(x)

    start = time.perf_counter()
    tf.nest.map_structure(lambda t: t.numpy(), train_step(x))
    first_step_s = time.perf_counter() - start
    train_ms = _timed(train_step, x, repeats)
    forward(x)
    forward_ms = _timed(forward, x, repeats)
    result = {
        "build_s": build_s, "first_step_s": first_step_s, "train_ms": train_ms,
        "forward_ms": forward_ms, "peak_mb": _rss_mb() - baseline,
    }
    if library == "ours":
        result["chosen"] = getattr(layer, "resolved_implementation", implementation)
    return result


def dense_roof(repeats: int = 7, n: int = 2048) -> dict:
    """GFLOP/s of one dense float32 n^3 matmul on this machine, now, as a TF graph and with
    XLA (the roof is the faster: it can differ by 1.5x), and whether TensorFlow runs with its
    oneDNN kernels (TF_ENABLE_ONEDNN_OPTS; TF's default depends on the CPU)."""
    a = tf.constant(np.random.default_rng(0).standard_normal((n, n)).astype("float32"))
    gflops = {}
    for engine, jit in (("graph", False), ("xla", True)):
        matmul = tf.function(lambda a: tf.matmul(a, a), jit_compile=jit)
        matmul(a).numpy()
        gflops[engine] = 2 * n**3 / _timed(matmul, a, repeats) / 1e6
    try:
        from tensorflow.python.util import _pywrap_util_port

        onednn = bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        onednn = None
    return {"roof_gflops": max(gflops.values()), "graph_gflops": gflops["graph"],
            "xla_gflops": gflops["xla"], "onednn": onednn}


def matmul_ceiling(case_name: str, repeats: int, jit: bool) -> dict:
    """GFLOP/s of the case's batched matmul alone (forward, kernel and patches gradients) on
    ready-made patches: the most any patches formulation can reach on this machine."""
    case = CASES[case_name]
    patches, kernel = matmul_operands(case, np.random.default_rng(0))
    patches, kernel = tf.constant(patches), tf.Variable(kernel)

    @tf.function(jit_compile=jit)
    def step(patches):
        with tf.GradientTape() as tape:
            tape.watch(patches)
            loss = tf.reduce_sum(tf.matmul(patches, kernel))
        # The loss too: the gradients of a sum do not need the product, which the graph
        # would otherwise prune.
        return [loss] + tape.gradient(loss, [patches, kernel])

    step(patches)
    return {"ceiling_gflops": 3 * case["flops"] / _timed(step, patches, repeats) / 1e6}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--case")
    parser.add_argument("--library", choices=["ours", "tf_keras"])
    parser.add_argument("--implementation")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--roof", action="store_true")
    parser.add_argument("--ceiling", action="store_true")
    parser.add_argument("--jit", action="store_true", help="compile the steps with XLA")
    args = parser.parse_args()
    if args.roof:
        print(json.dumps(dense_roof()))
    elif args.ceiling:
        print(json.dumps(matmul_ceiling(args.case, args.repeats, args.jit)))
    else:
        implementation = args.implementation if args.implementation == "auto" else int(args.implementation)
        print(json.dumps(measure(args.case, args.library, implementation, args.repeats, args.jit)))
