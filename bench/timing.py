"""How the benchmark times one thing, shared by every measurement script."""

from __future__ import annotations

import os
import platform
import statistics
import time


def median_seconds(run, repeats: int, min_seconds: float = 2.0) -> float:
    """Median of `run()` over at least `repeats` runs and at least `min_seconds` (small cases
    take milliseconds, so they get many runs). Warm it up first: the first run is timed too."""
    times = []
    while len(times) < repeats or (sum(times) < min_seconds and len(times) < 1000):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    """The CPU model, core count and operating system, for the results' headers."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
