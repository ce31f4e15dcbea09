"""A code as a list of named levels. A flat VAE has one level; a hierarchical VAE has several,
the top one first. Every code in the explorer is one vector (N, latent_dim): a level is a named
slice of it.

A hierarchical model's codes are *standardised*: level l holds ε_l with
z_l = μ_p(z_<l) + σ_p(z_<l) ⊙ ε_l, where p(z_l | z_<l) = N(μ_p, σ_p²) is the level's
conditional prior. So the prior of every code is N(0, I), flat or not, and the pages that draw
from the prior, traverse or interpolate need nothing new; a model's `absolute` and
`standardised` convert when the values themselves are needed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


class Level(NamedTuple):
    name: str
    start: int  # first dimension of the level in the code vector
    size: int

    @property
    def dims(self) -> slice:
        return slice(self.start, self.start + self.size)

    @property
    def indices(self) -> list[int]:
        return list(range(self.start, self.start + self.size))


def level_names(count: int) -> list[str]:
    """Names for `count` levels, the top one first."""
    if count == 1:
        return ["z"]
    if count == 2:
        return ["top", "bottom"]
    if count == 3:
        return ["top", "middle", "bottom"]
    return [f"level {i + 1}" for i in range(count)]


def make_levels(sizes: list[int] | tuple[int, ...], names: list[str] | None = None) -> tuple[Level, ...]:
    names = list(names) if names is not None else level_names(len(sizes))
    if len(names) != len(sizes):
        raise ValueError(f"{len(sizes)} level sizes but {len(names)} names")
    starts = np.cumsum([0, *sizes[:-1]]).tolist()
    return tuple(Level(str(n), int(s), int(size)) for n, s, size in zip(names, starts, sizes))


def levels_of(model) -> tuple[Level, ...]:
    """The model's levels: its own for a hierarchical model, else one level "z" of all dimensions."""
    levels = getattr(model, "levels", None)
    return tuple(levels) if levels else (Level("z", 0, int(model.latent_dim)),)


def is_hierarchical(model) -> bool:
    return len(levels_of(model)) > 1


def level_of_dim(levels: tuple[Level, ...], dim: int) -> Level:
    for level in levels:
        if level.start <= dim < level.start + level.size:
            return level
    raise IndexError(f"dimension {dim} is in no level")


def dim_label(levels: tuple[Level, ...], dim: int) -> str:
    """ "z3" for a flat code; "bottom·z3" (the dimension within its level) for a hierarchical one."""
    if len(levels) == 1:
        return f"z{dim}"
    level = level_of_dim(levels, dim)
    return f"{level.name}·z{dim - level.start}"


def split(code: torch.Tensor | np.ndarray, levels: tuple[Level, ...]) -> list:
    """The code's levels, each (..., size)."""
    return [code[..., level.dims] for level in levels]


def per_level_sums(values: np.ndarray | list[float], levels: tuple[Level, ...]) -> dict[str, float]:
    """A per-dimension quantity (KL, activity counts…) summed within each level."""
    values = np.asarray(values, dtype=np.float64)
    return {level.name: float(values[..., level.dims].sum()) for level in levels}
