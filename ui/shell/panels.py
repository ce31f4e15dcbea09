"""Small Streamlit building blocks used by more than one page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch
from PIL import Image

from ui.shell import cache, links
from ui.shell.page import MAP_PARAMS_KEY, choose_latent, chosen_latent, pick_model, setup_page
from ui.shell.start import progress
from vae.data.datasets import Dataset
from vae.data.preprocess import preprocess_image
from vae.data.vocabulary import tokenize
from vae.errors import CheckpointError, DatasetError, UploadError
from vae.latent.projection import METHOD_LABELS, LatentMap, ProjectionParams
from vae.models.interface import LatentModel
from vae.opened import ModelInfo
from vae.pictures import nonfinite_note


def show_picture(where, image: Image.Image, **image_kwargs) -> None:
    """`where.image(image, ...)` (where: st, a column…) of a picture from vae.pictures, with a
    warning under it when the decoder returned NaN or inf for some of its frames (the picture
    marks them)."""
    where.image(image, **image_kwargs)
    note = nonfinite_note(image)
    if note:
        where.warning(note, icon="⚠️")


# How far a code lies from the data, in units of the typical neighbour spacing: below each
# bound, these words (the live map hover uses the same table).
DISTANCE_READINGS = [
    (1.5, "on the data: real images lie right here"),
    (4.0, "between data points: an in-between image"),
    (float("inf"), "far from any real data: expect an unusual image"),
]


def distance_reading(spacing_units: float, item: str = "image") -> str:
    """Plain words for `LatentMap.distance_to_data` (`item`: "image" or "sentence")."""
    words = next(words for bound, words in DISTANCE_READINGS if spacing_units < bound or bound == float("inf"))
    return words if item == "image" else words.replace("images", item + "s").replace("image", item)


def customdata(point: dict) -> list:
    """A selected Plotly point's customdata as a list. The browser sends a NumPy-built
    array as an object keyed "0", "1", …; a plain list comes through as a list."""
    data = point.get("customdata")
    if isinstance(data, dict):
        return [data[key] for key in sorted(data, key=int)]
    return list(data) if data is not None else []


def load_map(path, n_points: int, params: ProjectionParams) -> LatentMap:
    """The fitted map, waiting (with a spinner that says what happens) for its fit when it must
    be fitted; the fit is the shared background one the Map page starts. A failed fit stops the
    page with a message."""
    name = METHOD_LABELS[params.method]
    try:
        if params.method == "pca" or cache.map_is_ready(path, n_points, params):
            return cache.latent_map(path, n_points, params)[0]
        job = cache.map_fit(path, n_points, params)
        if job.done:
            return job.result()
        with st.spinner(
            f"Fitting {name} on {n_points} latent means: once for these settings, then saved beside "
            "the model (UMAP and t-SNE take seconds to a minute)…"
        ):
            return job.result()
    except Exception as err:  # UMAP / t-SNE fail in several ways on odd inputs (tiny or degenerate sets)
        st.error(f"{name} could not map these points ({type(err).__name__}: {err}). Try PCA or other parameters.")
        st.stop()


def maps_projection(n_components: int | None = None) -> ProjectionParams:
    """The projection last shown on the Map (UMAP by default), as another page reuses it;
    `n_components` forces a 2-D or 3-D view."""
    saved = {k: v for k, v in st.session_state.get(MAP_PARAMS_KEY, {}).items() if k != "n_points"}
    params = ProjectionParams(**saved) if saved else ProjectionParams("umap")
    if n_components is not None:
        params = ProjectionParams(
            params.method, n_components, params.seed, params.n_neighbors, params.min_dist, params.perplexity
        )
    return params


def ready_map(path, n_points: int, params: ProjectionParams) -> tuple[LatentMap, ProjectionParams, str]:
    """The map for `params` if it is already computed, else the PCA map of the same view (PCA
    takes milliseconds; UMAP and t-SNE are fitted only from the Map page), with a note saying so."""
    note = ""
    if params.method != "pca" and not cache.map_is_ready(path, n_points, params):
        job = cache.running_map_fit(path, n_points, params)
        if job is not None and job.done and job.error is None:  # fitted, not saved (read-only folder)
            return job.result(), params, note
        name = METHOD_LABELS[params.method]
        if job is not None and not job.done:
            note = f" The {name} map is being fitted (started on the Map page): PCA until it is done."
        else:
            note = f" The {name} map is not computed yet: open it on the Map page."
        params = ProjectionParams("pca", params.n_components, params.seed, level=params.level)
    return load_map(path, n_points, params), params, note


def open_model_page() -> tuple[Path, LatentModel, ModelInfo]:
    """How every model page opens (after its title, ui.shell.start.begin_page): the sidebar
    model picker and the cached model (or a one-line message and the end of the page).
    Returns (path, model, its description)."""
    setup_page()
    path = pick_model()
    progress(f"Opening {path.name}…")
    vae, info = model_or_stop(path)
    return path, vae, info


def data_or_stop(path: Path) -> tuple[Dataset, torch.Tensor, torch.Tensor]:
    """The model's dataset with its split, or a one-line message and the end of the page."""
    try:
        return cache.data(path)
    except DatasetError as err:
        st.error(str(err))
        st.stop()


def model_or_stop(path) -> tuple[LatentModel, ModelInfo]:
    """The cached model and its description, or a one-line error and the end of the page. Takes the
    kept code a link carries and writes the model and kept code to the URL."""
    try:
        found = cache.opened(path)
    except CheckpointError as err:
        links.show_view(path.name, None)
        st.error(str(err))
        st.stop()
    vae = found.model
    kept = links.kept_from_link(vae.latent_dim, vae.num_classes)
    if kept is not None:
        choose_latent(path, kept["z"], kept["source"], kept["label"])
    links.show_view(path.name, chosen_latent(path))
    links.show_note()
    return found.model, found.info


def read_upload(upload, info: ModelInfo) -> torch.Tensor | None:
    """An uploaded file as the model's input (1, C, H, W), or None with a one-line message."""
    try:
        return preprocess_image(upload.getvalue(), info.image_shape, info.upload_style)
    except UploadError as err:
        st.error(f"**{upload.name}**: {err}")
    except Exception as err:  # an image library failure we did not foresee: still no traceback
        st.error(f"**{upload.name}**: this file could not be read as an image ({type(err).__name__}).")
    return None


def read_sentence(text: str, vae: LatentModel) -> torch.Tensor | None:
    """A typed sentence as a text model's input (1, L) ids, with a note naming the words it does
    not know (read as <unk>) and a cut past its length; None with a message when it has no words."""
    words = tokenize(text)
    if not words:
        st.error("That sentence has no words to encode.")
        return None
    unknown = vae.vocabulary.unknown_words(text)
    if unknown:
        listed = ", ".join(f"«{w}»" for w in dict.fromkeys(unknown))
        st.caption(f"Not in the model's vocabulary, read as <unk>: {listed}.")
    if len(words) > vae.sequence_length - 1:
        st.caption(f"Only the first {vae.sequence_length - 1} words are read (the model's longest sentence).")
    return vae.vocabulary.encode_batch([words], vae.sequence_length).to(vae.device)
