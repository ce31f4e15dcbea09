"""Traverse: one slider per latent dimension, the decoded image follows; a traversal grid and
KL per dimension below."""

import numpy as np
import streamlit as st

from ui import cache
from ui.live import live_traverse
from ui.panels import distance_reading, open_model_page
from ui.pickers import class_in_use, decode_class, held_out, pick_latent
from ui.plots import kl_bars
from ui.shell import choose_latent
from vae.latent import (
    INACTIVE_KL,
    decode_codes,
    known_kl_per_dimension,
    nearest_distances,
    order_by_kl,
    prior_samples,
    slider_ranges,
    traverse,
)
from vae.pictures import grid_picture, picture

GRID_VALUES = 9  # columns of the traversal grid
MAX_GRID_ROWS = 16
STATE_KEY = "traverse_state"  # {"start": signature of the starting point, "z": current values}
RELEASED_KEY = "traverse_live_released"  # nonce of the last release the live component reported

path, vae, meta = open_model_page("Traverse", "🎚️")
latent_dim = vae.config.latent_dim

st.title("Traverse the latent space")
st.caption(
    "One slider per latent dimension, the most informative (highest KL) first. "
    "The image is decoded again on every slider change."
)
held = held_out(path)
kl, kl_note = known_kl_per_dimension(meta, latent_dim, *((held.codes.mu, held.codes.sigma) if held else ()))
if kl is None:
    kl, kl_note = np.ones(latent_dim), "unknown: every dimension treated as active"
active, inactive = order_by_kl(kl)

start_column, options_column = st.columns([3, 2])
with start_column:
    start = pick_latent(
        path,
        vae,
        meta,
        "traverse_start",
        "Start from",
        ["kept", "data", "upload", "prior", "origin"],
        held,
        class_in_use(vae, "traverse_class"),
        prefer_kept=True,
        link="start",
    )
with options_column:
    modes = {"prior": "±3 of the prior", "data": "the data's spread (mean ± 3 sd)"}
    mode = st.radio(
        "Slider range",
        list(modes) if held is not None else ["prior"],
        format_func=modes.get,
        horizontal=True,
        key="traverse_range",
    )
    y = decode_class(vae, meta, "traverse_class", follow=start)
    decoder = cache.browser_decoder(path)
    live = st.toggle(
        "Decode in the browser while dragging",
        value=decoder is not None,
        disabled=decoder is None,
        key="traverse_live",
        help="The image follows the mouse during a drag; off: Streamlit sliders, decoded on the server on release",
    )
    live = live and decoder is not None
    if decoder is None:
        st.caption("This decoder has a layer the browser decoder lacks: decoding on the server.")
if start is None:
    st.stop()

low, high = slider_ranges(held.codes.mu if held is not None else np.zeros((1, latent_dim)), mode)


def slider_key(d: int) -> str:
    # the range is part of the key: a slider's bounds cannot change under a kept value
    return f"traverse_{path.stem}_{mode}_z{d}"


def set_sliders(z: np.ndarray) -> None:
    z = np.clip(np.asarray(z, np.float32), low, high)
    st.session_state[STATE_KEY]["z"] = [float(v) for v in z]
    for d in range(latent_dim):
        st.session_state[slider_key(d)] = float(z[d])


def randomise() -> None:
    set_sliders(prior_samples(1, latent_dim, 1.0, int(np.random.default_rng().integers(2**31)))[0])


signature = [path.name, path.stat().st_mtime, start.caption, [round(float(v), 6) for v in start.z]]
state = st.session_state.get(STATE_KEY)
if not state or state.get("start") != signature or len(state.get("z", [])) != latent_dim:
    st.session_state[STATE_KEY] = {"start": signature, "z": [float(v) for v in start.z]}
    set_sliders(start.z)
for d in range(latent_dim):
    if live:  # the component holds the values; server sliders start afresh from them when turned back on
        st.session_state.pop(slider_key(d), None)
    elif slider_key(d) not in st.session_state:  # a slider not shown yet in this range starts at the current value
        st.session_state[slider_key(d)] = float(np.clip(st.session_state[STATE_KEY]["z"][d], low[d], high[d]))

