"""Generate: new images from the prior, z ~ N(0, T² I); one row per class for a conditional model."""

import streamlit as st
import torch

from ui import cache
from ui.live import browser_decoding, live_grid, released
from ui.panels import open_model_page
from ui.pickers import send_buttons
from ui.shell import choose_latent, chosen_latent
from vae.latent.codes import decode_codes, prior_samples
from vae.models.interface import is_conditional
from vae.pictures import grid_picture, picture

LIVE_KEY = "generate_live_grid"
TEMPERATURE_KEY = "generate_live_temperature"  # the temperature the live slider was released at

path, vae, meta = open_model_page("Generate", "🎲")
names = meta.get("label_names") or [str(k) for k in range(vae.num_classes)]

st.title("Generate from the prior")
controls = st.columns(3)
per_row = 8
rows = vae.num_classes if is_conditional(vae) else controls[0].slider("Rows", 1, 8, 4, key="generate_rows")
if is_conditional(vae):
    controls[0].markdown(f"One row per class ({vae.num_classes} rows).")
seed = controls[2].number_input("Seed", 0, 1_000_000, 0, key="generate_seed")
with controls[1]:
    graph = browser_decoding(
        cache.decoder_graph(path),
        "generate_live",
        "Redraw while dragging the temperature",
        "The grid follows the temperature slider during a drag (same seed: the samples morph); off: a Streamlit "
        "slider, redrawn on the server on release",
    )
count = rows * per_row
# A conditional model shares the same z across a column, so each column shows one style in every class.
unit = prior_samples(per_row if is_conditional(vae) else count, vae.latent_dim, 1.0, int(seed))
if is_conditional(vae):
    unit = unit[None].repeat(rows, 0).reshape(count, -1)
    y = torch.arange(rows).repeat_interleave(per_row)
else:
    y = None
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
    st.image(
        grid_picture(images, ncols=per_row, target=72),
        caption=f"{count} samples, seed {seed}, T = {temperature:g}",
        output_format="PNG",
    )
if is_conditional(vae):
    st.caption("Rows: " + ", ".join(names[:rows]) + ". A column keeps one z: the same style drawn as each class.")

pick_column, shown = st.columns([1, 2])
with pick_column:
    number = st.number_input("Sample number (row by row, from 0)", 0, count - 1, 0, key="generate_pick")
    label = f", class {names[int(y[number])]}" if y is not None else ""
    description = f"prior sample {number} (seed {seed}, T = {temperature:g}{label})"
    sample_label = int(y[number]) if y is not None else None
    if st.button("Keep this code for the other pages", key="generate_keep"):
        choose_latent(path, z[number], description, sample_label)
    send_buttons(path, z[number], description, "generate_send", sample_label)
    chosen = chosen_latent(path)
    if chosen:
        st.caption(f"Kept: {chosen['source']}.")
with shown:
    st.image(picture(images[number], 160), caption=f"sample {number}", output_format="PNG")
    st.caption("z = " + ", ".join(f"{v:.2f}" for v in z[number]))
