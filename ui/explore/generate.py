"""Generate's sample picker: one sample of the grid shown large, kept or sent to another page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.shell.page import choose_latent, chosen_latent
from ui.shell.panels import show_picture
from ui.shell.pickers import send_buttons
from vae.opened import ModelInfo
from vae.pictures import picture


def sample_picker(
    path: Path,
    info: ModelInfo,
    z: np.ndarray,
    y: torch.Tensor | None,
    images: torch.Tensor,
    seed: int,
    temperature: float,
) -> None:
    pick_column, shown = st.columns([1, 2])
    with pick_column:
        number = st.number_input("Sample number (row by row, from 0)", 0, len(z) - 1, 0, key="generate_pick")
        label = f", class {info.class_name(int(y[number]))}" if y is not None else ""
        description = f"prior sample {number} (seed {seed}, T = {temperature:g}{label})"
        sample_label = int(y[number]) if y is not None else None
        if st.button("Keep this code for the other pages", key="generate_keep"):
            choose_latent(path, z[number], description, sample_label)
        send_buttons(path, z[number], description, "generate_send", sample_label)
        chosen = chosen_latent(path)
        if chosen:
            st.caption(f"Kept: {chosen['source']}.")
    with shown:
        show_picture(st, picture(images[number], 160), caption=f"sample {number}", output_format="PNG")
        st.caption("z = " + ", ".join(f"{v:.2f}" for v in z[number]))
