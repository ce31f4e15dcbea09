"""Interpolate: a straight or spherical path between two codes, decoded step by step, drawn on
the map, with each step's distance to the real encodings."""

import numpy as np
import streamlit as st

from ui import cache
from ui.interpolate_map import paths_on_map
from ui.live import browser_decoding, live_scrubber, released
from ui.panels import distance_reading, open_model_page
from ui.pickers import class_in_use, decode_class, held_out, pick_latent
from ui.shell import choose_latent
from vae.latent.codes import decode_codes, lerp, nearest_distances, slerp
from vae.models.interface import is_conditional
from vae.pictures import gif_bytes, grid_picture, picture, png_bytes

PATHS = {"linear": lerp, "spherical": slerp}
SOURCES = ["kept", "data", "upload", "prior"]
LIVE_STEP_KEY = "interpolate_live_step"  # the step the browser scrubber was released at
RELEASED_KEY = "interpolate_live_released"  # nonce of that release

path, vae, meta = open_model_page("Interpolate", "🔀")

st.title("Interpolate between two codes")
st.caption(
    "Linear: the straight line from A to B. Spherical (slerp): turns along the great circle while the "
    "length moves evenly from |A| to |B|, so the path stays where the prior puts its mass."
)
held = held_out(path)
class_slot = st.container()
in_use = class_in_use(vae, "interpolate_class")

# B starts at the first held-out point whose label differs from A's, so the default path says something.
default_b = 1
if held is not None and held.codes.labels is not None:
    differs = np.flatnonzero(held.codes.labels != held.codes.labels[0])
    default_b = int(differs[0]) if len(differs) else 1
pick_a, pick_b, settings = st.columns([2, 2, 2])
with pick_a:
    a = pick_latent(path, vae, meta, "interpolate_a", "A", SOURCES, held, in_use, 0, 0, prefer_kept=True, link="a")
with pick_b:
    b = pick_latent(path, vae, meta, "interpolate_b", "B", SOURCES, held, in_use, default_b, 1, link="b")
with class_slot:
    y = decode_class(vae, meta, "interpolate_class", follow=a)
with settings:
    method = st.radio("Path", list(PATHS), horizontal=True, key="interpolate_method")
    steps = st.slider("Steps (A and B included)", 3, 30, 10, key="interpolate_steps")
    frame_ms = st.slider("GIF frame time (ms)", 40, 1000, 150, 10, key="interpolate_frame_ms")
if a is None or b is None:
    st.stop()

z_path = PATHS[method](a.z, b.z, steps)
frames = decode_codes(vae, z_path, None if y is None else y.repeat(steps))
st.image(
    grid_picture(frames, ncols=steps, target=80),
    caption=f"{method} path, {steps} steps: A = {a.caption}, B = {b.caption}",
    output_format="PNG",
)

spacing = cache.spacing(path, len(held.codes.mu)) if held is not None else None
distances = (
    {name: nearest_distances(held.codes.mu, make(a.z, b.z, steps)) / spacing for name, make in PATHS.items()}
    if held is not None
    else {}
)


graph = browser_decoding(
    cache.decoder_graph(path),
    "interpolate_live",
    "Scrub in the browser",
    "The frame follows the mouse between steps; off: a Streamlit slider, the frame decoded on the server",
)


@st.fragment
def scrubber() -> None:
    """Only this reruns when the scrubber moves."""
    if graph is not None:
        frame, about = st.columns([1, 1])
        with frame:
            component_key = f"interpolate_live_{method}_{steps}"
            last = released(component_key)  # the last release, taken before drawing
            if last and "step" in last and last["nonce"] != st.session_state.get(RELEASED_KEY):
                st.session_state[RELEASED_KEY] = last["nonce"]
                st.session_state[LIVE_STEP_KEY] = int(last["step"])
            step = min(int(st.session_state.get(LIVE_STEP_KEY, 0)), steps - 1)
            live_scrubber(graph, is_conditional(vae), z_path, step, 0 if y is None else int(y), key=component_key)
    else:
        step = st.slider("Step", 0, steps - 1, 0, key="interpolate_step")
        frame, about = st.columns([1, 2])
        frame.image(picture(frames[step], 192), caption=f"step {step} of {steps - 1}", width=192, output_format="PNG")
    with about:
        if graph is not None:
            st.markdown(f"**Step {step} of {steps - 1}** (where the slider was released)")
        t = step / (steps - 1)
        st.markdown(f"**t = {t:.2f}** along the {method} path, |z| = {np.linalg.norm(z_path[step]):.2f}.")
        if distances:
            distance = float(distances[method][step])
            st.markdown(
                f"{distance:.1f}× the typical spacing from the nearest held-out code: {distance_reading(distance)}."
            )
        if st.button("Keep this step's code", key="interpolate_keep", help="For Traverse and Arithmetic"):
            choose_latent(
                path,
                z_path[step],
                f"step {step}/{steps - 1} of the {method} path from {a.caption} to {b.caption}",
                None if y is None else int(y),
            )
            st.success("Kept for the other pages.")


scrubber()

downloads = st.columns(2)
downloads[0].download_button(
    "Download the animation (GIF)",
    gif_bytes(frames, frame_ms=frame_ms),
    file_name=f"interpolation-{method}-{steps}.gif",
    mime="image/gif",
    key="interpolate_gif",
)
downloads[1].download_button(
    "Download the strip (PNG)",
    png_bytes(grid_picture(frames, ncols=steps, target=96)),
    file_name=f"interpolation-{method}-{steps}.png",
    mime="image/png",
    key="interpolate_png",
)

if held is None:
    st.stop()
if len(held.codes.mu) < 3:
    st.info("This model holds out fewer than 3 images: too few to draw a map.")
    st.stop()

paths_on_map(path, held, {name: PATHS[name](a.z, b.z, steps) for name in PATHS}, method, distances)
