"""Interpolate: a straight or spherical path between two codes, decoded step by step, drawn on
the map, with each step's distance to the real encodings."""

from ui.shell.start import begin_page

begin_page(
    "Interpolate",
    "🔀",
    "Interpolate between two codes",
    "Linear: the straight line from A to B. Spherical (slerp): turns along the great circle while the "
    "length moves evenly from |A| to |B|, so the path stays where the prior puts its mass.",
)

import streamlit as st

from ui.explore.interpolate import (
    PATHS,
    Interpolation,
    default_b_row,
    downloads,
    level_choice,
    paths_on_map,
    scrubber,
    show_path,
)
from ui.live.decoding import browser_decoding
from ui.live.graphs import decoder_graph
from ui.shell.panels import open_model_page
from ui.shell.pickers import class_in_use, decode_class, held_out, pick_latent
from vae.models.interface import is_text

SOURCES = ["kept", "data", "upload", "prior"]

path, vae, info = open_model_page()

held = held_out(path)
class_slot = st.container()
in_use = class_in_use(vae, "interpolate_class")

pick_a, pick_b, settings = st.columns([2, 2, 2])
with pick_a:
    a = pick_latent(path, vae, info, "interpolate_a", "A", SOURCES, held, in_use, 0, 0, prefer_kept=True, link="a")
with pick_b:
    b = pick_latent(path, vae, info, "interpolate_b", "B", SOURCES, held, in_use, default_b_row(held), 1, link="b")
with class_slot:
    y = decode_class(vae, info, "interpolate_class", follow=a)
with settings:
    method = st.radio("Path", list(PATHS), horizontal=True, key="interpolate_method")
    level = level_choice(vae)  # a hierarchical model: one level may move alone
    steps = st.slider("Steps (A and B included)", 3, 30, 10, key="interpolate_steps")
    frame_ms = 150 if is_text(vae) else st.slider("GIF frame time (ms)", 40, 1000, 150, 10, key="interpolate_frame_ms")
if a is None or b is None:
    st.stop()

view = Interpolation(path, vae, a, b, y, method, steps, held, level)
frames = view.frames()
distances = view.distances()
show_path(view, frames, distances)
graph = browser_decoding(
    decoder_graph(path),
    "interpolate_live",
    "Scrub in the browser",
    "The frame follows the mouse between steps; off: a Streamlit slider, the frame decoded on the server",
)
scrubber(view, frames, distances, graph)
downloads(view, frames, frame_ms)

if held is None:
    st.stop()
if len(held.codes.mu) < 3:
    st.info("This model holds out fewer than 3 examples: too few to draw a map.")
    st.stop()
paths_on_map(path, held, view.both_paths(), method, distances)
