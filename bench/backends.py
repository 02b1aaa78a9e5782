"""`make bench`, backends part: ours against what each Keras backend's users would otherwise write.

Per Keras backend (one process each, in the backends venv: NumPy 2, JAX, PyTorch,
TensorFlow) and per case, the training step of the layer alone (forward, then the gradients
with respect to the input, the kernel and the bias, as in a network) of:

- ours, implementations 1, 2, 3 and "auto", through the backend's own autodiff;
- implementation 1 with the backend's own patch builder (native_patches.py), which the
  package does not use: this is the measurement that says so;
- implementation 1 on the same case in the other data format (inputs and outputs transposed
  beforehand), so that "channels_first / channels_last" is what the data format costs;
- the peer: JAX `flax.linen.ConvLocal`; PyTorch `F.unfold` + `einsum` with a per-position
  weight (the recipe PyTorch users write); TensorFlow's peer, tf-keras, is measured by
  bench/run.py in the TensorFlow venv;
- Conv1D/Conv2D of the same shape (shared weights, the same FLOPs), as a reference;
- the case's batched matmul alone on ready-made patches (forward and both gradients): what
  the weights' traffic costs with no patches to build, so that "ours / matmul" is the cost of
  building patches and moving axes, and "matmul / conv" that of reading a kernel per position.

The variants of a case are timed in turns (timing.interleaved_median_seconds), so that the
ratios between them are not the machine's drift. On the memory cases (DeepFace's L4 layer)
each variant also runs alone in a fresh process, whose peak RSS (imports included, as
`/usr/bin/time` reports it) is the memory column.

Nothing here assumes a CPU: on a machine with a GPU each backend uses it as Keras does, and
`--gpu` (`make bench-gpu`) refuses to run where a backend sees no GPU, times each backend
within `--time-limit` seconds and writes backends-gpu.csv/md (no memory column: host RSS says
nothing of a GPU's memory). Writes bench/results/backends.csv and backends.md; a run of some
backends keeps the other backends' rows of the existing csv (each backend is a run of its own).

`--keep-freed-memory` runs each backend with glibc's malloc told to keep the memory it frees
(`timing.KEEP_FREED_MEMORY`, a setting of the whole process, which the package leaves to its
user): every backend takes its CPU buffers from malloc (TensorFlow too, unless its own pool is
on), so every large temporary is otherwise page-faulted in again at every step. It writes
backends-keep-memory.csv/md, with no memory column (the setting trades memory for time).

    python backends.py [--backends jax torch tensorflow] [--cases NAME ...] [--memory-cases NAME ...]
                       [--repeats 5] [--gpu --time-limit 150] [--keep-freed-memory]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import subprocess
import sys

from timing import KEEP_FREED_MEMORY, child_environment

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
BACKENDS = ("jax", "torch", "tensorflow")
PEERS = {"jax": "flax ConvLocal", "torch": "F.unfold + einsum", "tensorflow": None}
VARIANTS = ("ours 1", "ours 1 native", "ours 1 other format", "ours 2", "ours 3", "ours auto", "peer", "conv",
            "matmul")
IMPLEMENTATIONS = ("ours 1", "ours 2", "ours 3")  # what the package ships
MEMORY_VARIANTS = ("ours 1", "ours 2", "ours 3", "ours auto", "peer", "conv")
FIELDS = ["backend", "case", "variant", "ms", "peak_mib", "note"]


def _bench_cases() -> dict:
    from cases import CASES, L4_CASES

    return {**CASES, **L4_CASES}


# ---------------------------------------------------------------------------
# One backend, in its own process
# ---------------------------------------------------------------------------


def _arrays(case: dict, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case["input_shape"]).astype("float32")
    return x, rng


def _keras_layer_step(layer, x_numpy, probe_numpy):
    """A run of the training step of a Keras layer on the active backend: the forward, then the
    gradients of the input and of every weight. The run returns the loss first: the step must
    compute the layer's outputs, which a compiler would otherwise prune, as the gradients of
    `sum(outputs * probe)` do not depend on them."""
    import keras

    backend = keras.backend.backend()
    layer.build(x_numpy.shape)
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        x, probe = jnp.asarray(x_numpy), jnp.asarray(probe_numpy)
        variables = [v.value for v in layer.trainable_variables]

        def loss(variables, x):
            y, _ = layer.stateless_call(variables, [], x)
            return jnp.sum(y * probe)

        step = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
        return lambda: jax.block_until_ready(step(variables, x))
    if backend == "torch":
        import torch

        device = keras.ops.zeros(1).device  # where Keras puts tensors (a GPU when there is one)
        x = torch.as_tensor(x_numpy, device=device).requires_grad_()
        probe = torch.as_tensor(probe_numpy, device=device)

        def run():
            x.grad = None
            for variable in layer.trainable_variables:
                variable.value.grad = None
            loss = (layer(x) * probe).sum()
            loss.backward()
            if x.is_cuda:
                torch.cuda.synchronize()
            return loss.detach()

        return run
    import tensorflow as tf

    x, probe = tf.constant(x_numpy), tf.constant(probe_numpy)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x) * probe)
        # The loss and the sums of every gradient: all of them computed, one small copy to
        # wait on (as block_until_ready on JAX).
        gradients = tape.gradient(loss, [x] + list(layer.trainable_variables))
        return tf.stack([loss] + [tf.reduce_sum(g) for g in gradients])

    return lambda: step(x).numpy()


def _flax_step(case: dict, x_numpy, probe_numpy):
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    module = nn.ConvLocal(features=case["filters"], kernel_size=case["kernel"], strides=case["strides"],
                          padding="VALID")
    channels_first = case["data_format"] == "channels_first"
    x, probe = jnp.asarray(x_numpy), jnp.asarray(probe_numpy)

    def forward(params, x):
        if channels_first:  # flax is channels_last: what its users do with NCHW data
            x = jnp.moveaxis(x, 1, -1)
        y = module.apply(params, x)
        return jnp.moveaxis(y, -1, 1) if channels_first else y

    params = module.init(jax.random.PRNGKey(0), jnp.moveaxis(x, 1, -1) if channels_first else x)
    step = jax.jit(jax.value_and_grad(lambda p, x: jnp.sum(forward(p, x) * probe), argnums=(0, 1)))
    return lambda: jax.block_until_ready(step(params, x))


def _torch_recipe_step(case: dict, x_numpy, probe_numpy):
    """What PyTorch users write: F.unfold patches, one einsum with a per-position weight."""
    import keras
    import torch
    import torch.nn.functional as F

    device = keras.ops.zeros(1).device  # where Keras puts tensors (a GPU when there is one)
    rank, channels_first = len(case["spatial"]), case["data_format"] == "channels_first"
    kernel = case["kernel"] + (1,) * (2 - rank)
    strides = case["strides"] + (1,) * (2 - rank)
    x = torch.as_tensor(x_numpy, device=device).requires_grad_()
    probe = torch.as_tensor(probe_numpy, device=device)
    weight = torch.randn(case["positions"], case["features"], case["filters"], device=device,
                         requires_grad=True)
    bias = torch.zeros(case["positions"], case["filters"], device=device, requires_grad=True)

    def forward(x):
        images = x if channels_first else torch.movedim(x, -1, 1)  # NCHW, as unfold wants
        if rank == 1:
            images = images.unsqueeze(-1)
        patches = F.unfold(images, kernel, stride=strides)  # (batch, channels * taps, positions)
        y = torch.einsum("bkl,lkf->blf", patches, weight) + bias
        y = y.reshape((y.shape[0],) + tuple(o for o in case["output"]) + (case["filters"],))
        return torch.movedim(y, -1, 1) if channels_first else y

    def run():
        x.grad = weight.grad = bias.grad = None
        (forward(x) * probe).sum().backward()
        if x.is_cuda:
            torch.cuda.synchronize()

    return run


def _our_layer_class(case: dict) -> type:
    from locally_connected import LocallyConnected1D, LocallyConnected2D

    return LocallyConnected2D if len(case["spatial"]) == 2 else LocallyConnected1D


def _our_layer(case: dict, implementation):
    return _our_layer_class(case)(case["filters"], case["kernel"], strides=case["strides"],
                                  data_format=case["data_format"], implementation=implementation)


def _conv_layer(case: dict):
    import keras

    conv_class = keras.layers.Conv2D if len(case["spatial"]) == 2 else keras.layers.Conv1D
    return conv_class(case["filters"], case["kernel"], strides=case["strides"], data_format=case["data_format"])


def _matmul_step(case: dict, rng):
    """The case's batched matmul alone: `(positions, batch, features) @ (positions, features,
    filters)` on ready-made patches, with both gradients, as a Keras layer of one weight."""
    import keras

    from cases import matmul_operands

    patches, kernel = matmul_operands(case, rng)

    class BatchedMatmul(keras.layers.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(shape=kernel.shape, initializer=keras.initializers.Constant(kernel))

        def call(self, inputs):
            return keras.ops.matmul(inputs, self.kernel)

    probe = rng.standard_normal((case["positions"], case["batch"], case["filters"])).astype("float32")
    return _keras_layer_step(BatchedMatmul(), patches, probe)


def _variant_run(case: dict, variant: str, x, probe, row: dict):
    """The step of one variant, or None with the reason in `row["note"]`."""
    import keras
    import numpy as np

    import native_patches
    from cases import skip_reason

    backend = keras.backend.backend()
    if variant == "ours 1 native":
        if not native_patches.supports(len(case["spatial"])):
            row["note"] = "no native builder for this rank"
            return None
        layer = native_patches.native_patches_layer(
            _our_layer_class(case), case["filters"], case["kernel"], strides=case["strides"],
            data_format=case["data_format"])
        return _keras_layer_step(layer, x, probe)
    if variant == "ours 1 other format":
        other = _in_other_format(case)
        axes = (-1, 1) if case["data_format"] == "channels_last" else (1, -1)
        x_other, probe_other = (np.ascontiguousarray(np.moveaxis(a, *axes)) for a in (x, probe))
        return _keras_layer_step(_our_layer(other, 1), x_other, probe_other)
    if variant.startswith("ours"):
        implementation = variant.split()[1]
        implementation = implementation if implementation == "auto" else int(implementation)
        reason = skip_reason(case, "ours", implementation)
        if reason:
            row["note"] = f"skip: {reason}"
            return None
        layer = _our_layer(case, implementation)
        run = _keras_layer_step(layer, x, probe)
        if implementation == "auto":
            row["note"] = f"={layer.resolved_implementation}"
        return run
    if variant == "conv":
        return _keras_layer_step(_conv_layer(case), x, probe)
    if variant == "matmul":
        return _matmul_step(case, np.random.default_rng(1))
    if PEERS[backend] is None:
        row["note"] = "tf-keras: see bench/run.py"
        return None
    return _flax_step(case, x, probe) if backend == "jax" else _torch_recipe_step(case, x, probe)


def _in_other_format(case: dict) -> dict:
    from cases import _case

    other = "channels_first" if case["data_format"] == "channels_last" else "channels_last"
    return _case(case["batch"], case["spatial"], case["channels"], case["kernel"][0], case["strides"][0],
                 case["filters"], other)


def _case_arrays(case: dict):
    x, rng = _arrays(case)
    output_shape = ((case["batch"], case["filters"]) + case["output"] if case["data_format"] == "channels_first"
                    else (case["batch"],) + case["output"] + (case["filters"],))
    return x, rng.standard_normal(output_shape).astype("float32")


def _require_gpu(backend: str) -> None:
    """Stops a `--gpu` run whose backend would silently run on the CPU."""
    if backend == "torch":
        import torch

        found = torch.cuda.is_available()
    elif backend == "jax":
        import jax

        found = jax.default_backend() == "gpu"
    else:
        import tensorflow as tf

        found = bool(tf.config.list_physical_devices("GPU"))
    if not found:
        raise SystemExit(f"--gpu: {backend} sees no GPU here")


def measure_backend(case_names: list[str], repeats: int) -> list[dict]:
    import keras

    from timing import interleaved_median_seconds

    backend = keras.backend.backend()
    cases = _bench_cases()
    rows = []
    for name in case_names:
        case = cases[name]
        x, probe = _case_arrays(case)
        case_rows, runs = {}, {}
        for variant in VARIANTS:
            row = case_rows[variant] = {"backend": backend, "case": name, "variant": variant, "ms": "",
                                        "peak_mib": "", "note": ""}
            try:
                run = _variant_run(case, variant, x, probe, row)
                if run is not None:
                    run()  # compiles (JAX, TF graphs) and warms up
                    runs[variant] = run
            except Exception as error:  # a failed variant is a result, not the end of the run
                row["note"] = f"error: {type(error).__name__}: {str(error).splitlines()[0][:120]}"
        # All variants of a case in turns: "auto" and the implementation it runs are timed
        # alike, so their ratio shows the cost model, not the machine's drift.
        for variant, seconds in interleaved_median_seconds(runs, repeats).items():
            case_rows[variant]["ms"] = round(1000 * seconds, 3)
        for row in case_rows.values():
            _emit(rows, row)
    return rows


def measure_memory(case_name: str, variant: str) -> None:
    """One variant's peak memory: this process runs only its training step (three times),
    so the peak is the variant's plus the imports all variants share."""
    import keras

    case = _bench_cases()[case_name]
    x, probe = _case_arrays(case)
    row = {"backend": keras.backend.backend(), "case": case_name, "variant": variant, "ms": "", "peak_mib": "",
           "note": ""}
    run = _variant_run(case, variant, x, probe, row)
    if run is not None:
        for _ in range(3):
            run()
        row["peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(row), flush=True)


def _emit(rows: list[dict], row: dict) -> None:
    """Keeps a result and hands it to the parent process (one JSON line)."""
    rows.append(row)
    print(json.dumps(row), flush=True)


# ---------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def _ratio(numerator, denominator, values: list | None = None) -> str:
    if not (numerator and denominator):
        return "-"
    if values is not None:
        values.append(numerator / denominator)
    return f"{numerator / denominator:.2f}x"


def markdown(rows: list[dict], gpu: bool = False, environment: dict | None = None) -> str:
    from timing import machine

    table = {(r["backend"], r["case"], r["variant"]): r for r in rows}
    data_formats = {name: case["data_format"] for name, case in _bench_cases().items()}
    lines = [f"Machine: {_gpu_name() if gpu else machine()}. Training step of the layer alone (forward, gradients "
             "of input, kernel and bias), median ms. Peer: JAX flax.linen.ConvLocal, PyTorch F.unfold + "
             "einsum; TensorFlow's (tf-keras) is in the TensorFlow tables. Conv: Conv1D/Conv2D of the "
             "same shape. Matmul: the case's batched matmul alone on ready-made patches (forward and "
             "both gradients).", ""]
    if environment:
        lines[0] += " Environment of every backend's process: " + " ".join(
            f"`{k}={v}`" for k, v in environment.items()) + "."
    for backend in BACKENDS:
        cases = [c for (b, c, v) in table if b == backend and v == "conv"]
        if not cases:
            continue
        lines += [f"### {backend}", "",
                  "| case | ours 1 | ours 1, native patches | ours 1, other format | ours 2 | ours 3 | ours auto "
                  "| peer | conv | matmul | auto vs peer | auto / our best | chosen / our best | our best / conv "
                  "| matmul / conv | our best / matmul | native / ours 1 | ours 1 channels_first / channels_last |",
                  "|" + "---|" * 19]
        speedups, conv_ratios, matmul_ratios, build_ratios, auto_ratios, format_ratios = [], [], [], [], [], []
        chosen_ratios = []
        for case in cases:
            cells, times = [], {}
            for variant in VARIANTS:
                row = table[(backend, case, variant)]
                if row["ms"] != "":
                    times[variant] = float(row["ms"])
                    note = f" ({row['note']})" if row["note"].startswith("=") else ""
                    cells.append(f"{float(row['ms']):.2f}{note}")
                else:
                    cells.append(row["note"] or "-")
            best = min((times[v] for v in IMPLEMENTATIONS if v in times), default=None)
            auto, peer, conv, matmul = (times.get(v) for v in ("ours auto", "peer", "conv", "matmul"))
            # The implementation auto runs, timed as its own variant: whether the rule chose the
            # fastest, apart from the spread between two layers that run one implementation.
            choice = table[(backend, case, "ours auto")]["note"] or ""
            chosen = times.get(f"ours {choice[1:]}") if choice.startswith("=") else None
            first, last = times.get("ours 1 other format"), times.get("ours 1")
            if data_formats[case] == "channels_first":
                first, last = last, first
            ratios = [_ratio(peer, auto, speedups), _ratio(auto, best, auto_ratios),
                      _ratio(chosen, best, chosen_ratios), _ratio(best, conv, conv_ratios),
                      _ratio(matmul, conv, matmul_ratios), _ratio(best, matmul, build_ratios),
                      _ratio(times.get("ours 1 native"), times.get("ours 1")), _ratio(first, last, format_ratios)]
            lines.append(f"| {case} | " + " | ".join(cells + ratios) + " |")
        chosen_summary = (f" (the implementation it runs, timed as its own variant, within {max(chosen_ratios):.2f}x)"
                          if chosen_ratios else "")
        summary = (f"Geometric means: our best / conv {_geomean(conv_ratios):.2f}x (matmul alone / conv "
                   f"{_geomean(matmul_ratios):.2f}x, our best / matmul alone {_geomean(build_ratios):.2f}x); "
                   f"auto within {max(auto_ratios):.2f}x of our best on every case{chosen_summary}; "
                   f"implementation 1 with "
                   f"channels_first inputs {min(format_ratios):.2f}x-{max(format_ratios):.2f}x its channels_last time")
        if speedups:
            summary = (f"Geometric means: auto vs peer {_geomean(speedups):.2f}x faster "
                       f"(min {min(speedups):.2f}x); " + summary[len("Geometric means: "):])
        lines += ["", summary + ".", ""]
        memory_cases = [c for c in cases if any(table[(backend, c, v)].get("peak_mib") for v in MEMORY_VARIANTS)]
        if memory_cases:
            lines += ["Peak memory, MiB: each variant alone in a fresh process (three training steps, imports "
                      "included, as `/usr/bin/time` reports it).", "",
                      "| case | " + " | ".join(MEMORY_VARIANTS) + " | ours 3 / ours 1 |",
                      "|" + "---|" * (len(MEMORY_VARIANTS) + 2)]
            for case in memory_cases:
                peaks = {v: table[(backend, case, v)].get("peak_mib") for v in MEMORY_VARIANTS}
                cells = [str(peaks[v]) if peaks[v] else (table[(backend, case, v)]["note"] or "-")
                         for v in MEMORY_VARIANTS]
                lines.append(f"| {case} | " + " | ".join(cells) + f" | {_ratio(peaks['ours 3'], peaks['ours 1'])} |")
            lines.append("")
    return "\n".join(lines)


def _gpu_name() -> str:
    try:
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                               text=True, timeout=30).stdout.split("\n")
        return f"{names[0].strip()} (GPU)"
    except (OSError, subprocess.SubprocessError):
        return "a GPU (nvidia-smi not found)"


def kept_rows(path: str, backends: list[str]) -> list[dict]:
    """The rows of `path` (a results csv) of the backends not in `backends`, numbers as numbers."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["backend"] not in backends]
    for row in rows:
        for key, value in row.items():
            if value not in ("", None) and (key == "ms" or key.startswith("ms ")):
                row[key] = float(value)
            elif value not in ("", None) and key == "peak_mib":
                row[key] = int(value)
    return rows


def backend_environment(backend: str, keep_freed_memory: bool = False) -> dict:
    """The environment of a backend's child process: the backend, and glibc's malloc keeping
    freed memory only where asked (never inherited from the shell)."""
    settings = KEEP_FREED_MEMORY if keep_freed_memory else {}
    return child_environment({**settings, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}, KEEP_FREED_MEMORY)


def run_child(script: str, arguments: list[str], environment: dict,
              timeout: float | None = None) -> tuple[list[dict], str, bool]:
    """Runs a bench script in a child process: its JSON rows, its stderr if it failed (never
    empty then), whether it timed out."""
    try:
        completed = subprocess.run([sys.executable, script, *arguments], cwd=HERE, env=environment,
                                   capture_output=True, text=True, timeout=timeout)
        stdout, stderr, failed, timed_out = completed.stdout, completed.stderr, completed.returncode != 0, False
    except subprocess.TimeoutExpired as expired:  # what it measured in time still counts
        def text(output):
            return output.decode(errors="replace") if isinstance(output, bytes) else output or ""

        stdout, stderr, failed, timed_out = text(expired.stdout), text(expired.stderr), True, True
    rows = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return rows, (stderr or "the child process failed with no message") if failed else "", timed_out


def main() -> None:
    from cases import L4_CASES

    cases = _bench_cases()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--cases", nargs="+", default=list(cases), choices=list(cases))
    parser.add_argument("--memory-cases", nargs="*", default=list(L4_CASES), choices=list(cases))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gpu", action="store_true", help="run on the GPU each backend sees, or stop")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per backend (timing stops there)")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="run the backends with glibc's malloc keeping the memory it frees")
    parser.add_argument("--one-backend", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_backend or args.memory_of:  # a child process: KERAS_BACKEND is set
        import keras

        if args.gpu:
            _require_gpu(keras.backend.backend())
        if args.memory_of:
            measure_memory(args.cases[0], args.memory_of)
        else:
            measure_backend(args.cases, args.repeats)
        return
    memory_cases = [] if args.gpu or args.keep_freed_memory else args.memory_cases
    settings = KEEP_FREED_MEMORY if args.keep_freed_memory else {}
    rows = []
    for backend in args.backends:
        environment = backend_environment(backend, args.keep_freed_memory)
        flags = ["--gpu"] if args.gpu else []
        backend_rows, stderr, timed_out = run_child(
            __file__, ["--one-backend", "--repeats", str(args.repeats), "--cases", *args.cases, *flags], environment,
            args.time_limit)
        if stderr and not backend_rows:
            print(stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"the {backend} run failed")
        if timed_out:
            print(f"{backend}: stopped at the time limit ({args.time_limit:.0f} s)", file=sys.stderr)
        by_key = {(r["case"], r["variant"]): r for r in backend_rows}
        for case in memory_cases:
            for variant in MEMORY_VARIANTS:
                row = by_key.get((case, variant))
                if row is None or row["ms"] == "":  # skipped or failed: nothing to measure
                    continue
                arguments = ["--memory-of", variant, "--cases", case]
                memory_rows, stderr, _ = run_child(__file__, arguments, environment, 600)
                if memory_rows and memory_rows[0]["peak_mib"] != "":
                    row["peak_mib"] = memory_rows[0]["peak_mib"]
                elif stderr:
                    row["note"] = (row["note"] + "; " if row["note"] else "") + "memory run failed"
        rows += backend_rows
        print(f"{backend}: {len(backend_rows)} measurements", flush=True)
    suffix = ("-gpu" if args.gpu else "") + ("-keep-memory" if args.keep_freed_memory else "")
    os.makedirs(RESULTS, exist_ok=True)
    rows = kept_rows(os.path.join(RESULTS, f"backends{suffix}.csv"), args.backends) + rows
    with open(os.path.join(RESULTS, f"backends{suffix}.csv"), "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(RESULTS, f"backends{suffix}.md"), "w") as file:
        file.write(markdown(rows, args.gpu, settings))
    print(markdown(rows, args.gpu, settings))


if __name__ == "__main__":
    main()
