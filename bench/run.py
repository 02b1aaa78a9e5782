"""`make bench`: our implementations 1, 2, 3 and "auto" against tf-keras 2.21's 1, 2, 3.

`--config default` runs TensorFlow as it comes on this CPU; `--config onednn` sets
TF_ENABLE_ONEDNN_OPTS=1 (TensorFlow's own default on CPUs with AVX-512 VNNI/BF16/AMX; off on
others, such as AVX2-only ones), whose batched matmul kernels are several times faster;
`--config tuned` compiles the steps with XLA (`jit_compile=True`) and keeps glibc's malloc from
handing freed memory back to the kernel (MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_), so large
temporaries are not page-faulted in again at every step. It runs our implementations only:
tf-keras's implementation 1 is one slice per position, and TensorFlow's sparse matmul (their
and our implementation 3) has no XLA kernel.
Writes bench/results/<config>.csv (every measurement), <config>-summary.csv (per case: best
times, GFLOP/s, roof and matmul-alone figures), <config>.md (the tables the README shows) and,
where tf-keras ran, ratios-<config>.png. Every measurement runs in its own process
(bench/measure.py), with the configuration's environment.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

from cases import CASES, skip_reason
from timing import KEEP_FREED_MEMORY, child_environment, machine

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
CONTENDERS = [("ours", 1), ("ours", 2), ("ours", 3), ("ours", "auto"),
              ("tf_keras", 1), ("tf_keras", 2), ("tf_keras", 3)]


CONFIGS = {
    "default": {"environment": {}, "jit": False, "contenders": CONTENDERS},
    "onednn": {"environment": {"TF_ENABLE_ONEDNN_OPTS": "1"}, "jit": False, "contenders": CONTENDERS},
    "tuned": {"environment": KEEP_FREED_MEMORY,
              "jit": True, "contenders": [("ours", 1), ("ours", 2), ("ours", "auto")]},
}
_SET_BY_CONFIGS = {name for config in CONFIGS.values() for name in config["environment"]}


def _environment(config: str) -> dict:
    return child_environment(CONFIGS[config]["environment"], _SET_BY_CONFIGS)


def _run(config: str, *args: str) -> dict:
    jit = ["--jit"] if CONFIGS[config]["jit"] else []
    completed = subprocess.run([sys.executable, os.path.join(HERE, "measure.py"), *args, *jit],
                               capture_output=True, text=True, cwd=HERE, env=_environment(config))
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1][:200]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _machine() -> str:
    import tensorflow as tf  # noqa: F401 (version only)

    return f"{machine()}, TF {tf.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--config", choices=CONFIGS, default="default")
    args = parser.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    roof = _run(args.config, "--roof")
    rows, ceilings = [], {}
    for name in args.cases:
        case = CASES[name]
        ceilings[name] = _run(args.config, "--ceiling", "--case", name,
                              "--repeats", str(args.repeats)).get("ceiling_gflops", math.nan)
        for library, implementation in CONFIGS[args.config]["contenders"]:
            reason = skip_reason(case, library, implementation)
            started = time.perf_counter()
            result = {"skipped": reason} if reason else _run(
                args.config, "--case", name, "--library", library, "--implementation", str(implementation),
                "--repeats", str(args.repeats))
            row = {"case": name, "library": library, "implementation": implementation, **result}
            rows.append(row)
            print(f"{name:26s} {library:8s} {implementation!s:5s} "
                  + (f"skipped: {reason}" if reason else result.get("error", "")
                     or f"train {result['train_ms']:9.1f} ms  forward {result['forward_ms']:8.1f} ms  "
                        f"first step {result['first_step_s']:6.2f} s  peak {result['peak_mb']:7.0f} MB")
                  + f"  [{time.perf_counter() - started:.0f} s]", flush=True)
    summary = summarize(rows, roof["roof_gflops"], ceilings)
    write_outputs(rows, summary, roof, args.config)


def _best(rows, library):
    timed = [r for r in rows if r["library"] == library and "train_ms" in r]
    return min(timed, key=lambda r: r["train_ms"]) if timed else None


def summarize(rows: list[dict], roof: float, ceilings: dict) -> list[dict]:
    summary = []
    for name, case in CASES.items():
        case_rows = [r for r in rows if r["case"] == name]
        if not case_rows:
            continue
        ours, theirs = _best(case_rows, "ours"), _best(case_rows, "tf_keras")
        by = {(r["library"], r["implementation"]): r for r in case_rows}
        default, theirs_1 = by[("ours", 1)], by.get(("tf_keras", 1), {})
        gflops = 3 * case["flops"] / ours["train_ms"] / 1e6 if ours else math.nan
        summary.append({
            "case": name,
            "ours_best": f"{ours['implementation']}" if ours else "-",
            "ours_best_ms": ours["train_ms"] if ours else math.nan,
            "tf_keras_best": f"{theirs['implementation']}" if theirs else "-",
            "tf_keras_best_ms": theirs["train_ms"] if theirs else math.nan,
            "speedup_best": theirs["train_ms"] / ours["train_ms"] if ours and theirs else math.nan,
            "speedup_impl1": (theirs_1["train_ms"] / default["train_ms"]
                              if "train_ms" in theirs_1 and "train_ms" in default else math.nan),
            "auto_chose": by[("ours", "auto")].get("chosen", "-"),
            "roof_gflops": roof,
            "gflops": gflops,
            "roof_fraction": gflops / roof,
            "ceiling_gflops": ceilings[name],
            "ceiling_fraction": ceilings[name] / roof,
            "first_step_ours_s": default.get("first_step_s", math.nan),
            "first_step_tf_keras1_s": theirs_1.get("first_step_s", math.nan),
        })
    return summary


def write_outputs(rows: list[dict], summary: list[dict], roof: dict, config: str) -> None:
    fields = ["case", "library", "implementation", "chosen", "build_s", "first_step_s", "train_ms",
              "forward_ms", "peak_mb", "skipped", "error"]
    with open(os.path.join(RESULTS, f"{config}.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(RESULTS, f"{config}-summary.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(summary[0]))
        writer.writeheader()
        writer.writerows(summary)

    def cell(row: dict | None, key: str, fmt: str) -> str:
        if row is None:
            return "not run"
        if "skipped" in row:
            return "skip: " + row["skipped"]
        if "error" in row:
            return "error"
        return format(row[key], fmt)

    onednn = {True: "on", False: "off", None: "unknown"}[roof["onednn"]]
    settings = CONFIGS[config]
    environment = " ".join(f"{k}={v}" for k, v in settings["environment"].items()) or "none"
    compiled = "tf.function with XLA (jit_compile=True)" if settings["jit"] else "tf.function"
    lines = [
        f"Configuration `{config}` (TensorFlow oneDNN kernels {onednn}; environment: {environment}). "
        f"Machine: {_machine()}. Dense float32 2048^3 matmul in the same run: "
        f"{roof['graph_gflops']:.1f} GFLOP/s as a TF graph, {roof['xla_gflops']:.1f} with XLA; "
        f"the roof is the faster, {roof['roof_gflops']:.1f} GFLOP/s.",
        "",
        f"Training step (forward + backward incl. input gradient, {compiled}), median ms. The last "
        "column is the case's batched matmul alone on ready-made patches (its forward and both "
        "gradients): no patches formulation can beat it.",
        "",
    ]
    contenders = settings["contenders"]
    compared = any(library == "tf_keras" for library, _ in contenders)
    columns = [f"{'tf-keras' if library == 'tf_keras' else library} {implementation}"
               for library, implementation in contenders]
    columns += ["best vs best", "ours 1 vs tf-keras 1"] if compared else []
    columns += ["our best GFLOP/s (roof %)", "matmul alone GFLOP/s (roof %)"]
    lines += ["| case | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    speedups = []
    for s in summary:
        by = {(r["library"], r["implementation"]): r for r in rows if r["case"] == s["case"]}
        cells = [cell(by.get(c), "train_ms", ".1f") for c in contenders]
        auto = contenders.index(("ours", "auto"))
        cells[auto] += f" (={s['auto_chose']})" if "train_ms" in by[("ours", "auto")] else ""
        if compared:
            speedups.append(s["speedup_best"])
            cells += [f"{s['speedup_best']:.2f}x", f"{s['speedup_impl1']:.2f}x"]
        cells += [f"{s['gflops']:.1f} ({100 * s['roof_fraction']:.0f}%)",
                  f"{s['ceiling_gflops']:.1f} ({100 * s['ceiling_fraction']:.0f}%)"]
        lines.append(f"| {s['case']} | " + " | ".join(cells) + " |")
    valid = [v for v in speedups if not math.isnan(v)]
    if valid:
        geomean = math.exp(sum(map(math.log, valid)) / len(valid))
        lines += ["", f"Geometric mean speed-up, our best over tf-keras's best: {geomean:.2f}x "
                  f"(minimum {min(valid):.2f}x).", ""]
    else:
        lines += ["", "tf-keras does not run in this configuration: see `default` and `onednn` "
                  "for the comparison.", ""]
    lines += ["Build time (s), first training step (build + trace + run, s), forward (ms), peak memory (MB):", "",
              "| case | contender | build s | first step s | forward ms | peak MB |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "train_ms" in r:
            lines.append(f"| {r['case']} | {r['library']} {r['implementation']} | {r['build_s']:.2f} "
                         f"| {r['first_step_s']:.2f} | {r['forward_ms']:.1f} | {r['peak_mb']:.0f} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(RESULTS, f"{config}.md"), "w") as f:
        f.write(text)
    print("\n" + text)
    if valid:
        _plot(rows, summary, config)


def _plot(rows: list[dict], summary: list[dict], config: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s["case"] for s in summary]
    fig, ax = plt.subplots(figsize=(12, 5))
    width = 0.2
    for i, implementation in enumerate([1, 2, 3, "auto"]):
        ratios = []
        for s in summary:
            by = {(r["library"], r["implementation"]): r for r in rows if r["case"] == s["case"]}
            ours = by.get(("ours", implementation), {})
            ratios.append(s["tf_keras_best_ms"] / ours["train_ms"] if "train_ms" in ours else 0)
        ax.bar([j + (i - 1.5) * width for j in range(len(names))], ratios, width, label=f"ours {implementation}")
    ax.axhline(1, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("speed-up over tf-keras's best (training step)")
    ax.set_title(f"locally_connected vs tf-keras 2.21, config {config} (higher is better; 0 = not run)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS, f"ratios-{config}.png"), dpi=120)


if __name__ == "__main__":
    main()
