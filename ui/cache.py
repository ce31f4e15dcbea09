"""Every st.cache_* of the app. Keys include the checkpoint's path and modification time,
so a retrained file reloads. Cached models are shared by all sessions: inference only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.live import DecoderGraph, graph_folder
from vae.analysis.anomaly import LatentGaussian, anomaly_scores, corrupt, detection_auc
from vae.analysis.clusters import cluster, linear_probe
from vae.analysis.metrics import elbo_per_example, encode_dataset, evaluate_model
from vae.bundle import DECODER
from vae.data.datasets import Dataset, dataset_for_checkpoint, map_subset
from vae.errors import DatasetError
from vae.latent.codes import classifier_vector, mean_difference_vector, typical_spacing
from vae.latent.projection import LatentMap, ProjectionParams, cache_path, fit_or_load
from vae.models.interface import LatentModel, is_conditional
from vae.models.loading import is_native, load_model
from vae.models.onnx_graphs import cached_graph, served_copy


@dataclass(frozen=True)
class Codes:
    """Encodings of the map's points: row i is dataset image `index[i]`."""

    index: np.ndarray  # (N,) dataset indices
    mu: np.ndarray  # (N, D)
    sigma: np.ndarray  # (N, D)
    labels: np.ndarray | None  # (N,)
    recon_error: np.ndarray  # (N,) -log p(x | z = mu), nats


def mtime(path: Path) -> float:
    """When the model last changed: a checkpoint's file, or the newest file of a bundle."""
    if path.is_dir():
        return max([path.stat().st_mtime] + [f.stat().st_mtime for f in path.iterdir() if f.is_file()])
    return path.stat().st_mtime


@st.cache_resource(max_entries=16, show_spinner="Loading the model…")
def _load_model(path: str, modified: float) -> tuple[LatentModel, dict]:
    return load_model(path)


def model(path: Path) -> tuple[LatentModel, dict]:
    """(model in eval mode, meta); raises CheckpointError."""
    return _load_model(str(path), mtime(path))


@st.cache_resource(max_entries=8, show_spinner="Loading the data…")
def _load_data(path: str, modified: float) -> tuple[Dataset, torch.Tensor, torch.Tensor]:
    return dataset_for_checkpoint(_load_model(path, modified)[1])


def data(path: Path) -> tuple[Dataset, torch.Tensor, torch.Tensor]:
    """(dataset, train indices, held-out indices) of the checkpoint; raises DatasetError."""
    return _load_data(str(path), mtime(path))


def _labels_for(vae: LatentModel, dataset: Dataset, index: torch.Tensor) -> torch.Tensor | None:
    return dataset.labels[index] if is_conditional(vae) else None


@st.cache_resource(max_entries=16, show_spinner="Encoding the held-out images…")
@torch.no_grad()
def _codes(path: str, modified: float, n_points: int) -> Codes:
    vae, _ = _load_model(path, modified)
    dataset, _, held_idx = _load_data(path, modified)
    index = map_subset(held_idx, n_points)
    x, y = dataset.images[index], _labels_for(vae, dataset, index)
    mu, logvar = encode_dataset(vae, x, y)
    recon_error = -vae.log_px_given_z(x, mu, y)
    labels = dataset.labels[index].numpy() if dataset.labels is not None else None
    return Codes(index.numpy(), mu.numpy(), (0.5 * logvar).exp().numpy(), labels, recon_error.numpy())


def codes(path: Path, n_points: int) -> Codes:
    return _codes(str(path), mtime(path), n_points)


ELBO_SAMPLES = 8  # draws of z per image: uploads are scored the same way
MEASURED_IMAGES, MEASURED_IWAE_K = 1000, 50  # a bundle's card: a few seconds on two cores


@st.cache_resource(max_entries=8, show_spinner="Scoring the held-out images…")
def _heldout_elbo(path: str, modified: float, n_points: int) -> np.ndarray:
    vae, _ = _load_model(path, modified)
    dataset, _, held_idx = _load_data(path, modified)
    index = map_subset(held_idx, n_points)
    generator = torch.Generator().manual_seed(0)
    x, y = dataset.images[index], _labels_for(vae, dataset, index)
    return elbo_per_example(vae, x, y, generator=generator, samples=ELBO_SAMPLES)["elbo"].numpy()


