"""The image grids several pages draw: a traversal grid (one row per latent dimension, the
other dimensions held) and a grid of prior samples (for a conditional model, one row per class
with each column keeping one z, so a column shows one style drawn as every class)."""

from __future__ import annotations

import numpy as np
import torch

from vae.latent.codes import decode_codes, prior_samples, traverse
from vae.models.interface import LatentModel, is_conditional


def traversal_grid(
    model: LatentModel,
    z: np.ndarray,
    dims: list[int],
    values: np.ndarray | list[np.ndarray],
    y: torch.Tensor | None = None,
) -> torch.Tensor:
    """Decoded traversals of `z` (D,): row r sets dimension dims[r] to each of `values` (one
    array for every row, or one array per row), images (rows × columns, C, H, W) row by row.
    `y` (1,) is the class a conditional model decodes with (class 0 when None)."""
    per_row = values if isinstance(values, list) else [values] * len(dims)
    codes = np.concatenate([traverse(np.asarray(z, dtype=np.float32), d, v) for d, v in zip(dims, per_row)])
    if is_conditional(model):
        y = torch.zeros(1, dtype=torch.long) if y is None else y.reshape(1)
        y = y.repeat(len(codes))
    else:
        y = None
    return decode_codes(model, codes, y)


def prior_grid(
    model: LatentModel, rows: int, per_row: int, seed: int = 0, temperature: float = 1.0
) -> tuple[np.ndarray, torch.Tensor | None]:
    """(z, y) of a grid of prior samples, z ~ N(0, T² I) drawn row by row. A conditional model
    gets one row per class (`rows` is ignored) and each column keeps one z; y is then the class
    of each cell, else None."""
    if not is_conditional(model):
        return temperature * prior_samples(rows * per_row, model.latent_dim, 1.0, seed), None
    rows = model.num_classes
    unit = prior_samples(per_row, model.latent_dim, 1.0, seed)
    z = temperature * np.tile(unit, (rows, 1))
    return z, torch.arange(rows).repeat_interleave(per_row)
