"""Map: the held-out encodings projected to 2-D or 3-D; click a point or empty space to decode."""

import numpy as np
import streamlit as st

from ui import cache, links
from ui.map_controls import map_controls
from ui.map_details import MapView, map_hover, show_group, show_location, show_point
from ui.map_figures import latent_scatter
from ui.panels import customdata, data_or_stop, load_map, open_model_page
from ui.pickers import send_buttons
from ui.shell import chosen_latent
from vae.latent.projection import METHOD_LABELS

path, vae, meta = open_model_page("Map", "🗺️")
data, _, held_idx = data_or_stop(path)

st.title("Latent map")
params, n_points, colour_by = map_controls(path, vae, data, held_idx)
method = params.method
codes = cache.codes(path, int(n_points))
latent_map = load_map(path, int(n_points), params)

if colour_by == "label":
    colour, colour_name = None, ""
elif colour_by == "reconstruction error":
    colour, colour_name = codes.recon_error, "recon. error (nats)"
else:
    colour, colour_name = codes.mu[:, int(colour_by[1:])], colour_by
figure = latent_scatter(
    latent_map.embedding_, codes.index, codes.labels, data.label_names, colour, colour_name, METHOD_LABELS[method]
)
chart_key = f"map_chart_{params.key()}_{int(n_points)}"
view = MapView(path, vae, data, codes, latent_map, method)


DETAIL_SOURCE = "map_detail_source"  # which input the user touched last: "chart" or "typed"


def _detail_from(source: str) -> None:
    st.session_state[DETAIL_SOURCE] = source


pick_key = f"map_pick_{path.name}"
if (linked_point := links.int_param("point", 0, len(codes.mu) - 1)) is not None:
    st.session_state[pick_key] = linked_point  # a link's point opens as if typed in
    _detail_from("typed")


@st.fragment
def map_and_details() -> None:
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
            "Click a point to inspect it, click empty space to decode that spot, or use box / lasso "
            "select from the toolbar for a group."
            if params.n_components == 2
            else "3D view: rotate with the mouse; pick a point by number on the right."
        )
    points = event.selection.points if event else []
    tagged = [(customdata(p), p) for p in points]
    rows = [int(values[0]) for values, _ in tagged if values and values[0] >= 0]
    spots = [p for values, p in tagged if values and values[0] < 0]
    with details:
        typed = st.number_input(
            "Inspect map point number",
            0,
            len(codes.mu) - 1,
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
        chosen = chosen_latent(path)
        if chosen:
            st.caption(f"Kept for the other pages: {chosen['source']}.")
            send_buttons(path, chosen["z"], chosen["source"], "map_send", chosen.get("label"))


if params.n_components == 2:
    map_hover(view)
map_and_details()
