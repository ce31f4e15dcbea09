"""Held-out metrics of a LatentModel on plain tensors: ELBO and its parts, the IWAE bound, bits per
dimension, KL per latent dimension and active units."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from vae.latent.encoding import batches, encode_dataset, labels_part
from vae.models.gaussian import gaussian_kl, gaussian_log_density, reparameterize
from vae.models.interface import LatentModel
from vae.models.levels import levels_of

# Pixels decoded at once inside the IWAE loop: bounds memory whatever k and the image size.
_IWAE_PIXELS = 2**23


@torch.no_grad()
def elbo_per_example(
    model: LatentModel,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    batch_size: int = 1024,
    generator: torch.Generator | None = None,
    samples: int = 1,
) -> dict[str, torch.Tensor]:
    """ELBO per image, its reconstruction term averaged over `samples` draws of z:
    `elbo`, `recon_ll`, `kl` of shape (N,), `kl_per_dim` (N, D). For a hierarchical model the
    KL of each level is against its conditional prior, given levels drawn from the posterior."""
    device = model.device
    out: dict[str, list[torch.Tensor]] = {"elbo": [], "recon_ll": [], "kl": [], "kl_per_dim": []}
    for s in batches(len(x), batch_size):
        xb, yb = x[s].to(device), labels_part(y, s, device)
        if hasattr(model, "elbo_parts"):  # a hierarchical model draws its levels top-down
            draws = [model.elbo_parts(xb, generator) for _ in range(samples)]
            recon_ll = sum(d[0] for d in draws) / samples
            kl_per_dim = sum(d[1] for d in draws) / samples
        else:
            mu, logvar = model.encode(xb, yb)
            recon_ll = (
                sum(model.log_px_given_z(xb, reparameterize(mu, logvar, generator), yb) for _ in range(samples))
                / samples
            )
            kl_per_dim = gaussian_kl(mu, logvar)
        out["recon_ll"].append(recon_ll.cpu())
        out["kl_per_dim"].append(kl_per_dim.cpu())
        out["kl"].append(kl_per_dim.sum(1).cpu())
        out["elbo"].append((recon_ll - kl_per_dim.sum(1)).cpu())
    return {k: torch.cat(v) for k, v in out.items()}


class EncodedImages(NamedTuple):
    """What the Encode page shows for each image: (N, D) means and log-variances, (N, C, H, W)
    reconstructions at μ, and (N,) ELBOs."""

    mu: torch.Tensor
    logvar: torch.Tensor
    reconstructions: torch.Tensor
    elbo: np.ndarray

    @property
    def sigma(self) -> torch.Tensor:
        return (0.5 * self.logvar).exp()


@torch.no_grad()
def encode_images(
    model: LatentModel, x: torch.Tensor, y: torch.Tensor | None = None, elbo_samples: int = 8, seed: int = 0
) -> EncodedImages:
    """Encode images, reconstruct them at μ and score their ELBO over `elbo_samples` draws of
    z (score held-out images the same way to compare)."""
    mu, logvar = encode_dataset(model, x, y)
    reconstructions = model.decode(mu.to(model.device), None if y is None else y.to(model.device)).cpu()
    generator = torch.Generator(device=model.device).manual_seed(seed)
    elbo = elbo_per_example(model, x, y, generator=generator, samples=elbo_samples)["elbo"].numpy()
    return EncodedImages(mu, logvar, reconstructions, elbo)


@torch.no_grad()
def iwae_log_likelihood(
    model: LatentModel,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    k: int = 100,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) per image, (N,) (Burda et al. 2016, eq. 8):
    log (1/k) Σ_i p(x, z_i) / q(z_i | x) with z_i ~ q(z | x). k = 1 is the ELBO; it
    tightens towards log p(x) as k grows."""
    device = model.device
    batch = max(1, _IWAE_PIXELS // (k * math.prod(model.image_shape)))
    results = []
    for s in batches(len(x), batch):
        xb, yb = x[s].to(device), labels_part(y, s, device)
        if hasattr(model, "log_weights"):  # the top-down posterior of a hierarchical model
            results.append((torch.logsumexp(model.log_weights(xb, k, generator), 0) - math.log(k)).cpu())
            continue
        mu, logvar = model.encode(xb, yb)
        eps = torch.randn((k, *mu.shape), generator=generator, device=device)
        z = mu + torch.exp(0.5 * logvar) * eps  # (k, B, D)
        flat_y = None if yb is None else yb.repeat(k)
        log_px_z = model.log_px_given_z(xb.repeat(k, 1, 1, 1), z.reshape(-1, mu.shape[1]), flat_y).view(k, -1)
        log_pz = gaussian_log_density(z, torch.zeros_like(z), 0.0).sum(-1)
        log_qz = gaussian_log_density(z, mu, 0.5 * logvar).sum(-1)
        log_w = log_px_z + log_pz - log_qz
        results.append((torch.logsumexp(log_w, 0) - math.log(k)).cpu())
    return torch.cat(results)


ACTIVITY_THRESHOLD = 0.01  # a unit is active when Cov_x(E_q[z | x]) exceeds this (Burda et al. 2016)


def unit_activity(mu: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Per-dimension activity Cov_x(E_q[z | x]): the (unbiased) variance of the latent means
    over the data, (D,) (Burda et al. 2016, section 5.2)."""
    mu = torch.as_tensor(mu, dtype=torch.float32)
    return mu.var(0, unbiased=True) if len(mu) > 1 else torch.zeros(mu.shape[1])


def active_units(mu: torch.Tensor | np.ndarray, threshold: float = ACTIVITY_THRESHOLD) -> list[int]:
    """The latent dimensions whose activity exceeds `threshold`."""
    return (unit_activity(mu) > threshold).nonzero().flatten().tolist()


def bits_per_dim(nll_nats: float, num_pixels: int) -> float:
    return nll_nats / (num_pixels * math.log(2))


def evaluate_model(
    model: LatentModel,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    iwae_k: int = 100,
    seed: int = 0,
    activity_threshold: float = ACTIVITY_THRESHOLD,
) -> dict:
    """Everything `python -m vae.evaluate` reports, as plain Python numbers and lists."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        parts = elbo_per_example(model, x, y, generator=generator)
        mu, _ = encode_dataset(model, x, y)
        log_px = iwae_log_likelihood(model, x, y, k=iwae_k, generator=generator) if iwae_k > 0 else None
    finally:
        model.train(was_training)
    activity = unit_activity(mu)
    active = active_units(mu, activity_threshold)
    nll = float(-log_px.mean()) if log_px is not None else float(-parts["elbo"].mean())
    return {
        "n": len(x),
        "elbo": float(parts["elbo"].mean()),
        "recon_ll": float(parts["recon_ll"].mean()),
        "kl": float(parts["kl"].mean()),
        "iwae_k": iwae_k,
        "iwae_nll": nll,
        "bits_per_dim": bits_per_dim(nll, math.prod(model.image_shape)),
        "kl_per_dim": [float(v) for v in parts["kl_per_dim"].mean(0)],
        "activity": [float(v) for v in activity],
        "active_units": len(active),
        "active_dims": active,
        "levels": [
            {
                "name": level.name,
                "size": level.size,
                "kl": float(parts["kl_per_dim"].mean(0)[level.dims].sum()),
                "active_units": sum(level.start <= d < level.start + level.size for d in active),
            }
            for level in levels_of(model)
        ],
    }
