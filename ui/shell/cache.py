"""Every st.cache_* of the app: it caches what the library returns, keyed by the model's path
and modification time (so a retrained file reloads), and decides nothing. Cached models are
shared by all sessions: inference only."""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import streamlit as st

from vae.data.source import FitScoreSplit
from vae.latent.background import MAP_FITS, FitJob, fit_map, map_key
from vae.latent.codes import typical_spacing
from vae.latent.projection import LatentMap, ProjectionParams, cache_path, fit_or_load
from vae.opened import HeldOutCodes, ModelData, OpenedModel, comparability, measures, model_changed_at, open_model

mtime = model_changed_at
_handed_over: dict[str, tuple[float, OpenedModel]] = {}  # opened elsewhere (a bundle just installed), by path


def adopt(opened: OpenedModel) -> None:
    """A model the app has just opened itself (Home's bundle upload): the cache takes it as
    it is instead of opening the folder again. One per path: a newer one replaces it."""
    _handed_over[str(opened.path)] = (mtime(opened.path), opened)


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def _opened(path: str, modified: float) -> OpenedModel:
    handed = _handed_over.pop(path, None)
    return handed[1] if handed is not None and handed[0] == modified else open_model(path)


def opened(path: Path) -> OpenedModel:
    """The opened model (model in eval mode, its description, lazy data and codes); raises
    CheckpointError."""
    return _opened(str(path), mtime(path))


@st.cache_resource(max_entries=8, show_spinner="Loading the data…")
def _data(path: str, modified: float) -> ModelData:
    return _opened(path, modified).data()


def data(path: Path) -> ModelData:
    """(dataset, train indices, held-out indices) of the model; raises DatasetError."""
    return _data(str(path), mtime(path))


@st.cache_resource(max_entries=16, show_spinner="Encoding the held-out images…")
def _codes(path: str, modified: float, n_points: int) -> HeldOutCodes:
    return _opened(path, modified).held_out(n_points)


def codes(path: Path, n_points: int) -> HeldOutCodes:
    """Encodings of the first n of the map's held-out images; raises DatasetError."""
    return _codes(str(path), mtime(path), n_points)


def fitting(path: Path) -> FitScoreSplit:
    """The images analyses fit on and the disjoint ones they score on (kept by the opened
    model); raises DatasetError."""
    return _opened(str(path), mtime(path)).fitting()


def _by_model(function, kind=st.cache_resource, **options):
    """A cache (`kind`: st.cache_resource shares the result between sessions, st.cache_data
    gives each a copy) of `function(opened, *args)`, keyed by the model's path and modification
    time. Streamlit keys a cache by the cached function's module, name and source, which are
    the same for every wrapper made here: the name carries the measure's own module, name and
    source instead."""

    def cached(path: str, modified: float, *args):
        return function(_opened(path, modified), *args)

    source = hashlib.sha1(inspect.getsource(function).encode()).hexdigest()[:12]
    cached.__name__ = cached.__qualname__ = f"{function.__module__}.{function.__qualname__}.{source}"
    cached = kind(**options)(cached)

    def call(path: Path, *args):
        return cached(str(path), mtime(path), *args)

    call.__doc__, call.cache = function.__doc__, cached
    return call


def _spacing(opened: OpenedModel, n_points: int) -> float:
    """Median nearest-neighbour distance among the first n held-out codes: "on the data" yardstick."""
    return typical_spacing(opened.held_out(n_points).mu)


heldout_elbo = _by_model(measures.heldout_elbo, max_entries=8, show_spinner="Scoring the held-out images…")
all_mu = _by_model(measures.all_mu, max_entries=4, show_spinner="Encoding the whole dataset…")
attribute_vector = _by_model(
    measures.attribute_vector, st.cache_data, max_entries=32, show_spinner="Finding the attribute direction…"
)
probes = _by_model(measures.probes, st.cache_data, max_entries=8, show_spinner="Training the linear probes…")
heldout_kl_per_dim = _by_model(
    measures.heldout_kl_per_dim, st.cache_data, max_entries=8, show_spinner="Measuring the KL of each dimension…"
)
level_report = _by_model(
    measures.level_report, st.cache_data, max_entries=8, show_spinner="Measuring each level (KL, activity, probes)…"
)
mean_image = _by_model(measures.mean_image, max_entries=4, show_spinner=False)
measured_metrics = _by_model(
    measures.measured_metrics,
    st.cache_data,
    max_entries=8,
    show_spinner="Measuring the held-out ELBO and NLL (once per model)…",
)
anomalies = _by_model(measures.anomalies, max_entries=4, show_spinner="Scoring held-out and corrupted images…")
clusters = _by_model(measures.clusters, st.cache_data, max_entries=16, show_spinner="Clustering…")
spacing = _by_model(_spacing, st.cache_data, max_entries=16, show_spinner=False)
held_out_images = _by_model(  # content keys of the held-out images: which models Compare can score together
    comparability.held_out_images, max_entries=64, show_spinner="Looking for shared held-out images…"
)


@st.cache_resource(max_entries=16, show_spinner=False)
def _latent_map(path: str, modified: float, n_points: int, params: ProjectionParams) -> tuple[LatentMap, bool]:
    mu = _opened(path, modified).held_out(n_points).mu
    return fit_or_load(mu, params, cache_path(path, params, n_points))


def latent_map(path: Path, n_points: int, params: ProjectionParams) -> tuple[LatentMap, bool]:
    """(fitted map of the first n held-out codes, whether it came from the disk cache)."""
    return _latent_map(str(path), mtime(path), n_points, params)


def map_is_ready(path: Path, n_points: int, params: ProjectionParams) -> bool:
    """Whether the map can be shown without a fit (on disk already), to word the spinner."""
    return cache_path(path, params, n_points).is_file()


def map_fit(path: Path, n_points: int, params: ProjectionParams) -> FitJob:
    """The background fit of this map, shared by every session: started now unless it is
    queued, running or has finished (its result is the `LatentMap`, also saved on disk)."""
    key = map_key(path, mtime(path), n_points, params)
    if (job := MAP_FITS.job(key)) is not None:
        return job
    return fit_map(key, codes(path, n_points).mu, params, cache_path(path, params, n_points))


def running_map_fit(path: Path, n_points: int, params: ProjectionParams) -> FitJob | None:
    """The background fit of this map if one was started and is still kept; starts nothing."""
    return MAP_FITS.job(map_key(path, mtime(path), n_points, params))


def forget_map_fit(path: Path, n_points: int, params: ProjectionParams) -> None:
    """Drop a finished (failed) fit so that the next request tries again."""
    MAP_FITS.forget(map_key(path, mtime(path), n_points, params))
