"""Traverse: one slider per latent dimension, the decoded image (or sentence) follows; a traversal grid and
KL per dimension below."""

from ui.shell.start import begin_page

begin_page(
    "Traverse",
    "🎚️",
    "Traverse the latent space",
    "One slider per latent dimension, the most informative (highest KL) first. "
    "The image (or sentence) is decoded again on every slider change.",
)

import streamlit as st

from ui.explore.traverse import TraverseSliders, below_choice, dimension_kl, ranges, show_grid, show_kl
from ui.live.decoding import browser_decoding
from ui.live.graphs import decoder_graph
from ui.shell.panels import open_model_page
from ui.shell.pickers import class_in_use, decode_class, held_out, pick_latent
from vae.latent.codes import order_by_kl

path, vae, info = open_model_page()

held = held_out(path)
kl, kl_note = dimension_kl(path, info, vae, held)
active, inactive = order_by_kl(kl)

start_column, options_column = st.columns([3, 2])
with start_column:
    start = pick_latent(
        path,
        vae,
        info,
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
    below = below_choice(vae)  # a hierarchical model: what an upper slider does to the levels below
    y = decode_class(vae, info, "traverse_class", follow=start)
    graph = browser_decoding(
        decoder_graph(path),
        "traverse_live",
        "Decode in the browser while dragging",
        "The image follows the mouse during a drag; off: Streamlit sliders, decoded on the server on release",
    )
    if graph is not None and below == "keep":  # the levels' values: the absolute decoder
        graph = decoder_graph(path, "decoder-absolute")
if start is None:
    st.stop()

low, high = ranges(held, mode, vae, below)
sliders = TraverseSliders(path, vae, start, held, kl, active, inactive, low, high, mode, y, graph, below)
sliders.buttons()
sliders.show()

st.subheader("Traversal grid")
show_grid(sliders)

st.subheader("KL per dimension")
show_kl(kl, kl_note, active)
