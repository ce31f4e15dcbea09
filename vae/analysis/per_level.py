"""What each level of a code holds (see `vae.models.levels`): active units counted within each
level, and the linear probe run on each level's dimensions alone (which level knows the class).
A flat code is one level, "z". Plain functions of arrays; fitting and scoring sets are the
caller's (vae.opened.measures gives them disjoint)."""

from __future__ import annotations

import numpy as np

from vae.analysis.clusters import linear_probe
from vae.analysis.metrics import ACTIVITY_THRESHOLD, active_units
from vae.models.levels import Level

ALL_LEVELS = "all levels"  # the row of the whole code, beside each level's


def active_per_level(
    mu: np.ndarray, levels: tuple[Level, ...], threshold: float = ACTIVITY_THRESHOLD
) -> dict[str, int]:
    """Active units (Burda et al. 2016: Var_x of the latent means above `threshold`) of μ
    (N, D), counted within each level."""
    active = np.zeros(np.asarray(mu).shape[1], dtype=np.int64)
    active[active_units(mu, threshold)] = 1
    return {level.name: int(active[level.dims].sum()) for level in levels}


def probe_per_level(
    train_mu: np.ndarray,
    train_labels: np.ndarray,
    test_mu: np.ndarray,
    test_labels: np.ndarray,
    levels: tuple[Level, ...],
    seed: int = 0,
) -> dict[str, float]:
    """Accuracy on (test_mu, test_labels) of the linear probe fitted on (train_mu,
    train_labels), run on each level's dimensions alone, then on the whole code (key
    ALL_LEVELS; a flat code has only that one). Raises ValueError with fewer than two classes."""
    train_mu, test_mu = np.asarray(train_mu), np.asarray(test_mu)
    accuracy = {}
    if len(levels) > 1:
        for level in levels:
            accuracy[level.name] = linear_probe(
                train_mu[:, level.dims], train_labels, test_mu[:, level.dims], test_labels, seed
            )
    accuracy[ALL_LEVELS] = linear_probe(train_mu, train_labels, test_mu, test_labels, seed)
    return accuracy


def chance_accuracy(train_labels: np.ndarray, test_labels: np.ndarray) -> float:
    """Accuracy on `test_labels` of always answering the commonest class of `train_labels`:
    the floor a probe that learnt nothing reaches."""
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    return float(np.mean(np.asarray(test_labels) == values[np.argmax(counts)]))


__all__ = ["ALL_LEVELS", "active_per_level", "chance_accuracy", "probe_per_level"]
