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
import subprocess
import sys

import numpy as np

from cases import CASES, matmul_operands
from run import CONFIGS, HERE, RESULTS
from timing import median_seconds

LIBRARIES = ("jax", "torch")
TARGET = 0.70


def _jax_runs(dense: np.ndarray, rng) -> tuple:
    """(a dense matmul run, case -> a run of the case's matmul alone) on JAX."""
    import jax
    import jax.numpy as jnp

    dense = jnp.asarray(dense)
    matmul = jax.jit(lambda a: a @ a)
    # Forward, patches gradient and kernel gradient, as a training step computes them (the
    # loss is returned: the gradients of a sum do not need the product, which XLA would prune).
    gradients = jax.jit(jax.value_and_grad(lambda p, k: jnp.sum(jnp.matmul(p, k)), argnums=(0, 1)))

    def matmul_alone(case: dict):
        patches, kernel = (jnp.asarray(t) for t in matmul_operands(case, rng))
        return lambda: jax.block_until_ready(gradients(patches, kernel))

    return (lambda: matmul(dense).block_until_ready()), matmul_alone


def _torch_runs(dense: np.ndarray, rng) -> tuple:
    """(a dense matmul run, case -> a run of the case's matmul alone) on PyTorch."""
    import torch

    dense = torch.from_numpy(dense)

    def matmul_alone(case: dict):
        patches, kernel = (torch.from_numpy(t).requires_grad_() for t in matmul_operands(case, rng))

        def run():
            patches.grad = kernel.grad = None
            torch.matmul(patches, kernel).sum().backward()

        return run

    return (lambda: dense @ dense), matmul_alone


def _gflops(flops: int, run, repeats: int) -> float:
    run()  # compiles (JAX) and warms up
    return flops / median_seconds(run, repeats) / 1e9


def measure(library: str, repeats: int) -> list[dict]:
    rng = np.random.default_rng(0)
    dense = rng.standard_normal((2048, 2048)).astype("float32")
    dense_run, matmul_alone = (_jax_runs if library == "jax" else _torch_runs)(dense, rng)
    roof = _gflops(2 * 2048**3, dense_run, repeats)
    rows = []
    for name, case in CASES.items():
        ceiling = _gflops(3 * case["flops"], matmul_alone(case), repeats)
        rows.append({"library": library, "case": name, "roof_gflops": roof,
                     "ceiling_gflops": ceiling, "ceiling_fraction": ceiling / roof})
    return rows


def _tensorflow_fractions() -> dict:
    """{("tf <config>", case): matmul-alone fraction of the roof} from the TF summaries on disk."""
    fractions = {}
    for config in CONFIGS:
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
