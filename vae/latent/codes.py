"""Operations on latent vectors: neighbours, posterior draws, how unusual a code is."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from vae.models.gaussian import reparameterize
from vae.models.interface import LatentModel


def nearest_neighbours(
    codes: np.ndarray, query: np.ndarray, k: int = 8, exclude: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The k `codes` rows nearest (Euclidean) to one query: (indices (k,), distances (k,)).
    `exclude` is a row that must not count (the query's own row); duplicates of it still do."""
    query = np.asarray(query, dtype=np.float32).reshape(1, -1)
    k_all = min(k + (exclude is not None), len(codes))
    distances, index = NearestNeighbors(n_neighbors=k_all).fit(codes).kneighbors(query)
    keep = index[0] != exclude
    return index[0][keep][:k], distances[0][keep][:k]


@torch.no_grad()
def posterior_draws(
    model: LatentModel,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    n: int,
    y: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Decode n draws z ~ q(z|x) = N(mu, σ²) of one image's posterior: (n, C, H, W)."""
    mu, logvar = mu.reshape(1, -1).expand(n, -1), logvar.reshape(1, -1).expand(n, -1)
    z = reparameterize(mu, logvar, generator)
    return model.decode(z, y)


@torch.no_grad()
def decode_codes(model: LatentModel, z: np.ndarray | torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Latent vectors (M, D) -> mean images (M, C, H, W)."""
    z = torch.as_tensor(z, dtype=torch.float32, device=model.device).reshape(-1, model.latent_dim)
    return model.decode(z, y).cpu()


@torch.no_grad()
def reconstruct(model: LatentModel, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Images (N, C, H, W) -> their reconstructions decoded at the posterior mean μ (no
    sampling, so they do not flicker between reruns), on the CPU."""
    device = model.device
    y = None if y is None else torch.as_tensor(y).to(device)
    mu, _ = model.encode(x.to(device), y)
    return model.decode(mu, y).cpu()


@torch.no_grad()
def decode_as_every_class(model: LatentModel, z: np.ndarray) -> torch.Tensor:
    """A conditional model's codes (n, D) decoded as each of its classes: (n, classes, C, H, W)."""
    z = np.asarray(z, dtype=np.float32).reshape(-1, model.latent_dim)
    classes = torch.arange(model.num_classes)
    decoded = decode_codes(model, np.repeat(z, len(classes), axis=0), classes.repeat(len(z)))
    return decoded.reshape(len(z), len(classes), *model.image_shape)


def percentile_rank(value: float, reference: np.ndarray) -> float:
    """Percentage of `reference` values at or below `value` (0: lower than all of them)."""
    reference = np.asarray(reference)
    return float(100.0 * np.count_nonzero(reference <= value) / max(len(reference), 1))


def familiarity(rank: float) -> str:
    """Plain words for a percentile rank of an image's ELBO among the held-out images'."""
    return "very unusual" if rank < 2 else "unusual" if rank < 10 else "typical"


# -- moving through the latent space (plain arrays: (D,) vectors, (n, D) paths) -------------


def traverse(z: np.ndarray, dim: int, values: np.ndarray) -> np.ndarray:
    """Copies of z with dimension `dim` set to each of `values`: (len(values), D)."""
    z = np.asarray(z, dtype=np.float32).reshape(-1)
    path = np.repeat(z[None], len(values), axis=0)
    path[:, dim] = values
    return path


def lerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Straight line from a to b, endpoints included: (steps, D)."""
    a, b = np.asarray(a, dtype=np.float32).reshape(-1), np.asarray(b, dtype=np.float32).reshape(-1)
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return (1 - t) * a + t * b


def slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Spherical interpolation (Shoemake 1985; White 2016 for generative models): the direction
    turns along the great circle from a to b while the norm moves linearly from |a| to |b|,
    so the path never cuts through the low-norm middle of the Gaussian prior. (steps, D)."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1), np.asarray(b, dtype=np.float64).reshape(-1)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a < 1e-12 or norm_b < 1e-12:
        return lerp(a, b, steps)  # no direction to turn from
    unit_a, unit_b = a / norm_a, b / norm_b
    omega = np.arccos(np.clip(unit_a @ unit_b, -1.0, 1.0))
    if np.pi - omega < 1e-6:
        return lerp(a, b, steps)  # opposite directions: no unique great circle (always so in 1-D)
    if omega < 1e-6:
        direction = (1 - t) * unit_a + t * unit_b
    else:
        direction = (np.sin((1 - t) * omega) * unit_a + np.sin(t * omega) * unit_b) / np.sin(omega)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    path = direction * ((1 - t) * norm_a + t * norm_b)
    path[0], path[-1] = a, b  # exact endpoints despite rounding
    return path.astype(np.float32)


def arithmetic(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """a − b + c ("king − man + woman")."""
    return np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32) + np.asarray(c, dtype=np.float32)


def class_means(mu: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Mean latent vector of each class, (num_classes, D); NaN rows for absent classes."""
    means = np.full((num_classes, mu.shape[1]), np.nan, dtype=np.float32)
    for k in range(num_classes):
        if np.any(labels == k):
            means[k] = mu[labels == k].mean(0)
    return means


def mean_difference_vector(mu: np.ndarray, labels: np.ndarray, source: int, target: int) -> np.ndarray:
    """The attribute vector "from `source` toward `target`": mean of target − mean of source."""
    for k in (source, target):
        if not np.any(labels == k):
            raise ValueError(f"no encoded examples of class {k}")
    return (mu[labels == target].mean(0) - mu[labels == source].mean(0)).astype(np.float32)


def classifier_vector(mu: np.ndarray, labels: np.ndarray, source: int, target: int, seed: int = 0) -> np.ndarray:
    """An attribute direction from a linear classifier (logistic regression) separating source
    from target codes, as InterFaceGAN does with a linear SVM (Shen et al. 2020): the unit
    normal of the decision boundary, pointing to target, scaled to the classes' mean gap along
    it, so strength 1 moves a source-like code about as far as the typical target."""
    from sklearn.linear_model import LogisticRegression

    chosen = (labels == source) | (labels == target)
    if len(np.unique(labels[chosen])) < 2:
        raise ValueError("both classes need encoded examples")
    classifier = LogisticRegression(max_iter=1000, random_state=seed).fit(mu[chosen], labels[chosen] == target)
    normal = classifier.coef_[0] / np.linalg.norm(classifier.coef_[0])
    gap = float((mu[labels == target].mean(0) - mu[labels == source].mean(0)) @ normal)
    return (normal * gap).astype(np.float32)


def apply_attribute(z: np.ndarray, vector: np.ndarray, strengths: np.ndarray) -> np.ndarray:
    """z + s · vector for each strength s: (len(strengths), D)."""
    z, vector = np.asarray(z, dtype=np.float32).reshape(-1), np.asarray(vector, dtype=np.float32).reshape(-1)
    return z[None] + np.asarray(strengths, dtype=np.float32)[:, None] * vector[None]


def prior_samples(n: int, latent_dim: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """n draws z ~ N(0, temperature² I), the same for the same seed: (n, D)."""
    generator = np.random.default_rng(seed)
    return (temperature * generator.standard_normal((n, latent_dim))).astype(np.float32)


# -- reading the latent space: which dimensions matter, how far a code is from the data ------

INACTIVE_KL = 0.01  # nats; below this a dimension carries (almost) no information about x


def known_kl_per_dimension(
    recorded: Sequence[float] | None, latent_dim: int, mu: np.ndarray | None = None, sigma: np.ndarray | None = None
) -> tuple[np.ndarray | None, str]:
    """KL per latent dimension and where it comes from: measured on held-out codes when they
    are given; else what the checkpoint `recorded` (ModelInfo.recorded_kl_per_dim); else
    (None, "unknown")."""
    if mu is not None and sigma is not None:
        return kl_per_dimension(mu, sigma), f"average over {len(mu)} held-out images"
    if recorded and len(recorded) == latent_dim:
        return np.asarray(recorded, dtype=np.float64), "recorded in the checkpoint"
    return None, "unknown"


def kl_per_dimension(mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Average KL(q(z_d|x) || N(0, 1)) over the data for each dimension d, (D,) nats
    (Kingma & Welling 2014, appendix B). Near 0: the posterior equals the prior, the
    dimension is unused (posterior collapse)."""
    mu, sigma = np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
    variance = np.maximum(sigma**2, 1e-30)
    return (0.5 * (mu**2 + variance - 1.0 - np.log(variance))).mean(0)


def order_by_kl(kl: np.ndarray, threshold: float = INACTIVE_KL) -> tuple[list[int], list[int]]:
    """(active dimensions, most informative first; inactive dimensions, by index)."""
    kl = np.asarray(kl)
    order = [int(d) for d in np.argsort(-kl, kind="stable")]
    return [d for d in order if kl[d] >= threshold], sorted(d for d in order if kl[d] < threshold)


def slider_ranges(mu: np.ndarray, mode: str, width: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per dimension, (D,) each: `prior` is ±width of N(0, 1); `data` is the
    codes' mean ± width standard deviations, never narrower than ±0.1 so every slider moves."""
    mu = np.asarray(mu, dtype=np.float32)
    if mode == "prior":
        return np.full(mu.shape[1], -width, np.float32), np.full(mu.shape[1], width, np.float32)
    if mode != "data":
        raise ValueError(f"unknown range mode {mode!r}: use 'prior' or 'data'")
    centre, spread = mu.mean(0), np.maximum(mu.std(0) * width, 0.1)
    return (centre - spread).astype(np.float32), (centre + spread).astype(np.float32)


def nearest_distances(codes: np.ndarray, queries: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Euclidean distance from each query (n, D) to its nearest row of `codes`: (n,).
    Brute force in float64: for the few queries of a slider move it beats building a tree."""
    codes = np.asarray(codes, dtype=np.float64)
    queries = np.asarray(queries, dtype=np.float64).reshape(-1, codes.shape[1])
    code_norms = (codes**2).sum(1)
    nearest = []
    for start in range(0, len(queries), chunk):
        part = queries[start : start + chunk]
        squared = (part**2).sum(1)[:, None] + code_norms[None] - 2 * part @ codes.T
        nearest.append(np.sqrt(np.maximum(squared.min(1), 0.0)))
    return np.concatenate(nearest) if nearest else np.zeros(0)


def typical_spacing(codes: np.ndarray) -> float:
    """Median distance from a code to its nearest other code: the yardstick for "on the data".
    Duplicates count as distance 0, as they are real neighbours."""
    codes = np.asarray(codes, dtype=np.float32)
    if len(codes) < 2:
        return 1.0
    distances = NearestNeighbors(n_neighbors=2).fit(codes).kneighbors(codes)[0][:, 1]
    return float(max(np.median(distances), 1e-6))
