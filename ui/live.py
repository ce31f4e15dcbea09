"""The live traversal component: sliders and a canvas decoded in the browser while dragging
(ui/live_traverse/: plain HTML and JavaScript, no build step)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit.components.v1 as components

_component = components.declare_component("live_traverse", path=str(Path(__file__).parent / "live_traverse"))


def live_traverse(
    decoder: tuple[str, dict],
    z: np.ndarray,
    order: list[int],
    inactive: list[int],
    labels: list[str],
    low: np.ndarray,
    high: np.ndarray,
    label: int,
    key: str,
    size: int = 256,
) -> dict | None:
    """Render the component; the latent vector the user released a slider at, as
    {"z": [...], "nonce": ...}, or None before the first release."""
    spec_id, spec = decoder
    return _component(
        spec_id=spec_id,
        spec=spec,
        z=[float(v) for v in z],
        order=order,
        inactive=inactive,
        labels=labels,
        low=[float(v) for v in low],
        high=[float(v) for v in high],
        step=[float(max((h - lo) / 200, 1e-4)) for lo, h in zip(low, high)],
        label=int(label),
        size=size,
        key=key,
        default=None,
    )


def live_scrubber(
    decoder: tuple[str, dict], path_z: np.ndarray, step: int, label: int, key: str, size: int = 192
) -> dict | None:
    """A slider over an interpolation path, decoded in the browser while dragging (moving
    continuously between steps); on release {"step": nearest step, "nonce": ...}."""
    spec_id, spec = decoder
    return _component(
        spec_id=spec_id,
        spec=spec,
        path=[[float(v) for v in z] for z in path_z],
        step=int(step),
        z=[float(v) for v in path_z[step]],
        order=[],
        inactive=[],
        labels=[],
        low=[],
        high=[],
        label=int(label),
        size=size,
        key=key,
        default=None,
    )
