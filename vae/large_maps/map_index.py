"""The server's spatial index over a large map's positions: what lies at a clicked spot (the
distance-weighted codes of its nearest points, as `LatentMap.inverse_transform` and the
browser's hover compute it) and how far a spot is from the data."""

from __future__ import annotations

from functools import cached_property

import numpy as np
from sklearn.neighbors import KDTree

from vae.latent.projection import _idw

_SPACING_SAMPLE = 20_000


def typical_spacing(xy: np.ndarray, seed: int = 0) -> float:
    """The median distance from a point to its nearest other spot, estimated on a sample: in
    2-D spacing scales as 1/√density, so a sample of m of N points is √(m/N) as dense apart.
    Points on the very same spot (identical images) are not spacing: they are left out."""
    n = len(xy)
    if n < 2:
        return 1.0
    rows = np.random.default_rng(seed).choice(n, min(n, _SPACING_SAMPLE), replace=False)
    sample = np.asarray(xy[np.sort(rows)], np.float64)
    distances, _ = KDTree(sample).query(sample, k=2)
    apart = distances[:, 1][distances[:, 1] > 0]  # codes of identical images share a spot
    if not len(apart):
        span = float(np.ptp(sample, axis=0).max()) if len(sample) > 1 else 1.0
        return max(span / np.sqrt(n), 1e-9)
    return max(float(np.median(apart)) * np.sqrt(len(sample) / n), 1e-9)


class MapIndex:
    """A KD-tree over the positions (N, 2); `mu` (N, D) the codes placed there (may be memory-mapped)."""

    def __init__(self, xy: np.ndarray, mu: np.ndarray, k: int = 8) -> None:
        self.xy = np.ascontiguousarray(xy, np.float32)
        self.mu, self.k = mu, int(min(k, len(xy)))
        self.spacing = typical_spacing(self.xy)

    @cached_property
    def tree(self) -> KDTree:
        """Built on the first click on empty space (1.6 s at a million points), not before."""
        return KDTree(self.xy, leaf_size=64)

    def inverse(self, points: np.ndarray) -> np.ndarray:
        """Codes (M, D) at map positions (M, 2)."""
        distances, rows = self.tree.query(np.atleast_2d(points), k=self.k)
        codes = np.asarray(self.mu[rows.ravel()], np.float32).reshape(*rows.shape, -1)
        return _idw(distances, codes).astype(np.float32)

    def distance_to_data(self, points: np.ndarray) -> np.ndarray:
        """Distance to the nearest point in units of the typical spacing."""
        distances, _ = self.tree.query(np.atleast_2d(points), k=1)
        return distances[:, 0] / self.spacing
