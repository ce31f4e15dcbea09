"""Latent means -> a 2-D or 3-D map (PCA, UMAP, t-SNE), and back.

`LatentMap` follows scikit-learn's estimator shape: `fit` returns self, `transform` places
new latent vectors on the map, `inverse_transform` turns map locations into latent vectors.
PCA does both exactly. UMAP and t-SNE have no fast exact inverse (umap's own takes ~2.5 s a
call), so both directions use inverse-distance-weighted nearest neighbours between the
fitted points' latent vectors and map positions: about a millisecond a call.

A map of one level of a hierarchical code (`ProjectionParams.level`) is fitted on that level's
dimensions only, places new codes by those dimensions, and still turns a map location into a
*full* code: see `LatentMap.inverse_transform`.

Fitted maps persist as .npz files keyed by the checkpoint's content hash and the parameters.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from vae.files import file_digest, write_atomically
from vae.models.levels import Level

METHODS = ("pca", "umap", "tsne")
METHOD_LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
SPACING_SAMPLE = 5_000  # map points that set the typical spacing
TSNE_REPORT_EVERY = 50  # t-SNE iterations between progress reports (each costs one KL evaluation)

# What a fit reports as it goes: (stage in words, fraction done or None while unknown).
Progress = Callable[[str, float | None], None]


@dataclass(frozen=True)
class ProjectionParams:
    method: str = "umap"
    n_components: int = 2
    seed: int = 0
    n_neighbors: int = 15  # UMAP
    min_dist: float = 0.1  # UMAP
    perplexity: float = 30.0  # t-SNE
    level: Level | None = None  # a hierarchical code's level mapped alone; None: the whole code

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"projection method must be one of {METHODS}, got {self.method!r}")
        if self.n_components not in (2, 3):
            raise ValueError("a map has 2 or 3 dimensions")

    def key(self) -> str:
        """A file-name-safe key of the parameters that matter for this method."""
        parts = [self.method, f"{self.n_components}d", f"s{self.seed}"]
        if self.method == "umap":
            parts += [f"nn{self.n_neighbors}", f"md{self.min_dist:g}"]
        elif self.method == "tsne":
            parts += [f"p{self.perplexity:g}"]
        if self.level is not None:  # the dimensions themselves, and the name to read the file by
            name = re.sub(r"[^A-Za-z0-9]", "", self.level.name) or "level"
            parts += [f"lv{name}{self.level.start}x{self.level.size}"]
        return "-".join(parts)

    def projected(self, mu: np.ndarray) -> np.ndarray:
        """The dimensions of `mu` (N, D) the map is fitted on: the level's, or all of them."""
        return mu if self.level is None else mu[:, self.level.dims]


def _idw(distances: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Inverse-distance-weighted mean of neighbour values; an exact hit returns that value."""
    weights = 1.0 / np.maximum(distances, 1e-12) ** 2
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("nk,nkd->nd", weights, values)


def _umap_class():
    """RAPIDS cuML's GPU UMAP when it is installed with a CUDA GPU (optional, never required;
    `VAE_NO_CUML=1` opts out), else umap-learn. Imported on first use: both are slow to import."""
    if not os.environ.get("VAE_NO_CUML"):
        try:
            from cuml.manifold import UMAP  # type: ignore[import-not-found]

            return UMAP
        except Exception:  # not installed, or installed without a usable GPU
            pass
    import umap

    return umap.UMAP


class _EpochsToProgress(io.TextIOBase):
    """A file for umap-learn's tqdm bar over the layout epochs, drawn as "n/total": each
    write reports the fraction done (the cheap progress umap gives)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def write(self, text: str) -> int:
        if found := re.findall(r"(\d+)/(\d+)", text):
            done, total = map(int, found[-1])
            self.progress(f"layout: epoch {done} of {total}", done / max(total, 1))
        return len(text)


