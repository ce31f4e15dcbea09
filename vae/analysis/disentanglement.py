"""How well single latent dimensions capture single known factors of variation.

MIG follows Chen et al. 2018 as disentanglement_lib computes it: latent means discretised
into equal-width bins, mutual information between every (dimension, factor) pair, and per
factor the gap between the two most informative dimensions divided by the factor's entropy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import mutual_info_score

MIG_BINS = 20


def discretize(values: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """Each column (n, d) into `bins` equal-width bins over its own range: integers (n, d).
    A constant column falls entirely into one bin."""
    values = np.asarray(values, dtype=np.float64)
    binned = np.zeros(values.shape, dtype=np.int64)
    for j in range(values.shape[1]):
        edges = np.histogram_bin_edges(values[:, j], bins)
        binned[:, j] = np.digitize(values[:, j], edges[1:-1])
    return binned


def _factor_codes(factors: np.ndarray) -> np.ndarray:
    """Factor values (n, k) as integer codes per column (factors are discrete grids)."""
    factors = np.asarray(factors)
    return np.stack([np.unique(factors[:, j], return_inverse=True)[1] for j in range(factors.shape[1])], axis=1)


def mutual_information(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Mutual information (nats) between each discrete code column and each factor: (k, d)."""
    return np.array(
        [
            [mutual_info_score(factors[:, k], codes[:, j]) for j in range(codes.shape[1])]
            for k in range(factors.shape[1])
        ]
    )


def entropy(factors: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each discrete factor column: (k,)."""
    return np.array([mutual_info_score(factors[:, k], factors[:, k]) for k in range(factors.shape[1])])


@dataclass(frozen=True)
class MIGResult:
    mig: float  # mean over factors of the normalised gap
    gaps: np.ndarray  # (k,) normalised gap per factor
    mutual_info: np.ndarray  # (k, d) nats
    top_dims: np.ndarray  # (k,) the most informative dimension of each factor


def mig(mu: np.ndarray, factors: np.ndarray, bins: int = MIG_BINS) -> MIGResult:
    """Mutual information gap of latent means (n, d) against known factors (n, k)."""
    mu = np.asarray(mu)
    if mu.shape[1] < 2:
        raise ValueError("MIG needs at least 2 latent dimensions")
    discrete_factors = _factor_codes(factors)
    info = mutual_information(discretize(mu, bins), discrete_factors)
    factor_entropy = entropy(discrete_factors)
    ordered = np.sort(info, axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = np.where(factor_entropy > 0, (ordered[:, 0] - ordered[:, 1]) / factor_entropy, 0.0)
    return MIGResult(float(gaps.mean()), gaps, info, info.argmax(axis=1))


def gaussian_total_correlation(mu: np.ndarray) -> float:
    """Total correlation (nats) of a Gaussian fitted to the latent means: KL between it and
    the product of its marginals, ½(Σ log var_i − log det Σ). 0 when the dimensions are
    uncorrelated; it sees only linear dependence. Dead dimensions (var ≈ 0) are left out."""
    mu = np.asarray(mu, dtype=np.float64)
    variance = mu.var(0)
    alive = variance > 1e-8 * max(variance.max(initial=0.0), 1e-30)
    if alive.sum() < 2:
        return 0.0
    covariance = np.cov(mu[:, alive], rowvar=False)
    sign, log_det = np.linalg.slogdet(covariance)
    if sign <= 0:
        return float("inf")
    return float(0.5 * (np.log(np.diag(covariance)).sum() - log_det))
