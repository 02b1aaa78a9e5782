"""`make bench`, calibration part: does "auto" pick our fastest implementation on shapes
beyond the bench cases?

Per Keras backend (one process each, in the backends venv) and per shape of a grid (4 inputs
x 4 filter counts x both data formats at batch 32, Keras' default; 4 inputs x 16 and 32
filters x both data formats at batches 16 and 64, where the rule's batch bound lies; kernel
3), the training step of implementations 1, 2, 3 and "auto", timed in turns, each layer
built for its batch. The rule in `locally_connected.implementations.choose_implementation`
was fitted to these runs and the bench cases; the table shows how far "auto" is from the
fastest of 1, 2 and 3 on each, and how far the implementation it chose is.
Writes bench/results/calibration.csv and calibration.md; a run of some backends keeps the
other backends' rows of the existing csv.

    python calibrate.py [--backends jax torch tensorflow] [--repeats 5]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys

from backends import (
    BACKENDS,
    RESULTS,
    _case_arrays,
    _geomean,
    _keras_layer_step,
    _our_layer,
    backend_environment,
    kept_rows,
    run_child,
)
from cases import _case

INPUTS = [((16, 16), 4), ((28, 28), 1), ((32, 32), 4), ((24, 24), 16)]
DATA_FORMATS = ("channels_last", "channels_first")
# Per batch, the filter counts timed at it.
FILTERS = {32: (4, 8, 16, 32), 16: (16, 32), 64: (16, 32)}
VARIANTS = (1, 2, 3, "auto")


def _shapes() -> dict:
    shapes = {}
    for batch, filter_counts in FILTERS.items():
        for (spatial, channels), filters, data_format in ((i, f, d) for i in INPUTS for f in filter_counts
                                                           for d in DATA_FORMATS):
            name = (f"b{batch}_{'x'.join(map(str, spatial))}x{channels}_f{filters}"
                    f"{'_cf' if data_format == 'channels_first' else ''}")
            shapes[name] = _case(batch, spatial, channels, 3, 1, filters, data_format)
    return shapes


def measure_backend(repeats: int) -> None:
    import keras

    from timing import interleaved_median_seconds

    backend = keras.backend.backend()
    for name, case in _shapes().items():
        x, probe = _case_arrays(case)
        runs, chosen = {}, None
        for implementation in VARIANTS:
            layer = _our_layer(case, implementation)
            runs[implementation] = _keras_layer_step(layer, x, probe)
            runs[implementation]()
            if implementation == "auto":
                chosen = layer.resolved_implementation
        times = interleaved_median_seconds(runs, repeats, min_seconds=0.5)
        print(json.dumps({"backend": backend, "shape": name, "auto": chosen,
                          **{f"ms {v}": round(1000 * t, 3) for v, t in times.items()}}), flush=True)


def markdown(rows: list[dict]) -> str:
    from timing import machine

    lines = [f"Machine: {machine()}. Training step (forward, gradients of input, kernel and bias), median ms, "
             "kernel 3, implementations timed in turns; `auto / best`: auto's time over the fastest "
             "of 1, 2 and 3; `chosen / best`: the time of the implementation auto runs, timed as its own "
             "variant, over the fastest (whether the rule chose it, apart from the spread between two "
             "layers that run one implementation).", ""]
    for backend in BACKENDS:
        backend_rows = [r for r in rows if r["backend"] == backend]
        if not backend_rows:
            continue
        lines += [f"### {backend}", "", "| shape | 1 | 2 | 3 | auto | auto / best | chosen / best |",
                  "|---|---|---|---|---|---|---|"]
        ratios, chosen_ratios = [], []
        for row in backend_rows:
            best = min(row[f"ms {v}"] for v in (1, 2, 3))
            ratios.append(row["ms auto"] / best)
            chosen_ratios.append(row[f"ms {row['auto']}"] / best)
            lines.append(f"| {row['shape']} | {row['ms 1']:.2f} | {row['ms 2']:.2f} | {row['ms 3']:.2f} | "
                         f"{row['ms auto']:.2f} (={row['auto']}) | {ratios[-1]:.2f}x | {chosen_ratios[-1]:.2f}x |")
        lines += ["", f"auto / best: geometric mean {_geomean(ratios):.2f}x, at most {max(ratios):.2f}x; "
                  f"chosen / best: geometric mean {_geomean(chosen_ratios):.2f}x, at most {max(chosen_ratios):.2f}x.",
                  ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--one-backend", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_backend:
        measure_backend(args.repeats)
        return
    rows = []
    for backend in args.backends:
        environment = backend_environment(backend)
        backend_rows, stderr, _ = run_child(__file__, ["--one-backend", "--repeats", str(args.repeats)], environment)
        if stderr:
            print(stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"the {backend} calibration run failed")
        rows += backend_rows
    os.makedirs(RESULTS, exist_ok=True)
    rows = kept_rows(os.path.join(RESULTS, "calibration.csv"), args.backends) + rows
    with open(os.path.join(RESULTS, "calibration.csv"), "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(RESULTS, "calibration.md"), "w") as file:
        file.write(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
