"""The live decoding component: sliders and a canvas decoded in the browser while dragging, by
the model's ONNX decoder in onnxruntime-web (ui/live/component/: plain HTML and JavaScript, the
runtime vendored in ort/, no build step).

The decoder graph is not a component argument (that would resend the weights with every
rerun): it is a content-named file in the graph folder, which Streamlit serves as the files
of a second component, and the browser fetches it once per model.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import streamlit as st
import streamlit.components.v1 as components


class DecoderGraph(NamedTuple):
    """A decoder graph file for the browser and the pixel range of its output; for a text
    model (a graph of z -> token ids), its vocabulary file (a JSON list of words by id, beside
    the graph, content-named): the browser shows sentences instead of images."""

    path: Path
    pixel_range: tuple[float, float] = (0.0, 1.0)
    vocabulary: Path | None = None

    @property
    def is_text(self) -> bool:
        return self.vocabulary is not None


_component = components.declare_component("live_traverse", path=str(Path(__file__).parent / "component"))
_GRAPHS = "decoder_graphs"
_served: list[Path] = []  # the folder the graph component serves now
UNAVAILABLE_KEY = "browser_decoding_unavailable"  # why this browser could not decode, once it said so


def graph_folder(models_dir: Path) -> Path:
    """Where decoder graphs are cached and served from: the models folder's .cache/onnx, or a
    temporary folder when the models folder is read-only."""
    for folder in (Path(models_dir) / ".cache" / "onnx", Path(tempfile.gettempdir()) / "vae-latent-explorer-onnx"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise OSError("no writable folder for the decoder graphs")


def graph_url(graph: DecoderGraph) -> str:
    """The URL of a graph file, relative to the component's page; serves its folder."""
    return _served_url(graph.path)


def vocabulary_url(graph: DecoderGraph) -> str | None:
    """The URL of a text model's vocabulary file (beside its graph), or None for images."""
    return None if graph.vocabulary is None else _served_url(graph.vocabulary)


def _served_url(file: Path) -> str:
    folder = file.parent.resolve()
    if _served != [folder]:
        components.declare_component(_GRAPHS, path=str(folder))
        _served[:] = [folder]
    return f"../{__name__}.{_GRAPHS}/{file.name}"


def unavailable_reason() -> str | None:
    """Why the browser said it cannot decode (no WebAssembly, a failed download…), or None."""
    return st.session_state.get(UNAVAILABLE_KEY)


def _value(key: str) -> dict | None:
    """The component's last value; a report that the browser cannot decode is remembered for
    the session and ends this run so the page redraws with server-side decoding."""
    value = st.session_state.get(key)
    if isinstance(value, dict) and value.get("unavailable") and not unavailable_reason():
        st.session_state[UNAVAILABLE_KEY] = str(value["unavailable"])[:200]
        st.rerun()
    return value


def _render(graph: DecoderGraph, conditional: bool, key: str, size: int, label: int = 0, **mode) -> dict | None:
    """One render of the component in one mode (see component.js); its last value."""
    _component(
        graph=graph_url(graph),
        vocabulary=vocabulary_url(graph),
        pixel_range=list(graph.pixel_range),
        conditional=conditional,
        label=int(label),
        size=size,
        key=key,
        default=None,
        **mode,
    )
    return _value(key)


def _floats(values) -> list:
    return np.asarray(values, dtype=np.float64).round(7).tolist()


def live_traverse(
    graph: DecoderGraph,
    conditional: bool,
    z: np.ndarray,
    order: list[int],
    inactive: list[int],
    labels: list[str],
    low: np.ndarray,
    high: np.ndarray,
    label: int,
    key: str,
    size: int = 256,
    groups: list[tuple[str, list[int]]] | None = None,
    follow: bool = False,
) -> dict | None:
    """One slider per dimension; on release {"z": [...], "nonce": ...}. `groups`: (name,
    dimensions in order) per level, the top first, each under a header (a hierarchical
    model); `follow`: moving a slider sets every later group's values to 0 (standardised
    codes: the levels below at their conditional prior means)."""
    step = [float(max((h - lo) / 200, 1e-4)) for lo, h in zip(low, high)]
    grouped = None if groups is None else [{"name": name, "dims": [int(d) for d in dims]} for name, dims in groups]
    return _render(
        graph, conditional, key, size, label, z=_floats(z), order=order, inactive=inactive, labels=labels,
        low=_floats(low), high=_floats(high), step=step, groups=grouped, follow=bool(follow),
    )  # fmt: skip


