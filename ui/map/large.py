"""The Map of a large image set: every stored encoding drawn by the canvas component (a million
points in the browser), with the detail panel answering its clicks, boxes and lassos on the
server. What is shown comes as a `CanvasMapData`; this module only draws and answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.live.decoding import unavailable_reason
from ui.live.graphs import decoder_graph
from ui.map.canvas_colours import Colouring, by_label, by_value
from ui.map.canvas_map import buffer_urls, canvas_map
from ui.shell.page import choose_latent, chosen_latent
from ui.shell.panels import distance_reading, show_picture
from ui.shell.pickers import send_buttons
from vae.data.datasets import label_name
from vae.large_maps.buffers import QuantisedCodes, quantise_codes
from vae.large_maps.map_index import MapIndex
from vae.large_maps.selection import rows_in_polygon
from vae.large_maps.served import serve_images
from vae.latent.codes import decode_codes
from vae.models.interface import LatentModel, is_conditional
from vae.models.levels import dim_label, levels_of
from vae.pictures import grid_picture, picture

MOST_SHOWN = 48  # images of a selection shown in its grid


@dataclass(frozen=True, eq=False)
class CanvasMapData:
    """A map to draw: positions of N encoded images, their codes and what to say about them.
    `map_id` names this map and projection (filename-safe); `images(rows)` returns images."""

    map_id: str
    folder: Path  # where the buffers are written (and served from)
    xy: np.ndarray  # (N, 2)
    mu: np.ndarray  # (N, D), may be memory-mapped
    images: Callable[[np.ndarray], np.ndarray]
    description: str
    labels: np.ndarray | None = None
    label_names: list[str] = field(default_factory=list)
    recon_error: np.ndarray | None = None


@st.cache_resource(max_entries=4, show_spinner=False)
def _index(map_id: str, _data: CanvasMapData) -> MapIndex:
    """One index per map, shared by every session showing it (the positions are the memory)."""
    return MapIndex(_data.xy, _data.mu)


@st.cache_resource(max_entries=4, show_spinner="Packing the codes for the browser…")
def _codes(folder: str, _data: CanvasMapData) -> QuantisedCodes:
    """One per set (its buffers' folder), whatever the projection."""
    return quantise_codes(_data.mu)


@st.cache_resource(max_entries=16, show_spinner=False)
def _colouring(map_id: str, colour_by: str, _data: CanvasMapData) -> Colouring:
    if colour_by == "label" and _data.labels is not None:
        return by_label(np.asarray(_data.labels), _data.label_names)
    if colour_by == "reconstruction error" and _data.recon_error is not None:
        return by_value(_data.recon_error, "recon. error")
    dim = int(colour_by[1:]) if colour_by.startswith("z") else 0
    return by_value(_data.mu[:, dim], f"z{dim}")


@st.cache_resource(max_entries=16, show_spinner=False)
def _buffers(
    map_id: str, colour_by: str, _data: CanvasMapData, _colouring: Colouring, _codes: QuantisedCodes
) -> tuple[dict[str, str], tuple[float, float, float, float]]:
    """The buffers' URLs (written once: naming them by content hashes 40 MB at a million
    points, which no rerun should repeat) and the positions' bounds."""
    x, y = _data.xy[:, 0], _data.xy[:, 1]
    bounds = (float(x.min()), float(x.max()), float(y.min()), float(y.max()))
    return buffer_urls(_data.folder, _data.xy, _colouring.index, _codes.values), bounds


def canvas_map_section(path: Path, vae: LatentModel, data: CanvasMapData, colour_by: str) -> None:
    """The map (left) and what was picked on it (right)."""
    serve_images(data.map_id, data.images, len(data.xy))
    index, codes = _index(data.map_id, data), _codes(str(data.folder), data)
    colouring = _colouring(data.map_id, colour_by, data)
    urls, bounds = _buffers(data.map_id, colour_by, data, colouring, codes)
    graph = None if unavailable_reason() else decoder_graph(path)
    st.caption(
        f"{data.description}. Hover: the nearest image and the code under the cursor decoded in your browser; "
        "wheel to zoom, drag to pan; click a point or empty space, or use Box / Lasso for a group."
    )
    value = canvas_map(
        urls, len(data.xy), bounds, colouring, codes, graph, is_conditional(vae), index.spacing,
        data.map_id, key=f"canvas_map_{data.map_id}",
    )  # fmt: skip
    if graph is None:
        st.caption("The decoder could not be exported for the browser: hover shows the nearest image only.")
    _details(path, vae, data, index, value)


def _details(path: Path, vae: LatentModel, data: CanvasMapData, index: MapIndex, value: dict | None) -> None:
    if not isinstance(value, dict):
        st.info("Nothing chosen yet: click the map.")
    elif "point" in value:
        _show_point(path, vae, data, int(value["point"]))
    elif "spot" in value:
        _show_spot(path, vae, index, np.asarray(value["spot"], np.float32))
    elif "box" in value or "lasso" in value:
        _show_group(path, vae, data, value.get("lasso") or value["box"])
    if chosen := chosen_latent(path):
        st.caption(f"Kept for the other pages: {chosen['source']}.")
        send_buttons(path, chosen["z"], chosen["source"], "canvas_map_send", chosen.get("label"))


def _label(data: CanvasMapData, rows: np.ndarray) -> torch.Tensor | None:
    return None if data.labels is None else torch.as_tensor(np.asarray(data.labels[rows]), dtype=torch.long)


def _show_point(path: Path, vae: LatentModel, data: CanvasMapData, row: int) -> None:
    if not 0 <= row < len(data.xy):
        return
    mu = np.asarray(data.mu[row], np.float32)
    y = _label(data, np.array([row])) if is_conditional(vae) else None
    label = label_name(data.label_names, None if data.labels is None else int(data.labels[row]))
    st.markdown(f"**Point {row:,}** · label **{label}**")
    left, right = st.columns(2)
    show_picture(left, picture(data.images(np.array([row]))[0], 128), caption="original", output_format="PNG")
    show_picture(right, picture(decode_codes(vae, mu, y)[0], 128), caption="reconstruction", output_format="PNG")
    st.dataframe(
        {"dim": [dim_label(levels_of(vae), i) for i in range(len(mu))], "μ": mu.round(3)}, hide_index=True, height=180
    )
    known = None if data.labels is None else int(data.labels[row])
    choose_latent(path, mu, f"large-map point {row:,} (label {label})", known)


def _show_spot(path: Path, vae: LatentModel, index: MapIndex, point: np.ndarray) -> None:
    if point.shape != (2,) or not np.isfinite(point).all():
        return
    z = index.inverse(point[None])[0]
    y = torch.zeros(1, dtype=torch.long) if is_conditional(vae) else None
    st.markdown(f"**Location** ({point[0]:.2f}, {point[1]:.2f})")
    show_picture(st, picture(decode_codes(vae, z, y)[0], 160), caption="decoded", output_format="PNG")
    distance = float(index.distance_to_data(point[None])[0])
    st.markdown(f"{distance:.1f}× the typical spacing from the nearest image: {distance_reading(distance)}.")
    st.caption(f"Latent vector: the distance-weighted codes of the {index.k} nearest map points.")
    choose_latent(path, z, f"large-map location ({point[0]:.2f}, {point[1]:.2f})")


def _show_group(path: Path, vae: LatentModel, data: CanvasMapData, polygon) -> None:
    rows = rows_in_polygon(data.xy, polygon)
    if not len(rows):
        st.info("No points inside the selection.")
        return
    st.markdown(f"**{len(rows):,} selected images**")
    if data.labels is not None:
        values, counts = np.unique(np.asarray(data.labels[rows]), return_counts=True)
        st.caption(" · ".join(f"{label_name(data.label_names, int(v))}: {c:,}" for v, c in zip(values, counts)))
    shown = rows[np.linspace(0, len(rows) - 1, min(MOST_SHOWN, len(rows))).astype(int)]
    show_picture(st, grid_picture(torch.as_tensor(data.images(shown)), ncols=8, target=40), output_format="PNG")
    if len(rows) > MOST_SHOWN:
        st.caption(f"{MOST_SHOWN} of them, evenly spaced through the selection.")
    mean_z = _mean_code(data.mu, rows)
    y = _label(data, rows[:1]) if is_conditional(vae) else None
    show_picture(
        st, picture(decode_codes(vae, mean_z, y)[0], 128), caption="decoded mean of their codes", output_format="PNG"
    )
    choose_latent(path, mean_z, f"mean of {len(rows):,} selected large-map images")


def _mean_code(mu: np.ndarray, rows: np.ndarray) -> np.ndarray:
    total = np.zeros(mu.shape[1], np.float64)
    for start in range(0, len(rows), 1 << 16):  # a memory-mapped selection, a slice at a time
        total += np.asarray(mu[rows[start : start + (1 << 16)]], np.float64).sum(0)
    return (total / len(rows)).astype(np.float32)
