"""The Map while its UMAP / t-SNE map is fitted: the PCA map at once, the fit in the
background (`vae.latent.background`, shared by every session), a status polled once a second,
and a full rerun that draws the fitted map when it lands."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.map.chart import shown_pca
from ui.shell import cache
from ui.shell.panels import load_map
from vae.latent.background import FitJob
from vae.latent.projection import METHOD_LABELS, LatentMap, ProjectionParams

POLL_SECONDS = 1.0


def map_to_show(
    path: Path, n_points: int, params: ProjectionParams
) -> tuple[LatentMap, ProjectionParams, FitJob | None]:
    """(the map to draw now, its parameters, the background fit of the asked-for map while it
    runs or after it failed; None when the asked-for map is shown). PCA stands in meanwhile."""
    if params.method == "pca" or cache.map_is_ready(path, n_points, params):
        return load_map(path, n_points, params), params, None
    job = cache.map_fit(path, n_points, params)
    if job.done and job.error is None:  # fitted, but not saved (a read-only models folder)
        return job.result(), params, None
    pca = shown_pca(params)
    return load_map(path, n_points, pca), pca, job


def fit_notice(path: Path, n_points: int, params: ProjectionParams, job: FitJob) -> None:
    """What became of the fit: its status while it runs, or why it failed (the PCA map stays)."""
    name = METHOD_LABELS[params.method]
    if job.error is None:
        _fit_status(job, name, n_points)
        return
    error = job.error
    st.error(
        f"{name} could not map these {n_points} points ({type(error).__name__}: {error}). "
        "The PCA map is shown; try other parameters."
    )
    if st.button("Try the fit again", key="map_fit_retry"):
        cache.forget_map_fit(path, n_points, params)
        st.rerun()


@st.fragment(run_every=POLL_SECONDS)
def _fit_status(job: FitJob, name: str, n_points: int) -> None:
    """Reruns alone once a second (the chart and the other pages stay usable); when the fit
    ends, one full rerun draws its map or its failure."""
    if job.done:
        st.rerun()
    if job.queued:
        st.caption(f"PCA shown while {name} on {n_points} points waits for another map's fit to finish…")
        return
    progress = job.progress
    st.caption(
        f"PCA shown while {name} is fitted on {n_points} points: {job.elapsed:.0f} s… ({progress.stage}). "
        "Hover, click and other pages work meanwhile; the map switches when the fit is done and is "
        "saved beside the model for next time."
        + (" A server's first UMAP fit also compiles UMAP's code (10-20 s)." if name == "UMAP" else "")
    )
    if progress.fraction is not None:
        st.progress(progress.fraction)
