"""Tensors to pictures: a grid of tiles as uint8, PIL images enlarged with crisp pixels, PNG
and animated GIF bytes. The one place images leave the app as pictures (pages, jobs, exports)."""

from __future__ import annotations

import io

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


TARGET_TILE = 96  # pixels on screen for one small image


def _scale(height: int, target: int = TARGET_TILE) -> int:
    return max(1, target // max(height, 1))


def picture(image: torch.Tensor | np.ndarray, target: int = TARGET_TILE) -> Image.Image:
    """One image (C, H, W) or (1, C, H, W) in [0, 1] as an enlarged PIL image."""
    array = image.detach().cpu() if isinstance(image, torch.Tensor) else torch.as_tensor(image)
    array = array.reshape(-1, *array.shape[-3:])[:1]
    return to_pil(make_grid(array, 1, padding=0), _scale(array.shape[-2], target))


def grid_picture(images: torch.Tensor, ncols: int = 8, target: int = 64) -> Image.Image:
    """(N, C, H, W) in [0, 1] as one enlarged grid picture."""
    return to_pil(make_grid(images.detach().cpu(), ncols, padding=1), _scale(images.shape[-2], target))


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def gif_bytes(images: torch.Tensor, target: int = 192, frame_ms: int = 120) -> bytes:
    """(N, C, H, W) in [0, 1] as a looping animated GIF, one frame per image. Pillow merges a
    frame identical to the one before into it (adding up their times), so a path that stands
    still for some steps gives fewer, longer frames."""
    frames = [picture(image, target) for image in images]
    mode = "RGB" if frames[0].mode == "RGB" else "L"
    frames = [frame.convert(mode) for frame in frames]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()
