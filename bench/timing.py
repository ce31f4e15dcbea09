"""Small timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time


def median_ms(function, repeats: int = 50) -> float:
    """Median wall time of `function()` over `repeats` calls, in milliseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def alternating_medians_ms(ours, reference, repeats: int) -> tuple[float, float]:
    """Median wall times in milliseconds of `ours()` and `reference()`, called in turn
    `repeats` times each, so a slow spell of the machine hits both."""
    times = ([], [])
    for _ in range(repeats):
        for function, bucket in ((ours, times[0]), (reference, times[1])):
            started = time.perf_counter()
            function()
            bucket.append(time.perf_counter() - started)
    return 1000 * statistics.median(times[0]), 1000 * statistics.median(times[1])
