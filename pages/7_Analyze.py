"""Analyze: clusters vs labels, anomalies, imputation, disentanglement, posterior collapse,
linear-probe quality, and exports of the latent means. Each tab is a module of ui/analyze/."""

import numpy as np
import streamlit as st

from ui import cache
from ui.analyze import anomalies, clusters, collapse, disentanglement, export, imputation, probe
from ui.analyze.view import AnalysisView
from ui.panels import open_model_page
from vae.errors import DatasetError

path, vae, meta = open_model_page("Analyze", "🔬")

st.title("Analyze the latent space")
try:
    data, train_idx, held_idx = cache.data(path)
except DatasetError as err:
    st.warning(f"The model's data is not available, so only the training history is analysed. {err}")
    data, train_idx, held_idx = None, None, None
if data is not None and len(held_idx) < 3:
    st.warning("This model holds out fewer than 3 images: too few to analyse.")
    data = None

codes, n_points, names, has_labels = None, 0, [], False
if data is not None:
    n_points = (
        st.sidebar.slider("Held-out images analysed", 3, len(held_idx), min(2000, len(held_idx)), key="analyze_n")
        if len(held_idx) > 3
        else len(held_idx)
    )
    codes = cache.codes(path, n_points)
    names = data.label_names
    has_labels = codes.labels is not None and len(np.unique(codes.labels)) >= 2
view = AnalysisView(path, vae, meta, data, codes, n_points, names, has_labels, train_idx, held_idx)

tabs = st.tabs(["Clusters", "Anomalies", "Imputation", "Disentanglement", "Posterior collapse", "Probe", "Export"])
with tabs[4]:  # from the checkpoint alone, so first
    collapse.show(view)
if data is None:
    st.stop()
for tab, section in zip(tabs, (clusters, anomalies, imputation, disentanglement, None, probe, export)):
    if section is not None:
        with tab:
            section.show(view)
