"""Generate's parts: a hierarchical model's level grids ("keep the top, resample below" and
"keep below, resample the top", each level at its own temperature) and the sample picker: one
sample of the grid shown large, kept or sent to another page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.shell.items import show_item, show_items
from ui.shell.page import choose_latent, chosen_latent
from ui.shell.pickers import send_buttons
from vae.latent.codes import decode_codes, prior_samples
from vae.latent.hierarchy import keep_below_grid, keep_top_grid
from vae.models.interface import LatentModel
from vae.models.levels import Level, is_hierarchical, levels_of
from vae.opened import ModelInfo

GRIDS = {
    "prior": "samples from the prior",
    "keep_top": "keep the top, resample below",
    "keep_below": "keep below, resample the top",
}


def grid_kind(vae: LatentModel) -> str:
    """What the grid shows: "prior" (a flat model: no control), or for a hierarchical model
    one of GRIDS."""
    if not is_hierarchical(vae):
        return "prior"
    return st.radio("Grid", list(GRIDS), format_func=GRIDS.get, horizontal=True, key="generate_grid")


def _names(levels: tuple[Level, ...]) -> str:
    return " and ".join(level.name for level in levels)


def level_grid(vae: LatentModel, kind: str, rows: int, columns: int, seed: int) -> tuple[np.ndarray, torch.Tensor, str]:
    """A level grid with its controls (how many levels are kept or redrawn, a temperature per
    level), decoded on the server and captioned: (codes (rows × columns, D), images, settings)."""
    levels = levels_of(vae)
    split = 1
    if len(levels) > 2:
        label = "Levels kept at the top" if kind == "keep_top" else "Levels resampled at the top"
        split = st.slider(label, 1, len(levels) - 1, 1, key=f"generate_split_{kind}")
    columns_of_t = st.columns(len(levels))
    temperatures = [
        column.slider(f"T of {level.name}", 0.1, 2.0, 1.0, 0.1, key=f"generate_temperature_{level.name}")
        for column, level in zip(columns_of_t, levels)
    ]
    upper, lower = levels[:split], levels[split:]
    make = keep_top_grid if kind == "keep_top" else keep_below_grid
    z = make(levels, rows, columns, split, temperatures, seed)
    images = decode_codes(vae, z)
    settings = ", ".join(f"T {level.name} = {t:g}" for level, t in zip(levels, temperatures))
    show_items(st, vae, images, columns, f"{GRIDS[kind]}: {rows} × {columns}, seed {seed}, {settings}", target=72)
    if kind == "keep_top":
        st.caption(
            f"Each row keeps one draw of {_names(upper)}; each column draws {_names(lower)} afresh from "
            "their conditional prior given that row's upper levels. What changes along a row is what the lower "
            "levels decide."
        )
    else:
        st.caption(
            f"Each row keeps one draw of {_names(lower)} (their standardised codes ε: each keeps its place in its "
            f"conditional prior, which moves with the levels above); each column draws {_names(upper)} afresh. "
            "What changes along a row is what the upper levels decide."
        )
    return z, images, settings


def text_samples(vae: LatentModel, rows: int, seed: int) -> tuple[np.ndarray, torch.Tensor, str]:
    """A text model's prior samples: z ~ N(0, T² I), each decoded greedily (the most likely word
    at each step) or by drawing every word from softmax(logits / word temperature); listed, with
    (codes, ids, settings)."""
    left, middle, right = st.columns(3)
    temperature = left.slider("Temperature of z", 0.1, 2.0, 1.0, 0.1, key="generate_temperature")
    decoding = middle.radio("Decoding", ["greedy", "sampled"], horizontal=True, key="generate_decoding")
    word_temperature = 1.0
    if decoding == "sampled":
        word_temperature = right.slider("Word temperature", 0.1, 2.0, 1.0, 0.1, key="generate_word_temperature")
    count = rows * 4
    z = prior_samples(count, vae.latent_dim, temperature, seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        codes = torch.as_tensor(z, device=vae.device)
        ids = vae.generate(codes, word_temperature if decoding == "sampled" else 0.0, generator).cpu()
    settings = f"T = {temperature:g}, {decoding}" + (
        f" at word T = {word_temperature:g}" if decoding == "sampled" else ""
    )
    show_items(
        st,
        vae,
        ids,
        caption=f"{count} sentences from the prior, seed {seed}: z ~ N(0, T² I), T = {temperature:g}; "
        + (
            "each word the most likely (greedy)"
            if decoding == "greedy"
            else f"each word drawn from softmax(logits / {word_temperature:g})"
        ),
    )
    return z, ids, settings


def sample_picker(
    path: Path,
    vae: LatentModel,
    info: ModelInfo,
    z: np.ndarray,
    y: torch.Tensor | None,
    images: torch.Tensor,
    seed: int,
    settings: str,
) -> None:
    """`settings` says how the grid was drawn (e.g. "T = 0.5"), for the kept code's description."""
    pick_column, shown = st.columns([1, 2])
    with pick_column:
        number = st.number_input("Sample number (row by row, from 0)", 0, len(z) - 1, 0, key="generate_pick")
        label = f", class {info.class_name(int(y[number]))}" if y is not None else ""
        description = f"prior sample {number} (seed {seed}, {settings}{label})"
        sample_label = int(y[number]) if y is not None else None
        if st.button("Keep this code for the other pages", key="generate_keep"):
            choose_latent(path, z[number], description, sample_label)
        send_buttons(path, z[number], description, "generate_send", sample_label)
        chosen = chosen_latent(path)
        if chosen:
            st.caption(f"Kept: {chosen['source']}.")
    with shown:
        show_item(st, vae, images[number], 160, f"sample {number}")
        st.caption("z = " + ", ".join(f"{v:.2f}" for v in z[number]))