def live_scrubber(
    graph: DecoderGraph, conditional: bool, path_z: np.ndarray, step: int, label: int, key: str, size: int = 192
) -> dict | None:
    """A slider over an interpolation path, decoded while dragging (moving continuously
    between steps); on release {"step": nearest step, "nonce": ...}."""
    return _render(graph, conditional, key, size, label, path=_floats(path_z), step=int(step))


def live_mix(
    graph: DecoderGraph,
    conditional: bool,
    base: np.ndarray,
    vectors: list[np.ndarray],
    names: list[str],
    values: list[float],
    bounds: tuple[float, float],
    label: int,
    key: str,
    size: int = 160,
) -> dict | None:
    """z = base + Σ w_i · vectors_i with one slider per weight, decoded while dragging; on
    release {"weights": [...], "z": [...], "nonce": ...}."""
    mix = {
        "base": _floats(base),
        "vectors": [_floats(v) for v in vectors],
        "names": names,
        "values": [float(v) for v in values],
        "low": [float(bounds[0])] * len(vectors),
        "high": [float(bounds[1])] * len(vectors),
    }
    return _render(graph, conditional, key, size, label, mix=mix)


def live_grid(
    graph: DecoderGraph,
    conditional: bool,
    codes: np.ndarray,
    labels: list[int] | None,
    columns: int,
    temperature: float,
    bounds: tuple[float, float],
    key: str,
    size: int = 576,
) -> dict | None:
    """A grid of T · codes under a temperature slider, redrawn while dragging (the samples
    morph, the seed fixed); on release {"temperature": T, "nonce": ...}. `codes` are N(0, I)."""
    grid = {
        "codes": _floats(codes),
        "labels": labels,
        "columns": int(columns),
        "temperature": float(temperature),
        "low": float(bounds[0]),
        "high": float(bounds[1]),
    }
    return _render(graph, conditional, key, size, 0, grid=grid)


def live_map_hover(
    graph: DecoderGraph,
    conditional: bool,
    points: np.ndarray,
    mu: np.ndarray,
    spacing: float,
    placement_k: int,
    pca: tuple[np.ndarray, np.ndarray] | None,
    readings: list[tuple[float, str]],
    key: str,
    size: int = 160,
) -> None:
    """Decode the code under the mouse on the page's 2-D map while it moves: the same inverse
    the server uses for a click (`points` (N, 2) map positions of the latent means `mu`,
    distance-weighted over the `placement_k` nearest; PCA: (mean, components) exactly)."""
    hover = {
        "points": _floats(points[:, :2]),
        "mu": _floats(mu),
        "spacing": float(spacing),
        "k": int(min(placement_k, len(mu))),
        "pca": None if pca is None else {"mean": _floats(pca[0]), "components": _floats(pca[1])},
        "thresholds": [float(readings[0][0]), float(readings[1][0])],
        "readings": [words for _, words in readings],
    }
    _render(graph, conditional, key, size, 0, map=hover)


def released(key: str) -> dict | None:
    """The component's last release (a z or a step), read before drawing it again."""
    value = _value(key)
    return value if isinstance(value, dict) and "nonce" in value and "unavailable" not in value else None


def browser_decoding(graph: DecoderGraph | None, key: str, label: str, help: str) -> DecoderGraph | None:
    """The toggle for decoding in the browser: the graph to decode with when it is on, else None
    (decoding on the server), with a one-line note when the export or the browser cannot."""
    reason = unavailable_reason()
    available = graph is not None and reason is None
    on = st.toggle(label, value=available, disabled=not available, key=key, help=help)
    if reason:
        st.caption(f"This browser cannot decode here ({reason}): decoding on the server.")
    elif graph is None:
        st.caption("This decoder could not be exported to ONNX: decoding on the server.")
    return graph if on and available else None
