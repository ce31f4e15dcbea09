"""Every st.cache_* of the app: it caches what the library returns, keyed by the model's path
and modification time (so a retrained file reloads), and decides nothing. Cached models are
shared by all sessions: inference only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from ui.live.decoding import DecoderGraph, graph_folder
from vae.analysis.clusters import cluster
from vae.bundle.format import DECODER
from vae.latent.codes import typical_spacing
from vae.latent.projection import LatentMap, ProjectionParams, cache_path, fit_or_load
from vae.models.onnx_graphs import cached_graph, served_copy
from vae.opened import HeldOutCodes, ModelData, OpenedModel, measures, model_changed_at, open_model
from vae.opened.measures import ELBO_SAMPLES

__all__ = ["ELBO_SAMPLES", "HeldOutCodes", "mtime"]

mtime = model_changed_at
_handed_over: dict[tuple[str, float], OpenedModel] = {}  # opened elsewhere (a bundle just installed)


def adopt(opened: OpenedModel) -> None:
    """A model the app has just opened itself (Home's bundle upload): the cache takes it as
    it is instead of opening the folder again."""
    _handed_over[(str(opened.path), mtime(opened.path))] = opened


@st.cache_resource(max_entries=16, show_spinner="Loading the model…")
def _opened(path: str, modified: float) -> OpenedModel:
    return _handed_over.pop((path, modified), None) or open_model(path)


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


def _by_model(function, **options):
    """A cache of `function(opened, *args)` keyed by the model's path and modification time.
    Streamlit keys a cache by the cached function's name and source: each gets its own name."""

    def cached(path: str, modified: float, *args):
        return function(_opened(path, modified), *args)

    cached.__name__ = cached.__qualname__ = f"cached_{function.__name__}"
    cached = st.cache_resource(**options)(cached)

    def call(path: Path, *args):
        return cached(str(path), mtime(path), *args)

    call.__doc__ = function.__doc__
    return call


def _clusters(opened: OpenedModel, n_points: int, k: int, method: str, seed: int = 0) -> np.ndarray:
    return cluster(opened.held_out(n_points).mu, k, method, seed)


def _spacing(opened: OpenedModel, n_points: int) -> float:
    """Median nearest-neighbour distance among the first n held-out codes: "on the data" yardstick."""
    return typical_spacing(opened.held_out(n_points).mu)


heldout_elbo = _by_model(measures.heldout_elbo, max_entries=8, show_spinner="Scoring the held-out images…")
all_mu = _by_model(measures.all_mu, max_entries=4, show_spinner="Encoding the whole dataset…")
train_mu = _by_model(measures.train_codes, max_entries=4, show_spinner="Encoding training images…")
attribute_vector = _by_model(measures.attribute_vector, max_entries=32, show_spinner="Finding the attribute direction…")
probes = _by_model(measures.probes, max_entries=8, show_spinner="Training the linear probes…")
mean_image = _by_model(measures.mean_image, max_entries=4, show_spinner=False)
measured_metrics = _by_model(
    measures.measured_metrics, max_entries=8, show_spinner="Measuring the held-out ELBO and NLL (once per model)…"
)
anomalies = _by_model(measures.anomalies, max_entries=4, show_spinner="Scoring held-out and corrupted images…")
clusters = _by_model(_clusters, max_entries=16, show_spinner="Clustering…")
spacing = _by_model(_spacing, max_entries=16, show_spinner=False)


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


@st.cache_resource(max_entries=16, show_spinner="Exporting the decoder for the browser (once per model)…")
def _decoder_graph(path: str, modified: float) -> tuple[str, float, float] | None:
    found = _opened(path, modified)
    folder = graph_folder(Path(path).parent)
    try:
        if not found.info.is_native:  # a bundle brings its decoder: served under a content name
            low, high = found.info.provenance.pixel_range
            return str(served_copy(folder, Path(path) / DECODER)), float(low), float(high)
        return str(cached_graph(folder, path, found.model, "decoder")), 0.0, 1.0
    except Exception:  # an exporter failure on some layer: the page decodes on the server instead
        return None


def decoder_graph(path: Path) -> DecoderGraph | None:
    """The model's decoder as an ONNX file for the browser (exported on first use, then cached
    beside the model by content), or None when it cannot be exported."""
    found = _decoder_graph(str(path), mtime(path))
    if found is None or not Path(found[0]).is_file():
        return None
    return DecoderGraph(Path(found[0]), (found[1], found[2]))
