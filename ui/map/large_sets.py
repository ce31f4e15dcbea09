"""The Map's choice of points: the held-out sample (the Plotly map) or a large image set
encoded beside the model (`vae.large_maps`, drawn by the canvas map); and making a large set
from the page. Encoding and the UMAP / t-SNE placement run in the background (one job per
set, shared by every session, resumed from its files after a restart); PCA shows at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from ui.map.large import CanvasMapData, canvas_map_section
from ui.shell import links
from ui.shell.page import read_only
from vae.errors import VAEError
from vae.large_maps.image_sets import HELD_OUT, MAX_IMAGES, image_set_from_source, image_set_from_spec
from vae.large_maps.placement import load_placed, place_map, placed_key
from vae.large_maps.served import map_id_for
from vae.large_maps.set_jobs import LARGE_JOBS, encode_job, place_job
from vae.large_maps.store import StoredEncodings, store_folder, stored_maps, unfinished_maps
from vae.latent.background import FitJob
from vae.latent.projection import METHOD_LABELS, METHODS, ProjectionParams
from vae.opened import OpenedModel

HELD_OUT_SAMPLE = "held-out sample"
POLL_SECONDS = 1.0
MAKE_CHOICES = {
    "sprites": "generated sprites (any count)",
    HELD_OUT: "all the model's held-out images",
    "mnist": "MNIST (IDX files)",
    "fashion-mnist": "Fashion-MNIST (IDX files)",
    "folder": "a folder of images or IDX files",
}


def large_set_choice(path: Path, opened: OpenedModel) -> StoredEncodings | None:
    """A selectbox of the model's complete large sets (when it has any) and the form that makes
    one; the set chosen, or None for the held-out sample."""
    found = {stored.key: stored for stored in stored_maps(path)}
    key = f"map_set_{path.name}"
    if (linked := links.linked("set")) in found and key not in st.session_state:
        st.session_state[key] = linked
    chosen = None
    if found:
        name = st.selectbox(
            "Points",
            [HELD_OUT_SAMPLE, *found],
            key=key,
            format_func=lambda k: (
                "held-out sample (up to a few thousand, 2-D and 3-D)" if k == HELD_OUT_SAMPLE else _set_name(found[k])
            ),
            help="A large set is every image of it encoded beside the model (python -m vae.project … --images, "
            "or the form below), drawn by a map built for millions of points.",
        )
        chosen = found.get(name)
        links.set_param("set", None if chosen is None else chosen.key)
    _make_form(path, opened)
    return chosen


def _set_name(stored: StoredEncodings) -> str:
    """The set's description, with its count when the description does not already say it."""
    count = f"{stored.count:,}"
    return stored.description if count in stored.description else f"{stored.description} ({count} points)"


def _make_form(path: Path, opened: OpenedModel) -> None:
    if (switch := read_only()) is not None:  # encoding writes beside the model and reads server folders
        st.caption(f"Large sets are made with `python -m vae.project … --images` here ({switch} is set).")
        return
    with st.expander("Map a large image set (up to a million images)"):
        columns = st.columns([1.6, 1, 0.8, 1.6])
        kind = columns[0].selectbox("Images", list(MAKE_CHOICES), format_func=MAKE_CHOICES.get, key="large_kind")
        count = columns[1].number_input(
            "How many (0: all)", 0, MAX_IMAGES, 100_000 if kind == "sprites" else 0, step=10_000, key="large_count"
        )
        seed = columns[2].number_input("Seed", 0, 1_000_000, 1, key="large_seed", disabled=kind != "sprites")
        folder = columns[3].text_input("Folder", key="large_folder", disabled=kind != "folder")
        st.caption(
            "Every image is encoded in batches in the background (you can leave the page), then mapped: PCA at "
            "once, UMAP and t-SNE placed in the background when chosen. Sprites are drawn with a seed other "
            "than the training one, so none was seen in training. From the command line: "
            "`python -m vae.project MODEL --images sprites --count 1000000`."
        )
        if st.button("Encode and map", key="large_start"):
            spec = folder.strip() if kind == "folder" else kind
            try:
                image_set = image_set_from_spec(
                    spec, int(count) or None, opened, seed=int(seed) if kind == "sprites" else None
                )
            except VAEError as err:
                st.error(str(err))
                return
            st.session_state[f"large_job_{path.name}"] = encode_job(
                opened, image_set, store_folder(path, image_set.key)
            ).key
    for meta, done in unfinished_maps(path):
        running = LARGE_JOBS.job(("encode", str(store_folder(path, meta.key))))
        if running is not None and not running.done:
            continue  # running now: its progress shows below
        left, right = st.columns([3, 1])
        left.caption(f"Unfinished: {meta.description}, {done:,} of {meta.count:,} encoded (the encoding was stopped).")
        if right.button("Continue", key=f"large_continue_{meta.key}"):
            try:
                image_set = image_set_from_source(meta.source, opened)
            except VAEError as err:
                st.error(str(err))
                return
            st.session_state[f"large_job_{path.name}"] = encode_job(opened, image_set, store_folder(path, meta.key)).key
    job_key = st.session_state.get(f"large_job_{path.name}")
    if job_key is not None and (job := LARGE_JOBS.job(job_key)) is not None:
        _job_status(job, path.name)


