"""Comparing models scored on the same images (vae.opened.comparability says which): the held-out
images they share (by index in one dataset, else by content), and what each shows of the β trade-off (rate, distortion, ELBO, IWAE NLL, active
units, KL per dimension, reconstructions, prior samples, traversals of its strongest dimensions).

Rate and distortion follow Alemi et al. 2018 ("Fixing a Broken ELBO"): rate R = E_x KL(q(z|x) ‖
p(z)), distortion D = E_x E_q[−log p(x|z)], both in nats, so that −ELBO = D + R."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from vae.analysis.metrics import active_units, elbo_per_example, iwae_log_likelihood
from vae.latent.codes import decode_codes, prior_samples, reconstruct
from vae.latent.encoding import encode_dataset
from vae.latent.grids import traversal_grid
from vae.models.interface import LatentModel, is_conditional
from vae.models.levels import levels_of, per_level_sums


def image_keys(images: torch.Tensor) -> np.ndarray:
    """A content key per image, (N,) uint64, from its pixels at 8-bit precision (as a bundle's
    data sample stores them): the same image gives the same key whichever dataset it is in."""
    pixels = (images.detach().cpu().float().clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    rows = pixels.reshape(len(pixels), -1)
    shape = repr(tuple(images.shape[1:])).encode()
    return np.array(
        [int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8, key=shape).digest(), "little") for row in rows],
        dtype=np.uint64,
    )


@dataclass(frozen=True)
class HeldOutImages:
    """The images a model held out: dataset image `index[i]` has content key `keys[i]`.
    `space` names the model's index space (models with the same one number the same images the
    same way: matched by index); None for data of its own (a bundle's sample: matched by key)."""

    index: np.ndarray  # (N,) int64 dataset indices
    keys: np.ndarray  # (N,) uint64, image_keys of those images
    space: tuple | None = None


def shared_images(models: list[HeldOutImages]) -> list[np.ndarray]:
    """For each model, the dataset indices of the images every model held out, row k of each
    the same image, in the order of the first model's (sorted) indices. Models of one index
    space are matched by index, others by content key."""
    first = models[0]
    if first.space is not None and all(m.space == first.space for m in models):
        shared = first.index
        for other in models[1:]:
            shared = np.intersect1d(shared, other.index)
        shared = np.sort(shared).astype(np.int64)
        return [shared] * len(models)
    keys, rows = np.unique(first.keys, return_index=True)  # a repeated image counts once
    columns = [first.index[rows]]
    for other in models[1:]:
        keys, keep, found = np.intersect1d(keys, other.keys, assume_unique=False, return_indices=True)
        columns = [c[keep] for c in columns] + [np.asarray(other.index)[found]]
    order = np.argsort(columns[0], kind="stable")
    return [np.asarray(c, dtype=np.int64)[order] for c in columns]


def images_in(reference: HeldOutImages, other: HeldOutImages, index: np.ndarray) -> np.ndarray:
    """Names, in the reference model's terms, of `other`'s held-out dataset images `index`:
    the reference's dataset index of the same image where it held that image out, else a
    negative number drawn from the image's content key (the same image, the same name)."""
    key_of = dict(zip(other.index.tolist(), other.keys.tolist(), strict=True))
    if reference.space is not None and reference.space == other.space:
        held = set(reference.index.tolist())
        named = {i: i for i in key_of if i in held}
    else:
        first_index = dict(zip(reversed(reference.keys.tolist()), reversed(reference.index.tolist()), strict=True))
        named = {i: first_index[k] for i, k in key_of.items() if k in first_index}
    return np.array([named.get(i, -1 - (key_of[i] % 2**62)) for i in np.asarray(index).tolist()], dtype=np.int64)


@dataclass(frozen=True)
class RateDistortion:
    rate: float  # mean KL(q(z|x) || p(z)), nats
    distortion: float  # mean −log p(x|z), z ~ q(z|x), nats
    elbo: float  # mean ELBO on the same draws: −(distortion + rate)


@torch.no_grad()
def rate_distortion(
    model: LatentModel, x: torch.Tensor, y: torch.Tensor | None = None, seed: int = 0, samples: int = 1
) -> RateDistortion:
    """Rate and distortion of a model on images x, with `samples` draws of z per image."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    return _from_parts(elbo_per_example(model, x, y, generator=generator, samples=samples))


def _from_parts(parts: dict[str, torch.Tensor]) -> RateDistortion:
    return RateDistortion(float(parts["kl"].mean()), float(-parts["recon_ll"].mean()), float(parts["elbo"].mean()))


@dataclass(frozen=True)
class ModelComparison:
    """One model's column on the Compare page, all on the same held-out images."""

    rate_distortion: RateDistortion
    iwae_nll: float
    iwae_k: int
    kl_per_dim: np.ndarray  # (D,) nats, mean over the images
    rate_by_level: dict[str, float]  # the rate split by level, top first (a flat model: one level "z")
    active: list[int]  # active units (Burda et al. 2016)
    reconstructions: torch.Tensor  # (R, C, H, W) of the first R images
    prior_samples: torch.Tensor  # (S, C, H, W), the same seed for every model
    traversed_dims: list[int]  # the strongest dimensions by KL, strongest first
    traversals: torch.Tensor  # (len(traversed_dims) * steps, C, H, W), one row per dimension


TRAVERSAL_VALUES = np.linspace(-3.0, 3.0, 7, dtype=np.float32)  # around the prior's mean, in prior σ


@torch.no_grad()
def compare_model(
    model: LatentModel,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    shown: int = 8,
    samples: int = 8,
    traversed: int = 3,
    iwae_k: int = 50,
    seed: int = 0,
) -> ModelComparison:
    """Everything the Compare page shows of one model, measured on images x (labels y, given
    to a conditional model). The same x, y and seed give every model the same inputs."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    parts = elbo_per_example(model, x, y, generator=generator)
    rd = _from_parts(parts)
    nll = float(-iwae_log_likelihood(model, x, y, k=iwae_k, generator=generator).mean()) if iwae_k else -rd.elbo
    kl_per_dim = parts["kl_per_dim"].mean(0).numpy()
    mu, _ = encode_dataset(model, x, y)
    conditional = is_conditional(model)
    labels = torch.arange(samples) % model.num_classes if conditional else None
    prior = decode_codes(model, prior_samples(samples, model.latent_dim, seed=seed), labels)
    dims = [int(d) for d in np.argsort(-kl_per_dim, kind="stable")[: min(traversed, model.latent_dim)]]
    origin = np.zeros(model.latent_dim, dtype=np.float32)
    return ModelComparison(
        rate_distortion=rd,
        iwae_nll=nll,
        iwae_k=iwae_k,
        kl_per_dim=kl_per_dim,
        rate_by_level=per_level_sums(kl_per_dim, levels_of(model)),
        active=active_units(mu),
        reconstructions=reconstruct(model, x[:shown], None if y is None else y[:shown]),
        prior_samples=prior,
        traversed_dims=dims,
        traversals=traversal_grid(model, origin, dims, TRAVERSAL_VALUES),
    )


def equal_elbo_levels(negative_elbos: list[float], count: int = 5) -> np.ndarray:
    """Round values of −ELBO = D + R for the lines drawn across the rate–distortion plane,
    spanning the models shown."""
    low, high = min(negative_elbos), max(negative_elbos)
    span = max(high - low, 1.0)
    step = float(10 ** np.floor(np.log10(span / count)))
    for factor in (1, 2, 5, 10):
        if span / (step * factor) <= count:
            step *= factor
            break
    start = np.floor((low - 0.5 * step) / step) * step
    return start + step * np.arange(int(np.ceil((high + 0.5 * step - start) / step)) + 1)


def default_selection(current: str, candidates: list[str], sweeps: dict[str, str | None], limit: int = 6) -> list[str]:
    """Which comparable models to show first: the current model's sweep; else the sweep listed
    last in `candidates` (callers order them oldest first, so the newest sweep); else the current
    model and the next ones, up to `limit`."""

    def members(tag: str) -> list[str]:
        return [name for name in candidates if sweeps.get(name) == tag][:limit]

    if sweeps.get(current) and len(members(sweeps[current])) >= 2:
        return members(sweeps[current])
    tags = [sweeps.get(name) for name in candidates if sweeps.get(name)]
    for tag in reversed(tags):
        if len(members(tag)) >= 2:
            return members(tag)
    return ([current] + [name for name in candidates if name != current])[:limit]
