"""Home: pick a model and read its card (the default page of `streamlit run app.py`)."""

from ui.shell.start import begin_page

begin_page(
    "Home",
    "🧭",
    "VAE Latent Explorer",
    "See and play with what a variational autoencoder of images or sentences learned: the **Map** of its encodings, "
    "**Encode** your own image or sentence, **Traverse** one dimension at a time, **Interpolate** between two codes, "
    "do **Arithmetic** on codes, **Generate** from the prior, **Analyze** the space, **Compare** models side by side "
    "and **Train** new ones (one model or a β sweep). "
    "Pick a model in the sidebar; the choice "
    "holds on every page.",
)

import streamlit as st

from ui.home.bundles import bundle_upload_panel
from ui.home.overview import card_and_curves, originals_and_samples
from ui.shell.panels import open_model_page

path, vae, info = open_model_page()


st.subheader(f"Model card: {path.name}")
card_and_curves(path, vae, info)
originals_and_samples(path, vae)
bundle_upload_panel()
