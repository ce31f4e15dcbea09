"""The latent map as a Plotly figure: the scatter with its click grid, markers and paths drawn
over it. No Streamlit here: pages pass the figures to st.plotly_chart."""

from __future__ import annotations

import html
import textwrap

import numpy as np
import plotly.graph_objects as go
from sklearn.neighbors import NearestNeighbors

from ui.shell.charts import PALETTE
from vae.data.datasets import label_name

WEBGL_ABOVE = 1000  # points; SVG is crisper for fewer, WebGL stays fast for more
# Invisible click targets per side, so a click on empty space selects a location. The grid is
# drawn like the data (SVG or WebGL: mixing them made one click select and then unselect);
# SVG gets fewer targets because each is a DOM node that every redraw touches.
GRID_STEPS = {go.Scatter: 40, go.Scattergl: 70}


def _scatter_type(n: int, three_d: bool):
    if three_d:
        return go.Scatter3d
    return go.Scattergl if n > WEBGL_ABOVE else go.Scatter


def _wrapped(sentence: str, width: int = 60) -> str:
    """A sentence broken into hover lines of about `width` characters, its markup characters escaped."""
    return "<br>".join(html.escape(line) for line in textwrap.wrap(sentence, width)) or "(empty)"


def latent_scatter(
    coords: np.ndarray,
    dataset_index: np.ndarray,
    labels: np.ndarray | None,
    label_names: list[str],
    colour: np.ndarray | None = None,
    colour_name: str = "",
    axis_title: str = "",
    click_grid: bool = True,
    sentences: list[str] | None = None,
) -> go.Figure:
    """Map points coloured by label (one legend entry per class) or by a value (colour bar).
    customdata of a point is [map row, dataset index]; the click grid's is [-1, -1]. A text
    model's points show their `sentences` (one per point) on hover."""
    n, three_d = len(coords), coords.shape[1] == 3
    trace = _scatter_type(n, three_d)
    rows = np.arange(n)
    custom = np.stack([rows, dataset_index], axis=1)
    fig = go.Figure()
    if click_grid and not three_d:
        fig.add_trace(_click_grid(coords, trace))
    xyz = lambda sel: dict(x=coords[sel, 0], y=coords[sel, 1], **({"z": coords[sel, 2]} if three_d else {}))  # noqa: E731
    size = 3 if three_d else (5 if n > WEBGL_ABOVE else 7)
    # Hover text comes from templates, not per-point strings: at 50k points those were a
    # third of the figure's bytes (bench/browser.py).
    hover = "image %{customdata[1]}"
    hovertext = None
    if sentences is not None:  # wrapped, escaped by Plotly: a sentence is data, not markup
        hovertext = np.array([_wrapped(t) for t in sentences], dtype=object)
        hover = "sentence %{customdata[1]}<br>%{hovertext}"
    if colour is None and labels is not None:
        for value in np.unique(labels):
            sel = labels == value
            name = label_name(label_names, value)
            fig.add_trace(
                trace(
                    **xyz(sel),
                    mode="markers",
                    name=name,
                    customdata=custom[sel],
                    hovertext=None if hovertext is None else hovertext[sel],
                    hovertemplate=f"{hover}<br>label {name}<extra></extra>",
                    marker=dict(size=size, color=PALETTE[int(value) % len(PALETTE)]),
                )
            )
    else:
        values = np.asarray(colour if colour is not None else np.zeros(n), dtype=np.float32)
        template = hover + (f"<br>{colour_name} %{{marker.color:.3g}}" if colour is not None else "")
        text = None
        if labels is not None:
            names = np.array([label_name(label_names, v) for v in range(labels.max() + 1)])
            text, template = names[labels], template + "<br>label %{text}"
        fig.add_trace(
            trace(
                **xyz(rows),
                mode="markers",
                name="images",
                customdata=custom,
                text=text,
                hovertext=hovertext,
                hovertemplate=template + "<extra></extra>",
                showlegend=False,
                marker=dict(
                    size=size,
                    color=values,
                    colorscale="Viridis",
                    showscale=colour is not None,
                    colorbar=dict(title=colour_name),
                ),
            )
        )
    layout = dict(
        margin=dict(l=10, r=10, t=30, b=10),
        height=620,
        legend=dict(itemsizing="constant"),
        hovermode="closest",
        uirevision="map",
    )
    if three_d:
        layout["scene"] = dict(
            xaxis_title=f"{axis_title} 1", yaxis_title=f"{axis_title} 2", zaxis_title=f"{axis_title} 3"
        )
    else:
        layout.update(xaxis_title=f"{axis_title} 1", yaxis_title=f"{axis_title} 2")
    fig.update_layout(**layout)
    return fig


