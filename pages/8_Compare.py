"""Compare: models that share held-out images side by side — the rate–distortion plane, one
column per model, and their maps aligned with linked selection."""

from ui.shell.start import begin_page

begin_page("Compare", "⚖️", "Compare models")

import streamlit as st

from ui.compare.measured import candidates, compared_images
from ui.compare.view import columns, maps, plane
from ui.shell.page import COMPARE_KEY, list_checkpoints
from ui.shell.panels import data_or_stop, open_model_page
from ui.shell.pickers import DEFAULT_MAP_POINTS
from vae.analysis.compare import default_selection
from vae.errors import DatasetError
from vae.latent.projection import METHOD_LABELS

MAX_MODELS = 6

current, _, _ = open_model_page()
found = candidates(current, list_checkpoints())
names = [p.name for p in found.comparable]
# The user's last choice among the models offered, else the default (a first visit).
chosen = [n for n in st.session_state.get(COMPARE_KEY) or [] if n in names][:MAX_MODELS]
if not chosen:
    chosen = default_selection(current.name, names, found.sweeps, MAX_MODELS)
st.session_state["_compare_picker"] = chosen


def _remember() -> None:
    st.session_state[COMPARE_KEY] = st.session_state["_compare_picker"]


st.multiselect(
    f"Models that share held-out images with {current.name}",
    names,
    key="_compare_picker",
    on_change=_remember,
    max_selections=MAX_MODELS,
    help="Pick two or more. A sweep from the Train page (or `python -m vae.sweep`) makes a set to compare.",
)
if found.excluded:
    excluded = "; ".join(f":gray[{name} ({reason})]" for name, reason in found.excluded.items())
    st.caption(f"Not comparable with {current.name}: {excluded}")
paths = [p for p in found.comparable if p.name in st.session_state["_compare_picker"]]
if len(paths) < 2:
    st.info("Pick at least two models to compare.")
    st.stop()

data, _, first_held_out = data_or_stop(paths[0])
try:
    images = compared_images(paths)
except DatasetError as err:
    st.error(str(err))
    st.stop()
if (count := len(images[paths[0]])) < 10:
    st.error(f"These models share only {count} held-out images: compare models trained with the same split.")
    st.stop()

with st.spinner(f"Measuring {len(paths)} models on {len(images)} held-out images (once per model)…"):
    st.subheader("Rate and distortion")
    plane(paths, images, current)
    st.subheader("Side by side")
    columns(paths, images, data)

st.subheader("Maps, aligned")
map_columns = st.columns([1, 3])
method = map_columns[0].selectbox(
    "Projection", ["pca", "umap", "tsne"], format_func=METHOD_LABELS.get, key="compare_method"
)
map_columns[1].caption(
    "Each model's map of the same held-out images, turned, scaled and shifted (orthogonal Procrustes) onto the "
    "first model's so the same image sits in about the same place. Drag a box (or lasso) in one map: the "
    "same images are ringed in the others."
)
maps(paths, data, method, min(DEFAULT_MAP_POINTS, len(first_held_out)))
