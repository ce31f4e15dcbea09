"""Comparing models trained on the same data (vae.opened.comparability says which): the held-out
images they share, and what each shows of the β trade-off (rate, distortion, ELBO, IWAE NLL, active
units, KL per dimension, reconstructions, prior samples, traversals of its strongest dimensions).

Rate and distortion follow Alemi et al. 2018 ("Fixing a Broken ELBO"): rate R = E_x KL(q(z|x) ‖
p(z)), distortion D = E_x E_q[−log p(x|z)], both in nats, so that −ELBO = D + R."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.analysis.metrics import active_units, elbo_per_example, iwae_log_likelihood
from vae.latent.codes import decode_codes, prior_samples, reconstruct
from vae.latent.encoding import encode_dataset
from vae.latent.grids import traversal_grid
from vae.models.interface import LatentModel, is_conditional


def shared_heldout(held_out: list[np.ndarray | torch.Tensor]) -> np.ndarray:
    """Dataset indices every model held out (none saw them in training), sorted."""
    shared = np.asarray(held_out[0])
    for other in held_out[1:]:
        shared = np.intersect1d(shared, np.asarray(other))
    return np.sort(shared).astype(np.int64)


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
