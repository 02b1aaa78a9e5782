"""`make bench`, last part: each case's batched matmul alone under JAX and PyTorch.

The TensorFlow configurations already measure it (bench/run.py, "matmul alone"). This asks
whether another Keras backend's kernels could reach the 70%-of-roof target where TensorFlow's
do not: the layer's whole product, on ready-made patches, with nothing else in the step, against
a dense 2048^3 matmul of the same library in the same process. Run with the backends venv
(NumPy 2, JAX, PyTorch); each library in its own process. Writes
bench/results/ceiling-backends.csv and ceiling-backends.md; the Markdown table also shows the
TensorFlow configurations' figures from their <config>-summary.csv where those exist.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from cases import CASES

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
LIBRARIES = ("jax", "torch")
TF_CONFIGS = ("default", "onednn", "tuned")
TARGET = 0.70


def _median_seconds(function, repeats: int, min_seconds: float = 1.0) -> float:
    function()
    times = []
    while len(times) < repeats or (sum(times) < min_seconds and len(times) < 1000):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _jax_steps(case: dict, rng) -> tuple:
    import jax
    import jax.numpy as jnp

    dense = jnp.asarray(rng.standard_normal((2048, 2048)).astype("float32"))
    matmul = jax.jit(lambda a: a @ a)
    patches = jnp.asarray(rng.standard_normal(
        (case["positions"], case["batch"], case["features"])).astype("float32"))
    kernel = jnp.asarray(rng.standard_normal(
        (case["positions"], case["features"], case["filters"])).astype("float32"))
    # Forward, patches gradient and kernel gradient, as a training step computes them.
    step = jax.jit(jax.grad(lambda p, k: jnp.sum(jnp.matmul(p, k)), argnums=(0, 1)))
    return (lambda: matmul(dense).block_until_ready(),
            lambda: jax.block_until_ready(step(patches, kernel)))


def _torch_steps(case: dict, rng) -> tuple:
    import torch

    dense = torch.from_numpy(rng.standard_normal((2048, 2048)).astype("float32"))
    patches = torch.from_numpy(rng.standard_normal(
        (case["positions"], case["batch"], case["features"])).astype("float32")).requires_grad_()
    kernel = torch.from_numpy(rng.standard_normal(
        (case["positions"], case["features"], case["filters"])).astype("float32")).requires_grad_()

    def step():
        patches.grad = kernel.grad = None
        torch.matmul(patches, kernel).sum().backward()

    return (lambda: dense @ dense), step


def measure(library: str, repeats: int) -> list[dict]:
    rng = np.random.default_rng(0)
    make_steps = _jax_steps if library == "jax" else _torch_steps
    rows = []
    for name, case in CASES.items():
        dense_step, matmul_step = make_steps(case, rng)
        roof = 2 * 2048**3 / _median_seconds(dense_step, repeats) / 1e9
        ceiling = 3 * case["flops"] / _median_seconds(matmul_step, repeats) / 1e9
        rows.append({"library": library, "case": name, "roof_gflops": roof,
                     "ceiling_gflops": ceiling, "ceiling_fraction": ceiling / roof})
    return rows


def _tensorflow_fractions() -> dict:
    """{("tf <config>", case): matmul-alone fraction of the roof} from the TF summaries on disk."""
    fractions = {}
    for config in TF_CONFIGS:
        path = os.path.join(RESULTS, f"{config}-summary.csv")
        if os.path.exists(path):
            with open(path) as f:
                for row in csv.DictReader(f):
                    fractions[f"tf {config}", row["case"]] = float(row["ceiling_fraction"])
    return fractions


def _markdown(rows: list[dict]) -> str:
    fractions = _tensorflow_fractions()
    fractions.update({(row["library"], row["case"]): row["ceiling_fraction"] for row in rows})
    columns = list(dict.fromkeys(column for column, _ in fractions))
    lines = [
        "Batched matmul alone (forward and both gradients, ready-made patches), % of the same "
        "library's dense 2048^3 matmul in the same process:",
        "",
        "| case | " + " | ".join(columns) + f" | best | reaches {TARGET:.0%} |",
        "|---" * (len(columns) + 3) + "|",
    ]
    for case in CASES:
        values = [fractions.get((column, case)) for column in columns]
        best = max(v for v in values if v is not None)
        cells = ["-" if v is None else f"{v:.0%}" for v in values]
        lines.append(f"| {case} | " + " | ".join(cells) + f" | {best:.0%} | {'yes' if best >= TARGET else 'no'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--library", choices=LIBRARIES, help="measure one library, print JSON")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if args.library:
        print(json.dumps(measure(args.library, args.repeats)))
        return
    rows = []
    for library in LIBRARIES:
        completed = subprocess.run([sys.executable, __file__, "--library", library, "--repeats", str(args.repeats)],
                                   capture_output=True, text=True, cwd=HERE, check=True)
        rows += json.loads(completed.stdout.strip().splitlines()[-1])
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "ceiling-backends.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    table = _markdown(rows)
    with open(os.path.join(RESULTS, "ceiling-backends.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
