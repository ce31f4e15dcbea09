"""Analyze: clusters vs labels, anomalies, imputation, disentanglement, posterior collapse,
linear-probe quality, exports of the latent means and, for a hierarchical model, what each level
holds. Each tab is a module of ui/analyze/."""

from ui.shell.start import begin_page

begin_page("Analyze", "🔬", "Analyze the latent space")

import streamlit as st

from ui.analyze import anomalies, clusters, collapse, disentanglement, export, imputation, levels, probe
from ui.analyze.view import analysis_view
from ui.shell.panels import open_model_page

path, vae, info = open_model_page()

view = analysis_view(path, vae, info)

per_level = levels.applies(view) and view.data is not None  # a hierarchical model: what each level holds
tabs = st.tabs(
    ["Clusters", "Anomalies", "Imputation", "Disentanglement", "Posterior collapse", "Probe", "Export"]
    + (["Levels"] if per_level else [])
)
with tabs[4]:  # from the checkpoint alone, so first
    collapse.show(view)
if view.data is None:
    st.stop()
sections = (clusters, anomalies, imputation, disentanglement, None, probe, export) + ((levels,) if per_level else ())
for tab, section in zip(tabs, sections):
    if section is not None:
        with tab:
            section.show(view)
