"""Generate: new images from the prior, z ~ N(0, T² I); one row per class for a conditional model;
a hierarchical model's grids keep some levels and redraw the others."""

from ui.shell.start import begin_page

begin_page("Generate", "🎲", "Generate from the prior")

import streamlit as st

from ui.explore.generate import grid_kind, level_grid, sample_picker, text_samples
from ui.live.decoding import browser_decoding, live_grid, released
from ui.live.graphs import decoder_graph
from ui.shell.panels import open_model_page, show_picture
from vae.latent.codes import decode_codes
from vae.latent.grids import prior_grid
from vae.models.interface import is_conditional, is_text
from vae.pictures import grid_picture

LIVE_KEY = "generate_live_grid"
TEMPERATURE_KEY = "generate_live_temperature"  # the temperature the live slider was released at

path, vae, info = open_model_page()

kind = grid_kind(vae)  # "prior", or a hierarchical model's level grid
controls = st.columns(3)
per_row = 8
rows = vae.num_classes if is_conditional(vae) else controls[0].slider("Rows", 1, 8, 4, key="generate_rows")
if is_conditional(vae):
    controls[0].markdown(f"One row per class ({vae.num_classes} rows).")
seed = controls[2].number_input("Seed", 0, 1_000_000, 0, key="generate_seed")
if kind != "prior" or is_text(vae):  # decoded on the server: level grids, sentences
    grid = text_samples(vae, rows, int(seed)) if is_text(vae) else level_grid(vae, kind, rows, per_row, int(seed))
    sample_picker(path, vae, info, grid[0], None, grid[1], int(seed), grid[2])
    st.stop()
with controls[1]:
    graph = browser_decoding(
        decoder_graph(path),
        "generate_live",
        "Redraw while dragging the temperature",
        "The grid follows the temperature slider during a drag (same seed: the samples morph); off: a Streamlit "
        "slider, redrawn on the server on release",
    )
count = rows * per_row
# A conditional model shares the same z across a column, so each column shows one style in every class.
unit, y = prior_grid(vae, rows, per_row, int(seed))
if graph is not None:
    last = released(LIVE_KEY)
    if last and "temperature" in last:
        st.session_state[TEMPERATURE_KEY] = float(last["temperature"])
    temperature = st.session_state.setdefault(TEMPERATURE_KEY, 1.0)
    live_grid(
        graph, is_conditional(vae), unit, None if y is None else y.tolist(), per_row, temperature, (0.1, 2.0), LIVE_KEY
    )
    st.caption(f"{count} samples, seed {seed}; z ~ N(0, T² I), T as released: {temperature:.2f}")
else:
    temperature = controls[1].slider(
        "Temperature",
        0.1,
        2.0,
        1.0,
        0.1,
        key="generate_temperature",
        help="z ~ N(0, T² I): lower is safer, higher wilder",
    )
z = temperature * unit
images = decode_codes(vae, z, y)
if graph is None:
    show_picture(
        st,
        grid_picture(images, ncols=per_row, target=72),
        caption=f"{count} samples, seed {seed}, T = {temperature:g}",
        output_format="PNG",
    )
if is_conditional(vae):
    st.caption(
        "Rows: " + ", ".join(info.label_names[:rows]) + ". A column keeps one z: the same style drawn as each class."
    )
sample_picker(path, vae, info, z, y, images, int(seed), f"T = {temperature:g}")