class LatentMap:
    def __init__(self, params: ProjectionParams | None = None, placement_k: int = 8) -> None:
        self.params = params or ProjectionParams()
        self.placement_k = placement_k  # nearest codes that place a new point or decode a map spot

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, mu: np.ndarray, progress: Progress | None = None) -> LatentMap:
        """mu (N, D) latent means -> self, with `embedding_` (N, n_components). `progress`
        hears the stages of a UMAP or t-SNE fit and, where known, the fraction done."""
        full = np.asarray(mu, dtype=np.float32)
        if len(full) < 3:
            raise ValueError("a map needs at least 3 points")
        p = self.params
        mu = p.projected(full)  # below, `mu` is what the projection sees: one level's dims or all
        progress = progress or (lambda stage, fraction: None)
        dims = min(p.n_components, mu.shape[1])
        if p.method == "pca":
            self._pca = PCA(n_components=dims, random_state=p.seed).fit(mu)
            embedding = self._pca.transform(mu)
        elif p.method == "umap":
            progress("finding neighbours", None)
            umap_class = _umap_class()
            cpu_only = {  # umap-learn: one thread; its epoch bar, read as progress
                "n_jobs": 1,
                "tqdm_kwds": {
                    "disable": False,
                    "file": _EpochsToProgress(progress),
                    "bar_format": "{n}/{total}",
                    "mininterval": 0.25,
                },
            }
            embedding = umap_class(
                n_components=p.n_components,
                n_neighbors=min(p.n_neighbors, len(mu) - 1),
                min_dist=p.min_dist,
                random_state=p.seed,
                **({} if umap_class.__module__.startswith("cuml") else cpu_only),
            ).fit_transform(mu)
            embedding = np.asarray(getattr(embedding, "get", lambda: embedding)())  # cuML may return a GPU array
        else:
            from openTSNE import TSNE

            progress("finding neighbours", None)
            reports = []

            def report(iteration, error, embedding) -> bool:
                reports.append(iteration)  # both phases (exaggerated, then plain) count from 1
                done = len(reports) * TSNE_REPORT_EVERY
                total = tsne.early_exaggeration_iter + tsne.n_iter
                progress(f"layout: iteration {done} of {total}", min(done / total, 1.0))
                return False  # go on

            tsne = TSNE(
                n_components=p.n_components,
                perplexity=min(p.perplexity, (len(mu) - 1) / 3),
                random_state=p.seed,
                # Barnes-Hut is faster below ~10k points (measured: 2 s vs 21 s on 360) and the only 3-D option.
                negative_gradient_method="fft" if p.n_components == 2 and len(mu) >= 10_000 else "bh",
                n_jobs=os.cpu_count() or 1,
                callbacks=report,
                callbacks_every_iters=TSNE_REPORT_EVERY,
            )
            embedding = np.asarray(tsne.fit(mu))
        if embedding.shape[1] < p.n_components:  # a 2-d latent asked for a 3-d map
            embedding = np.pad(embedding, ((0, 0), (0, p.n_components - embedding.shape[1])))
        return self._set(full, np.asarray(embedding, dtype=np.float32))

    def _set(self, mu: np.ndarray, embedding: np.ndarray) -> LatentMap:
        if self.params.level is not None and self.params.level.start + self.params.level.size > mu.shape[1]:
            raise ValueError(f"level {self.params.level.name!r} lies outside these {mu.shape[1]}-d codes")
        self.mu_ = mu  # the full codes, whatever the map was fitted on
        self.embedding_ = embedding
        self._latent_index = NearestNeighbors(n_neighbors=min(self.placement_k, len(mu))).fit(self.params.projected(mu))
        self._map_index = NearestNeighbors(n_neighbors=min(self.placement_k, len(mu))).fit(embedding)
        # Typical spacing of the data on the map: the scale for "how far from real data". A
        # median is stable on a fixed sample, and all 50k points took 120 ms of every load.
        sample = embedding
        if len(embedding) > SPACING_SAMPLE:
            sample = embedding[np.random.default_rng(0).choice(len(embedding), SPACING_SAMPLE, replace=False)]
        spacing, _ = self._map_index.kneighbors(sample, n_neighbors=2)
        self.spacing_ = float(np.median(spacing[:, 1])) or 1.0
        return self

    # -- both directions --------------------------------------------------------------------
    def transform(self, z: np.ndarray) -> np.ndarray:
        """Latent vectors (M, D) -> map positions (M, n_components), by the mapped dimensions."""
        z = self.params.projected(np.atleast_2d(np.asarray(z, dtype=np.float32)))
        if self.params.method == "pca":
            return self._pad(self._pca.transform(z))
        distances, index = self._latent_index.kneighbors(z)
        return _idw(distances, self.embedding_[index]).astype(np.float32)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        """Map positions (M, n_components) -> full latent vectors (M, D).

        A map of one level uses the nearest map points for every method, PCA included: PCA's
        exact inverse gives only the level's dimensions, and the other levels have no place on
        this map. The distance-weighted codes of the nearest map points are whole codes the
        model made (the other levels as the images mapped there have them), and the browser's
        hover inverts the same way (`pca_parameters` is None), so click and hover agree."""
        points = np.atleast_2d(np.asarray(points, dtype=np.float32))
        if self.params.method == "pca" and self.params.level is None:
            return self._pca.inverse_transform(points[:, : self._pca.n_components_]).astype(np.float32)
        distances, index = self._map_index.kneighbors(points)
        return _idw(distances, self.mu_[index]).astype(np.float32)

    def pca_parameters(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(mean (D,), components (n_components, D)) of a PCA map, whose inverse is
        mean + point @ components; None for UMAP and t-SNE (inverted by `placement_k` nearest
        map points, distance-weighted) and for a map of one level (see `inverse_transform`)."""
        if self.params.method != "pca" or self.params.level is not None:
            return None
        return self._pca.mean_.astype(np.float64), self._pca.components_.astype(np.float64)

    def distance_to_data(self, points: np.ndarray) -> np.ndarray:
        """Map distance from each position to the nearest fitted point, in units of the
        typical spacing between neighbouring points (≈1 inside the data, ≫1 far outside)."""
        points = np.atleast_2d(np.asarray(points, dtype=np.float32))
        distances, _ = self._map_index.kneighbors(points, n_neighbors=1)
        return distances[:, 0] / self.spacing_

    def _pad(self, embedding: np.ndarray) -> np.ndarray:
        missing = self.params.n_components - embedding.shape[1]
        return np.pad(embedding, ((0, 0), (0, missing))) if missing > 0 else embedding.astype(np.float32)

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Atomic write of the fitted map (embedding, and PCA's parameters)."""
        level = self.params.level
        extra = {"level_dims": np.array([-1, -1] if level is None else [level.start, level.size])}
        if self.params.method == "pca":
            extra |= {"pca_mean": self._pca.mean_, "pca_components": self._pca.components_}
        write_atomically(
            path, lambda handle: np.savez(handle, embedding=self.embedding_, n_points=len(self.mu_), **extra)
        )

    @classmethod
    def load(cls, path: str | os.PathLike, params: ProjectionParams, mu: np.ndarray) -> LatentMap:
        """A saved map for these latent means (refits nothing; raises ValueError on mismatch)."""
        mu = np.asarray(mu, dtype=np.float32)
        with np.load(path) as saved:
            embedding = saved["embedding"]
            if int(saved["n_points"]) != len(mu) or embedding.shape[1] != params.n_components:
                raise ValueError(f"{path} was fitted on other points")
            wanted = [-1, -1] if params.level is None else [params.level.start, params.level.size]
            mapped = saved["level_dims"].tolist() if "level_dims" in saved else [-1, -1]  # older files: whole codes
            if mapped != wanted:
                raise ValueError(f"{path} maps other dimensions")
            latent_map = cls(params)
            if params.method == "pca":
                pca = PCA(n_components=saved["pca_components"].shape[0])
                pca.mean_, pca.components_ = saved["pca_mean"], saved["pca_components"]
                pca.n_components_ = saved["pca_components"].shape[0]
                latent_map._pca = pca
        return latent_map._set(mu, embedding.astype(np.float32))


def cache_path(checkpoint: str | os.PathLike, params: ProjectionParams, n_points: int) -> Path:
    """Where the map of a checkpoint's first `n_points` held-out encodings is stored: a
    `.cache` folder beside the checkpoint."""
    checkpoint = Path(checkpoint)
    name = f"{checkpoint.stem}-{file_digest(checkpoint)}-{params.key()}-n{n_points}.npz"
    return checkpoint.parent / ".cache" / name


def fit_or_load(
    mu: np.ndarray, params: ProjectionParams, path: Path | None, progress: Progress | None = None
) -> tuple[LatentMap, bool]:
    """(map, whether it was loaded from `path`). A fresh fit is saved there when the folder
    is writable; a read-only folder only costs the refit next time. `progress`: see `fit`."""
    if path is not None and path.is_file():
        try:
            return LatentMap.load(path, params, mu), True
        except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # stale or damaged: refit below and overwrite
    latent_map = LatentMap(params).fit(mu, progress)
    if path is not None:
        try:
            latent_map.save(path)
        except OSError:
            pass
    return latent_map, False


__all__ = ["METHODS", "METHOD_LABELS", "LatentMap", "Progress", "ProjectionParams", "cache_path", "fit_or_load"]
