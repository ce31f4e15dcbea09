"""The Compare page's caches: which models can be compared with the current one (vae.opened.
comparability decides), the held-out images they share (each model's own dataset indices of
them) and each model's comparison on them. Keys include each checkpoint's path and
modification time, like ui.shell.cache."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from ui.compare.figures import linked_map, rate_distortion_plane
from ui.shell import cache
from ui.shell.charts import kl_bars
from vae.analysis.compare import ModelComparison, compare_model, images_in, shared_images
from vae.analysis.metrics import ACTIVITY_THRESHOLD
from vae.data.datasets import map_subset
from vae.errors import VAEError
from vae.models.interface import is_conditional
from vae.opened.comparability import incompatibility
from vae.opened.stored_comparisons import stored_comparison

COMPARE_IMAGES, COMPARE_IWAE_K = 1000, 50  # the same budget as a bundle's measured card


@dataclass(frozen=True)
class Candidates:
    comparable: list[Path]  # the current model first, then the others oldest first
    excluded: dict[str, str]  # model name -> why it cannot be compared
    sweeps: dict[str, str | None]  # model name -> the sweep it was trained in


def candidates(current: Path, paths: list[Path]) -> Candidates:
    """Sort the models folder into those that can be scored on the current model's held-out
    images and the rest."""
    reference = cache.opened(current)
    comparable, excluded, sweeps = [current], {}, {}
    for path in sorted(paths, key=lambda p: (cache.mtime(p), p.name)):
        try:
            opened = cache.opened(path)
        except VAEError as err:
            excluded[path.name] = f"cannot be opened: {err}"
            continue
        sweeps[path.name] = opened.info.training.sweep if opened.info.training else None
        if path == current:
            continue
        reason = incompatibility(reference, opened, held_out=lambda o: cache.held_out_images(o.path))
        if reason is None:
            comparable.append(path)
        else:
            excluded[path.name] = reason
    return Candidates(comparable, excluded, sweeps)


def compared_images(paths: list[Path]) -> dict[Path, np.ndarray]:
    """Each model's own dataset indices of up to COMPARE_IMAGES images every model held out
    (row k of each is the same image; a fixed random subset, the same for the same models);
    raises DatasetError without the data."""
    shared = shared_images([cache.held_out_images(path) for path in paths])
    rows = map_subset(torch.arange(len(shared[0])), COMPARE_IMAGES).numpy()
    return {path: index[rows] for path, index in zip(paths, shared, strict=True)}


def map_names(reference: Path, path: Path, index: np.ndarray) -> np.ndarray:
    """The images `index` of `path`'s dataset named as `reference` numbers them (its dataset
    index where it held the image out): what aligns the maps and links their selections."""
    if path == reference:
        return np.asarray(index)
    return images_in(cache.held_out_images(reference), cache.held_out_images(path), index)


@st.cache_resource(max_entries=32, show_spinner=False)
def _comparison(path: str, modified: float, images: tuple[int, ...]) -> ModelComparison:
    vae = cache.opened(Path(path)).model
    dataset, _, _ = cache.data(Path(path))
    index = torch.tensor(images, dtype=torch.long)
    labels = dataset.labels[index] if is_conditional(vae) and dataset.labels is not None else None
    return stored_comparison(
        Path(path),
        index.numpy(),
        COMPARE_IWAE_K,
        lambda: compare_model(vae, dataset.images[index], labels, iwae_k=COMPARE_IWAE_K),
    )


def comparison(path: Path, images: dict[Path, np.ndarray]) -> ModelComparison:
    """What the Compare page shows of one model, measured on the shared held-out images
    (`images`: each model's own dataset indices of them, from compared_images)."""
    return _comparison(str(path), cache.mtime(path), tuple(int(i) for i in images[path]))


# Figures, built once per content: building a Plotly figure took 26 ms (KL bars) to 36 ms (a map)
# of every rerun; Streamlit's own validation of a built one takes 2-11 ms.


@st.cache_resource(max_entries=32, show_spinner=False)
def kl_figure(kl_per_dim: np.ndarray) -> go.Figure:
    figure = kl_bars(kl_per_dim, ACTIVITY_THRESHOLD)
    figure.update_layout(height=180)
    return figure


@st.cache_resource(max_entries=8, show_spinner=False)
def _plane_figure(points: str, current: str) -> go.Figure:
    return rate_distortion_plane(json.loads(points), current)


def plane_figure(points: list[dict], current: str) -> go.Figure:
    return _plane_figure(json.dumps(points, sort_keys=True), current)


@st.cache_resource(max_entries=64, show_spinner=False)
def map_figure(
    embedding: np.ndarray,
    index: np.ndarray,
    labels: np.ndarray | None,
    label_names: tuple[str, ...],
    axis_title: str,
    linked: tuple[int, ...] | None,
) -> go.Figure:
    return linked_map(embedding, index, labels, list(label_names), axis_title, set(linked) if linked else None)
