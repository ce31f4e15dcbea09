"""Encode: upload images, see what the model makes of them and where they land."""

import streamlit as st
import torch

from ui import cache
from ui.encode_result import EncodeView, data_context, show_encoded
from ui.panels import maps_projection, open_model_page, read_upload
from ui.shell import MAP_PARAMS_KEY
from vae.analysis.metrics import encode_images
from vae.errors import DatasetError
from vae.models.interface import is_conditional

UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]

path, vae, meta = open_model_page("Encode", "📤")

st.title("Encode an image")
c, h, w = vae.image_shape
style = meta.get("upload_style", {})
st.caption(
    f"The model sees {h}×{w} {'colour' if c == 3 else 'grey'} images"
    + (
        ", light ink on a dark background, centred like MNIST: photos of dark ink on paper are inverted and "
        "centred for you."
        if style.get("fit") == "mass_center"
        else "."
    )
)
uploads = st.file_uploader(
    "Images (PNG, JPEG, GIF, BMP, WebP)", type=UPLOAD_TYPES, accept_multiple_files=True, key="encode_files"
)
label = None
if is_conditional(vae):
    names = meta.get("label_names") or [str(i) for i in range(vae.num_classes)]
    label = st.selectbox(
        "Class to condition on (this model is conditional)",
        range(len(names)),
        format_func=lambda i: names[i],
        key="encode_label",
    )
if not uploads:
    st.info("Upload one or more images to encode them.")
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
    x = read_upload(upload, meta)
    if x is not None:
        inputs.append(x)
        names_ok.append(upload.name)
if not inputs:
    st.stop()

x = torch.cat(inputs)
y = torch.full((len(x),), int(label)) if label is not None else None
view = EncodeView(path, vae, x, y, label, encode_images(vae, x, y, elbo_samples=cache.ELBO_SAMPLES))
if data is not None and n_points < 3:
    data = None
    st.warning("This model holds out fewer than 3 images: no map, neighbours or percentile.")
context = data_context(path, n_points, params, data) if data is not None else None
for i, name in enumerate(names_ok):
    show_encoded(view, i, name, context)
