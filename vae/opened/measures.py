"""What the pages measure on an opened model's data: held-out ELBOs (the reference for "how
unusual"), anomaly scores, linear probes, clusters, attribute directions, the imputation
baseline and a bundle's held-out metrics. Each is a plain function of an OpenedModel; the app
caches the results (ui.shell.cache).

Whatever is fitted (a probe, a reference Gaussian, a threshold, clusters, an attribute
direction, the mean image) is fitted on `opened.fitting().fit_idx` and scored on the disjoint
`score_idx`; each report says which, in words (`FitScoreSplit.describe`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.analysis.anomaly import LatentGaussian, anomaly_scores, corrupt, detection_auc
from vae.analysis.clusters import fit_clusters, linear_probe
from vae.analysis.metrics import elbo_per_example, evaluate_model
from vae.analysis.per_level import active_per_level, chance_accuracy, probe_per_level
from vae.data.datasets import map_subset
from vae.errors import DatasetError
from vae.latent.codes import classifier_vector, mean_difference_vector
from vae.latent.encoding import encode_dataset
from vae.models.levels import Level, levels_of, per_level_sums
from vae.opened.info import HeldOutMetrics
from vae.opened.opening import OpenedModel

ELBO_SAMPLES = 8  # draws of z per image: uploads are scored the same way
MEASURED_IMAGES, MEASURED_IWAE_K = 1000, 50  # a bundle's card: a few seconds on two cores
ANOMALY_SAMPLES = 2  # draws of z per image for the −ELBO score: enough to rank, half the time of 4
ANOMALY_REFERENCE = 5000  # images fitted on (training images) for the Mahalanobis reference
THRESHOLD_IMAGES = 500  # of those, the images whose scores place the default threshold
PROBE_TRAIN = 1000  # images fitted on for the linear probes: the pixel probe on 64×64 took 9 s at 2,000
CLUSTER_FIT = 2000  # images fitted on for the clusters
ATTRIBUTE_FIT = 2000  # images fitted on for an attribute direction
MEAN_IMAGE_IMAGES = 5000  # images fitted on for the imputation baseline


@torch.no_grad()
def heldout_elbo(opened: OpenedModel, n_points: int) -> np.ndarray:
    """ELBO of each of the map's held-out images, (N,) nats (ELBO_SAMPLES draws of z each)."""
    data = opened.data()
    index = map_subset(data.held_idx, n_points)
    generator = torch.Generator().manual_seed(0)
    x, y = data.dataset.images[index], data.labels_for(opened.model, index)
    return elbo_per_example(opened.model, x, y, generator=generator, samples=ELBO_SAMPLES)["elbo"].numpy()


def all_mu(opened: OpenedModel) -> np.ndarray:
    """Latent means of every image in the dataset, (N, D)."""
    data = opened.data()
    index = torch.arange(len(data.dataset))
    return encode_dataset(opened.model, data.dataset.images, data.labels_for(opened.model, index))[0].numpy()


@dataclass(frozen=True)
class AnomalyReport:
    """Scores (higher = more unusual) of the first n images scored on (`index`, dataset
    indices), clean and with a planted corruption, and how well each score separates the two
    (ROC-AUC); `fitted`: the clean scores of images fitted on, where the default threshold is
    placed; `about`: what was fitted on what, in words."""

    index: np.ndarray
    clean: dict[str, np.ndarray]
    corrupted: dict[str, np.ndarray]
    auc: dict[str, float]
    fitted: dict[str, np.ndarray]
    about: str


