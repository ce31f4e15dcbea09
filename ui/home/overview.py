"""Home's model overview: the card (with a bundle's metrics measured on request), the training
curves, held-out originals over their reconstructions, and prior samples."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from ui.shell import cache
from ui.shell.charts import training_curves
from ui.shell.items import item_text, show_items
from ui.shell.panels import show_picture
from vae.data.datasets import map_subset
from vae.errors import DatasetError
from vae.latent.codes import decode_codes, reconstruct
from vae.latent.grids import prior_grid
from vae.models.interface import LatentModel, is_conditional, is_text
from vae.opened import ModelInfo
from vae.opened.card import model_card
from vae.pictures import grid_picture

MEASURE_KEY = "home_measured"  # models whose metrics the user asked to measure in this session


def card_and_curves(path: Path, vae: LatentModel, info: ModelInfo) -> None:
    card, curves = st.columns([2, 3])
    with card:
        measured = None
        if info.metrics is None:  # a bundle: measured here, on request (seconds on two cores)
            asked = st.session_state.setdefault(MEASURE_KEY, [])
            if path.name in asked or st.button("Measure its held-out ELBO and NLL on its data", key="home_measure"):
                asked.append(path.name)
                measured = cache.measured_metrics(path)
        rows = model_card(vae, info, measured)
        st.table({"": list(rows), "value": list(rows.values())})
    with curves:
        if info.history:
            st.plotly_chart(training_curves(list(info.history)), key="home_curves")


def originals_and_samples(path: Path, vae: LatentModel) -> None:
    originals, samples = st.columns(2)
    with originals:
        st.markdown(
            "**Held-out sentences and their reconstructions**"
            if is_text(vae)
            else "**Held-out originals (top) over reconstructions (bottom)**"
        )
        try:
            data = cache.data(path)
        except DatasetError as err:
            st.warning(f"The data of this model is not available here, so only samples are shown. {err}")
        else:
            index = map_subset(data.held_idx, 12)
            x = data.dataset.images[index]
            reconstructions = reconstruct(vae, x, data.labels_for(vae, index))
            if is_text(vae):
                sentences = [data.dataset.texts[int(i)] for i in index[:8]]
                st.dataframe(
                    {
                        "held-out sentence": [item_text(vae, row, text) for row, text in zip(x, sentences)],
                        "reconstruction (greedy)": [item_text(vae, row) for row in reconstructions[:8]],
                    },
                    hide_index=True,
                    width="stretch",
                )
            else:
                show_picture(
                    st, grid_picture(torch.cat([x, reconstructions]), ncols=12), width="stretch", output_format="PNG"
                )
    with samples:
        conditional = is_conditional(vae)
        st.markdown(
            "**Samples from the prior**"
            + (" (one row per class)" if conditional else "")
            + (" (greedy decoding)" if is_text(vae) else "")
        )
        per_row = 8 if conditional else 12
        z, y = prior_grid(vae, 2, per_row, seed=0)
        show_items(st, vae, decode_codes(vae, z, y)[: 8 if is_text(vae) else None], per_row, width="stretch")
