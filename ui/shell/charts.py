"""Charts of numbers a page shows (training curves, KL per dimension, histograms, heatmaps) as
Plotly figures. No Streamlit here: pages pass them to st.plotly_chart."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

# Ten D3 colours as most plots use them, then more for datasets with many classes.
PALETTE = qualitative.D3 + qualitative.Vivid


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