def anomalies(opened: OpenedModel, n_points: int, corruption: str, severity: float) -> AnomalyReport:
    """Scores of the first n images scored on, clean and with `corruption` at `severity`,
    against a Mahalanobis reference fitted on up to ANOMALY_REFERENCE images fitted on; and the
    clean scores of the first THRESHOLD_IMAGES of those, where the threshold starts."""
    data, split = opened.data(), opened.fitting()
    index = split.scored(n_points)
    x, y = data.dataset.images[index], data.labels_for(opened.model, index)
    fit_mu = opened.fit_codes(ANOMALY_REFERENCE)[0]
    reference = LatentGaussian(fit_mu)
    fit_index = split.fit_subset(THRESHOLD_IMAGES)
    fitted = anomaly_scores(
        opened.model,
        data.dataset.images[fit_index],
        reference,
        data.labels_for(opened.model, fit_index),
        samples=ANOMALY_SAMPLES,
    )
    clean = anomaly_scores(opened.model, x, reference, y, samples=ANOMALY_SAMPLES)
    broken = anomaly_scores(
        opened.model,
        corrupt(x, corruption, severity, seed=1, vocab_size=len(getattr(opened.model, "vocabulary", None) or ())),
        reference,
        y,
        samples=ANOMALY_SAMPLES,
    )
    about = (
        f"reference Gaussian {split.describe(len(fit_mu), len(index))}; the threshold starts at the 95th "
        f"percentile of the scores of {len(fit_index)} of the images fitted on"
    )
    auc = {k: detection_auc(clean[k], broken[k]) for k in clean}
    return AnomalyReport(index.numpy(), clean, broken, auc, fitted, about)


def default_threshold(scores: np.ndarray) -> float:
    """Where to start flagging: the 95th percentile of `scores` (those of the images fitted
    on, `AnomalyReport.fitted`: the images then flagged are scored out of sample)."""
    return float(np.percentile(scores, 95))


def flagged_fraction(scores: np.ndarray, threshold: float) -> float:
    """The fraction of images whose score is above `threshold`."""
    return float(np.mean(np.asarray(scores) > threshold))


@dataclass(frozen=True)
class ProbeReport:
    latent: float  # accuracy of the probe on μ, on the images scored on
    pixels: float  # the same probe on raw pixels
    n_train: int  # images fitted on
    n_test: int  # images scored on
    about: str  # what was fitted on what, in words


def probes(opened: OpenedModel, n_points: int) -> ProbeReport:
    """Accuracy of a logistic regression on μ and on raw pixels (same images), fitted on up to
    PROBE_TRAIN images fitted on and scored on the first n images scored on."""
    data, split = opened.data(), opened.fitting()
    train_mu, train_labels = opened.fit_codes(PROBE_TRAIN)
    scored = opened.scored(n_points)
    train_index = split.fit_subset(PROBE_TRAIN)
    pixels = data.dataset.images.flatten(1).numpy()
    return ProbeReport(
        latent=linear_probe(train_mu, train_labels, scored.mu, scored.labels),
        pixels=linear_probe(pixels[train_index], train_labels, pixels[scored.index], scored.labels),
        n_train=len(train_mu),
        n_test=len(scored.mu),
        about=split.describe(len(train_mu), len(scored.mu)),
    )


@dataclass(frozen=True)
class LevelReport:
    """What each level of the code holds. KL and active units on the map's first n held-out
    images; the probe (None without two classes) fitted and scored as `probes` is."""

    levels: tuple[Level, ...]
    kl_per_dim: np.ndarray  # (D,) mean KL per dimension, nats, each level against its conditional prior
    kl: dict[str, float]  # level name -> mean KL of the level, nats
    active: dict[str, int]  # level name -> active units among its dimensions
    n_images: int  # held-out images KL and activity are measured on
    probe: dict[str, float] | None  # level name (and ALL_LEVELS) -> accuracy on the images scored on
    chance: float | None  # the probe's floor: always the commonest class fitted on
    about: str  # what the probe was fitted on and scored on, in words


@torch.no_grad()
def heldout_kl_per_dim(opened: OpenedModel, n_points: int) -> np.ndarray:
    """Mean KL per dimension, (D,) nats, on the map's first n held-out images, as the ELBO
    counts it (ELBO_SAMPLES draws; a hierarchical model's levels drawn top-down, each against
    its conditional prior): for a flat model the same as the KL of the encoded (μ, σ)."""
    data, model = opened.data(), opened.model
    index = map_subset(data.held_idx, n_points)
    x, y = data.dataset.images[index], data.labels_for(model, index)
    generator = torch.Generator().manual_seed(0)
    return elbo_per_example(model, x, y, generator=generator, samples=ELBO_SAMPLES)["kl_per_dim"].mean(0).numpy()