def _click_grid(coords: np.ndarray, trace) -> go.BaseTraceType:
    """Transparent markers over the empty parts of the plot: a click between data points
    selects the nearest of these, which tells the page where the user clicked. Plotly shows
    a selected one as a black dot, so the spot stays marked without rebuilding the figure.

    Targets next to a data point are left out: Plotly's hover gives every marker a radius
    of at least 3 px and prefers the smaller one on a tie, so a target there would win
    a click aimed at the point."""
    low, high = coords[:, :2].min(0), coords[:, :2].max(0)
    pad = 0.08 * (high - low + 1e-6)
    steps = GRID_STEPS[trace]
    gx, gy = np.meshgrid(
        np.linspace(low[0] - pad[0], high[0] + pad[0], steps),
        np.linspace(low[1] - pad[1], high[1] + pad[1], steps),
    )
    targets = np.stack([gx.ravel(), gy.ravel()], axis=1)
    step = (high - low + 2 * pad) / (steps - 1)
    distance, _ = NearestNeighbors(n_neighbors=1).fit(coords[:, :2] / step).kneighbors(targets / step)
    targets = targets[distance[:, 0] > 1.0]  # more than one grid step from every data point
    return trace(
        x=targets[:, 0],
        y=targets[:, 1],
        mode="markers",
        name="empty space",
        showlegend=False,
        customdata=np.full((len(targets), 2), -1),
        hoverinfo="none",
        marker=dict(size=2, color="rgba(0,0,0,0)"),
        selected=dict(marker=dict(color="black", size=12)),
        unselected=dict(marker=dict(opacity=0)),
    )


def _overlay_type(fig: go.Figure, three_d: bool):
    """Trace type for things drawn over a map: WebGL over a WebGL map, since Plotly paints
    WebGL traces above SVG ones and would hide an SVG overlay."""
    if three_d:
        return go.Scatter3d
    return go.Scattergl if any(isinstance(t, go.Scattergl) for t in fig.data) else go.Scatter


def add_markers(
    fig: go.Figure, coords: np.ndarray, name: str, symbol: str = "star", colour: str = "#d00000"
) -> go.Figure:
    """A copy of the figure with extra highlighted markers (uploads, a chosen point)."""
    fig = go.Figure(fig)
    three_d = coords.shape[1] == 3
    trace = _overlay_type(fig, three_d)
    extra = {"z": coords[:, 2]} if three_d else {}
    fig.add_trace(
        trace(
            x=coords[:, 0],
            y=coords[:, 1],
            **extra,
            mode="markers",
            name=name,
            marker=dict(
                size=8 if three_d else 20,
                symbol=symbol if not three_d else "diamond",
                color=colour,
                line=dict(color="white", width=1),
            ),
            hovertemplate=f"{name}<extra></extra>",
        )
    )
    return fig


def add_path(fig: go.Figure, coords: np.ndarray, name: str, colour: str = "#d00000", dash: str = "solid") -> go.Figure:
    """A copy of the map with a path drawn over it: numbered steps, A and B marked."""
    fig = go.Figure(fig)
    steps = len(coords)
    text = ["A"] + [""] * (steps - 2) + ["B"] if steps >= 2 else ["A"]
    fig.add_trace(
        _overlay_type(fig, False)(
            x=coords[:, 0],
            y=coords[:, 1],
            mode="lines+markers+text",
            name=name,
            text=text,
            textposition="top center",
            textfont=dict(size=16, color=colour),
            customdata=np.arange(steps),
            hovertemplate=f"{name} step %{{customdata}}<extra></extra>",
            line=dict(color=colour, width=3, dash=dash),
            marker=dict(size=9, color=colour, line=dict(color="white", width=1)),
        )
    )
    return fig