reset_column, random_column, _ = st.columns([1, 1, 4])
reset_column.button("Reset to start", key="traverse_reset", on_click=set_sliders, args=(start.z,))
random_column.button("Randomise (prior)", key="traverse_random", on_click=randomise)

spacing = cache.spacing(path, len(held.codes.mu)) if held is not None else None


def slider(d: int) -> float:
    step = float(max(round((high[d] - low[d]) / 120, 3), 0.001))
    return st.slider(
        f"z{d} · KL {kl[d]:.2f}",
        float(low[d]),
        float(high[d]),
        step=step,
        format="%.2f",
        key=slider_key(d),
    )


def reading_and_buttons(z: np.ndarray) -> None:
    if spacing is not None:
        distance = float(nearest_distances(held.codes.mu, z)[0]) / spacing
        st.markdown(
            f"{distance:.1f}× the typical spacing from the nearest held-out code: {distance_reading(distance)}."
        )
    keep, regrid = st.columns(2)
    if keep.button("Keep this code", key="traverse_keep", help="For Interpolate and Arithmetic"):
        choose_latent(path, z, f"traversal from {start.caption}", None if y is None else int(y))
        st.success("Kept for the other pages.")
    if regrid.button("Grid at these values", key="traverse_regrid", help="Redraw the grid below around this point"):
        st.rerun()


@st.fragment
def sliders_and_image() -> None:
    """Only this reruns when a slider moves: the decode of one image."""
    if live:
        component_key = f"traverse_live_{path.stem}_{mode}"
        # Take the last release before drawing: the component treats a new z from Python as a new start.
        released = st.session_state.get(component_key)
        if released and released.get("nonce") != st.session_state.get(RELEASED_KEY):
            st.session_state[RELEASED_KEY] = released["nonce"]
            st.session_state[STATE_KEY]["z"] = [float(v) for v in np.clip(released["z"], low, high)]
        live_traverse(
            decoder,
            np.array(st.session_state[STATE_KEY]["z"], np.float32),
            active + inactive,
            inactive,
            [f"z{d} · KL {kl[d]:.2f}" for d in range(latent_dim)],
            low,
            high,
            0 if y is None else int(y),
            key=component_key,
        )
        reading_and_buttons(np.array(st.session_state[STATE_KEY]["z"], np.float32))
        return
    sliders, shown = st.columns([3, 2])
    with sliders:
        values = {d: slider(d) for d in active}
        if inactive:
            with st.expander(f"{len(inactive)} inactive dimension(s), KL < {INACTIVE_KL} nats: they barely matter"):
                values.update({d: slider(d) for d in inactive})
    z = np.array([values[d] for d in range(latent_dim)], np.float32)
    st.session_state[STATE_KEY]["z"] = [float(v) for v in z]
    with shown:
        st.image(picture(decode_codes(vae, z, y)[0], 256), caption="decoded", width=256, output_format="PNG")
        reading_and_buttons(z)


sliders_and_image()

st.subheader("Traversal grid")
current = np.array(st.session_state[STATE_KEY]["z"], np.float32)
rows = (active or list(range(latent_dim)))[:MAX_GRID_ROWS]
grid = np.concatenate([traverse(current, d, np.linspace(low[d], high[d], GRID_VALUES)) for d in rows])
grid_y = None if y is None else y.repeat(len(grid))
st.image(grid_picture(decode_codes(vae, grid, grid_y), ncols=GRID_VALUES, target=56), output_format="PNG")
st.caption(
    f"Rows, top to bottom: {', '.join(f'z{d}' for d in rows)}; columns: {GRID_VALUES} values from the low to the "
    "high end of each slider, the other dimensions held at the values above (as of the last full redraw)."
)

st.subheader("KL per dimension")
st.plotly_chart(kl_bars(kl, INACTIVE_KL), key="traverse_kl")
st.caption(
    f"KL({kl_note}). A dimension with KL near 0 has a posterior equal to the prior: the decoder ignores it "
    f"(posterior collapse). {len(active)} of {latent_dim} dimensions are active."
)
