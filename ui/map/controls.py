"""The Map's controls: projection, view, points, colouring and the projection's parameters."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.shell import links
from ui.shell.page import MAP_PARAMS_KEY
from vae.data.datasets import Dataset
from vae.latent.projection import METHOD_LABELS, METHODS, ProjectionParams
from vae.models.interface import LatentModel
from vae.models.levels import Level, is_hierarchical, levels_of

ALL_LEVELS = "all levels"


def map_controls(path: Path, vae: LatentModel, data: Dataset, held_idx) -> tuple[ProjectionParams, int, str]:
    """The Map's controls, seeded from the last choices and from a link: the projection, the
    number of points and what colours them. Saves the choices for the other pages."""
    saved = st.session_state.get(MAP_PARAMS_KEY, {})
    # A link (reload, bookmark, shared URL) names the projection, the view and the point count.
    if (linked_method := links.linked("method")) in METHODS:
        saved = {**saved, "method": linked_method}
    if (linked_view := links.int_param("view", 2, 3)) is not None:
        saved = {**saved, "n_components": linked_view}
    if (linked_points := links.int_param("points", 1, len(held_idx))) is not None:
        saved = {**saved, "n_points": linked_points}
    hierarchical = is_hierarchical(vae)
    controls = st.columns([1.2, 0.8, 1.2, 1.4, 1.2] if hierarchical else [1.2, 0.8, 1.2, 1.4])
    method = controls[0].selectbox(
        "Projection",
        METHODS,
        index=METHODS.index(saved.get("method", "umap")),
        format_func=METHOD_LABELS.get,
        key="map_method",
    )
    dims = controls[1].radio(
        "View",
        (2, 3),
        index=(saved.get("n_components", 2) - 2),
        format_func=lambda d: f"{d}D",
        horizontal=True,
        key="map_dims",
    )
    max_points = len(held_idx)
    if max_points < 3:
        st.info(
            f"This model holds out only {max_points} image(s): a map needs at least 3 (train with a larger --held-out)."
        )
        st.stop()
    requested_points = saved.get("n_points", 2000)  # the user's last choice, kept across models
    points_key = f"map_points_{path.name}"  # one widget per model: each clamps the choice to its size

    def _remember_points() -> None:
        st.session_state[MAP_PARAMS_KEY] = {
            **st.session_state.get(MAP_PARAMS_KEY, {}),
            "n_points": st.session_state[points_key],
        }

    n_points = controls[2].number_input(
        f"Points (of {max_points} held out)",
        min(10, max_points),
        max_points,
        min(requested_points, max_points),
        step=100,
        key=points_key,
        on_change=_remember_points,
    )
    colour_options = (
        (["label"] if data.labels is not None else [])
        + ["reconstruction error"]
        + [f"z{i}" for i in range(vae.latent_dim)]
    )
    colour_by = controls[3].selectbox("Colour by", colour_options, key="map_colour")
    with st.expander("Projection parameters"):
        knobs = st.columns(4)
        seed = knobs[0].number_input("Seed", 0, 10_000, saved.get("seed", 0), key="map_seed")
        n_neighbors = knobs[1].slider(
            "UMAP neighbours", 2, 100, saved.get("n_neighbors", 15), key="map_nn", disabled=method != "umap"
        )
        min_dist = knobs[2].slider(
            "UMAP min. distance", 0.0, 0.99, saved.get("min_dist", 0.1), key="map_md", disabled=method != "umap"
        )
        perplexity = knobs[3].slider(
            "t-SNE perplexity", 2.0, 100.0, saved.get("perplexity", 30.0), key="map_perp", disabled=method != "tsne"
        )
    level = _level_control(controls[4], path, vae) if hierarchical else None
    params = ProjectionParams(method, dims, int(seed), n_neighbors, min_dist, perplexity, level)
    # Other pages (Encode) reuse the projection on any model, so the level (this model's) stays here.
    st.session_state[MAP_PARAMS_KEY] = {
        **{k: v for k, v in params.__dict__.items() if k != "level"},
        "n_points": int(requested_points),
    }
    for name, value in {"method": method, "view": dims, "points": int(n_points)}.items():
        links.set_param(name, value)
    if hierarchical:
        links.set_param("level", level.name if level else None)
    return params, int(n_points), colour_by


def _level_control(column, path: Path, vae: LatentModel) -> Level | None:
    """A hierarchical model's level whose posterior means are mapped (None: the whole code),
    seeded from a link; one widget per model, as each has its own levels."""
    levels = {level.name: level for level in levels_of(vae)}
    key = f"map_level_{path.name}"
    if (linked := links.linked("level")) in levels and key not in st.session_state:
        st.session_state[key] = linked
    name = column.selectbox(
        "Level",
        [ALL_LEVELS, *levels],
        key=key,
        help="Map the posterior means of one level only (the fit sees that level's dimensions). Coloured by "
        "label, it shows which level holds the class. A click or hover still decodes a whole code: the codes "
        "of the nearest map points, every level of them.",
    )
    return levels.get(name)


def level_caption(params: ProjectionParams) -> None:
    """Under the controls of a map of one level: what was mapped."""
    if (level := params.level) is not None:
        st.caption(
            f"Mapped: the posterior means of level **{level.name}** alone ({level.size} of the code's dimensions, "
            f"z{level.start}–z{level.start + level.size - 1}). Clicks and hover decode whole codes, every level "
            "taken from the nearest map points."
        )
