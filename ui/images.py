"""Tensors to pictures for st.image: crisp enlargement of small images, grids."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from vae.grid import make_grid, to_pil

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
