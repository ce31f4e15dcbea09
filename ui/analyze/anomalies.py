"""Anomalies: three scores per image, a threshold, the most unusual images, a planted-corruption check."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from ui.analyze.view import AnalysisView
from ui.shell import cache
from ui.shell.charts import histogram_with_marker
from ui.shell.items import item_text, show_items
from ui.shell.panels import show_picture
from vae.analysis.anomaly import CORRUPTIONS, SCORE_NAMES, TEXT_CORRUPTIONS, corrupt
from vae.latent.codes import reconstruct
from vae.models.interface import is_conditional, is_text
from vae.opened.measures import default_threshold, flagged_fraction
from vae.pictures import grid_picture


def show(view: AnalysisView) -> None:
    path, vae, data, n_points = view.path, view.vae, view.data, view.n_points
    settings, chart = st.columns([1, 2])
    kinds = TEXT_CORRUPTIONS if is_text(vae) else CORRUPTIONS
    items = "sentences" if is_text(vae) else "images"
    corruption = settings.radio(
        "Planted corruption", list(kinds), format_func=kinds.get, key=f"analyze_corruption_{items}"
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
        help=f"Starts at the 95th percentile of the scores of {items} fitted on, not of those flagged below",
    )
    flagged = flagged_fraction(clean, threshold)
    caught = flagged_fraction(found.corrupted[score_name], threshold)
    settings.metric(f"Held-out {items} flagged", f"{100 * flagged:.1f} %")
    settings.metric(f"Corrupted {items} flagged", f"{100 * caught:.1f} %")
    with chart:
        st.plotly_chart(
            histogram_with_marker(clean, {"threshold": threshold}, f"{SCORE_NAMES[score_name]}, held-out {items}"),
            key="analyze_anomaly_hist",
        )
        st.markdown(
            f"ROC-AUC, corrupted vs clean held-out {items} (1 = perfect, 0.5 = chance): "
            + ", ".join(f"{SCORE_NAMES[name]} **{auc:.3f}**" for name, auc in found.auc.items())
        )
        st.caption(f"Scores of {len(clean)} {items}: {found.about}.")
        example = data.images[found.index[:1]]
        vocab_size = len(vae.vocabulary) if is_text(vae) else 0
        broken = corrupt(example, corruption, float(severity), seed=1, vocab_size=vocab_size)
        if is_text(vae):
            show_items(st, vae, torch.cat([example, broken]), caption="a held-out sentence and its corrupted copy")
        else:
            show_picture(
                st,
                grid_picture(torch.cat([example, broken]), 2, target=64),
                caption="a held-out image and its corrupted copy",
                output_format="PNG",
            )
    order = np.argsort(-clean)[:8]
    x = data.images[found.index[order]]
    y = data.labels[found.index[order]] if is_conditional(vae) else None
    reconstructions = reconstruct(vae, x, y)
    if is_text(vae):
        st.markdown("**The 8 most unusual held-out sentences** and their reconstructions")
        st.dataframe(
            {
                "sentence": [item_text(vae, row, data.texts[int(found.index[r])]) for row, r in zip(x, order)],
                "reconstruction (greedy)": [item_text(vae, row) for row in reconstructions],
                "score": [round(float(clean[r]), 1) for r in order],
            },
            hide_index=True,
            width="stretch",
        )
    else:
        st.markdown("**The 8 most unusual held-out images** (top) and their reconstructions (bottom)")
        show_picture(st, grid_picture(torch.cat([x, reconstructions]), ncols=8, target=72), output_format="PNG")
    st.caption(
        f"Held-out {items[:-1]} numbers: "
        + ", ".join(f"{int(found.index[r])} ({clean[r]:.1f})" for r in order)
        + f". Scores: {SCORE_NAMES[score_name]}."
    )
