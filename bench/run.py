"""`make bench`: our implementations 1, 2, 3 and "auto" against tf-keras 2.21's 1, 2, 3.

`--config default` runs TensorFlow as it comes on this CPU; `--config onednn` sets
TF_ENABLE_ONEDNN_OPTS=1 (TensorFlow's own default on CPUs with AVX-512 VNNI/BF16/AMX; off on
others, such as AVX2-only ones), whose batched matmul kernels are several times faster.
Writes bench/results/<config>.csv, <config>.md (the tables the README shows) and
ratios-<config>.png. Every measurement runs in its own process (bench/measure.py), with the
configuration's environment.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import subprocess
import sys
import time

from cases import CASES, skip_reason

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
CONTENDERS = [("ours", 1), ("ours", 2), ("ours", 3), ("ours", "auto"),
              ("tf_keras", 1), ("tf_keras", 2), ("tf_keras", 3)]


CONFIGS = ("default", "onednn")


def _environment(config: str) -> dict:
    environment = dict(os.environ)
    environment.pop("TF_ENABLE_ONEDNN_OPTS", None)
    if config == "onednn":
        environment["TF_ENABLE_ONEDNN_OPTS"] = "1"
    return environment


def _run(config: str, *args: str) -> dict:
    completed = subprocess.run([sys.executable, os.path.join(HERE, "measure.py"), *args],
                               capture_output=True, text=True, cwd=HERE, env=_environment(config))
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1][:200]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import tensorflow as tf  # noqa: F401 (version only)

    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, TF {tf.__version__}"


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
        for library, implementation in CONTENDERS:
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
        default, theirs_1 = by[("ours", 1)], by[("tf_keras", 1)]
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
            "gflops": 3 * case["flops"] / ours["train_ms"] / 1e6 if ours else math.nan,
            "roof_fraction": 3 * case["flops"] / ours["train_ms"] / 1e6 / roof if ours else math.nan,
            "ceiling_gflops": ceilings[name],
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

    def cell(row: dict | None, key: str, fmt: str) -> str:
        if row is None:
            return "-"
        if "skipped" in row:
            return "skip: " + row["skipped"]
        if "error" in row:
            return "error"
        return format(row[key], fmt)

    onednn = {True: "on", False: "off", None: "unknown"}[roof["onednn"]]
    lines = [
        f"Configuration `{config}` (TensorFlow oneDNN kernels {onednn}). Machine: {_machine()}. "
        f"Dense float32 2048^3 matmul in the same run (the roof): {roof['roof_gflops']:.1f} GFLOP/s.",
        "",
        "Training step (forward + backward incl. input gradient, tf.function), median ms. The last "
        "column is the case's batched matmul alone on ready-made patches (its forward and both "
        "gradients): no patches formulation can beat it.",
        "",
        "| case | ours 1 | ours 2 | ours 3 | ours auto | tf-keras 1 | tf-keras 2 | tf-keras 3 "
        "| best vs best | ours 1 vs tf-keras 1 | our best GFLOP/s (roof %) | matmul alone GFLOP/s (roof %) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    speedups = []
    for s in summary:
        by = {(r["library"], r["implementation"]): r for r in rows if r["case"] == s["case"]}
        cells = [cell(by.get(c), "train_ms", ".1f") for c in CONTENDERS]
        cells[3] += f" (={s['auto_chose']})" if "train_ms" in by[("ours", "auto")] else ""
        speedups.append(s["speedup_best"])
        lines.append(
            f"| {s['case']} | " + " | ".join(cells)
            + f" | {s['speedup_best']:.2f}x | {s['speedup_impl1']:.2f}x "
            f"| {s['gflops']:.1f} ({100 * s['roof_fraction']:.0f}%) "
            f"| {s['ceiling_gflops']:.1f} ({100 * s['ceiling_gflops'] / roof['roof_gflops']:.0f}%) |"
        )
    valid = [v for v in speedups if not math.isnan(v)]
    geomean = math.exp(sum(map(math.log, valid)) / len(valid)) if valid else math.nan
    lines += ["", f"Geometric mean speed-up, our best over tf-keras's best: {geomean:.2f}x "
              f"(minimum {min(valid):.2f}x).", ""]
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
