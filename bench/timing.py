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
