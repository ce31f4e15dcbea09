"""The Train page's form: every choice of a new job, read into one dict by option name."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.train.form import BUILT_IN, SWEEP_HELP, SWEEPS
from vae.devices import training_devices

ARCHS = {
    "conv": "conv (images)",
    "mlp": "mlp (images)",
    "hierarchical": "hierarchical (images, several levels)",
    "gru": "gru (sentences)",
    "lstm": "lstm (sentences)",
}
PRECISION_HELP = (
    "auto: bf16 autocast on CUDA, and for conv models on images of 32 px or more on a CPU with AVX512-BF16 or AMX "
    "(with channels-last: about 2× faster on 64 px sprites); fp32 otherwise. Weights stay fp32."
)


def train_form(data_root: Path) -> tuple[dict, object] | None:
    """The form; once submitted, (the widgets' values by option name, the uploaded zip or None)."""
    form: dict = {}
    with st.form("train_form"):
        form["name"] = st.text_input("Model name (saved as NAME.pt in the models folder)", "my-model", key="train_name")
        form["dataset"] = st.selectbox("Dataset", list(BUILT_IN), format_func=BUILT_IN.get, key="train_dataset")
        data = st.columns(3)
        form["subfolder"] = data[0].text_input(
            f"Folder or .txt file inside {data_root} (for 'a folder')", key="train_folder"
        )
        upload = data[1].file_uploader("Zip of an image folder (for 'upload')", ["zip"], key="train_zip")
        form["image_size"] = data[2].number_input("Image side (sprites, folders)", 8, 128, 32, key="train_image_size")
        form["n_sprites"] = data[2].number_input("Sprites to generate", 500, 100_000, 10_000, 500, key="train_n")
        model = st.columns(4)
        form["arch"] = model[0].selectbox(
            "Architecture",
            list(ARCHS),
            format_func=ARCHS.get,
            key="train_arch",
            help="hierarchical: a top-down VAE with several levels of latents (Ladder VAE / NVAE), convolutional; "
            "gru / lstm: a sentence VAE (Bowman et al. 2016) for text datasets",
        )
        form["latent_dim"] = model[1].number_input("Latent size", 1, 256, 10, key="train_latent")
        form["levels"] = model[1].text_input(
            "Level sizes, top first (hierarchical)", "8, 16", key="train_levels", help="2 to 5 levels, e.g. 4, 8, 16"
        )
        form["likelihood"] = model[2].selectbox(
            "Likelihood (images)", ["bernoulli", "gaussian"], key="train_likelihood"
        )
        form["conditional"] = model[3].checkbox("Conditional (images with labels)", key="train_conditional")
        text = st.columns(4)
        form["embed_dim"] = text[0].number_input("Word embedding size (gru/lstm)", 4, 1024, 128, key="train_embed")
        form["hidden_dim"] = text[1].number_input("Recurrent state size (gru/lstm)", 4, 2048, 256, key="train_hidden")
        form["word_dropout"] = text[2].number_input(
            "Word dropout (gru/lstm)",
            0.0,
            0.95,
            0.0,
            0.05,
            key="train_word_dropout",
            help="The chance that a decoder input word becomes <unk> in training: makes the decoder lean on z "
            "(Bowman et al. 2016)",
        )
        form["min_count"] = text[3].number_input("Min word count (vocabulary)", 1, 100, 2, key="train_min_count")
        loss = st.columns(4)
        form["beta"] = loss[0].number_input("β (KL weight)", 0.0, 100.0, 1.0, 0.5, key="train_beta")
        form["tc_beta"] = loss[1].number_input(
            "β-TC (total correlation weight, images)", 0.0, 100.0, 1.0, 0.5, key="train_tc"
        )
        form["warmup"] = loss[2].number_input("KL warm-up (epochs)", 0.0, 100.0, 0.0, 1.0, key="train_warmup")
        form["free_bits"] = loss[3].number_input("Free bits (nats per dim)", 0.0, 5.0, 0.0, 0.1, key="train_free_bits")
        run = st.columns(6)
        form["epochs"] = run[0].number_input("Epochs", 1, 1000, 10, key="train_epochs")
        form["batch_size"] = run[1].number_input("Batch size", 1, 4096, 128, key="train_batch")
        form["lr"] = run[2].number_input("Learning rate", 1e-6, 1.0, 1e-3, format="%.5f", key="train_lr")
        form["device"] = run[3].selectbox("Device", training_devices(), key="train_device")
        form["precision"] = run[4].selectbox(
            "Precision", ["auto", "fp32", "bf16"], key="train_precision", help=PRECISION_HELP
        )
        form["layout"] = run[5].selectbox(
            "Memory layout",
            ["auto", "contiguous", "channels-last"],
            key="train_layout",
            help="auto: channels-last for conv models trained in bf16 on the CPU. The checkpoint is the same either way.",
        )
        sweep = st.columns([1, 2])
        form["sweep_over"] = sweep[0].selectbox(
            "Models to train", list(SWEEPS), format_func=SWEEPS.get, key="train_sweep", help=SWEEP_HELP
        )
        form["sweep_values"] = sweep[1].text_input(
            "Values for a sweep (replace the β or free bits above)", "0.5, 1, 2, 4, 8", key="train_sweep_values"
        )
        form["replace"] = st.checkbox("Replace a model of the same name", key="train_replace")
        submitted = st.form_submit_button("Start training")
    return (form, upload) if submitted else None
