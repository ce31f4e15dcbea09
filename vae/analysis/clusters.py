"""Do the latent means group the way the labels do, and do they carry the labels linearly?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, confusion_matrix, normalized_mutual_info_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

CLUSTER_METHODS = {"kmeans": "k-means", "gmm": "Gaussian mixture"}


def fit_clusters(mu: np.ndarray, k: int, method: str = "kmeans", seed: int = 0):
    """k-means or a full-covariance GMM with k clusters fitted on the latent means (n, D): its
    `predict` assigns other codes to those clusters."""
    if not 1 <= k <= len(mu):
        raise ValueError(f"k must be between 1 and the number of points ({len(mu)}), got {k}")
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=4, random_state=seed).fit(mu)
    if method == "gmm":
        return GaussianMixture(n_components=k, covariance_type="full", reg_covar=1e-4, random_state=seed).fit(mu)
    raise ValueError(f"unknown clustering method {method!r}: use one of {sorted(CLUSTER_METHODS)}")


def cluster(mu: np.ndarray, k: int, method: str = "kmeans", seed: int = 0) -> np.ndarray:
    """Cluster index of each latent mean (n,), k clusters by k-means or a full-covariance GMM
    fitted on these same means."""
    return fit_clusters(mu, k, method, seed).predict(mu)


@dataclass(frozen=True)
class Agreement:
    nmi: float  # normalised mutual information, 1 = the same partition
    ari: float  # adjusted Rand index, 1 = the same partition, ~0 = chance
    confusion: np.ndarray  # (labels, clusters) counts
    label_values: np.ndarray
    cluster_values: np.ndarray


def agreement(labels: np.ndarray, clusters: np.ndarray) -> Agreement:
    """How well clusters match labels; the confusion matrix has rows = labels, columns = clusters."""
    label_values, cluster_values = np.unique(labels), np.unique(clusters)
    values = np.union1d(label_values, cluster_values)
    full = confusion_matrix(labels, clusters, labels=values)
    rows = np.searchsorted(values, label_values)
    columns = np.searchsorted(values, cluster_values)
    return Agreement(
        float(normalized_mutual_info_score(labels, clusters)),
        float(adjusted_rand_score(labels, clusters)),
        full[np.ix_(rows, columns)],
        label_values,
        cluster_values,
    )


def linear_probe(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, seed: int = 0
) -> float:
    """Held-out accuracy of a logistic regression (on standardised features) trained on train_x."""
    if len(np.unique(train_y)) < 2:
        raise ValueError("a linear probe needs at least two classes in its training set")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    probe.fit(np.asarray(train_x).reshape(len(train_x), -1), train_y)
    return float(probe.score(np.asarray(test_x).reshape(len(test_x), -1), test_y))
