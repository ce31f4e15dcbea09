"""PCA of up to a million codes, memory-mapped: the exact mean and covariance in one chunked
float64 pass, then one product a chunk (0.4-0.6 s for 1M x 16). The large maps' first view
(`placement.place_map` with method "pca")."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

PCA_CHUNK = 262_144  # rows read at a time


def chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def pca_axes(mu: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """mu (N, D), possibly memory-mapped -> (mean (D,), components (n_components, D)), both
    float64, from the exact covariance of all N codes. Signs as scikit-learn's PCA sets
    them: each component's largest entry (in absolute value) is positive."""
    n, d = mu.shape
    shift = np.asarray(mu[: min(n, 1024)], dtype=np.float64).mean(axis=0)  # keeps the sums small
    total, outer = np.zeros(d), np.zeros((d, d))
    for part in chunks(n, PCA_CHUNK):
        x = np.asarray(mu[part], dtype=np.float64) - shift
        total += x.sum(axis=0)
        outer += x.T @ x
    mean = total / n
    covariance = outer / n - np.outer(mean, mean)
    values, vectors = np.linalg.eigh(covariance)  # ascending
    components = vectors[:, ::-1][:, :n_components].T.copy()
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    components *= signs[:, None]
    return mean + shift, components


def pca_map(mu: np.ndarray, axes: tuple[np.ndarray, np.ndarray] | None = None, n_components: int = 2) -> np.ndarray:
    """mu (N, D) -> (N, n_components) float32 map positions on the principal axes (`pca_axes`
    of `mu` unless given). A `mu` with fewer than n_components dimensions is padded with zeros."""
    mean, components = axes if axes is not None else pca_axes(mu, n_components)
    out = np.zeros((len(mu), n_components), dtype=np.float32)
    projection = components.T.astype(np.float32)
    offset = (mean @ components.T).astype(np.float32)
    for part in chunks(len(mu), PCA_CHUNK):
        out[part, : projection.shape[1]] = np.asarray(mu[part], dtype=np.float32) @ projection - offset
    return out


# -- placing codes on a fitted subset's map ---------------------------------------------------
