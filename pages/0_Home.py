"""Home: pick a model and read its card (the default page of `streamlit run app.py`)."""

import streamlit as st
import torch

from ui import cache
from ui.bundle_upload import bundle_upload_panel
from ui.charts import training_curves
from ui.panels import open_model_page
from vae.data.datasets import map_subset
from vae.errors import DatasetError
from vae.latent.codes import decode_codes, prior_samples, reconstruct
from vae.models.card import model_card
from vae.models.interface import is_conditional
from vae.pictures import grid_picture

MEASURE_KEY = "home_measured"  # models whose metrics the user asked to measure in this session

path, vae, meta = open_model_page("Home", "🧭")

st.title("VAE Latent Explorer")
st.caption(
    "See and play with what a variational autoencoder learned: the **Map** of its encodings, "
    "**Encode** your own image, **Traverse** one dimension at a time, **Interpolate** between two codes, "
    "do **Arithmetic** on codes, **Generate** from the prior, **Analyze** the space, **Compare** models side by side "
    "and **Train** new ones (one model or a β sweep). "
    "Pick a model in the sidebar; the choice "
    "holds on every page."
)

st.subheader(f"Model card: {path.name}")
card, curves = st.columns([2, 3])
with card:
    measured = None
    if not meta.get("metrics"):  # a bundle: measured here, on request (seconds on two cores)
        asked = st.session_state.setdefault(MEASURE_KEY, [])
        if path.name in asked or st.button("Measure its held-out ELBO and NLL on its data", key="home_measure"):
            asked.append(path.name)
            measured = cache.measured_metrics(path)
    rows = model_card(vae, meta, measured)
    st.table({"": list(rows), "value": list(rows.values())})
with curves:
    if meta.get("history"):
        st.plotly_chart(training_curves(meta["history"]), key="home_curves")

originals, samples = st.columns(2)
with originals:
    st.markdown("**Held-out originals (top) over reconstructions (bottom)**")
    try:
        data, _, held_idx = cache.data(path)
    except DatasetError as err:
        st.warning(f"The data of this model is not available here, so only samples are shown. {err}")
    else:
        index = map_subset(held_idx, 12)
        x = data.images[index]
        y = data.labels[index] if is_conditional(vae) else None
        reconstructions = reconstruct(vae, x, y)
        st.image(grid_picture(torch.cat([x, reconstructions]), ncols=12), width="stretch", output_format="PNG")
with samples:
    st.markdown("**Samples from the prior**" + (" (one row per class)" if is_conditional(vae) else ""))
    per_row = 8 if is_conditional(vae) else 12
    y = torch.arange(vae.num_classes).repeat_interleave(per_row) if is_conditional(vae) else None
    z = prior_samples(len(y) if y is not None else 24, vae.latent_dim, 1.0, 0)
    st.image(grid_picture(decode_codes(vae, z, y), ncols=per_row), width="stretch", output_format="PNG")

bundle_upload_panel()
