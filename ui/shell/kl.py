"""KL per latent dimension as the pages show it (Traverse's order, Analyze's collapse tab)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ui.shell import cache
from vae.latent.codes import known_kl_per_dimension
from vae.models.interface import LatentModel
from vae.models.levels import is_hierarchical
from vae.opened import ModelInfo


def measured_kl(path: Path, info: ModelInfo, vae: LatentModel, codes) -> tuple[np.ndarray | None, str]:
    """KL per dimension on the held-out `codes` (None: the data is not here, then what the
    checkpoint recorded, or (None, "unknown")), and where it comes from. A hierarchical model's
    is measured as its ELBO counts it, the levels drawn top-down: the KL of its encoded (μ, σ)
    would hold the upper levels at their means and read differently."""
    if codes is not None and is_hierarchical(vae):
        kl = cache.heldout_kl_per_dim(path, len(codes.mu))
        return kl, f"average over {len(codes.mu)} held-out images, levels drawn top-down"
    measured = (codes.mu, codes.sigma) if codes is not None else ()
    return known_kl_per_dimension(info.recorded_kl_per_dim, vae.latent_dim, *measured)
