"""How the benchmark times one thing, shared by every measurement script."""

from __future__ import annotations

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
