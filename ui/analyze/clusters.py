"""Clusters of the latent means against the labels: NMI, ARI, the confusion matrix and the map."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.analyze.view import AnalysisView
from ui.map.figures import latent_scatter
from ui.shell import cache
from ui.shell.charts import confusion_heatmap
from ui.shell.panels import maps_projection, ready_map
from vae.analysis.clusters import CLUSTER_METHODS, agreement
from vae.data.datasets import label_name
from vae.latent.projection import METHOD_LABELS
from vae.opened.measures import CLUSTER_FIT


def show(view: AnalysisView) -> None:
    path, codes, n_points, names, has_labels = view.path, view.codes, view.n_points, view.names, view.has_labels
    fit_count = min(CLUSTER_FIT, len(view.fitting.fit_idx))
    if not has_labels:
        st.info("Clusters are compared with labels, and this model's data has no labels.")
    else:
        left, right = st.columns([1, 2])
        classes = len(np.unique(codes.labels))
        method = left.radio(
            "Method", list(CLUSTER_METHODS), format_func=CLUSTER_METHODS.get, key="analyze_cluster_method"
        )
        most = max(2, min(50, fit_count))
        k = left.number_input("Clusters k", 2, most, min(classes, most), key="analyze_k")
        found = cache.clusters(path, n_points, int(k), method)
        result = agreement(codes.labels[found.scored], found.assigned[found.scored])
        left.metric("NMI", f"{result.nmi:.3f}", help="Normalised mutual information: 1 = clusters equal labels")
        left.metric("ARI", f"{result.ari:.3f}", help="Adjusted Rand index: 1 = same partition, 0 = chance")
        with right:
            st.plotly_chart(
                confusion_heatmap(
                    result.confusion,
                    [label_name(names, v) for v in result.label_values],
                    [str(c) for c in result.cluster_values],
                ),
                key="analyze_confusion",
            )
        latent_map, params, _ = ready_map(path, n_points, maps_projection(2))
        figure = latent_scatter(
            latent_map.embedding_,
            codes.index,
            found.assigned,
            [f"cluster {c}" for c in range(int(k))],
            axis_title=METHOD_LABELS[params.method],
            click_grid=False,
        )
        figure.update_layout(height=460)
        st.plotly_chart(figure, key="analyze_cluster_map")
        st.caption(
            f"The clusters on the {METHOD_LABELS[params.method]} map (colour = cluster, not label). "
            f"{CLUSTER_METHODS[method]} {found.about}: the clusters are fitted without labels, and NMI, ARI and "
            "the confusion matrix compare them with the labels of the images scored on only."
        )
