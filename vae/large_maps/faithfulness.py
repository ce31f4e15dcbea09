"""How faithful a map is: the share of each code's nearest codes that stay its nearest on the
map (docs/performance.md, "Maps of a million codes", compares placed maps with full fits)."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors


def neighbour_preservation(
    codes: np.ndarray, embedding: np.ndarray, k: int = 15, sample: int = 2000, seed: int = 0
) -> float:
    """The fraction of a code's k nearest codes (in code space, among all N) that are among
    its k nearest on the map, averaged over `sample` codes drawn with `seed`: 1.0 when the map
    keeps every neighbourhood, about k / N for a random map. codes (N, D), embedding (N, c)."""
    codes, embedding = np.asarray(codes, dtype=np.float32), np.asarray(embedding, dtype=np.float32)
    n = len(codes)
    if len(embedding) != n or n <= k:
        raise ValueError(f"need as many map points as codes, and more than k={k} of them")
    picked = np.random.default_rng(seed).choice(n, min(sample, n), replace=False)
    in_codes = _neighbours(codes, picked, k, "brute")
    on_map = _neighbours(embedding, picked, k, "auto")
    return float(np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(in_codes, on_map)]))


def _neighbours(points: np.ndarray, picked: np.ndarray, k: int, algorithm: str) -> np.ndarray:
    """The k nearest other points of each picked point (M, k): the point itself left out
    (the last of k + 1 left out instead where duplicates hid it)."""
    nearest = NearestNeighbors(n_neighbors=k + 1, algorithm=algorithm).fit(points).kneighbors(points[picked])[1]
    itself = nearest == picked[:, None]
    itself[~itself.any(axis=1), -1] = True
    return nearest[~itself].reshape(len(picked), k)
