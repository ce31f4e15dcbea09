"""Traverse: one slider per latent dimension, the decoded image follows; a traversal grid and
KL per dimension below."""

import numpy as np
import streamlit as st

from ui import cache
from ui.charts import kl_bars
from ui.live import browser_decoding
from ui.panels import open_model_page
from ui.pickers import class_in_use, decode_class, held_out, pick_latent
from ui.traverse_sliders import TraverseSliders
from vae.latent.codes import (
    INACTIVE_KL,
    decode_codes,
    known_kl_per_dimension,
    order_by_kl,
    slider_ranges,
    traverse,
)
from vae.pictures import grid_picture

GRID_VALUES = 9  # columns of the traversal grid
MAX_GRID_ROWS = 16

path, vae, meta = open_model_page("Traverse", "🎚️")
latent_dim = vae.latent_dim

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
    graph = browser_decoding(
        cache.decoder_graph(path),
        "traverse_live",
        "Decode in the browser while dragging",
        "The image follows the mouse during a drag; off: Streamlit sliders, decoded on the server on release",
    )
if start is None:
    st.stop()

low, high = slider_ranges(held.codes.mu if held is not None else np.zeros((1, latent_dim)), mode)
sliders = TraverseSliders(path, vae, start, held, kl, active, inactive, low, high, mode, y, graph)
sliders.buttons()
sliders.show()

st.subheader("Traversal grid")
current = sliders.current
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
