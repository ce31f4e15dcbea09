"""Arithmetic: a − b + c, attribute vectors between classes applied with a strength, and for a
conditional model the same code drawn as every class."""

import numpy as np
import streamlit as st

from ui import cache
from ui.arithmetic_tabs import SOURCES, ArithmeticView, attribute_vectors, change_the_label
from ui.live import browser_decoding
from ui.panels import open_model_page
from ui.pickers import class_in_use, decode_class, held_out, keep_button, pick_latent
from vae.latent.codes import (
    arithmetic,
)
from vae.pictures import picture

path, vae, meta = open_model_page("Arithmetic", "➕")

st.title("Latent arithmetic")
graph = browser_decoding(
    cache.decoder_graph(path),
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
                path, vae, meta, f"arithmetic_{name}", name, SOURCES, held, in_use, row, prefer_kept=name == "a"
            )
    with class_slot:
        y = decode_class(vae, meta, "arithmetic_class", follow=picks["a"])
    view = ArithmeticView(path, vae, meta, held, y, graph)
    if all(picks.values()) and graph is not None:
        vectors = [picks[name].z for name in "abc"]
        weights = view.live(
            "arithmetic_live_sum", np.zeros_like(vectors[0]), vectors, ["a", "b", "c"], [1.0, -1.0, 1.0], (-2.0, 2.0)
        )
        z = sum(w * v for w, v in zip(weights, vectors))
        formula = " ".join(f"{w:+.2f}·{name}" for w, name in zip(weights, "abc"))
        st.caption(f"z = {formula} (as released): {view.nearest_label(z) or 'decoded'}")
        source = f"{formula} with a = {picks['a'].caption}, b = {picks['b'].caption}, c = {picks['c'].caption}"
        keep_button(path, z, source, "arithmetic_keep_sum", None if y is None else int(y))
    elif all(picks.values()):
        with columns[3]:
            z = arithmetic(picks["a"].z, picks["b"].z, picks["c"].z)
            st.markdown("**a − b + c**")
            st.image(
                picture(view.decode_one(z), 160),
                caption=view.nearest_label(z) or "decoded",
                width=160,
                output_format="PNG",
            )
            source = f"{picks['a'].caption} − {picks['b'].caption} + {picks['c'].caption}"
            keep_button(path, z, source, "arithmetic_keep_sum", None if y is None else int(y))

with vector_tab:
    attribute_vectors(view)
with label_tab:
    change_the_label(view)
