"""Operations on the levels of a code (see `vae.models.levels`): redraw the levels below a kept
one from their conditional prior, redraw the top and keep what lies below, interpolate one
level holding the others, and keep a level's values while an upper one moves.

Codes are standardised, so "draw level l from p(z_l | z_<l) at temperature T" is
ε_l ~ N(0, T² I) whatever the levels above hold, and a level's ε at 0 is its conditional prior
mean.
"""

from __future__ import annotations

import numpy as np
import torch

from vae.latent.codes import decode_codes, prior_samples, slider_ranges, traverse
from vae.models.levels import Level, level_of_dim


def _check_temperatures(levels: tuple[Level, ...], temperatures: list[float] | None) -> list[float]:
    temperatures = [1.0] * len(levels) if temperatures is None else [float(t) for t in temperatures]
    if len(temperatures) != len(levels):
        raise ValueError(f"{len(levels)} levels but {len(temperatures)} temperatures")
    return temperatures


def redraw_levels(
    code: np.ndarray,
    levels: tuple[Level, ...],
    redraw: list[int],
    temperatures: list[float] | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Copies of `code` (N, D) whose levels `redraw` (indices, top = 0) are drawn afresh from
    their conditional prior at each level's temperature; every other level is kept exactly."""
    temperatures = _check_temperatures(levels, temperatures)
    out = np.array(code, dtype=np.float32, copy=True)
    rng = np.random.default_rng(seed)
    for i in redraw:
        level = levels[i]
        out[:, level.dims] = temperatures[i] * rng.standard_normal((len(out), level.size), dtype=np.float32)
    return out


def keep_top_grid(
    levels: tuple[Level, ...],
    rows: int,
    columns: int,
    keep: int = 1,
    temperatures: list[float] | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Codes (rows × columns, D), row by row: each row one draw of the top `keep` levels, each
    column a fresh draw of the levels below them (NVAE's "keep the top, resample below")."""
    if not 1 <= keep < len(levels):
        raise ValueError(f"keep 1 to {len(levels) - 1} of the {len(levels)} levels")
    dim = sum(level.size for level in levels)
    tops = redraw_levels(np.zeros((rows, dim), np.float32), levels, list(range(keep)), temperatures, seed)
    grid = np.repeat(tops, columns, axis=0)
    return redraw_levels(grid, levels, list(range(keep, len(levels))), temperatures, seed + 1)


def keep_below_grid(
    levels: tuple[Level, ...],
    rows: int,
    columns: int,
    redraw_top: int = 1,
    temperatures: list[float] | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Codes (rows × columns, D), row by row: each row keeps one draw of the levels below the
    top `redraw_top` (their standardised values, so each keeps its place in its conditional
    prior), each column a fresh draw of the top levels."""
    if not 1 <= redraw_top < len(levels):
        raise ValueError(f"redraw 1 to {len(levels) - 1} of the {len(levels)} levels")
    dim = sum(level.size for level in levels)
    below = list(range(redraw_top, len(levels)))
    lows = redraw_levels(np.zeros((rows, dim), np.float32), levels, below, temperatures, seed)
    grid = np.repeat(lows, columns, axis=0)
    return redraw_levels(grid, levels, list(range(redraw_top)), temperatures, seed + 1)


def interpolate_level(path: np.ndarray, start: np.ndarray, level: Level) -> np.ndarray:
    """A path (steps, D) between two codes restricted to one level: that level follows `path`,
    every other dimension stays at `start`'s value."""
    out = np.repeat(np.asarray(start, dtype=np.float32).reshape(1, -1), len(path), axis=0)
    out[:, level.dims] = np.asarray(path, dtype=np.float32)[:, level.dims]
    return out


def level_path(make, a: np.ndarray, b: np.ndarray, steps: int, level: Level) -> np.ndarray:
    """A path (steps, D) from `a` that moves only `level`, from a's values to b's, by `make`
    (lerp or slerp) applied to that level's own sub-vectors (a slerp of whole codes would turn
    the other levels too); every other dimension stays at a's value."""
    a, b = np.asarray(a, np.float32).reshape(-1), np.asarray(b, np.float32).reshape(-1)
    path = np.zeros((steps, len(a)), np.float32)
    path[:, level.dims] = make(a[level.dims], b[level.dims], steps)
    return interpolate_level(path, a, level)


def level_index(levels: tuple[Level, ...], dim: int) -> int:
    """Which level (top = 0) holds dimension `dim`."""
    return levels.index(level_of_dim(levels, dim))


def at_prior_means_below(code: np.ndarray, levels: tuple[Level, ...], below: int) -> np.ndarray:
    """`code` with every level after index `below` at its conditional prior mean (ε = 0): the
    lower levels then follow the upper ones."""
    out = np.array(code, dtype=np.float32, copy=True)
    for level in levels[below + 1 :]:
        out[..., level.dims] = 0.0
    return out


@torch.no_grad()
def to_values(model, code: np.ndarray) -> np.ndarray:
    """Standardised codes (N, D) -> the levels' values (N, D), for a hierarchical `model`."""
    z = torch.as_tensor(np.asarray(code, dtype=np.float32), device=model.device).reshape(-1, model.latent_dim)
    return model.absolute(z).cpu().numpy()


@torch.no_grad()
def from_values(model, values: np.ndarray) -> np.ndarray:
    """The inverse of `to_values`."""
    v = torch.as_tensor(np.asarray(values, dtype=np.float32), device=model.device).reshape(-1, model.latent_dim)
    return model.standardised(v).cpu().numpy()


@torch.no_grad()
def decode_values(model, values: np.ndarray) -> torch.Tensor:
    """The levels' values (N, D), not standardised -> mean images (N, C, H, W), on the CPU."""
    v = torch.as_tensor(np.asarray(values, dtype=np.float32), device=model.device).reshape(-1, model.latent_dim)
    return model.decode_absolute(v).cpu()


def value_ranges(
    model, mu: np.ndarray | None, mode: str, width: float = 3.0, samples: int = 4096, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per dimension, (D,) each, of the levels' values: the mean ± `width` sd of
    the values of `samples` prior draws (`mode="prior"`) or of the codes `mu` (N, D) (`"data"`).
    A lower level's values are not N(0, 1): its conditional prior moves with the levels above."""
    if mode not in ("prior", "data"):
        raise ValueError(f"unknown range mode {mode!r}: use 'prior' or 'data'")
    codes = prior_samples(samples, model.latent_dim, 1.0, seed) if mode == "prior" else mu
    return slider_ranges(to_values(model, codes), "data", width)


def level_traversal(model, code: np.ndarray, dims: list[int], values: list[np.ndarray], below: str) -> torch.Tensor:
    """Decoded traversals of a hierarchical `model` from the standardised `code` (D,): row r
    sets dimension dims[r] to each of values[r]; images (rows × columns, C, H, W) row by row.
    `below="keep"`: `values` are levels' values and every other dimension keeps its value
    (decoded by `decode_absolute`); `"follow"`: `values` are standardised and the levels
    below dims[r]'s sit at their conditional prior means."""
    levels = model.levels
    if below == "keep":
        base = to_values(model, code)[0]
        return decode_values(model, np.concatenate([traverse(base, d, v) for d, v in zip(dims, values)]))
    if below != "follow":
        raise ValueError(f"below must be 'keep' or 'follow', got {below!r}")
    base = np.asarray(code, np.float32).reshape(-1)
    rows = [at_prior_means_below(traverse(base, d, v), levels, level_index(levels, d)) for d, v in zip(dims, values)]
    return decode_codes(model, np.concatenate(rows))
