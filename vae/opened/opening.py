"""An opened model: one call turns a checkpoint file or a bundle folder into the model behind
the one interface, its typed description, and lazy access to its data and the encodings of its
held-out images. Everything a page shows about a model starts here."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from vae.data.datasets import Dataset, map_subset
from vae.data.source import FitScoreSplit, fit_score_split, load_source
from vae.data.text_corpus import tokenised
from vae.latent.encoding import encode_dataset
from vae.models.interface import LatentModel, is_conditional, is_text
from vae.opened.info import ModelInfo, info_from_checkpoint, info_from_manifest
from vae.opened.stored_codes import codes_file, load_codes, save_codes

if TYPE_CHECKING:
    from vae.bundle.onnx_model import BundleModel


class ModelData(NamedTuple):
    """The model's dataset and its split: `held_idx` the images it never trained on, `train_idx`
    those it did (none for a bundle's data sample). What analyses fit and score on:
    `OpenedModel.fitting()`."""

    dataset: Dataset
    train_idx: torch.Tensor
    held_idx: torch.Tensor

    def labels_for(self, model: LatentModel, index: torch.Tensor) -> torch.Tensor | None:
        """The labels a conditional model encodes and decodes with; None for other models."""
        return self.dataset.labels[index] if is_conditional(model) else None


@dataclass(frozen=True)
class HeldOutCodes:
    """Encodings of a fixed random subset of images (the Map's points, or those analyses score
    on): row i is dataset image `index[i]`."""

    index: np.ndarray  # (N,) dataset indices
    mu: np.ndarray  # (N, D)
    sigma: np.ndarray  # (N, D)
    labels: np.ndarray | None  # (N,)
    recon_error: np.ndarray  # (N,) -log p(x | z = mu), nats


_KEPT_CODE_SETS = 16  # encodings kept per model and split, by point count (the Map's slider moves it): as many as ui.shell.cache keeps


class OpenedModel:
    """A model as the app sees it. `model` is in eval mode and shared: inference only.
    `data()`, `held_out(n)`, `scored(n)` and `fit_codes(n)` are computed on first use and kept
    (the last few point counts); they raise DatasetError when the model's data is not
    available here. `data_dir` (IDX data elsewhere) counts on the first call only."""

    def __init__(self, path: Path, model: LatentModel, info: ModelInfo) -> None:
        self.path, self.model, self.info = Path(path), model, info
        self._lock = threading.Lock()
        self._data: ModelData | None = None
        self._fitting: FitScoreSplit | None = None
        self._codes: OrderedDict[tuple[str, int], object] = OrderedDict()

    @property
    def name(self) -> str:
        return self.path.name

    def data(self, data_dir: str | os.PathLike | None = None) -> ModelData:
        with self._lock:
            if self._data is None:
                dataset, train_idx, held_idx = load_source(self.info.data, self.info.split, data_dir)
                if is_text(self.model):  # the sentences as the model reads them: ids in its vocabulary
                    dataset = tokenised(dataset, self.model.vocabulary, self.model.sequence_length)
                self._data = ModelData(dataset, train_idx, held_idx)
            return self._data

    def fitting(self) -> FitScoreSplit:
        """The images analyses fit on (probes, reference Gaussians, thresholds, clusters, the
        mean image) and the disjoint images they score on, with what each set is in words."""
        data = self.data()
        with self._lock:
            if self._fitting is None:
                self._fitting = fit_score_split(self.info.data, data.train_idx, data.held_idx)
            return self._fitting

    def held_out(self, n_points: int) -> HeldOutCodes:
        """Encodings (μ, σ, reconstruction error at z = μ) of the first `n_points` of the fixed
        random order of the held-out images (`map_subset`): the Map's points. Kept on disk
        beside the model too (stored_codes)."""
        return self._kept(("held_out", n_points), lambda data: self._stored_or_encoded(data, n_points))

    def _stored_or_encoded(self, data: ModelData, n_points: int) -> HeldOutCodes:
        path = codes_file(self.path, n_points)
        stored = load_codes(path, map_subset(data.held_idx, n_points).numpy())
        if stored is not None:
            return HeldOutCodes(**{"labels": None, **stored})
        codes = encode_codes(self.model, data, data.held_idx, n_points)
        save_codes(path, vars(codes))
        return codes

    def scored(self, n_points: int) -> HeldOutCodes:
        """Encodings of the first `n_points` images analyses score on (`fitting().scored`): the
        Map's points for a checkpoint, the half of a bundle's sample not fitted on."""
        score_idx = self.fitting().score_idx
        if torch.equal(score_idx, self.data().held_idx):
            return self.held_out(n_points)
        return self._kept(("scored", n_points), lambda data: encode_codes(self.model, data, score_idx, n_points))

    def fit_codes(self, n_points: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(latent means, labels) of up to n images analyses fit on (`fitting().fit_subset(n)`):
        what probes, anomaly references, clusters and attribute vectors are fitted on."""
        fit_idx = self.fitting().fit_idx
        return self._kept(("fit", n_points), lambda data: encode_means(self.model, data, fit_idx, n_points))

    def _kept(self, key: tuple[str, int], compute):
        data = self.data()
        with self._lock:
            if key in self._codes:
                self._codes.move_to_end(key)
                return self._codes[key]
        found = compute(data)  # outside the lock: other sessions' look-ups need not wait
        with self._lock:
            self._codes[key] = found
            while len(self._codes) > _KEPT_CODE_SETS:
                self._codes.popitem(last=False)
        return found


@torch.no_grad()
def encode_codes(model: LatentModel, data: ModelData, among: torch.Tensor, n_points: int) -> HeldOutCodes:
    """Codes of the first n of a fixed random order of the dataset indices `among`."""
    index = map_subset(among, n_points)
    x, y = data.dataset.images[index], data.labels_for(model, index)
    mu, logvar = encode_dataset(model, x, y)
    recon_error = -model.log_px_given_z(x, mu, y)
    labels = data.dataset.labels[index].numpy() if data.dataset.labels is not None else None
    return HeldOutCodes(index.numpy(), mu.numpy(), (0.5 * logvar).exp().numpy(), labels, recon_error.numpy())


@torch.no_grad()
def encode_means(
    model: LatentModel, data: ModelData, among: torch.Tensor, n_points: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """(latent means, labels) of the first n of a fixed random order of the indices `among`."""
    index = map_subset(among, n_points)
    mu, _ = encode_dataset(model, data.dataset.images[index], data.labels_for(model, index))
    labels = data.dataset.labels[index].numpy() if data.dataset.labels is not None else None
    return mu.numpy(), labels


def open_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> OpenedModel:
    """A checkpoint (`.pt`, the native VAE, on `device`) or a bundle folder (ONNX graphs and a
    manifest, run by onnxruntime on the CPU), opened with every check. Raises CheckpointError
    (BundleError for a bundle) with a one-line reason."""
    path = Path(path)
    if path.is_dir():
        from vae.bundle.onnx_model import load_bundle

        return opened_bundle(load_bundle(path))
    from vae.models.checkpoints import load_checkpoint

    model, meta = load_checkpoint(path, device)
    return OpenedModel(path, model, info_from_checkpoint(path.name, meta, model.num_classes))


def opened_bundle(model: BundleModel) -> OpenedModel:
    """A bundle already opened and checked (vae.bundle.load_bundle, or a zip just installed)."""
    return OpenedModel(model.folder, model, info_from_manifest(model.folder, model.manifest))


def model_changed_at(path: str | os.PathLike) -> float:
    """When the model last changed: a checkpoint's file, or the newest file of a bundle."""
    path = Path(path)
    if path.is_dir():
        return max([path.stat().st_mtime] + [f.stat().st_mtime for f in path.iterdir() if f.is_file()])
    return path.stat().st_mtime
