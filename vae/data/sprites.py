"""dSprites-like images (Matthey et al. 2017): a white shape on black, with known factors.

Factors: shape ∈ {square, ellipse, heart}, scale (6 values), orientation (40 values over
2π), x and y position (32 values each). Each image draws every factor uniformly from its
grid, so the factors are independent; the factor values are kept as ground truth.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vae.files import write_atomically

SHAPES = ["square", "ellipse", "heart"]
FACTOR_NAMES = ["shape", "scale", "orientation", "pos_x", "pos_y"]
SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = np.linspace(0.0, 2 * np.pi, 40, endpoint=False)
POSITIONS = np.linspace(0.0, 1.0, 32)
_HALF_SIZE = 0.2  # of the image side, at scale 1
_MARGIN = 0.2  # positions span [margin, 1 - margin] so shapes stay inside
RENDERER_VERSION = 1  # bump when render() or the factor draw changes: cached sets must match
_CACHED_FROM_PIXELS = 4_000_000  # smaller sets render in well under a second: not cached


@dataclass
class Sprites:
    images: torch.Tensor  # (N, 1, size, size) in {0, 1}
    labels: torch.Tensor  # (N,) shape index
    label_names: list[str]
    factors: torch.Tensor  # (N, 5) factor values, columns as FACTOR_NAMES
    factor_names: list[str]


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether shape-frame points (u, v) lie in the shape with index `shape`."""
    if shape == 0:  # square
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if shape == 1:  # ellipse
        return u**2 + (v / 0.5) ** 2 <= 1.0
    hx, hy = u * 1.15, -v * 1.15 + 0.1  # the heart curve, upright, about a unit box
    return (hx**2 + hy**2 - 1) ** 3 - hx**2 * hy**3 <= 0


def render(factors: np.ndarray, size: int = 64) -> np.ndarray:
    """Factor values (n, 5) -> binary images (n, size, size) float32."""
    images = np.zeros((len(factors), size, size), np.float32)
    grid = (np.arange(size) + 0.5) / size
    px, py = grid[None, None, :], grid[None, :, None]
    for shape in range(len(SHAPES)):  # each image tests only its own shape
        rows = np.flatnonzero(factors[:, 0] == shape)
        if len(rows) == 0:
            continue
        scale, angle = factors[rows, 1, None, None], factors[rows, 2, None, None]
        cx = _MARGIN + (1 - 2 * _MARGIN) * factors[rows, 3, None, None]
        cy = _MARGIN + (1 - 2 * _MARGIN) * factors[rows, 4, None, None]
        dx, dy = (px - cx) / (_HALF_SIZE * scale), (py - cy) / (_HALF_SIZE * scale)
        cos, sin = np.cos(angle), np.sin(angle)
        images[rows] = _inside(shape, cos * dx + sin * dy, -sin * dx + cos * dy)
    return images


def cache_folder() -> Path:
    """Where rendered sprite sets are kept between runs: `VAE_CACHE_DIR`, else
    ~/.cache/vae-latent-explorer."""
    root = os.environ.get("VAE_CACHE_DIR") or Path.home() / ".cache" / "vae-latent-explorer"
    return Path(root) / "sprites"


def make_sprites(n: int, size: int = 64, seed: int = 0) -> Sprites:
    """n sprites of size×size, the same for the same (n, size, seed). Large sets are rendered
    once and then read back from cache_folder() (10,000 at 64 px: 2 s to render, 0.1 s to read),
    which matters on the first open of a sprites model's page."""
    if n < 1 or size < 8:
        raise ValueError(f"sprites need n >= 1 and size >= 8, got n={n}, size={size}")
    if n * size * size < _CACHED_FROM_PIXELS:
        return _render_set(n, size, seed)
    path = cache_folder() / f"sprites-v{RENDERER_VERSION}-n{n}-size{size}-seed{seed}.npz"
    try:
        with np.load(path) as stored:
            images = np.unpackbits(stored["bits"], count=n * size * size).reshape(n, 1, size, size)
            return _sprites(torch.from_numpy(images.astype(np.float32)), stored["factors"])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        pass  # not rendered yet, or a damaged file: render and (try to) store again
    sprites = _render_set(n, size, seed)
    bits = np.packbits(sprites.images.numpy().astype(bool))
    try:
        write_atomically(path, lambda f: np.savez(f, bits=bits, factors=sprites.factors.numpy().astype(np.float64)))
    except OSError:
        pass  # a read-only home: render again next time
    return sprites


def draw_factors(n: int, seed: int) -> np.ndarray:
    """The factor values (n, 5) of `make_sprites(n, seed=seed)`, without rendering: a million
    rows are 40 MB, so a large set keeps these and renders only the rows it needs."""
    rng = np.random.default_rng(seed)
    return np.stack(
        [
            rng.integers(0, len(SHAPES), n).astype(np.float64),
            rng.choice(SCALES, n),
            rng.choice(ORIENTATIONS, n),
            rng.choice(POSITIONS, n),
            rng.choice(POSITIONS, n),
        ],
        axis=1,
    )


def _render_set(n: int, size: int, seed: int) -> Sprites:
    factors = draw_factors(n, seed)
    chunks = [render(factors[i : i + 2048], size) for i in range(0, n, 2048)]
    return _sprites(torch.from_numpy(np.concatenate(chunks)).unsqueeze(1), factors)


def _sprites(images: torch.Tensor, factors: np.ndarray) -> Sprites:
    return Sprites(
        images,
        torch.from_numpy(factors[:, 0].astype(np.int64)),
        list(SHAPES),
        torch.from_numpy(factors.astype(np.float32)),
        list(FACTOR_NAMES),
    )
