"""Operations on latent vectors: neighbours, posterior draws, how unusual a code is."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from vae.model import VAE


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
