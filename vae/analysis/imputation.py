"""Fill in missing pixels with the model: iterate encode → decode and overwrite only the
hidden pixels (pseudo-Gibbs sampling, Rezende, Mohamed & Wierstra 2014, section 5.2)."""

from __future__ import annotations

import torch

from vae.models.gaussian import reparameterize
from vae.models.interface import LatentModel

MASKS = {
    "rectangle": "a rectangle",
    "left": "the left half",
    "right": "the right half",
    "top": "the top half",
    "bottom": "the bottom half",
    "random": "random pixels",
}


def make_mask(
    height: int,
    width: int,
    kind: str,
    fraction: float = 0.5,
    rectangle: tuple[float, float, float, float] = (0.25, 0.25, 0.75, 0.75),
    seed: int = 0,
) -> torch.Tensor:
    """Observed-pixel mask (1, 1, H, W): 1 = observed, 0 = hidden. `rectangle` is (top, left,
    bottom, right) as fractions of the image; `fraction` is the hidden share for `random`."""
    mask = torch.ones(1, 1, height, width)
    if kind == "rectangle":
        top, left, bottom, right = rectangle
        rows = slice(int(round(top * height)), max(int(round(bottom * height)), int(round(top * height)) + 1))
        columns = slice(int(round(left * width)), max(int(round(right * width)), int(round(left * width)) + 1))
        mask[..., rows, columns] = 0
    elif kind == "left":
        mask[..., : width // 2] = 0
    elif kind == "right":
        mask[..., width // 2 :] = 0
    elif kind == "top":
        mask[..., : height // 2, :] = 0
    elif kind == "bottom":
        mask[..., height // 2 :, :] = 0
    elif kind == "random":
        generator = torch.Generator().manual_seed(seed)
        mask[torch.rand(mask.shape, generator=generator) < fraction] = 0
    else:
        raise ValueError(f"unknown mask {kind!r}: use one of {sorted(MASKS)}")
    return mask


@torch.no_grad()
def impute(
    model: LatentModel,
    x: torch.Tensor,
    mask: torch.Tensor,
    y: torch.Tensor | None = None,
    iterations: int = 50,
    start: torch.Tensor | float = 0.5,
    sample: bool = False,
    seed: int = 0,
) -> torch.Tensor:
    """x (n, C, H, W) with its hidden pixels (mask == 0) filled in; observed pixels are kept
    exactly. Each iteration encodes the current guess, decodes z (the posterior mean, or a
    draw when `sample`) and writes the decoded mean into the hidden pixels only."""
    generator = torch.Generator().manual_seed(seed) if sample else None
    observed = mask.to(x.dtype).expand_as(x)
    guess = observed * x + (1 - observed) * (start if isinstance(start, float) else start.expand_as(x))
    for _ in range(iterations):
        mu, logvar = model.encode(guess, y)
        z = reparameterize(mu, logvar, generator) if sample else mu
        guess = observed * x + (1 - observed) * model.decode(z, y)
    return guess


def hidden_error(filled: torch.Tensor, original: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean squared error on the hidden pixels only (0 when nothing is hidden)."""
    hidden = (1 - mask.to(original.dtype)).expand_as(original)
    count = float(hidden.sum())
    return float((((filled - original) ** 2) * hidden).sum() / count) if count else 0.0


def mean_image_fill(x: torch.Tensor, mask: torch.Tensor, mean_image: torch.Tensor) -> torch.Tensor:
    """The baseline: hidden pixels filled with the training set's mean image."""
    observed = mask.to(x.dtype).expand_as(x)
    return observed * x + (1 - observed) * mean_image.expand_as(x)


def hidden_fraction(mask: torch.Tensor) -> float:
    return float(1 - mask.float().mean())
