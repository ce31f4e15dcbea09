"""Operations on latent vectors: neighbours, posterior draws, how unusual a code is."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from vae.model import VAE


def nearest_neighbours(
    codes: np.ndarray, queries: np.ndarray, k: int = 8, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean k nearest `codes` rows to each query: (indices (M, k), distances (M, k)).
    With `exclude_self`, a query identical to a code row does not count as its own neighbour."""
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    extra = 1 if exclude_self else 0
    k_all = min(k + extra, len(codes))
    distances, index = NearestNeighbors(n_neighbors=k_all).fit(codes).kneighbors(queries)
    if exclude_self:
        keep = distances > 1e-9
        index = np.stack([row[mask][:k] for row, mask in zip(index, keep)])
        distances = np.stack([row[mask][:k] for row, mask in zip(distances, keep)])
    return index[:, :k], distances[:, :k]


@torch.no_grad()
def posterior_draws(
    model: VAE,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    n: int,
    y: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Decode n draws z ~ q(z|x) = N(mu, σ²) of one image's posterior: (n, C, H, W)."""
    mu, logvar = mu.reshape(1, -1).expand(n, -1), logvar.reshape(1, -1).expand(n, -1)
    z = model.reparameterize(mu, logvar, generator)
    return model.decode(z, y)


@torch.no_grad()
def decode_codes(model: VAE, z: np.ndarray | torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Latent vectors (M, D) -> mean images (M, C, H, W)."""
    device = next(model.parameters()).device
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, model.config.latent_dim).to(device)
    return model.decode(z, y).cpu()


def percentile_rank(value: float, reference: np.ndarray) -> float:
    """Percentage of `reference` values at or below `value` (0: lower than all of them)."""
    reference = np.asarray(reference)
    return float(100.0 * np.count_nonzero(reference <= value) / max(len(reference), 1))
