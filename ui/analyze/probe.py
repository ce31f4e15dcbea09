"""A linear probe on the latent means beside the same probe on raw pixels."""

from __future__ import annotations

import streamlit as st

from ui.analyze.view import AnalysisView
from ui.shell import cache


def show(view: AnalysisView) -> None:
    path, vae, n_points, has_labels = view.path, view.vae, view.n_points, view.has_labels
    if not has_labels:
        st.info("A linear probe predicts labels, and this model's data has no labels.")
    else:
        try:
            accuracy = cache.probes(path, n_points)
        except ValueError as err:  # the images fitted on hold fewer than two classes
            st.info(f"No probe: {err}.")
            return
        left, right = st.columns(2)
        left.metric("Probe on μ (accuracy on unseen images)", f"{100 * accuracy.latent:.1f} %")
        right.metric("Same probe on raw pixels", f"{100 * accuracy.pixels:.1f} %")
        st.caption(
            f"Logistic regression on standardised features, {accuracy.about}. "
            f"A {vae.latent_dim}-d code that keeps most of the pixels' accuracy has kept the label information "
            "in linear form."
        )
