"""Train: a new model from the browser, in a background process; progress, curves and
reconstructions while it runs; the checkpoint lands in the models folder."""

from ui.shell.start import begin_page

begin_page("Train", "🏋️", "Train a new model")

import os
from pathlib import Path

import streamlit as st

from ui.shell.page import REPO, models_dir, read_only, setup_page
from ui.train.form import start_training
from ui.train.job import job_panel
from ui.train.widgets import train_form
from vae.errors import VAEError

setup_page()
if switch := read_only():
    st.info(f"Training from the browser is turned off on this server ({switch}).")
    st.stop()

folder = models_dir()
data_root = Path(os.environ.get("VAE_DATA_DIR") or REPO / "data").resolve()


job_panel(folder)

st.subheader("New job")
if (submitted := train_form(data_root)) is not None:
    form, upload = submitted
    try:
        start_training(folder, data_root, form, upload)
    except VAEError as err:
        st.error(str(err))
    else:
        st.rerun()

st.caption(
    "The job runs `vae.train` in its own process; a refresh or a second browser finds it again. One job at a "
    "time per server. The checkpoint is written under models/.jobs/ and moved into the models folder only when "
    "training has finished, so an existing model is never half-overwritten."
)
