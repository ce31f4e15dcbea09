"""Anomalies: three scores per image, a threshold, the most unusual images, a planted-corruption check."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from ui.analyze.view import AnalysisView
from ui.shell import cache
from ui.shell.charts import histogram_with_marker
from ui.shell.panels import show_picture
from vae.analysis.anomaly import CORRUPTIONS, SCORE_NAMES, corrupt
from vae.latent.codes import reconstruct
from vae.models.interface import is_conditional
from vae.opened.measures import default_threshold, flagged_fraction
from vae.pictures import grid_picture


def show(view: AnalysisView) -> None:
    path, vae, data, n_points = view.path, view.vae, view.data, view.n_points
    settings, chart = st.columns([1, 2])
    corruption = settings.radio(
        "Planted corruption", list(CORRUPTIONS), format_func=CORRUPTIONS.get, key="analyze_corruption"
    )
    severity = settings.slider("Severity", 0.05, 0.9, 0.4, 0.05, key="analyze_severity")
    score_name = settings.radio("Score", list(SCORE_NAMES), format_func=SCORE_NAMES.get, key="analyze_score")
    found = cache.anomalies(path, n_points, corruption, float(severity))
    clean, start = found.clean[score_name], default_threshold(found.fitted[score_name])
    low, high = min(float(np.min(clean)), start), max(float(np.max(clean)), start)
    threshold = settings.slider(
        "Flag above",
        low,
        max(high, low + 1e-6),
        start,
        key=f"analyze_threshold_{score_name}",
        help="Starts at the 95th percentile of the scores of images fitted on, not of those flagged below",
    )
    flagged = flagged_fraction(clean, threshold)
    caught = flagged_fraction(found.corrupted[score_name], threshold)
    settings.metric("Held-out images flagged", f"{100 * flagged:.1f} %")
    settings.metric("Corrupted images flagged", f"{100 * caught:.1f} %")
    with chart:
        st.plotly_chart(
            histogram_with_marker(clean, {"threshold": threshold}, f"{SCORE_NAMES[score_name]}, held-out images"),
            key="analyze_anomaly_hist",
        )
        st.markdown(
            "ROC-AUC, corrupted vs clean held-out images (1 = perfect, 0.5 = chance): "
            + ", ".join(f"{SCORE_NAMES[name]} **{auc:.3f}**" for name, auc in found.auc.items())
        )
        st.caption(f"Scores of {len(clean)} images: {found.about}.")
        example = data.images[found.index[:1]]
        show_picture(
            st,
            grid_picture(torch.cat([example, corrupt(example, corruption, float(severity), seed=1)]), 2, target=64),
            caption="a held-out image and its corrupted copy",
            output_format="PNG",
        )
    order = np.argsort(-clean)[:8]
    x = data.images[found.index[order]]
    y = data.labels[found.index[order]] if is_conditional(vae) else None
    reconstructions = reconstruct(vae, x, y)
    st.markdown("**The 8 most unusual held-out images** (top) and their reconstructions (bottom)")
    show_picture(st, grid_picture(torch.cat([x, reconstructions]), ncols=8, target=72), output_format="PNG")
    st.caption(
        "Held-out image numbers: "
        + ", ".join(f"{int(found.index[r])} ({clean[r]:.1f})" for r in order)
        + f". Scores: {SCORE_NAMES[score_name]}."
    )
