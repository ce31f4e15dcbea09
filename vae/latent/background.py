"""Background map fits: UMAP and t-SNE fitted off the caller's thread, one at a time, and
shared by everyone who asks for the same map.

A page asks `fit_map(...)` for a map it cannot show yet and gets a `FitJob` back at once: the
running (or queued, or finished) fit of that map, the same job for every caller with the same
key (model path and modification time, parameters, number of points). The fit runs in one
worker thread (a daemon: a server that stops does not wait for it) and saves its map beside
the model as `fit_or_load` always has, so later readers find it on disk. Numba's compiled code
and the compiler hold the GIL in places; measured in docs/performance.md ("The map").
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae.latent.projection import ProjectionParams, fit_or_load


@dataclass
class FitProgress:
    """Where a fit stands: its stage in words and, where the method says, the fraction done."""

    stage: str = "waiting for another fit to finish"
    fraction: float | None = None

    def __call__(self, stage: str, fraction: float | None) -> None:
        self.stage, self.fraction = stage, fraction


class FitJob:
    """One fit, queued, running or finished; read it from any thread."""

    def __init__(self, key: Hashable, work: Callable[[FitProgress], Any]) -> None:
        self.key = key
        self.work = work
        self.future: Future = Future()
        self.progress = FitProgress()
        self.started: float | None = None  # time.monotonic() when the worker took it
        self.finished: float | None = None

    @property
    def queued(self) -> bool:
        return self.started is None

    @property
    def done(self) -> bool:
        return self.future.done()

    @property
    def error(self) -> BaseException | None:
        """The exception the fit raised, or None (also while it runs)."""
        return self.future.exception() if self.future.done() else None

    @property
    def elapsed(self) -> float:
        """Seconds the fit has run (0 while queued; its whole time once finished)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def result(self, timeout: float | None = None) -> Any:
        """The fit's result, waiting for it; raises what the fit raised."""
        return self.future.result(timeout)

    def _run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        self.started = time.monotonic()
        self.progress("starting", None)
        try:
            result = self.work(self.progress)
        except BaseException as err:  # reported to whoever reads the job, never lost in the thread
            self.finished = time.monotonic()
            self.future.set_exception(err)
        else:
            self.finished = time.monotonic()
            self.future.set_result(result)


class FitRegistry:
    """Jobs by key, run one at a time by one daemon thread started on the first submit.
    Finished jobs are kept (the last `keep` of them) so that a failure can be shown and a
    map that could not be saved is not refitted on every rerun."""

    def __init__(self, keep: int = 16) -> None:
        self.keep = keep
        self._jobs: dict[Hashable, FitJob] = {}
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[FitJob] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def submit(self, key: Hashable, work: Callable[[FitProgress], Any]) -> FitJob:
        """The job for `key`: the one already queued, running or kept, else a new one that
        will call `work(progress)`."""
        with self._lock:
            if (job := self._jobs.get(key)) is not None:
                return job
            job = self._jobs[key] = FitJob(key, work)
            self._forget_old()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._serve, name="map-fits", daemon=True)
                self._worker.start()
        self._queue.put(job)
        return job

    def job(self, key: Hashable) -> FitJob | None:
        """The job for `key` if one was submitted and is still kept; starts nothing."""
        with self._lock:
            return self._jobs.get(key)

    def forget(self, key: Hashable) -> None:
        """Drop a finished job (a failed fit, to try again); a queued or running one stays."""
        with self._lock:
            if (job := self._jobs.get(key)) is not None and job.done:
                del self._jobs[key]

    def _forget_old(self) -> None:
        finished = [key for key, job in self._jobs.items() if job.done]
        for key in finished[: max(0, len(finished) - self.keep)]:  # oldest first: dicts keep insertion order
            del self._jobs[key]

    def _serve(self) -> None:
        while True:
            self._queue.get()._run()


MAP_FITS = FitRegistry()  # the process's registry: every session of a server shares it


def map_key(checkpoint: str | Path, modified: float, n_points: int, params: ProjectionParams) -> tuple:
    """What makes two requests the same fit: the model file and its version, the points, the parameters."""
    return (str(checkpoint), modified, n_points, params)


def fit_map(
    key: Hashable,
    mu: np.ndarray,
    params: ProjectionParams,
    path: Path | None,
    registry: FitRegistry = MAP_FITS,
) -> FitJob:
    """The background fit of the map of `mu` (N, D) with `params`, saved at `path` (see
    `fit_or_load`): started now unless the job for `key` is queued, running or kept. Its
    result is the `LatentMap`."""
    mu = np.array(mu, dtype=np.float32)  # a copy: the caller's array may be a shared cache's
    return registry.submit(key, lambda progress: fit_or_load(mu, params, path, progress)[0])


__all__ = ["MAP_FITS", "FitJob", "FitProgress", "FitRegistry", "fit_map", "map_key"]
