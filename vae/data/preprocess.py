"""One user image to what a model expects: `preprocess_upload(image, meta) -> (1, C, H, W)`."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from vae.data.image_folder import to_rgb_or_grey
from vae.errors import UploadError

MAX_PIXELS = 40_000_000  # larger images are refused: a decompression bomb looks like this


def open_image(source: Image.Image | bytes | str | os.PathLike | io.IOBase) -> Image.Image:
    """Open and fully decode one image (first frame of an animation), or raise UploadError."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise UploadError("the file is empty: upload a PNG, JPEG, GIF, BMP or WebP image")
        source = io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)) and Path(source).is_file() and Path(source).stat().st_size == 0:
        raise UploadError("the file is empty: upload a PNG, JPEG, GIF, BMP or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UploadError(
                    f"the image is {width}×{height} pixels, over the {MAX_PIXELS // 1_000_000} megapixel "
                    "limit: scale it down first"
                )
            image.seek(0)
            image.load()
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadError("the image declares an enormous size (a decompression bomb?): refused") from None
    except UnidentifiedImageError:
        raise UploadError("this is not an image Pillow can read: upload a PNG, JPEG, GIF, BMP or WebP file") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise UploadError(f"the image is damaged or truncated ({err}): upload another file") from None
    return image


def preprocess_upload(image: Image.Image | bytes | str | os.PathLike, meta: dict) -> torch.Tensor:
    """`preprocess_image` with the image shape and upload style of a checkpoint's `meta`."""
    return preprocess_image(image, meta["image_shape"], meta.get("upload_style"))


def preprocess_image(
    image: Image.Image | bytes | str | os.PathLike, image_shape: tuple[int, int, int], style: dict | None
) -> torch.Tensor:
    """Turn one user image into a (1, C, H, W) float tensor in [0, 1] like the training data.

    `image_shape` is the model's (C, H, W); `style` (a model's upload style) says how the data looks:
    `background` "dark" makes the background dark whatever the photo's polarity; `fit`
    "mass_center" follows the MNIST convention (crop to the ink, scale into an `ink_box`
    square, centre by mass on a `canvas` square, then resize), "box" crops to the content
    and fits it centred, "resize" stretches the whole image.
    """
    channels, height, width = image_shape
    style = style or {"background": "keep", "fit": "resize"}
    picture = open_image(image)
    try:
        picture = ImageOps.exif_transpose(picture)
    except (OSError, ValueError, TypeError, KeyError):
        pass  # damaged EXIF: keep the stored orientation
    grey = np.asarray(to_rgb_or_grey(picture, 1), dtype=np.float32) / 255.0
    colour = np.asarray(to_rgb_or_grey(picture, channels), dtype=np.float32) / 255.0
    if colour.ndim == 2:
        colour = colour[:, :, None]
    if style.get("background") == "dark":
        if _border_is_light(grey):
            grey, colour = 1.0 - grey, 1.0 - colour
        # Stretch so the background is black and the strongest ink white, as in the data.
        background, peak = _border_median(grey), float(grey.max())
        if peak - background > 0.05:
            grey = np.clip((grey - background) / (peak - background), 0.0, 1.0)
            colour = np.clip((colour - background) / (peak - background), 0.0, 1.0)
    fit = style.get("fit", "resize")
    if fit in ("mass_center", "box"):
        colour = _fit_content(colour, grey, style, fit)
    array = _resize(colour, height, width)
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous()


def _border_median(grey: np.ndarray) -> float:
    return float(np.median(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])))


def _border_is_light(grey: np.ndarray) -> bool:
    return _border_median(grey) > 0.5


def _resize(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w, c) float in [0, 1] -> (height, width, c), resampled per channel in float."""
    if array.shape[:2] == (height, width):
        return array.astype(np.float32)
    planes = [
        np.asarray(Image.fromarray(array[:, :, i].astype(np.float32), "F").resize((width, height), Image.LANCZOS))
        for i in range(array.shape[2])
    ]
    return np.clip(np.stack(planes, axis=2), 0.0, 1.0).astype(np.float32)


def _fit_content(colour: np.ndarray, grey: np.ndarray, style: dict, fit: str) -> np.ndarray:
    """Crop to the ink (pixels clearly above the background), scale the longer side to
    `ink_box` and place it on a `canvas` square: centred by mass for MNIST, by box otherwise."""
    ink = grey - _border_median(grey)
    mask = ink > max(0.1, 0.2 * float(ink.max()))
    if not mask.any():
        return colour  # a blank image: nothing to centre
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    crop = colour[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    box, canvas_size = int(style.get("ink_box", 20)), int(style.get("canvas", 28))
    scale = box / max(crop.shape[0], crop.shape[1])
    new_h, new_w = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    crop = _resize(crop, new_h, new_w)
    canvas = np.zeros((canvas_size, canvas_size, colour.shape[2]), dtype=np.float32)
    if fit == "mass_center":
        weights = crop.mean(axis=2)
        total = float(weights.sum()) or 1.0
        cy = float((weights.sum(1) * np.arange(new_h)).sum()) / total
        cx = float((weights.sum(0) * np.arange(new_w)).sum()) / total
        top, left = round(canvas_size / 2 - 0.5 - cy), round(canvas_size / 2 - 0.5 - cx)
    else:
        top, left = (canvas_size - new_h) // 2, (canvas_size - new_w) // 2
    top = min(max(top, 0), canvas_size - new_h)
    left = min(max(left, 0), canvas_size - new_w)
    canvas[top : top + new_h, left : left + new_w] = crop
    return canvas
