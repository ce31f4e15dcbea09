"""Tensors to pictures: a grid of tiles as uint8, PIL images enlarged with crisp pixels, PNG
and animated GIF bytes. The one place images leave the app as pictures (pages, jobs, exports).

A decoder may return NaN or ±inf for some codes. Such pixels are never cast (NaN would become
black, with a RuntimeWarning): they are drawn as a magenta-and-black checkerboard, the grid
turns RGB, and a picture says in `image.info` how many of its frames were not finite, which
`nonfinite_note` turns into words for the page (the live component in the browser marks them
the same way)."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

NONFINITE_RGB = (1.0, 0.0, 1.0)  # magenta, on a checkerboard with black: a pixel with no finite value
NONFINITE_KEY = "nonfinite_frames"  # image.info: how many of the picture's frames were not finite
FRAMES_KEY = "frames"  # image.info: how many frames the picture holds


def _array(images: torch.Tensor | np.ndarray) -> np.ndarray:
    return images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)


def nonfinite_frames(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N,) bool: the frames holding a NaN or an infinite value."""
    array = _array(images)
    return ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)


def _mark_nonfinite(array: np.ndarray) -> np.ndarray:
    """(N, C, H, W) floats with NaN / inf -> (N, 3, H, W) finite floats, the pixels that were not
    finite (in any channel) drawn as a magenta-and-black checkerboard."""
    bad = ~np.isfinite(array).all(axis=1, keepdims=True)  # (N, 1, H, W)
    rgb = np.repeat(array, 3, axis=1) if array.shape[1] == 1 else array
    h, w = array.shape[-2:]
    checker = (np.add.outer(np.arange(h), np.arange(w)) % 2 == 0)[None, None]
    mark = np.asarray(NONFINITE_RGB, np.float32)[None, :, None, None] * checker
    return np.where(bad, mark, np.where(np.isfinite(rgb), rgb, 0.0)).astype(np.float32)


def make_grid(
    images: torch.Tensor | np.ndarray, ncols: int = 8, padding: int = 1, pad_value: float = 0.5
) -> np.ndarray:
    """(N, C, H, W) floats in [0, 1] -> (rows·(H+p)+p, cols·(W+p)+p, C) uint8, row-major tiles.
    Pixels that are not finite are marked (see the module's note), and the grid is then RGB."""
    array = _array(images)
    if not np.isfinite(array).all():
        array = _mark_nonfinite(array)
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


def _counted(image: Image.Image, frames: torch.Tensor | np.ndarray) -> Image.Image:
    image.info[NONFINITE_KEY] = int(nonfinite_frames(frames).sum())
    image.info[FRAMES_KEY] = len(frames)
    return image


def picture(image: torch.Tensor | np.ndarray, target: int = TARGET_TILE) -> Image.Image:
    """One image (C, H, W) or (1, C, H, W) in [0, 1] as an enlarged PIL image."""
    array = image.detach().cpu() if isinstance(image, torch.Tensor) else torch.as_tensor(image)
    array = array.reshape(-1, *array.shape[-3:])[:1]
    return _counted(to_pil(make_grid(array, 1, padding=0), _scale(array.shape[-2], target)), array)


def grid_picture(images: torch.Tensor, ncols: int = 8, target: int = 64) -> Image.Image:
    """(N, C, H, W) in [0, 1] as one enlarged grid picture."""
    images = images.detach().cpu()
    return _counted(to_pil(make_grid(images, ncols, padding=1), _scale(images.shape[-2], target)), images)


def nonfinite_note(image: Image.Image) -> str | None:
    """Words for a picture with frames the decoder returned NaN or inf for; None when all are finite."""
    bad, total = image.info.get(NONFINITE_KEY, 0), image.info.get(FRAMES_KEY, 1)
    if not bad:
        return None
    which = "this image" if total == 1 else f"{bad} of {total} images"
    return (
        f"The decoder returned NaN or infinite values for {which}: those pixels are drawn as a "
        "magenta-and-black checkerboard, not as black."
    )


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