@torch.no_grad()
def level_report(opened: OpenedModel, n_points: int) -> LevelReport:
    """KL per level and per dimension (ELBO_SAMPLES draws of z, levels drawn top-down), active
    units per level on held-out μ, and the linear probe on each level's μ alone."""
    data, split, model = opened.data(), opened.fitting(), opened.model
    levels = levels_of(model)
    index = map_subset(data.held_idx, n_points)
    kl_per_dim = heldout_kl_per_dim(opened, n_points)
    active = active_per_level(opened.held_out(n_points).mu, levels)
    train_mu, train_labels = opened.fit_codes(PROBE_TRAIN)
    scored = opened.scored(n_points)
    probe, chance = None, None
    if train_labels is not None and scored.labels is not None and len(np.unique(train_labels)) >= 2:
        probe = probe_per_level(train_mu, train_labels, scored.mu, scored.labels, levels)
        chance = chance_accuracy(train_labels, scored.labels)
    return LevelReport(
        levels,
        kl_per_dim,
        per_level_sums(kl_per_dim, levels),
        active,
        len(index),
        probe,
        chance,
        split.describe(len(train_mu), len(scored.mu)),
    )


@dataclass(frozen=True)
class ClusterReport:
    """Clusters fitted on the images fitted on (no labels) and assigned to the Map's first n
    held-out codes (`assigned`, colours on the map); `scored`: the rows of those codes that
    are images scored on (all of them for a checkpoint), where NMI and ARI are measured."""

    assigned: np.ndarray  # (n,) cluster index of each of held_out(n)
    scored: np.ndarray  # (n,) bool
    n_fit: int
    about: str


def clusters(opened: OpenedModel, n_points: int, k: int, method: str, seed: int = 0) -> ClusterReport:
    """k clusters (k-means or a Gaussian mixture) fitted on up to CLUSTER_FIT codes of images
    fitted on, assigned to the first n held-out codes."""
    split = opened.fitting()
    fit_mu, _ = opened.fit_codes(CLUSTER_FIT)
    codes = opened.held_out(n_points)
    assigned = fit_clusters(fit_mu, k, method, seed).predict(codes.mu)
    scored = np.isin(codes.index, split.score_idx.numpy())
    return ClusterReport(assigned, scored, len(fit_mu), split.describe(len(fit_mu), int(scored.sum())))


def attribute_vector(opened: OpenedModel, source: int, target: int, method: str) -> np.ndarray:
    """Direction from class `source` toward `target`, (D,), fitted on up to ATTRIBUTE_FIT codes
    of images fitted on (`opened.fitting()`): `means` (class-mean difference) or `classifier`
    (logistic-regression normal). Raises ValueError when a class has no such image."""
    mu, labels = opened.fit_codes(ATTRIBUTE_FIT)
    if labels is None:
        raise ValueError("attribute vectors need labelled data")
    make = mean_difference_vector if method == "means" else classifier_vector
    return make(mu, labels, source, target)


def measured_metrics(opened: OpenedModel) -> HeldOutMetrics | None:
    """Held-out ELBO, IWAE NLL and active units measured here on up to MEASURED_IMAGES images,
    for a model that brings no recorded metrics (a bundle); None without data."""
    try:
        data = opened.data()
    except DatasetError:
        return None
    index = map_subset(data.held_idx, MEASURED_IMAGES)
    x, y = data.dataset.images[index], data.labels_for(opened.model, index)
    return HeldOutMetrics.from_dict(evaluate_model(opened.model, x, y, iwae_k=MEASURED_IWAE_K))


def mean_image(opened: OpenedModel) -> torch.Tensor:
    """Mean of up to MEAN_IMAGE_IMAGES images fitted on, (1, C, H, W): the imputation baseline
    (the images imputed are those scored on, `opened.fitting().scored`)."""
    data = opened.data()
    return data.dataset.images[opened.fitting().fit_subset(MEAN_IMAGE_IMAGES)].mean(0, keepdim=True)
