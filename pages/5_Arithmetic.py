"""Arithmetic: a − b + c, attribute vectors between classes applied with a strength, and for a
conditional model the same code drawn as every class."""

from ui.shell.start import begin_page

begin_page("Arithmetic", "➕", "Latent arithmetic")

import streamlit as st

from ui.explore.arithmetic import SOURCES, ArithmeticView, attribute_vectors, change_the_label, sum_of_codes
from ui.live.decoding import browser_decoding
from ui.live.graphs import decoder_graph
from ui.shell.panels import open_model_page
from ui.shell.pickers import class_in_use, decode_class, held_out, pick_latent

path, vae, info = open_model_page()

graph = browser_decoding(
    decoder_graph(path),
    "arithmetic_live",
    "Decode while dragging the weights and the strength",
    "The image follows the mouse while you drag; off: Streamlit sliders, decoded on the server on release",
)
held = held_out(path)
class_slot = st.container()
in_use = class_in_use(vae, "arithmetic_class")


sum_tab, vector_tab, label_tab = st.tabs(["a − b + c", "Attribute vectors", "Change the label"])

with sum_tab:
    st.caption(
        "Take what a has that b lacks, and add it to c: z = a − b + c, then decode"
        + (" (drag the weights: the image follows)." if graph is not None else ".")
    )
    columns = st.columns(4)
    picks = {}
    for column, (name, row) in zip(columns, [("a", 0), ("b", 1), ("c", 2)]):
        with column:
            picks[name] = pick_latent(
                path, vae, info, f"arithmetic_{name}", name, SOURCES, held, in_use, row, prefer_kept=name == "a"
            )
    with class_slot:
        y = decode_class(vae, info, "arithmetic_class", follow=picks["a"])
    view = ArithmeticView(path, vae, info, held, y, graph)
    sum_of_codes(view, picks, columns[3])

with vector_tab:
    attribute_vectors(view)
with label_tab:
    change_the_label(view)
