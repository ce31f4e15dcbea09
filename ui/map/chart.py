"""The Map's chart and its detail panel, in one fragment: a click, a box or a typed number
reruns only this part of the page."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui.map.details import MapView, show_group, show_location, show_point
from ui.shell import links
from ui.shell.page import chosen_latent
from ui.shell.panels import customdata
from ui.shell.pickers import send_buttons
from vae.latent.projection import ProjectionParams
from vae.opened import HeldOutCodes

DETAIL_SOURCE = "map_detail_source"  # which input the user touched last: "chart" or "typed"
STAND_IN = "map_stand_in"  # the view whose PCA map stood in while its UMAP / t-SNE map was fitted


def chart_key(params: ProjectionParams, n_points: int) -> str:
    """The map chart's widget key: one per projection and number of points."""
    return f"map_chart_{params.key()}_{n_points}"


def _detail_from(source: str) -> None:
    st.session_state[DETAIL_SOURCE] = source


def colouring(codes: HeldOutCodes, colour_by: str) -> tuple[np.ndarray | None, str]:
    """The values the points are coloured by (None: by label) and their name."""
    if colour_by == "label":
        return None, ""
    if colour_by == "reconstruction error":
        return codes.recon_error, "recon. error (nats)"
    return codes.mu[:, int(colour_by[1:])], colour_by


def take_linked_point(view: MapView, pick_key: str) -> None:
    """A link's point opens as if typed in."""
    if (linked_point := links.int_param("point", 0, len(view.codes.mu) - 1)) is not None:
        st.session_state[pick_key] = linked_point
        _detail_from("typed")


def keep_point_across_the_fit(view: MapView, asked: ProjectionParams, shown: ProjectionParams, pick_key: str) -> None:
    """A point clicked on the PCA map that stood in while the asked-for map was fitted stays
    picked when the fitted map replaces it (rows number the same images in every projection)."""
    n_points, view_id = len(view.codes.mu), (view.path.name, len(view.codes.mu), asked)
    if shown != asked:
        st.session_state[STAND_IN] = view_id
        return
    if st.session_state.pop(STAND_IN, None) != view_id or st.session_state.get(DETAIL_SOURCE) == "typed":
        return
    selection = (st.session_state.get(chart_key(shown_pca(asked), n_points)) or {}).get("selection") or {}
    rows = [int(values[0]) for values in map(customdata, selection.get("points") or []) if values and values[0] >= 0]
    if len(rows) == 1 and not (selection.get("box") or selection.get("lasso")):
        st.session_state[pick_key] = rows[0]
        _detail_from("typed")


def shown_pca(params: ProjectionParams) -> ProjectionParams:
    """The PCA map of the same view (2-D or 3-D, seed, level): what stands in for a map not fitted yet."""
    return ProjectionParams("pca", params.n_components, params.seed, level=params.level)


@st.fragment
def map_and_details(view: MapView, figure: go.Figure, chart_key: str, pick_key: str, three_d: bool) -> None:
    chart, details = st.columns([3, 2])
    with chart:
        event = st.plotly_chart(
            figure,
            key=chart_key,
            on_select=lambda: _detail_from("chart"),
            selection_mode=("points", "box", "lasso"),
            config={"displaylogo": False},
        )
        st.caption(
            "3D view: rotate with the mouse; pick a point by number on the right."
            if three_d
            else "Click a point to inspect it, click empty space to decode that spot, or use box / lasso "
            "select from the toolbar for a group."
        )
    points = event.selection.points if event else []
    tagged = [(customdata(p), p) for p in points]
    rows = [int(values[0]) for values, _ in tagged if values and values[0] >= 0]
    spots = [p for values, p in tagged if values and values[0] < 0]
    with details:
        typed = st.number_input(
            "Inspect map point number",
            0,
            len(view.codes.mu) - 1,
            value=None,
            key=pick_key,
            placeholder="or click the map",
            on_change=_detail_from,
            args=("typed",),
        )
        if typed is not None and st.session_state.get(DETAIL_SOURCE) == "typed":
            show_point(view, int(typed))
        elif event and (event.selection.box or event.selection.lasso) and rows:
            show_group(view, rows)
        elif len(rows) == 1:
            show_point(view, rows[0])
        elif spots:
            show_location(view, np.array([spots[0]["x"], spots[0]["y"]], dtype=np.float32))
        else:
            st.info("Nothing chosen yet.")
        chosen = chosen_latent(view.path)
        if chosen:
            st.caption(f"Kept for the other pages: {chosen['source']}.")
            send_buttons(view.path, chosen["z"], chosen["source"], "map_send", chosen.get("label"))
