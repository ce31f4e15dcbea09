"""One long-lived thread for the small torch calls of interactive reruns.

Streamlit runs every rerun in a new thread, and torch's first operation in a new thread pays
for per-thread setup (an OpenMP team, kernel caches): measured 10-70 ms on 2 cores against
0.4 ms once warm. Running the call on one persistent thread keeps that setup paid once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="torch-worker")


def on_worker(function, *args, **kwargs):
    """function(*args, **kwargs) run on the persistent torch thread; its result (or exception)."""
    return _WORKER.submit(function, *args, **kwargs).result()
