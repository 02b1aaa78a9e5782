"""How the benchmark times one thing, shared by every measurement script."""

from __future__ import annotations

import os
import platform
import statistics
import time

#: glibc's malloc told to keep the memory it frees (no mmap per large block, no trimming), so
#: that a step's large temporaries are not page-faulted in again at every step. glibc reads it
#: at process start: it is the environment of a child process.
KEEP_FREED_MEMORY = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**40)}


def child_environment(settings: dict, unset) -> dict:
    """This process's environment for a measuring child: without the variables `unset` (those
    another configuration sets, so that none leaks in from the shell), with `settings`."""
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(settings)
    return environment


def median_seconds(run, repeats: int, min_seconds: float = 2.0) -> float:
    """Median of `run()` over at least `repeats` runs and at least `min_seconds` (small cases
    take milliseconds, so they get many runs). Warm it up first: the first run is timed too."""
    times = []
    while len(times) < repeats or (sum(times) < min_seconds and len(times) < 1000):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_median_seconds(runs: dict, repeats: int, min_seconds: float = 1.0,
                               turn_seconds: float = 0.05, untimed_below: float = 1.0) -> dict:
    """Median of each of `runs` (name -> run), timed in turns: every turn runs each variant
    for about `turn_seconds`, so that the machine's drift (load, clocks, caches) falls on all
    of them alike and their ratios are fair. A variant leaves the turns once it has at least
    `repeats` runs and `min_seconds` in all. Warm them up first.

    The variants' order rotates from turn to turn, so that none always follows the same one
    or falls at the same phase of a periodic load (four layers of one compiled JAX
    implementation, four rounds each: medians up to 1.14x apart in a fixed order, 1.10x
    rotated).

    In each turn a variant first runs once untimed, unless a run takes `untimed_below` seconds
    or more: the run that follows another variant pays for that one's memory (after JAX's
    sparse implementation 3 of b256 16x16x32, the next 90 ms step took 520 ms)."""
    times = {name: [] for name in runs}
    bursts = {}
    for name, run in runs.items():
        start = time.perf_counter()
        run()
        times[name].append(time.perf_counter() - start)
        bursts[name] = max(1, int(turn_seconds / max(times[name][0], 1e-6)))
    pending = [name for name in runs]
    turn = 0
    while pending:
        start_at = turn % len(pending)
        turn += 1
        for name in pending[start_at:] + pending[:start_at]:
            if times[name][0] < untimed_below:
                runs[name]()
            for _ in range(bursts[name]):
                start = time.perf_counter()
                runs[name]()
                times[name].append(time.perf_counter() - start)
        pending = [name for name in pending
                   if len(times[name]) < repeats or (sum(times[name]) < min_seconds and len(times[name]) < 1000)]
    return {name: statistics.median(t) for name, t in times.items()}


def machine() -> str:
    """The CPU model, core count and operating system, for the results' headers."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
