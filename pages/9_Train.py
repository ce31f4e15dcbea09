"""Train: a new model from the browser, in a background process; progress, curves and
reconstructions while it runs; the checkpoint lands in the models folder."""

from ui.shell.start import begin_page

begin_page("Train", "🏋️", "Train a new model")

import os
from pathlib import Path

import streamlit as st

from ui.shell.page import REPO, models_dir, read_only, setup_page
from ui.train.form import BUILT_IN, SWEEP_HELP, SWEEPS, start_training
from ui.train.job import job_panel
from vae.devices import training_devices
from vae.errors import VAEError

setup_page()
if switch := read_only():
    st.info(f"Training from the browser is turned off on this server ({switch}).")
    st.stop()

folder = models_dir()
data_root = Path(os.environ.get("VAE_DATA_DIR") or REPO / "data").resolve()


job_panel(folder)

st.subheader("New job")
with st.form("train_form"):
    name = st.text_input("Model name (saved as NAME.pt in the models folder)", "my-model", key="train_name")
    dataset = st.selectbox("Dataset", list(BUILT_IN), format_func=BUILT_IN.get, key="train_dataset")
    dataset_columns = st.columns(3)
    subfolder = dataset_columns[0].text_input(f"Folder inside {data_root} (for 'a folder')", key="train_folder")
    upload = dataset_columns[1].file_uploader("Zip of an image folder (for 'upload')", ["zip"], key="train_zip")
    image_size = dataset_columns[2].number_input("Image side (sprites, folders)", 8, 128, 32, key="train_image_size")
    n_sprites = dataset_columns[2].number_input("Sprites to generate", 500, 100_000, 10_000, 500, key="train_n")
    model_columns = st.columns(4)
    arch = model_columns[0].selectbox(
        "Architecture",
        ["conv", "mlp", "hierarchical"],
        key="train_arch",
        help="hierarchical: a top-down VAE with several levels of latents (Ladder VAE / NVAE), convolutional",
    )
    latent_dim = model_columns[1].number_input("Latent size", 1, 256, 10, key="train_latent")
    levels = model_columns[1].text_input(
        "Level sizes, top first (hierarchical)", "8, 16", key="train_levels", help="2 to 5 levels, e.g. 4, 8, 16"
    )
    likelihood = model_columns[2].selectbox("Likelihood", ["bernoulli", "gaussian"], key="train_likelihood")
    conditional = model_columns[3].checkbox("Conditional (needs labels)", key="train_conditional")
    loss_columns = st.columns(4)
    beta = loss_columns[0].number_input("β (KL weight)", 0.0, 100.0, 1.0, 0.5, key="train_beta")
    tc_beta = loss_columns[1].number_input("β-TC (total correlation weight)", 0.0, 100.0, 1.0, 0.5, key="train_tc")
    warmup = loss_columns[2].number_input("KL warm-up (epochs)", 0.0, 100.0, 0.0, 1.0, key="train_warmup")
    free_bits = loss_columns[3].number_input("Free bits (nats per dim)", 0.0, 5.0, 0.0, 0.1, key="train_free_bits")
    run_columns = st.columns(6)
    epochs = run_columns[0].number_input("Epochs", 1, 1000, 10, key="train_epochs")
    batch_size = run_columns[1].number_input("Batch size", 1, 4096, 128, key="train_batch")
    lr = run_columns[2].number_input("Learning rate", 1e-6, 1.0, 1e-3, format="%.5f", key="train_lr")
    device = run_columns[3].selectbox("Device", training_devices(), key="train_device")
    precision = run_columns[4].selectbox(
        "Precision",
        ["auto", "fp32", "bf16"],
        key="train_precision",
        help="auto: bf16 autocast on CUDA, and for conv models on images of 32 px or more on a CPU with AVX512-BF16 or AMX "
        "(with channels-last: about 2× faster on 64 px sprites); fp32 otherwise. Weights stay fp32.",
    )
    layout = run_columns[5].selectbox(
        "Memory layout",
        ["auto", "contiguous", "channels-last"],
        key="train_layout",
        help="auto: channels-last for conv models trained in bf16 on the CPU. The checkpoint is the same either way.",
    )
    sweep_columns = st.columns([1, 2])
    sweep_over = sweep_columns[0].selectbox(
        "Models to train", list(SWEEPS), format_func=SWEEPS.get, key="train_sweep", help=SWEEP_HELP
    )
    sweep_values = sweep_columns[1].text_input(
        "Values for a sweep (replace the β or free bits above)", "0.5, 1, 2, 4, 8", key="train_sweep_values"
    )
    replace = st.checkbox("Replace a model of the same name", key="train_replace")
    submitted = st.form_submit_button("Start training")

if submitted:
    form = dict(
        name=name,
        dataset=dataset,
        subfolder=subfolder,
        image_size=image_size,
        n_sprites=n_sprites,
        arch=arch,
        latent_dim=latent_dim,
        levels=levels,
        likelihood=likelihood,
        conditional=conditional,
        beta=beta,
        tc_beta=tc_beta,
        warmup=warmup,
        free_bits=free_bits,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        device=device,
        precision=precision,
        layout=layout,
    )
    try:
        start_training(folder, data_root, form, upload, sweep_over, sweep_values, replace)
    except VAEError as err:
        st.error(str(err))
    else:
        st.rerun()

st.caption(
    "The job runs `vae.train` in its own process; a refresh or a second browser finds it again. One job at a "
    "time per server. The checkpoint is written under models/.jobs/ and moved into the models folder only when "
    "training has finished, so an existing model is never half-overwritten."
)
