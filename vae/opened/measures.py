"""What the pages measure on an opened model's data: held-out ELBOs (the reference for "how
unusual"), training-image codes, anomaly scores, linear probes, attribute directions, the
imputation baseline and a bundle's held-out metrics. Each is a plain function of an
OpenedModel; the app caches the results (ui.shell.cache)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.analysis.anomaly import LatentGaussian, anomaly_scores, corrupt, detection_auc
from vae.analysis.clusters import linear_probe
from vae.analysis.metrics import elbo_per_example, evaluate_model
from vae.data.datasets import map_subset
from vae.errors import DatasetError
from vae.latent.codes import classifier_vector, mean_difference_vector
from vae.latent.encoding import encode_dataset
from vae.opened.info import HeldOutMetrics
from vae.opened.opening import OpenedModel

ELBO_SAMPLES = 8  # draws of z per image: uploads are scored the same way
MEASURED_IMAGES, MEASURED_IWAE_K = 1000, 50  # a bundle's card: a few seconds on two cores
ANOMALY_SAMPLES = 2  # draws of z per image for the −ELBO score: enough to rank, half the time of 4
ANOMALY_REFERENCE = 5000  # training images the Mahalanobis reference is fitted on
PROBE_TRAIN = 1000  # training images for the linear probes: the pixel probe on 64×64 took 9 s at 2,000
MEAN_IMAGE_IMAGES = 5000


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
    """Scores (higher = more unusual) of the first n held-out images, clean and with a planted
    corruption, and how well each score separates the two (ROC-AUC)."""

    clean: dict[str, np.ndarray]
    corrupted: dict[str, np.ndarray]
    auc: dict[str, float]


def anomalies(opened: OpenedModel, n_points: int, corruption: str, severity: float) -> AnomalyReport:
    """Scores of the first n held-out images, clean and with `corruption` at `severity`, against
    a Mahalanobis reference fitted on up to ANOMALY_REFERENCE training images."""
    data = opened.data()
    index = map_subset(data.held_idx, n_points)
    x, y = data.dataset.images[index], data.labels_for(opened.model, index)
    reference = LatentGaussian(opened.training_codes(ANOMALY_REFERENCE)[0])
    clean = anomaly_scores(opened.model, x, reference, y, samples=ANOMALY_SAMPLES)
    broken = anomaly_scores(
        opened.model, corrupt(x, corruption, severity, seed=1), reference, y, samples=ANOMALY_SAMPLES
    )
    return AnomalyReport(clean, broken, {k: detection_auc(clean[k], broken[k]) for k in clean})


def default_threshold(scores: np.ndarray) -> float:
    """Where to start flagging: the 95th percentile of the clean held-out scores."""
    return float(np.percentile(scores, 95))


def flagged_fraction(scores: np.ndarray, threshold: float) -> float:
    """The fraction of images whose score is above `threshold`."""
    return float(np.mean(np.asarray(scores) > threshold))


@dataclass(frozen=True)
class ProbeReport:
    latent: float  # held-out accuracy of the probe on μ
    pixels: float  # the same probe on raw pixels
    n_train: int
    n_test: int


def probes(opened: OpenedModel, n_points: int) -> ProbeReport:
    """Held-out accuracy of a logistic regression on μ and on raw pixels (same images)."""
    data = opened.data()
    train_mu, train_labels = opened.training_codes(PROBE_TRAIN)
    held = opened.held_out(n_points)
    train_index, held_index = map_subset(data.train_idx, PROBE_TRAIN), map_subset(data.held_idx, n_points)
    pixels = data.dataset.images.flatten(1).numpy()
    return ProbeReport(
        latent=linear_probe(train_mu, train_labels, held.mu, held.labels),
        pixels=linear_probe(pixels[train_index], train_labels, pixels[held_index], held.labels),
        n_train=len(train_mu),
        n_test=len(held.mu),
    )


def attribute_vector(opened: OpenedModel, n_points: int, source: int, target: int, method: str) -> np.ndarray:
    """Direction from class `source` toward `target` in the map's held-out codes, (D,):
    `means` (class-mean difference) or `classifier` (logistic-regression normal)."""
    codes = opened.held_out(n_points)
    make = mean_difference_vector if method == "means" else classifier_vector
    return make(codes.mu, codes.labels, source, target)


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
    """Mean of up to 5,000 training images, (1, C, H, W): the imputation baseline."""
    data = opened.data()
    return data.dataset.images[map_subset(data.train_idx, MEAN_IMAGE_IMAGES)].mean(0, keepdim=True)
