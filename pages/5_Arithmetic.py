"""Arithmetic: a − b + c, attribute vectors between classes applied with a strength, and for a
conditional model the same code drawn as every class."""

import streamlit as st

from ui.arithmetic_tabs import SOURCES, ArithmeticView, attribute_vectors, change_the_label
from ui.panels import open_model_page
from ui.pickers import class_in_use, decode_class, held_out, keep_button, pick_latent
from vae.latent.codes import (
    arithmetic,
)
from vae.pictures import picture

path, vae, meta = open_model_page("Arithmetic", "➕")

st.title("Latent arithmetic")
held = held_out(path)
class_slot = st.container()
in_use = class_in_use(vae, "arithmetic_class")


sum_tab, vector_tab, label_tab = st.tabs(["a − b + c", "Attribute vectors", "Change the label"])

with sum_tab:
    st.caption("Take what a has that b lacks, and add it to c: z = a − b + c, then decode.")
    columns = st.columns(4)
    picks = {}
    for column, (name, row) in zip(columns, [("a", 0), ("b", 1), ("c", 2)]):
        with column:
            picks[name] = pick_latent(
                path, vae, meta, f"arithmetic_{name}", name, SOURCES, held, in_use, row, prefer_kept=name == "a"
            )
    with class_slot:
        y = decode_class(vae, meta, "arithmetic_class", follow=picks["a"])
    view = ArithmeticView(path, vae, meta, held, y)
    with columns[3]:
        if all(picks.values()):
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
