"""The Compare page's figures: the rate–distortion plane and the aligned, linked maps."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.map.figures import latent_scatter
from vae.analysis.compare import equal_elbo_levels

LINKED_TRACE = "selected in another map"


def _knob(value: float | None, unit: str = "") -> str:
    return "unknown (trained elsewhere)" if value is None else f"{value:g}{unit}"


def rate_distortion_plane(points: list[dict], current: str) -> go.Figure:
    """Each model at (distortion, rate), both in nats, as in Alemi et al. 2018; dashed lines of
    equal ELBO (D + R = −ELBO) run across. `points`: name, rate, distortion, elbo, nll, knobs."""
    fig = go.Figure()
    distortion = np.array([p["distortion"] for p in points])
    rate = np.array([p["rate"] for p in points])
    d_low, d_high = distortion.min(), distortion.max()
    pad = max(d_high - d_low, 1.0) * 0.15
    xs = np.array([d_low - pad, d_high + pad])
    r_pad = max(rate.max() - rate.min(), 1.0) * 0.25
    r_low, r_high = rate.min() - r_pad, rate.max() + r_pad
    for level in equal_elbo_levels(list(distortion + rate)):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=level - xs,
                mode="lines",
                line=dict(color="#bbbbbb", dash="dash", width=1),
                hoverinfo="skip",
                showlegend=False,
            )
        )
        if xs[0] <= level - r_low <= xs[1]:  # labelled where the line meets the bottom of the plot
            fig.add_annotation(
                x=level - r_low,
                y=r_low,
                text=f"−ELBO {level:g}",
                showarrow=False,
                xanchor="left",
                yanchor="bottom",
                font=dict(size=10, color="#888"),
            )
    hover = []
    for p in points:
        knobs = p["knobs"]
        hover.append(
            f"<b>{p['name']}</b><br>β {_knob(knobs['beta'])} · warm-up {_knob(knobs['warmup'], ' epochs')}"
            f" · free bits {_knob(knobs['free_bits'], ' nats')}<br>rate {p['rate']:.2f} · distortion "
            f"{p['distortion']:.2f} nats<br>ELBO {p['elbo']:.2f} · IWAE NLL {p['nll']:.2f} nats"
        )
    is_current = [p["name"] == current for p in points]
    fig.add_trace(
        go.Scatter(
            x=distortion,
            y=rate,
            mode="markers+text",
            text=[p["name"].removesuffix(".pt") for p in points],
            textposition=["top center" if i % 2 == 0 else "bottom center" for i in range(len(points))],
            customdata=[[p["name"]] for p in points],
            hovertext=hover,
            hoverinfo="text",
            marker=dict(
                size=[16 if c else 11 for c in is_current],
                symbol=["star" if c else "circle" for c in is_current],
                color=["#d62728" if c else "#1f77b4" for c in is_current],
                line=dict(width=1, color="white"),
            ),
            name="models",
            showlegend=False,
        )
    )
    fig.update_layout(
        height=380,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="distortion D = E[−log p(x|z)] (nats)", range=list(xs)),
        yaxis=dict(title="rate R = E[KL(q(z|x) ‖ p(z))] (nats)", range=[r_low, r_high]),
        hovermode="closest",
        clickmode="event+select",
    )
    return fig


def linked_map(
    coords: np.ndarray,
    dataset_index: np.ndarray,
    labels: np.ndarray | None,
    label_names: list[str],
    axis_title: str,
    linked: set[int] | None,
) -> go.Figure:
    """One model's map for side-by-side viewing: box or lasso select by dragging; the images
    selected in another map (`linked`: dataset indices) drawn as rings over a dimmed map."""
    fig = latent_scatter(coords, dataset_index, labels, label_names, axis_title=axis_title, click_grid=False)
    if linked:
        fig.update_traces(marker_opacity=0.3)
        rows = np.flatnonzero(np.isin(dataset_index, list(linked)))
        fig.add_trace(
            go.Scatter(
                x=coords[rows, 0].tolist(),  # plain lists: the browser tests count them
                y=coords[rows, 1].tolist(),
                mode="markers",
                name=LINKED_TRACE,
                customdata=np.stack([rows, dataset_index[rows]], axis=1),
                hovertemplate="image %{customdata[1]}<extra>selected elsewhere</extra>",
                marker=dict(size=10, color="rgba(0,0,0,0)", line=dict(width=2, color="black")),
            )
        )
    fig.update_layout(height=340, dragmode="select", showlegend=False, margin=dict(l=10, r=10, t=10, b=10))
    return fig


LEVEL_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def rate_by_level(rates: dict[str, dict[str, float]]) -> go.Figure:
    """The rate (mean KL, nats) of each model stacked by level, top level at the bottom of each
    bar; `rates`: model name -> level name -> nats. A flat model is one level, "z"."""
    fig = go.Figure()
    names = list(rates)
    position: dict[str, int] = {}  # a level's place within its model: the top levels of all models share a colour
    for levels in rates.values():
        for i, level in enumerate(levels):
            position.setdefault(level, i)
    for level, i in position.items():
        fig.add_trace(
            go.Bar(
                x=names,
                y=[rates[name].get(level, 0.0) for name in names],
                name=level,
                marker_color=LEVEL_COLOURS[i % len(LEVEL_COLOURS)],
                hovertemplate="%{x}<br>" + level + ": %{y:.2f} nats<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="stack",
        height=280,
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis_title="rate (nats)",
        legend_title_text="level",
    )
    return fig
