"""Maps of up to a million latent codes that never block the caller.

PCA is exact and immediate (`vae.large_maps.pca`): one pass over the codes for their mean and covariance (float64,
in chunks), then one matmul a chunk (`pca_map`): 0.4-0.6 s for 1M x 16 memory-mapped.

UMAP and t-SNE cannot be fitted on a million codes while a user waits, so `place_map` fits
the method on a fixed random subset (`ProjectionParams`, as `vae.latent.projection.LatentMap`
fits) and then places every other code beside it as umap's own `transform` does: it starts
at the membership-weighted mean of the map positions of its k nearest subset codes (exact
neighbours in code space, brute force) and moves by UMAP's layout optimisation with the
subset held still. Measured against full fits in docs/performance.md ("Maps of a million
codes"), by `faithfulness.neighbour_preservation` and trustworthiness.

`place_map` keeps its state in a folder that holds the maps of one set of codes, so that a
run that was killed or interrupted continues where it stopped: `{key}-subset.npz` (the
subset fit, and the subset's codes, to tell other codes apart), `{key}.partial.npy` (the
map, filled chunk by chunk, memory-mapped) with `{key}.chunks.npy` (the chunks done), and
at the end `{key}.npy`, renamed into place, which `load_placed` reads memory-mapped.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path

import numpy as np
from sklearn.neighbors import NearestNeighbors

from vae.files import write_atomically
from vae.large_maps.pca import chunks, pca_map
from vae.latent.projection import METHOD_LABELS, LatentMap, Progress, ProjectionParams

SUBSET = 50_000  # codes the method is fitted on
PLACE_K = 15  # nearest subset codes that place each other code (umap's n_neighbors)
EPOCHS = 100  # layout epochs for the placed codes
CHUNK = 50_000  # codes placed (and saved) at a time: ~14 s each at the defaults on one core


def subset_indices(n: int, size: int, seed: int) -> np.ndarray:
    """The codes a map is fitted on: `size` of n drawn with `seed`, sorted (all when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def membership(distances: np.ndarray, iterations: int = 64) -> np.ndarray:
    """distances (M, k) to each code's nearest subset codes -> UMAP's fuzzy membership
    strengths exp(-d / sigma) (M, k), sigma set per row so that they sum to log2(k)
    (McInnes et al. 2018, section 3; umap's smooth_knn_dist with no local connectivity)."""
    distances = distances.astype(np.float64)
    target = np.log2(distances.shape[1])
    low, high = np.zeros(len(distances)), np.full(len(distances), np.inf)
    sigma = np.ones(len(distances))
    for _ in range(iterations):  # bisection on sigma, all rows at once
        too_wide = np.exp(-distances / sigma[:, None]).sum(axis=1) > target
        high = np.where(too_wide, sigma, high)
        low = np.where(too_wide, low, sigma)
        sigma = np.where(np.isinf(high), sigma * 2, (low + high) / 2)
    sigma = np.maximum(sigma, 1e-3 * distances.mean(axis=1) + 1e-12)  # umap's MIN_K_DIST_SCALE
    return np.exp(-distances / sigma[:, None])


def layout_curve(params: ProjectionParams) -> tuple[float, float]:
    """(a, b) of the map's similarity curve 1 / (1 + a d^(2b)): UMAP's fitted to its min_dist,
    t-SNE's Cauchy kernel (a = b = 1)."""
    if params.method != "umap":
        return 1.0, 1.0
    from umap.umap_ import find_ab_params

    a, b = find_ab_params(1.0, params.min_dist)
    return float(a), float(b)


def place(
    codes: np.ndarray,
    subset_codes: np.ndarray,
    subset_embedding: np.ndarray,
    curve: tuple[float, float] = (1.0, 1.0),
    k: int = PLACE_K,
    epochs: int = EPOCHS,
    seed: int = 0,
) -> np.ndarray:
    """codes (M, D) -> map positions (M, n_components) float32 beside a fitted subset (codes
    (S, D), positions (S, n_components)), as umap's `transform` places new points: start at the
    membership-weighted mean of the k nearest subset codes' positions, then `epochs` of UMAP's
    layout optimisation with the subset held still (attraction to those k, repulsion from
    sampled subset points; `curve` as `layout_curve`). Each code's result depends on that code
    alone (and the seed), never on which others are placed with it. A code at distance 0
    from a subset code lands on that code's position."""
    codes = np.ascontiguousarray(codes, dtype=np.float32)
    k = min(k, len(subset_codes))
    index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(subset_codes)
    distances, nearest = index.kneighbors(codes)  # exact; brute force beat trees in 16-d by 4-7x
    weights = membership(distances)
    tail = np.ascontiguousarray(subset_embedding, dtype=np.float32)
    start = np.einsum("mk,mkc->mc", weights / weights.sum(axis=1, keepdims=True), tail[nearest])
    exact = distances[:, 0] == 0
    start[exact] = tail[nearest[exact, 0]]
    start = np.ascontiguousarray(start, dtype=np.float32)
    if epochs == 0:
        return start
    from umap.layouts import optimize_layout_euclidean

    keep = weights >= 1.0 / epochs  # as umap: edges sampled less than once are dropped
    keep[exact] = False
    rows = np.broadcast_to(np.arange(len(codes))[:, None], keep.shape)[keep].astype(np.int32)
    placed = optimize_layout_euclidean(
        start.copy(),
        tail.copy(),  # umap may write to it otherwise (umap issues #179, #217)
        rows,
        nearest[keep].astype(np.int32),
        epochs,
        len(tail),
        1.0 / weights[keep],  # epochs per sample: the strongest edge every epoch
        *curve,
        np.array([seed, 0x5EED, 1], dtype=np.int64),  # umap adds each point's start to it
        1.0,  # repulsion strength
        0.25,  # initial learning rate: umap's transform uses a quarter of its fit's
        5.0,  # negative samples per positive
        False,  # one thread: parallel updates race and would not repeat
    )
    placed[exact] = start[exact]
    return placed


# -- a placed map, kept in a folder and resumed --------------------------------------------------
def placed_key(params: ProjectionParams, subset: int = SUBSET, epochs: int = EPOCHS) -> str:
    """A file-name-safe key of a placed map: the method and its parameters (`params.key()`),
    the subset size and the placement's epochs and neighbours. PCA maps are exact: no subset."""
    if params.method == "pca":
        return params.key()
    return f"{params.key()}-sub{subset}-k{PLACE_K}-e{epochs}"


def map_file(folder: str | os.PathLike, key: str) -> Path:
    """Where the finished map of `key` lies in `folder`: an (N, n_components) float32 .npy."""
    return Path(folder) / f"{key}.npy"


def load_placed(folder: str | os.PathLike, key: str, n: int) -> np.ndarray | None:
    """The finished map of `key` for n codes, memory-mapped read-only; None if there is none
    (or one of another length, or a damaged file)."""
    try:
        embedding = np.load(map_file(folder, key), mmap_mode="r")
    except (OSError, ValueError):
        return None
    if embedding.ndim != 2 or len(embedding) != n or embedding.dtype != np.float32:
        return None
    return embedding


def place_map(
    mu: np.ndarray,
    params: ProjectionParams,
    folder: str | os.PathLike,
    progress: Progress | None = None,
    subset: int = SUBSET,
    epochs: int = EPOCHS,
    chunk: int = CHUNK,
) -> np.ndarray:
    """mu (N, D), possibly memory-mapped -> the map (N, n_components) float32, memory-mapped
    from `map_file(folder, placed_key(params, subset, epochs))`.

    PCA: `pca_map`, written at once. UMAP and t-SNE: fitted on `subset_indices(N, subset,
    params.seed)` (saved first, as `{key}-subset.npz`), then every code placed by `place`,
    `chunk` codes at a time, into `{key}.partial.npy`; `{key}.chunks.npy` records the chunks
    done. A run that was killed or interrupted (an exception from `progress`, which hears
    `(stage, fraction of that stage)`) continues from its last finished chunk, without
    refitting, to the very same map. Saved state made from other codes is not reused."""
    progress = progress or (lambda stage, fraction: None)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = placed_key(params, subset, epochs)
    final = map_file(folder, key)
    if params.method == "pca":
        if (done := load_placed(folder, key, len(mu))) is not None:
            return done
        progress("principal axes", None)
        positions = pca_map(params.projected(mu), n_components=params.n_components)
        write_atomically(final, lambda handle: np.save(handle, positions))
        return np.load(final, mmap_mode="r")
    partial, record = folder / f"{key}.partial.npy", folder / f"{key}.chunks.npy"
    fit = _subset_fit(mu, params, folder / f"{key}-subset.npz", progress, subset)
    indices, subset_codes, subset_embedding, refitted = fit
    if refitted:  # a map finished or begun on an older fit is made again
        final.unlink(missing_ok=True)
        record.unlink(missing_ok=True)
    elif (done := load_placed(folder, key, len(mu))) is not None:
        return done
    n_chunks = -(-len(mu) // chunk)
    embedding, finished = _resume(partial, record, (len(mu), params.n_components), n_chunks)
    curve = layout_curve(params)
    for number, part in enumerate(chunks(len(mu), chunk)):
        if not finished[number]:
            embedding[part] = place(
                params.projected(mu[part]), subset_codes, subset_embedding, curve, PLACE_K, epochs, params.seed
            )
            inside = indices[(indices >= part.start) & (indices < part.stop)]
            embedding[inside] = subset_embedding[np.searchsorted(indices, inside)]  # exactly as fitted
            embedding.flush()
            finished[number] = True
            write_atomically(record, lambda handle: np.save(handle, finished))
        progress(f"placing codes: {part.stop:,} of {len(mu):,}", part.stop / len(mu))
    del embedding  # closes the memory map before the rename
    os.replace(partial, final)
    record.unlink(missing_ok=True)
    return np.load(final, mmap_mode="r")


def fit_subset(codes: np.ndarray, params: ProjectionParams, progress: Progress) -> np.ndarray:
    """The map of the subset's codes (S, d) (already the mapped level's dimensions): (S,
    n_components) float32, fitted as `LatentMap` fits, its stages reported with the count."""
    label = METHOD_LABELS[params.method]
    fitted = LatentMap(dataclasses.replace(params, level=None)).fit(
        codes, lambda stage, fraction: progress(f"{label} of {len(codes):,} codes: {stage}", fraction)
    )
    return fitted.embedding_


def _subset_fit(
    mu: np.ndarray, params: ProjectionParams, path: Path, progress: Progress, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(indices (S,), codes (S, d), map positions (S, n_components), whether it was fitted
    now) of the subset fit: read from `path` when it was made from these codes, else fitted
    and saved there."""
    indices = subset_indices(len(mu), size, params.seed)
    codes = np.ascontiguousarray(params.projected(np.asarray(mu[indices], dtype=np.float32)))
    try:
        with np.load(path) as saved:
            if np.array_equal(saved["indices"], indices) and np.array_equal(saved["codes"], codes):
                return indices, codes, saved["embedding"], False
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # none yet, or damaged: fit
    embedding = fit_subset(codes, params, progress)
    write_atomically(path, lambda handle: np.savez(handle, indices=indices, codes=codes, embedding=embedding))
    return indices, codes, embedding, True


def _resume(partial: Path, record: Path, shape: tuple[int, int], n_chunks: int) -> tuple[np.memmap, np.ndarray]:
    """The memory-mapped map being filled and which of its chunks are done: both as a
    previous run left them if they fit together, else a new empty pair."""
    try:
        finished = np.load(record)
        embedding = np.load(partial, mmap_mode="r+")
        if finished.shape == (n_chunks,) and finished.dtype == bool and embedding.shape == shape:
            return embedding, finished
    except (OSError, ValueError, EOFError):
        pass
    record.unlink(missing_ok=True)  # first, so a half-made new map is never taken for the old one
    embedding = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=shape)
    finished = np.zeros(n_chunks, dtype=bool)
    write_atomically(record, lambda handle: np.save(handle, finished))
    return embedding, finished


__all__ = [
    "CHUNK",
    "EPOCHS",
    "PLACE_K",
    "SUBSET",
    "fit_subset",
    "layout_curve",
    "load_placed",
    "map_file",
    "membership",
    "place",
    "place_map",
    "placed_key",
    "subset_indices",
]
