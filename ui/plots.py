"""Arrays to Plotly figures. No Streamlit here: pages pass the figures to st.plotly_chart."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from sklearn.neighbors import NearestNeighbors

from vae.data import label_name

WEBGL_ABOVE = 1000  # points; SVG is crisper for fewer, WebGL stays fast for more
# Invisible click targets per side, so a click on empty space selects a location. The grid is
# drawn like the data (SVG or WebGL: mixing them made one click select and then unselect);
# SVG gets fewer targets because each is a DOM node that every redraw touches.
GRID_STEPS = {go.Scatter: 40, go.Scattergl: 70}
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
    "#636363",
]


def _scatter_type(n: int, three_d: bool):
    if three_d:
        return go.Scatter3d
    return go.Scattergl if n > WEBGL_ABOVE else go.Scatter


def latent_scatter(
    coords: np.ndarray,
    dataset_index: np.ndarray,
    labels: np.ndarray | None,
    label_names: list[str],
    colour: np.ndarray | None = None,
    colour_name: str = "",
    axis_title: str = "",
    click_grid: bool = True,
) -> go.Figure:
    """Map points coloured by label (one legend entry per class) or by a value (colour bar).
    customdata of a point is [map row, dataset index]; the click grid's is [-1, -1]."""
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


def training_curves(history: list[dict]) -> go.Figure:
    """Train and held-out ELBO per epoch (nats, higher is better), KL on a second axis."""
    epochs = [h["epoch"] for h in history]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=[h["train_elbo"] for h in history], name="train ELBO", mode="lines"))
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=[h["heldout_elbo"] for h in history],
            name="held-out ELBO",
            mode="lines+markers" if len(epochs) < 60 else "lines",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=[h["heldout_kl"] for h in history],
            name="held-out KL",
            yaxis="y2",
            mode="lines",
            line=dict(dash="dot"),
        )
    )
    fig.update_layout(
        xaxis_title="epoch",
        yaxis_title="ELBO (nats)",
        height=320,
        yaxis2=dict(title="KL (nats)", overlaying="y", side="right", showgrid=False),
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", y=1.15),
    )
    return fig


def latent_bars(mu: np.ndarray, sigma: np.ndarray) -> go.Figure:
    """mu per latent dimension with ±σ error bars."""
    dims = [f"z{i}" for i in range(len(mu))]
    fig = go.Figure(
        go.Bar(
            x=dims,
            y=mu,
            error_y=dict(type="data", array=sigma, visible=True),
            hovertemplate="%{x}: μ %{y:.3f} ± σ %{error_y.array:.3f}<extra></extra>",
        )
    )
    fig.update_layout(height=240, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="μ ± σ")
    return fig


def histogram_with_marker(values: np.ndarray, marks: dict[str, float], title: str) -> go.Figure:
    fig = go.Figure(go.Histogram(x=values, nbinsx=40, name="held-out images", marker_color="#9ab"))
    for i, (name, value) in enumerate(marks.items()):
        fig.add_vline(
            x=value,
            line=dict(color=PALETTE[(i + 3) % len(PALETTE)], width=3),
            annotation_text=name,
            annotation_position="top",
        )
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=title, showlegend=False)
    return fig


def kl_bars(kl: np.ndarray, threshold: float) -> go.Figure:
    """Average KL per latent dimension, most informative first; inactive ones greyed."""
    order = np.argsort(-np.asarray(kl), kind="stable")
    fig = go.Figure(
        go.Bar(
            x=[f"z{d}" for d in order],
            y=np.asarray(kl)[order],
            marker_color=["#1f77b4" if kl[d] >= threshold else "#bbbbbb" for d in order],
            hovertemplate="%{x}: %{y:.3f} nats<extra></extra>",
        )
    )
    fig.update_layout(
        height=260,
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis_title="KL (nats)",
        xaxis=dict(type="category"),
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


def path_distances(distances: dict[str, np.ndarray], colours: dict[str, str]) -> go.Figure:
    """Each step's distance to the nearest real encoding, in units of the data's typical spacing."""
    fig = go.Figure()
    for name, values in distances.items():
        fig.add_trace(
            go.Scatter(
                x=np.arange(len(values)),
                y=values,
                name=name,
                mode="lines+markers",
                line=dict(color=colours.get(name)),
                hovertemplate="step %{x}: %{y:.2f}× spacing<extra></extra>",
            )
        )
    fig.add_hline(y=1.0, line=dict(color="#888", dash="dot"), annotation_text="typical gap between neighbours")
    fig.update_layout(
        height=260,
        margin=dict(l=10, r=10, t=30, b=10),
        xaxis_title="step",
        yaxis_title="distance to nearest encoding (× spacing)",
        yaxis=dict(rangemode="tozero"),
        legend=dict(orientation="h", y=1.15),
    )
    return fig


def confusion_heatmap(matrix: np.ndarray, row_names: list[str], column_names: list[str]) -> go.Figure:
    """Counts with rows = labels, columns = clusters, each cell annotated."""
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=column_names,
            y=row_names,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            hovertemplate="label %{y}, cluster %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        height=80 + 28 * len(row_names),
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="cluster", type="category"),
        yaxis=dict(title="label", type="category", autorange="reversed"),
    )
    return fig


def mutual_information_grid(info: np.ndarray, factor_names: list[str]) -> go.Figure:
    """Factor × dimension mutual information as a grid of clickable squares (a scatter, so a
    click selects a cell: Streamlit reports selections on scatter traces). customdata = [dim]."""
    factors, dims = info.shape
    fx, dy = np.meshgrid(np.arange(dims), np.arange(factors))
    fig = go.Figure(
        go.Scatter(
            x=[f"z{d}" for d in fx.ravel()],
            y=[factor_names[k] for k in dy.ravel()],
            mode="markers",
            customdata=fx.ravel()[:, None],
            marker=dict(
                symbol="square",
                size=34,
                color=info.ravel(),
                colorscale="Viridis",
                cmin=0,
                showscale=True,
                colorbar=dict(title="MI (nats)"),
            ),
            text=[f"{v:.3f}" for v in info.ravel()],
            hovertemplate="%{y} · %{x}: %{text} nats<extra></extra>",
        )
    )
    fig.update_layout(
        height=90 + 42 * factors,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(type="category"),
        yaxis=dict(type="category", autorange="reversed"),
    )
    return fig


def kl_history(history: list[dict]) -> go.Figure:
    """Held-out KL per latent dimension at each epoch, as a heat-map (epochs × dimensions)."""
    rows = [h for h in history if h.get("kl_per_dim")]
    kl = np.array([h["kl_per_dim"] for h in rows])
    fig = go.Figure(
        go.Heatmap(
            z=kl.T,
            x=[h["epoch"] for h in rows],
            y=[f"z{d}" for d in range(kl.shape[1])],
            colorscale="Viridis",
            colorbar=dict(title="KL (nats)"),
            hovertemplate="epoch %{x}, %{y}: %{z:.3f} nats<extra></extra>",
        )
    )
    fig.update_layout(
        height=80 + 22 * kl.shape[1],
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="epoch",
        yaxis=dict(type="category"),
    )
    return fig