def heldout_elbo(path: Path, n_points: int) -> np.ndarray:
    """ELBO of each of the map's held-out images, (N,) nats: the reference for "how unusual"."""
    return _heldout_elbo(str(path), mtime(path), n_points)


@st.cache_resource(max_entries=4, show_spinner="Encoding the whole dataset…")
def _all_mu(path: str, modified: float) -> np.ndarray:
    vae, _ = _load_model(path, modified)
    dataset, _, _ = _load_data(path, modified)
    index = torch.arange(len(dataset))
    return encode_dataset(vae, dataset.images, _labels_for(vae, dataset, index))[0].numpy()


def all_mu(path: Path) -> np.ndarray:
    """Latent means of every image in the dataset, (N, D)."""
    return _all_mu(str(path), mtime(path))


@st.cache_resource(max_entries=16, show_spinner=False)
def _latent_map(path: str, modified: float, n_points: int, params: ProjectionParams) -> tuple[LatentMap, bool]:
    mu = _codes(path, modified, n_points).mu
    return fit_or_load(mu, params, cache_path(path, params, n_points))


def latent_map(path: Path, n_points: int, params: ProjectionParams) -> tuple[LatentMap, bool]:
    """(fitted map of the first n held-out codes, whether it came from the disk cache)."""
    return _latent_map(str(path), mtime(path), n_points, params)


def map_is_ready(path: Path, n_points: int, params: ProjectionParams) -> bool:
    """Whether the map can be shown without a fit (on disk already), to word the spinner."""
    return cache_path(path, params, n_points).is_file()


@st.cache_data(max_entries=32, show_spinner="Finding the attribute direction…")
def _attribute_vector(path: str, modified: float, n_points: int, source: int, target: int, method: str) -> np.ndarray:
    codes = _codes(path, modified, n_points)
    make = mean_difference_vector if method == "means" else classifier_vector
    return make(codes.mu, codes.labels, source, target)


def attribute_vector(path: Path, n_points: int, source: int, target: int, method: str) -> np.ndarray:
    """Direction from class `source` toward `target` in the map's held-out codes, (D,):
    `means` (class-mean difference) or `classifier` (logistic-regression normal)."""
    return _attribute_vector(str(path), mtime(path), n_points, source, target, method)


@st.cache_resource(max_entries=4, show_spinner="Encoding training images…")
def _train_mu(path: str, modified: float, n_points: int) -> tuple[np.ndarray, np.ndarray | None]:
    vae, _ = _load_model(path, modified)
    dataset, train_idx, _ = _load_data(path, modified)
    index = map_subset(train_idx, n_points)
    mu, _ = encode_dataset(vae, dataset.images[index], _labels_for(vae, dataset, index))
    labels = dataset.labels[index].numpy() if dataset.labels is not None else None
    return mu.numpy(), labels


