"""Imputation: hide part of an image and fill it by iterating encode -> decode on the hidden pixels."""

from __future__ import annotations

import streamlit as st
import torch

from ui.analyze.view import AnalysisView
from ui.shell import cache
from ui.shell.panels import read_upload, show_picture
from vae.analysis.imputation import MASKS, hidden_error, impute, make_mask, mean_image_fill
from vae.models.interface import is_conditional, is_text
from vae.opened.measures import MEAN_IMAGE_IMAGES
from vae.pictures import picture


def show(view: AnalysisView) -> None:
    path, vae, info, data = view.path, view.vae, view.info, view.data
    if is_text(vae):
        st.info(
            "Imputation here fills hidden pixels of an image by iterating encode → decode. A text model's "
            "sentences have no pixels to hide: use Encode to see how a sentence with unknown words (<unk>) "
            "is reconstructed."
        )
        return
    c, h, w = vae.image_shape
    scored = view.fitting.scored(view.n_points)  # images the mean-image baseline was not fitted on
    source_column, mask_column = st.columns(2)
    with source_column:
        source = st.radio("Image", ["held-out", "upload"], horizontal=True, key="analyze_impute_source")
        original = None
        if source == "held-out":
            row = st.number_input(
                "Held-out point",
                0,
                len(scored) - 1,
                0,
                key="analyze_impute_row",
                help="One of the images scored on: the mean image is fitted on others",
            )
            original = data.images[scored[row]][None]
            label = data.labels[scored[row : row + 1]] if is_conditional(vae) else None
        else:
            upload = st.file_uploader(
                "Image to damage and repair", ["png", "jpg", "jpeg", "gif", "bmp", "webp"], key="analyze_impute_upload"
            )
            label = torch.zeros(1, dtype=torch.long) if is_conditional(vae) else None
            if upload is not None:
                original = read_upload(upload, info)
    with mask_column:
        kind = st.selectbox("Hide", list(MASKS), format_func=MASKS.get, key="analyze_mask")
        fraction, rectangle = 0.5, (0.25, 0.25, 0.75, 0.75)
        if kind == "random":
            fraction = st.slider("Share of pixels hidden", 0.05, 0.95, 0.5, 0.05, key="analyze_mask_fraction")
        if kind == "rectangle":
            rows = st.slider(
                "Rows hidden (fraction of the height)", 0.0, 1.0, (0.25, 0.75), 0.05, key="analyze_rect_rows"
            )
            columns = st.slider("Columns hidden", 0.0, 1.0, (0.25, 0.75), 0.05, key="analyze_rect_cols")
            rectangle = (rows[0], columns[0], rows[1], columns[1])
        iterations = st.slider("Encode → decode iterations", 1, 200, 50, key="analyze_iterations")
    if original is None:
        st.info("Upload an image to damage and repair it.")
    else:
        mask = make_mask(h, w, kind, fraction, rectangle, seed=0)
        filled = impute(vae, original, mask, label, iterations=int(iterations))
        mean_image = cache.mean_image(path)
        baseline = mean_image_fill(original, mask, mean_image)
        shown = mask.expand_as(original) * original + (1 - mask.expand_as(original)) * 0.5
        columns = st.columns(4)
        for column, image, caption in zip(
            columns,
            [shown, filled, baseline, original],
            ["masked (grey = hidden)", "imputed", "mean-image fill", "original"],
        ):
            show_picture(column, picture(image[0], 128), caption=caption, width=128, output_format="PNG")
        st.markdown(
            f"Squared error on the hidden pixels: model **{hidden_error(filled, original, mask):.4f}**, "
            f"mean image **{hidden_error(baseline, original, mask):.4f}** "
            f"({100 * (1 - mask.mean().item()):.0f}% of the pixels hidden)."
        )
        fitted = len(view.fitting.fit_subset(MEAN_IMAGE_IMAGES))
        st.caption(
            "Pseudo-Gibbs imputation (Rezende et al. 2014): the hidden pixels start grey; each iteration encodes "
            "the current guess, decodes its posterior mean, and overwrites only the hidden pixels. The mean image "
            f"is {view.fitting.describe(fitted, len(scored))} (the held-out point is one of those)."
        )
