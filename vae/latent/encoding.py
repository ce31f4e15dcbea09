"""Encoding many images with any LatentModel, in batches: the latent means and log-variances
every map, analysis and export starts from."""

from __future__ import annotations

import torch

from vae.models.interface import LatentModel


def batches(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def labels_part(y: torch.Tensor | None, part: slice, device: torch.device) -> torch.Tensor | None:
    return None if y is None else y[part].to(device)


@torch.no_grad()
def encode_dataset(
    model: LatentModel, x: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """mu, logvar for every image: (N, D) each, on the CPU."""
    device = model.device
    parts = [model.encode(x[s].to(device), labels_part(y, s, device)) for s in batches(len(x), batch_size)]
    return torch.cat([p[0] for p in parts]).cpu(), torch.cat([p[1] for p in parts]).cpu()
