"""Colours of a canvas map's points: one uint8 index per point into a 256-entry palette, so a
million colours are a 1 MB buffer. By label (the app's class palette) or by a value (Viridis
over its 1st-99th percentiles, so a few outliers do not wash the rest out)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from plotly.colors import hex_to_rgb, sample_colorscale, unlabel_rgb

from ui.shell.charts import PALETTE
from vae.data.datasets import label_name

_CHUNK = 1 << 18


class Colouring(NamedTuple):
    index: np.ndarray  # (N,) uint8
    palette: list[list[int]]  # 256 RGB triples
    legend: list[tuple[str, list[int]]]
    categorical: bool
    names: list[str] | None = None  # by label: the name of each colour index (hover says it)


def _rgb(colour: str) -> list[int]:
    return [int(round(v)) for v in (hex_to_rgb(colour) if colour.startswith("#") else unlabel_rgb(colour))]


def by_label(labels: np.ndarray, label_names: list[str]) -> Colouring:
    """One palette colour per class; the legend names the classes present."""
    classes = np.unique(labels)
    if classes.max() > 255 or classes.min() < 0:  # past the palette: coloured as values
        return by_value(labels.astype(np.float32), "label")
    palette = [_rgb(PALETTE[i % len(PALETTE)]) for i in range(256)]
    legend = [(label_name(label_names, int(c)), palette[int(c)]) for c in classes]
    return Colouring(labels.astype(np.uint8), palette, legend, True, [label_name(label_names, c) for c in range(256)])


def by_value(values: np.ndarray, name: str) -> Colouring:
    """Viridis from the 1st to the 99th percentile of `values` (a sample of them for speed)."""
    sample = np.asarray(values[:: max(1, len(values) // 200_000)], np.float64)
    sample = sample[np.isfinite(sample)]
    low, high = np.percentile(sample, [1, 99]) if len(sample) else (0.0, 1.0)
    span = high - low if high > low else 1.0
    index = np.empty(len(values), np.uint8)
    for start in range(0, len(values), _CHUNK):
        chunk = np.nan_to_num(np.asarray(values[start : start + _CHUNK], np.float64), nan=low)
        index[start : start + _CHUNK] = np.clip(np.rint((chunk - low) / span * 255), 0, 255)
    palette = [_rgb(c) for c in sample_colorscale("Viridis", [i / 255 for i in range(256)])]
    legend = [(f"{name} ≤ {low:.3g}", palette[0]), (f"{name} ≥ {high:.3g}", palette[255])]
    return Colouring(index, palette, legend, False)
