"""Aligning maps of the same images made by different models: orthogonal Procrustes with
scaling and translation, so the same image sits in about the same place on every map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import orthogonal_procrustes


@dataclass(frozen=True)
class Similarity:
    """x -> scale · (x − source_mean) @ rotation + target_mean: a rotation (or reflection),
    a uniform scale and a shift, which keep the map's shape."""

    rotation: np.ndarray  # (d, d), orthogonal
    scale: float
    source_mean: np.ndarray  # (d,)
    target_mean: np.ndarray  # (d,)

    def apply(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        return (self.scale * (points - self.source_mean) @ self.rotation + self.target_mean).astype(np.float32)


def procrustes(source: np.ndarray, target: np.ndarray) -> Similarity:
    """The similarity that best maps `source` (n, d) onto `target` (n, d), row i onto row i,
    in least squares. A rotated, scaled and shifted copy is recovered exactly."""
    source, target = np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if source.shape != target.shape or source.ndim != 2 or len(source) < 2:
        raise ValueError("procrustes needs two (n, d) arrays of the same shape with n >= 2")
    source_mean, target_mean = source.mean(0), target.mean(0)
    a, b = source - source_mean, target - target_mean
    rotation, singular_sum = orthogonal_procrustes(a, b)
    spread = float((a**2).sum())
    scale = singular_sum / spread if spread > 0 else 1.0
    return Similarity(rotation, float(scale), source_mean, target_mean)


def align_to(reference: np.ndarray, reference_ids: np.ndarray, embedding: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """`embedding` (rows named by `ids`, e.g. dataset indices) moved onto `reference` (rows
    named by `reference_ids`), fitted on the images both maps show. Unchanged when they share
    fewer than 3 images."""
    _, in_reference, in_embedding = np.intersect1d(reference_ids, ids, return_indices=True)
    if len(in_reference) < 3:
        return np.asarray(embedding, dtype=np.float32)
    return procrustes(embedding[in_embedding], reference[in_reference]).apply(embedding)