@st.fragment(run_every=POLL_SECONDS)
def _job_status(job: FitJob, model_name: str) -> None:
    if job.done:
        st.session_state.pop(f"large_job_{model_name}", None)
        if job.error is not None:
            LARGE_JOBS.forget(job.key)  # the next start is a new job, which continues from the files
            st.error(f"Encoding stopped: {job.error}. Start it again to continue where it stopped.")
            return
        st.rerun()
    progress = job.progress
    st.caption(f"{progress.stage} ({job.elapsed:.0f} s). The set appears under Points when it is done.")
    if progress.fraction is not None:
        st.progress(progress.fraction)


def show_large_map(path: Path, opened: OpenedModel, stored: StoredEncodings) -> None:
    """The large set's map: projection and colour controls, the canvas map and its details."""
    controls = st.columns([1.2, 1.4, 2.4])
    if (linked := links.linked("method")) in METHODS and "large_method" not in st.session_state:
        st.session_state["large_method"] = linked
    method = controls[0].selectbox("Projection", METHODS, format_func=METHOD_LABELS.get, key="large_method")
    colour_by = controls[1].selectbox("Colour by", colour_options_of(stored), key="large_colour")
    with st.expander("Projection parameters"):
        knobs = st.columns(4)
        seed = knobs[0].number_input("Seed", 0, 10_000, 0, key="large_map_seed")
        n_neighbors = knobs[1].slider("UMAP neighbours", 2, 100, 15, key="large_nn", disabled=method != "umap")
        min_dist = knobs[2].slider("UMAP min. distance", 0.0, 0.99, 0.1, key="large_md", disabled=method != "umap")
        perplexity = knobs[3].slider("t-SNE perplexity", 2.0, 100.0, 30.0, key="large_perp", disabled=method != "tsne")
    params = ProjectionParams(method, 2, int(seed), n_neighbors, min_dist, perplexity)
    links.set_param("method", method)
    xy, shown = _positions(stored, params)
    controls[2].caption(
        f"{stored.count:,} points, 2-D. "
        + (
            "PCA of every code."
            if shown == "pca"
            else f"{METHOD_LABELS[method]} fitted on a subset, every other code placed by its nearest fitted codes (docs/large_maps.md)."
        )
    )
    try:
        image_set = _image_set(str(stored.folder), stored, path)
    except VAEError as err:
        st.error(f"The images of this set cannot be found, so its map cannot show them: {err}")
        return
    data = CanvasMapData(
        map_id=map_id_for(stored.folder.name, placed_key(params if shown != "pca" else ProjectionParams("pca"))),
        folder=stored.folder / "buffers",
        xy=xy,
        mu=stored.mu,
        images=lambda rows: image_set.images(np.asarray(rows)).numpy(),
        description=stored.description,
        labels=stored.labels,
        label_names=stored.label_names,
        recon_error=stored.recon_error,
    )
    canvas_map_section(path, opened.model, data, colour_by)


def colour_options_of(stored: StoredEncodings) -> list[str]:
    return (
        (["label"] if stored.labels is not None else [])
        + ["reconstruction error"]
        + [f"z{i}" for i in range(stored.meta.latent_dim)]
    )


@st.cache_resource(max_entries=4, show_spinner="Rebuilding the image set…")
def _image_set(folder: str, _stored: StoredEncodings, _path: Path):
    from ui.shell import cache

    return image_set_from_source(_stored.meta.source, cache.opened(_path))


@st.cache_resource(max_entries=8, show_spinner="PCA of every code…")
def _pca(folder: str, _stored: StoredEncodings) -> np.ndarray:
    return place_map(_stored.mu, ProjectionParams("pca"), _stored.folder)


def _positions(stored: StoredEncodings, params: ProjectionParams) -> tuple[np.ndarray, str]:
    """(positions, "pca" or the method shown): a placed map when it is done, else PCA with its
    placement running in the background."""
    if params.method == "pca":
        return _pca(str(stored.folder), stored), "pca"
    placed = load_placed(stored.folder, placed_key(params), stored.count)
    if placed is not None:
        return placed, params.method
    job = place_job(stored, params)
    if job.done and job.error is None:
        return job.result(), params.method
    _place_status(job, METHOD_LABELS[params.method], stored.count)
    return _pca(str(stored.folder), stored), "pca"


@st.fragment(run_every=POLL_SECONDS)
def _place_status(job: FitJob, name: str, count: int) -> None:
    if job.done:
        if job.error is not None:
            st.error(f"{name} could not place these {count:,} points ({job.error}); the PCA map is shown.")
            if st.button("Try again", key="large_place_retry"):
                LARGE_JOBS.forget(job.key)  # placement continues from its saved chunks
                st.rerun()
            return
        st.rerun()
    progress = job.progress
    st.caption(
        f"PCA shown while {name} maps {count:,} points: {job.elapsed:.0f} s… ({progress.stage}). The page works "
        "meanwhile; the map switches when it is done, is saved beside the model, and a restarted server "
        "continues where it stopped."
    )
    if progress.fraction is not None:
        st.progress(progress.fraction)
