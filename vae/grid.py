"""Image batches to one picture: a grid of tiles, as uint8 arrays or PIL images."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def make_grid(
    images: torch.Tensor | np.ndarray, ncols: int = 8, padding: int = 1, pad_value: float = 0.5
) -> np.ndarray:
    """(N, C, H, W) floats in [0, 1] -> (rows·(H+p)+p, cols·(W+p)+p, C) uint8, row-major tiles."""
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    n, c, h, w = array.shape
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    grid = np.full((nrows * (h + padding) + padding, ncols * (w + padding) + padding, c), pad_value, np.float32)
    for i in range(n):
        top, left = padding + (i // ncols) * (h + padding), padding + (i % ncols) * (w + padding)
        grid[top : top + h, left : left + w] = array[i].transpose(1, 2, 0)
    return (np.clip(grid, 0, 1) * 255 + 0.5).astype(np.uint8)


def to_pil(array: np.ndarray, scale: int = 1) -> Image.Image:
    """A (H, W, C) uint8 array as a PIL image, optionally enlarged with crisp pixels."""
    image = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    return image
