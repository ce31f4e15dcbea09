"""Map: the held-out encodings projected to 2-D or 3-D; click a point or empty space to decode."""

import numpy as np
import streamlit as st
import torch

from ui import cache, links
from ui.panels import customdata, data_or_stop, distance_reading, load_map, open_model_page, thumbnails
from ui.pickers import send_buttons
from ui.plots import latent_scatter
from ui.shell import MAP_PARAMS_KEY, choose_latent, chosen_latent
from vae.data import label_name
from vae.latent import decode_codes, nearest_neighbours
from vae.pictures import grid_picture, picture
from vae.projection import METHOD_LABELS, METHODS, ProjectionParams

path, vae, meta = open_model_page("Map", "🗺️")
data, _, held_idx = data_or_stop(path)

st.title("Latent map")
saved = st.session_state.get(MAP_PARAMS_KEY, {})
# A link (reload, bookmark, shared URL) names the projection, the view and the point count.
if (linked_method := links.linked("method")) in METHODS:
    saved = {**saved, "method": linked_method}
if (linked_view := links.int_param("view", 2, 3)) is not None:
    saved = {**saved, "n_components": linked_view}
if (linked_points := links.int_param("points", 1, len(held_idx))) is not None:
    saved = {**saved, "n_points": linked_points}
controls = st.columns([1.2, 0.8, 1.2, 1.4])
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
    + [f"z{i}" for i in range(vae.config.latent_dim)]
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
params = ProjectionParams(method, dims, int(seed), n_neighbors, min_dist, perplexity)
st.session_state[MAP_PARAMS_KEY] = {**params.__dict__, "n_points": int(requested_points)}
for name, value in {"method": method, "view": dims, "points": int(n_points)}.items():
    links.set_param(name, value)

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


def show_point(row: int) -> None:
    """Original, reconstruction, label, mu ± σ and latent neighbours of one map point."""
    image_index = int(codes.index[row])
    x = data.images[image_index]
    y = data.labels[image_index : image_index + 1] if vae.config.conditional else None
    reconstruction = decode_codes(vae, codes.mu[row], y)[0]
    label = label_name(data.label_names, None if codes.labels is None else codes.labels[row])
    st.markdown(f"**Image {image_index}** · label **{label}**")
    left, right = st.columns(2)
    left.image(picture(x, 128), caption="original", output_format="PNG")
    right.image(picture(reconstruction, 128), caption="reconstruction", output_format="PNG")
    st.dataframe(
        {
            "dim": [f"z{i}" for i in range(len(codes.mu[row]))],
            "μ": codes.mu[row].round(3),
            "σ": codes.sigma[row].round(3),
        },
        hide_index=True,
        height=180,
    )
    neighbours, distances = nearest_neighbours(codes.mu, codes.mu[row], k=4, exclude=row)
    st.markdown("Nearest neighbours in latent space")
    thumbnails(
        data.images[codes.index[neighbours]],
        [
            f"{label_name(data.label_names, None if codes.labels is None else codes.labels[r])} · d={d:.2f}"
            for r, d in zip(neighbours, distances)
        ],
    )
    known = int(codes.labels[row]) if codes.labels is not None else None
    choose_latent(path, codes.mu[row], f"map point: image {image_index} (label {label})", known)
    links.set_param("point", row)


def show_location(point: np.ndarray) -> None:
    """Decode what lies at an empty spot of the map."""
    z = latent_map.inverse_transform(point[None])[0]
    y = torch.zeros(1, dtype=torch.long) if vae.config.conditional else None
    image = decode_codes(vae, z, y)[0]
    distance = float(latent_map.distance_to_data(point[None])[0])
    st.markdown(f"**Location** ({point[0]:.2f}, {point[1]:.2f})")
    st.image(picture(image, 160), caption="decoded" + (" (as class 0)" if y is not None else ""), output_format="PNG")
    st.markdown(f"{distance:.1f}× the typical spacing from the nearest image: {distance_reading(distance)}.")
    how = "exact PCA inverse" if method == "pca" else "distance-weighted nearest map points"
    st.caption(f"Latent vector from the {how}.")
    choose_latent(path, z, f"map location ({point[0]:.2f}, {point[1]:.2f}) with {METHOD_LABELS[method]}")
    links.set_param("point", None)  # the kept code in the link holds the location


def show_group(rows: list[int]) -> None:
    """A box / lasso selection: its images and the decoded mean of their codes."""
    st.markdown(f"**{len(rows)} selected images**")
    st.image(grid_picture(data.images[codes.index[rows[:48]]], ncols=8, target=40), output_format="PNG")
    mean_z = codes.mu[rows].mean(0)
    y = data.labels[codes.index[rows[:1]]] if vae.config.conditional else None
    st.image(picture(decode_codes(vae, mean_z, y)[0], 128), caption="decoded mean of their codes", output_format="PNG")
    choose_latent(path, mean_z, f"mean of {len(rows)} selected images")
    links.set_param("point", None)


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
            if dims == 2
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
            show_point(int(typed))
        elif event and (event.selection.box or event.selection.lasso) and rows:
            show_group(rows)
        elif len(rows) == 1:
            show_point(rows[0])
        elif spots:
            show_location(np.array([spots[0]["x"], spots[0]["y"]], dtype=np.float32))
        else:
            st.info("Nothing chosen yet.")
        chosen = chosen_latent(path)
        if chosen:
            st.caption(f"Kept for the other pages: {chosen['source']}.")
            send_buttons(path, chosen["z"], chosen["source"], "map_send", chosen.get("label"))


map_and_details()
