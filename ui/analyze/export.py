"""The analysed latents as CSV, .npz and TensorBoard Embedding Projector files."""

from __future__ import annotations

import streamlit as st

from ui.analyze.view import AnalysisView
from vae.analysis.export import latents_csv, latents_npz, projector_files, zip_bytes


def show(view: AnalysisView) -> None:
    path, data, codes, names = view.path, view.data, view.codes, view.names
    text = data.modality == "text"
    items = "sentences" if text else "images"
    st.markdown(f"The {len(codes.mu)} analysed held-out {items}: their latent means μ, σ and labels.")
    downloads = [  # (button, bytes, file suffix, MIME type, widget key)
        (
            "Latents (CSV)",
            latents_csv(codes.index, codes.mu, codes.sigma, codes.labels),
            "latents.csv",
            "text/csv",
            "analyze_csv",
        ),
        (
            "Latents (NumPy .npz)",
            latents_npz(codes.index, codes.mu, codes.sigma, codes.labels),
            "latents.npz",
            "application/octet-stream",
            "analyze_npz",
        ),
        (
            "Embedding Projector files (zip)",
            zip_bytes(
                projector_files(
                    codes.mu,
                    codes.labels,
                    names,
                    None if text else data.images[codes.index],
                    codes.index,
                    [data.texts[int(i)] for i in codes.index] if text else None,
                )
            ),
            "projector.zip",
            "application/zip",
            "analyze_projector",
        ),
    ]
    for column, (label, payload, suffix, mime, key) in zip(st.columns(len(downloads)), downloads):
        column.download_button(label, payload, file_name=f"{path.stem}-{suffix}", mime=mime, key=key)
    st.caption(
        "The zip holds vectors.tsv and metadata.tsv (with each sentence), for projector.tensorflow.org's Load."
        if text
        else "The zip holds vectors.tsv, metadata.tsv, sprite.png and projector_config.json: on "
        "projector.tensorflow.org choose Load and give it the two TSV files; with TensorBoard's projector "
        "plugin the config also shows the images."
    )