def train_mu(path: Path, n_points: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(latent means, labels) of up to n training images: the reference for probes and scores."""
    return _train_mu(str(path), mtime(path), n_points)


ANOMALY_SAMPLES = 2  # draws of z per image for the −ELBO score: enough to rank, half the time of 4
PROBE_TRAIN = 1000  # training images for the linear probes: the pixel probe on 64×64 took 9 s at 2,000


@st.cache_resource(max_entries=4, show_spinner="Scoring held-out and corrupted images…")
def _anomalies(path: str, modified: float, n_points: int, corruption: str, severity: float) -> dict:
    vae, _ = _load_model(path, modified)
    dataset, _, held_idx = _load_data(path, modified)
    index = map_subset(held_idx, n_points)
    x, y = dataset.images[index], _labels_for(vae, dataset, index)
    reference = LatentGaussian(_train_mu(path, modified, 5000)[0])
    clean = anomaly_scores(vae, x, reference, y, samples=ANOMALY_SAMPLES)
    broken = anomaly_scores(vae, corrupt(x, corruption, severity, seed=1), reference, y, samples=ANOMALY_SAMPLES)
    return {"clean": clean, "corrupted": broken, "auc": {k: detection_auc(clean[k], broken[k]) for k in clean}}


def anomalies(path: Path, n_points: int, corruption: str, severity: float) -> dict:
    """Scores of the first n held-out images, clean and corrupted, and each score's ROC-AUC."""
    return _anomalies(str(path), mtime(path), n_points, corruption, severity)


@st.cache_data(max_entries=16, show_spinner="Clustering…")
def _clusters(path: str, modified: float, n_points: int, k: int, method: str, seed: int) -> np.ndarray:
    return cluster(_codes(path, modified, n_points).mu, k, method, seed)


def clusters(path: Path, n_points: int, k: int, method: str, seed: int = 0) -> np.ndarray:
    return _clusters(str(path), mtime(path), n_points, k, method, seed)


@st.cache_data(max_entries=8, show_spinner="Training the linear probes…")
def _probes(path: str, modified: float, n_points: int) -> dict:
    dataset, train_idx, held_idx = _load_data(path, modified)
    train_mu_, train_labels = _train_mu(path, modified, PROBE_TRAIN)
    held = _codes(path, modified, n_points)
    train_index, held_index = map_subset(train_idx, PROBE_TRAIN), map_subset(held_idx, n_points)
    pixels = dataset.images.flatten(1).numpy()
    return {
        "latent": linear_probe(train_mu_, train_labels, held.mu, held.labels),
        "pixels": linear_probe(pixels[train_index], train_labels, pixels[held_index], held.labels),
        "n_train": len(train_mu_),
        "n_test": len(held.mu),
    }


def probes(path: Path, n_points: int) -> dict:
    """Held-out accuracy of a logistic regression on μ and on raw pixels (same images)."""
    return _probes(str(path), mtime(path), n_points)


@st.cache_data(max_entries=16, show_spinner="Exporting the decoder for the browser (once per model)…")
def _decoder_graph(path: str, modified: float) -> tuple[str, float, float] | None:
    vae, meta = _load_model(path, modified)
    folder = graph_folder(Path(path).parent)
    try:
        if not is_native(meta):  # a bundle brings its decoder: served under a content name
            low, high = meta["bundle"]["pixel_range"]
            return str(served_copy(folder, Path(path) / DECODER)), float(low), float(high)
        return str(cached_graph(folder, path, vae, "decoder")), 0.0, 1.0
    except Exception:  # an exporter failure on some layer: the page decodes on the server instead
        return None


def decoder_graph(path: Path) -> DecoderGraph | None:
    """The model's decoder as an ONNX file for the browser (exported on first use, then cached
    beside the model by content), or None when it cannot be exported."""
    found = _decoder_graph(str(path), mtime(path))
    if found is None or not Path(found[0]).is_file():
        return None
    return DecoderGraph(Path(found[0]), (found[1], found[2]))


@st.cache_data(max_entries=8, show_spinner="Measuring the held-out ELBO and NLL (once per model)…")
def _measured_metrics(path: str, modified: float) -> dict | None:
    vae, _ = _load_model(path, modified)
    try:
        dataset, _, held_idx = _load_data(path, modified)
    except DatasetError:
        return None
    index = map_subset(held_idx, MEASURED_IMAGES)
    return evaluate_model(vae, dataset.images[index], _labels_for(vae, dataset, index), iwae_k=MEASURED_IWAE_K)


def measured_metrics(path: Path) -> dict | None:
    """Held-out ELBO, IWAE NLL and active units measured here, for a model that brings no
    recorded metrics (a bundle); None without data."""
    return _measured_metrics(str(path), mtime(path))


@st.cache_resource(max_entries=4, show_spinner=False)
def _mean_image(path: str, modified: float) -> torch.Tensor:
    dataset, train_idx, _ = _load_data(path, modified)
    return dataset.images[map_subset(train_idx, 5000)].mean(0, keepdim=True)


def mean_image(path: Path) -> torch.Tensor:
    """Mean of up to 5,000 training images, (1, C, H, W): the imputation baseline."""
    return _mean_image(str(path), mtime(path))


@st.cache_data(max_entries=16, show_spinner=False)
def _spacing(path: str, modified: float, n_points: int) -> float:
    return typical_spacing(_codes(path, modified, n_points).mu)


def spacing(path: Path, n_points: int) -> float:
    """Median nearest-neighbour distance among the first n held-out codes: "on the data" yardstick."""
    return _spacing(str(path), mtime(path), n_points)
