"""Which map points a box or a lasso drawn in the browser holds: the browser sends the polygon
in map coordinates, the server picks the rows (a million positions stay on the server side of
the question, only the polygon travels)."""

from __future__ import annotations

import numpy as np


def rows_in_polygon(xy: np.ndarray, polygon: np.ndarray | list) -> np.ndarray:
    """Rows of `xy` (N, 2) inside `polygon` (V, 2), by the even-odd rule; sorted. Points in the
    polygon's bounding box are tested against every edge at once."""
    polygon = np.asarray(polygon, np.float64)
    if polygon.ndim != 2 or polygon.shape[1] != 2 or len(polygon) < 3 or not np.isfinite(polygon).all():
        return np.zeros(0, np.int64)
    (x0, y0), (x1, y1) = polygon.min(0), polygon.max(0)
    x, y = xy[:, 0], xy[:, 1]
    candidates = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    # Sorted by y, the points an edge can cross are one slice: each edge touches only the
    # points level with it, so a long lasso costs about what a square does.
    order = np.argsort(y[candidates], kind="stable")
    px, py = x[candidates][order].astype(np.float64), y[candidates][order].astype(np.float64)
    inside = np.zeros(len(candidates), bool)
    ax, ay = polygon[:, 0], polygon[:, 1]
    bx, by = np.roll(ax, -1), np.roll(ay, -1)
    for edge in range(len(polygon)):
        low, high = min(ay[edge], by[edge]), max(ay[edge], by[edge])
        first, last = np.searchsorted(py, [low, high], side="right")  # low < y <= high
        if first == last:
            continue
        crossing = ax[edge] + (py[first:last] - ay[edge]) * (bx[edge] - ax[edge]) / (by[edge] - ay[edge])
        inside[first:last] ^= px[first:last] < crossing
    return np.sort(candidates[order[inside]])
