"""A hierarchical model's levels: KL per level and per dimension, active units per level and
which level knows the class (the linear probe on each level's μ alone)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui.analyze.view import AnalysisView
from ui.shell import cache
from vae.analysis.metrics import ACTIVITY_THRESHOLD
from vae.analysis.per_level import ALL_LEVELS
from vae.models.levels import Level, dim_label, is_hierarchical
from vae.opened.measures import ELBO_SAMPLES

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def applies(view: AnalysisView) -> bool:
    """The tab is shown for hierarchical models only (a flat code is one level: nothing to split)."""
    return is_hierarchical(view.vae)


def level_bars(kl_per_dim: np.ndarray, levels: tuple[Level, ...]) -> go.Figure:
    """KL per dimension in the code's order, one colour (and legend entry) per level."""
    fig = go.Figure()
    for i, level in enumerate(levels):
        fig.add_trace(
            go.Bar(
                x=[dim_label(levels, d) for d in level.indices],
                y=np.asarray(kl_per_dim)[level.dims],
                name=level.name,
                marker_color=COLOURS[i % len(COLOURS)],
                hovertemplate="%{x}: %{y:.3f} nats<extra></extra>",
            )
        )
    fig.update_layout(
        height=260, margin=dict(l=10, r=10, t=10, b=10), yaxis_title="KL (nats)", xaxis=dict(type="category")
    )
    return fig


def show(view: AnalysisView) -> None:
    report = cache.level_report(view.path, view.n_points)
    total = sum(report.kl.values())
    rows = [
        {
            "level": level.name,
            "dims": f"z{level.start}–z{level.start + level.size - 1}",
            "KL (nats)": round(report.kl[level.name], 3),
            "share of the rate": f"{100 * report.kl[level.name] / total:.0f} %" if total > 0 else "–",
            "active units": f"{report.active[level.name]} of {level.size}",
            **({"probe accuracy": f"{100 * report.probe[level.name]:.1f} %"} if report.probe else {}),
        }
        for level in report.levels
    ]
    rows.append(
        {
            "level": ALL_LEVELS,
            "dims": f"z0–z{view.vae.latent_dim - 1}",
            "KL (nats)": round(total, 3),
            "share of the rate": "100 %" if total > 0 else "–",
            "active units": f"{sum(report.active.values())} of {view.vae.latent_dim}",
            **({"probe accuracy": f"{100 * report.probe[ALL_LEVELS]:.1f} %"} if report.probe else {}),
        }
    )
    st.dataframe(rows, hide_index=True)
    st.plotly_chart(level_bars(report.kl_per_dim, report.levels), key="analyze_levels_kl")
    probe = (
        f" Probe: logistic regression on standardised μ of each level's dimensions alone, {report.about}; "
        f"always answering the commonest class scores {100 * report.chance:.1f} %. A level near that holds no "
        "linear label information; one near the whole code's accuracy holds the class."
        if report.probe
        else " No label probe: the images fitted on carry fewer than two classes."
    )
    drawn = (
        "levels drawn top-down from the posterior"
        if view.info.is_native
        else "levels drawn from the bundle's posterior, each level's (μ, σ) fixed by its encoder along the mean path"
    )
    st.caption(
        f"KL: mean over {report.n_images} held-out images, {drawn} "
        f"({ELBO_SAMPLES} draws each), each level against its conditional prior p(z_l | z_<l): a lower level counts only what "
        f"it adds to the levels above. Active units: variance of μ over the same images above {ACTIVITY_THRESHOLD:g}. "
        "Codes are standardised, so a lower level's μ is measured against what the levels above predict of it." + probe
    )
