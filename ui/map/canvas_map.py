"""The canvas map component (ui/map/canvas/: plain HTML and JavaScript, no build step): a 2-D
map of up to millions of points drawn in the browser from binary buffers, with hover that
finds the nearest point through a grid index, shows its image and decodes the code under the
cursor with onnxruntime-web. Its value: {"point": row}, {"spot": [x, y]}, {"box": polygon} or
{"lasso": polygon} in map coordinates, with a nonce.

The buffers are content-named files served by the server's /large-maps/buffer/ route
(ui/shell/routes.py); only their URLs and a few numbers go through the websocket."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit.components.v1 as components

from ui.live.decoding import DecoderGraph, graph_url  # also serves onnxruntime-web's files
from ui.map.canvas_colours import Colouring
from ui.shell.panels import DISTANCE_READINGS
from vae.large_maps.buffers import QuantisedCodes, write_buffer
from vae.large_maps.served import serve_buffers

_component = components.declare_component("canvas_map", path=str(Path(__file__).parent / "canvas"))
BUFFER_URL = "/large-maps/buffer/"
IMAGE_URL = "/large-maps/image/"
THUMBS_FROM_POINTS_ON_SCREEN = 20_000  # zoomed in further than this, hover shows the nearest images


def buffer_urls(folder: Path, xy: np.ndarray, colour: np.ndarray, codes: np.ndarray) -> dict[str, str]:
    """Write (once) and register the three buffers; their URLs."""
    serve_buffers(folder)
    return {
        "xy": BUFFER_URL + write_buffer(folder, np.ascontiguousarray(xy, np.float32)).name,
        "colour": BUFFER_URL + write_buffer(folder, colour.astype(np.uint8)).name,
        "codes": BUFFER_URL + write_buffer(folder, codes.astype(np.uint16)).name,
    }


def canvas_map(
    urls: dict[str, str],
    n_points: int,
    bounds: tuple[float, float, float, float],
    colouring: Colouring,
    codes: QuantisedCodes,
    graph: DecoderGraph | None,
    conditional: bool,
    spacing: float,
    map_id: str,
    key: str,
    placement_k: int = 8,
    picked: int | None = None,
) -> dict | None:
    """Draw the map; its last value (see the module's docstring)."""
    x0, x1, y0, y1 = bounds
    screen_span = max(x1 - x0, y1 - y0, 1e-9)
    # Zoom (pixels per map unit) past which about THUMBS_FROM_POINTS_ON_SCREEN points are on screen.
    thumbs_scale = 720 / screen_span * max(1.0, np.sqrt(n_points / THUMBS_FROM_POINTS_ON_SCREEN))
    return _component(
        buffers=urls,
        n=int(n_points),
        dims=int(codes.values.shape[1]),
        bounds=[float(v) for v in bounds],
        palette=colouring.palette,
        legend=[[name, rgb] for name, rgb in colouring.legend],
        categorical=colouring.categorical,
        class_names=colouring.names,
        code_offset=codes.offset.astype(float).tolist(),
        code_scale=codes.scale.astype(float).tolist(),
        graph=graph_url(graph) if graph is not None else None,
        pixel_range=list(graph.pixel_range) if graph is not None else [0.0, 1.0],
        conditional=bool(conditional),
        spacing=float(spacing),
        thresholds=[float(DISTANCE_READINGS[0][0]), float(DISTANCE_READINGS[1][0])],
        readings=[words for _, words in DISTANCE_READINGS],
        k=int(placement_k),
        image_url=f"{IMAGE_URL}{map_id}/",
        thumbs_scale=float(thumbs_scale),
        zoom_hint="Zoom in (mouse wheel) to see the images nearest the cursor.",
        picked=None if picked is None else int(picked),
        key=key,
        default=None,
    )
