"""Encode: upload images, see what the model makes of them and where they land."""

from ui.shell.start import begin_page

begin_page("Encode", "📤", "Encode an image or a sentence")

import streamlit as st

from ui.explore.encode import data_context, encode_uploads, show_encoded, upload_caption
from ui.shell import cache
from ui.shell.page import MAP_PARAMS_KEY
from ui.shell.panels import maps_projection, open_model_page, read_sentence, read_upload
from vae.errors import DatasetError
from vae.models.interface import is_conditional

UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
MAX_SENTENCES = 8

path, vae, info = open_model_page()

st.caption(upload_caption(info))
if info.is_text:  # sentences typed, one per line, instead of image files
    typed = st.text_area("Sentences, one per line", key="encode_text", placeholder="the truth will set you free .")
    uploads = [line.strip() for line in typed.splitlines() if line.strip()][:MAX_SENTENCES]
else:
    uploads = st.file_uploader(
        "Images (PNG, JPEG, GIF, BMP, WebP)", type=UPLOAD_TYPES, accept_multiple_files=True, key="encode_files"
    )
label = None
if is_conditional(vae):
    label = st.selectbox(
        "Class to condition on (this model is conditional)",
        range(len(info.label_names)),
        format_func=lambda i: info.label_names[i],
        key="encode_label",
    )
if not uploads:
    st.info(
        "Type one or more sentences to encode them." if info.is_text else "Upload one or more images to encode them."
    )
    st.stop()

try:
    data, _, held_idx = cache.data(path)
except DatasetError as err:
    data = None
    st.warning(f"The model's data is not available, so the map, neighbours and percentile are hidden. {err}")

saved = dict(st.session_state.get(MAP_PARAMS_KEY, {}))
n_points = min(int(saved.pop("n_points", 2000)), len(held_idx)) if data is not None else 0
params = maps_projection()

inputs, names_ok = [], []
for upload in uploads:
    x = read_sentence(upload, vae) if info.is_text else read_upload(upload, info)
    if x is not None:
        inputs.append(x)
        names_ok.append(upload if info.is_text else upload.name)
if not inputs:
    st.stop()

view = encode_uploads(path, vae, inputs, label, names_ok if info.is_text else None)
if data is not None and n_points < 3:
    data = None
    st.warning("This model holds out fewer than 3 examples: no map, neighbours or percentile.")
context = data_context(path, n_points, params, data) if data is not None else None
for i, name in enumerate(names_ok):
    show_encoded(view, i, name, context)
