"""Interpolate's lower half: how far each step of both paths lies from the data, and both
paths drawn over the map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from ui.charts import path_distances
from ui.map_figures import add_path, latent_scatter
from ui.panels import maps_projection, ready_map
from ui.pickers import HeldOut
from vae.latent.projection import METHOD_LABELS

PATH_COLOURS = {"linear": "#d62728", "spherical": "#9467bd"}


def paths_on_map(
    path: Path, held: HeldOut, paths: dict[str, np.ndarray], method: str, distances: dict[str, np.ndarray]
) -> None:
    """`paths` maps each path's name to its (steps, D) codes; `method` is the one chosen."""
    on_map, near = st.columns([3, 2])
    with near:
        st.markdown("**Does the path stay on the data?**")
        st.plotly_chart(path_distances(distances, PATH_COLOURS), key="interpolate_distances")
        st.caption(
            "Each step's distance to the nearest held-out encoding, in units of the typical gap between an encoding "
            "and its nearest neighbour. Well above 1: the decoder is guessing between real images."
        )
    with on_map:
        latent_map, params, note = ready_map(path, len(held.codes.mu), maps_projection(2))
        figure = latent_scatter(
            latent_map.embedding_,
            held.codes.index,
            held.codes.labels,
            held.data.label_names,
            axis_title=METHOD_LABELS[params.method],
            click_grid=False,
        )
        for name in paths:
            figure = add_path(
                figure,
                latent_map.transform(paths[name]),
                f"{name} path",
                PATH_COLOURS[name],
                "solid" if name == method else "dot",
            )
        figure.update_layout(height=480)
        st.plotly_chart(figure, key="interpolate_map")
        how = "exact" if params.method == "pca" else "each step placed by its nearest latent neighbours"
        st.caption(f"Both paths over the {METHOD_LABELS[params.method]} map ({how}); the chosen one is solid.{note}")
