"""Encode: upload images, see what the model makes of them and where they land."""

import numpy as np
import streamlit as st
import torch

from ui import cache
from ui.panels import maps_projection, open_model_page, read_upload, ready_map, thumbnails
from ui.pickers import send_buttons
from ui.plots import add_markers, histogram_with_marker, latent_bars, latent_scatter
from ui.shell import MAP_PARAMS_KEY, choose_latent
from vae.data import label_name
from vae.errors import DatasetError
from vae.latent import decode_codes, nearest_neighbours, percentile_rank, posterior_draws
from vae.metrics import encode_images
from vae.pictures import grid_picture, picture
from vae.projection import METHOD_LABELS

UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]

path, vae, meta = open_model_page("Encode", "📤")

st.title("Encode an image")
c, h, w = vae.config.image_shape
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
if vae.config.conditional:
    names = meta.get("label_names") or [str(i) for i in range(vae.config.num_classes)]
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
encoded = encode_images(vae, x, y, elbo_samples=cache.ELBO_SAMPLES)
mu, logvar, sigma, reconstructions, elbos = (
    encoded.mu,
    encoded.logvar,
    encoded.sigma,
    encoded.reconstructions,
    encoded.elbo,
)

map_note = ""
if data is not None and n_points < 3:
    data = None
    st.warning("This model holds out fewer than 3 images: no map, neighbours or percentile.")
if data is not None:
    codes = cache.codes(path, n_points)
    heldout_elbos = cache.heldout_elbo(path, n_points)
    latent_map, params, map_note = ready_map(path, n_points, params)  # never fits UMAP / t-SNE for an upload
    placed = latent_map.transform(mu.numpy())
    all_mu = cache.all_mu(path)

for i, name in enumerate(names_ok):
    st.divider()
    st.subheader(name)
    seen, latent, where = st.columns([1.1, 1.4, 1.5])
    with seen:
        a, b = st.columns(2)
        a.image(picture(x[i], 112), caption="what the model sees", output_format="PNG")
        b.image(picture(reconstructions[i], 112), caption="reconstruction", output_format="PNG")
        draws = posterior_draws(
            vae, mu[i], logvar[i], 8, None if y is None else y[i : i + 1], torch.Generator().manual_seed(i)
        )
        st.image(grid_picture(draws, ncols=8, target=40), caption="8 draws from q(z|x)", output_format="PNG")
    with latent:
        st.markdown("Latent code: μ ± σ per dimension")
        st.plotly_chart(latent_bars(mu[i].numpy(), sigma[i].numpy()), key=f"encode_bars_{i}")
        if st.button("Use this code on the other pages", key=f"encode_choose_{i}"):
            choose_latent(path, mu[i].numpy(), f"upload {name}", label)
            st.success("Kept: the traversal, interpolation and arithmetic pages start from it.")
        send_buttons(path, mu[i].numpy(), f"upload {name}", f"encode_send_{i}", label)
    if data is None:
        with where:
            st.metric("ELBO", f"{elbos[i]:.1f} nats")
        continue
    with where:
        rank = percentile_rank(elbos[i], heldout_elbos)
        verdict = "very unusual" if rank < 2 else "unusual" if rank < 10 else "typical"
        st.metric(
            "ELBO (higher is more familiar)",
            f"{elbos[i]:.1f} nats",
            help="Reconstruction averaged over 8 draws, minus KL; compared with the held-out images.",
        )
        st.markdown(
            f"**{verdict}**: only {rank:.1f}% of held-out images score this low or lower."
            if rank < 50
            else f"**{verdict}**: it scores higher than {rank:.1f}% of held-out images."
        )
        st.plotly_chart(
            histogram_with_marker(heldout_elbos, {name[:18]: float(elbos[i])}, "held-out ELBO (nats)"),
            key=f"encode_hist_{i}",
        )
    left, right = st.columns([1.6, 1.4])
    with left:
        figure = latent_scatter(
            latent_map.embedding_,
            codes.index,
            codes.labels,
            data.label_names,
            axis_title=METHOD_LABELS[params.method],
            click_grid=False,
        )
        figure = add_markers(figure, placed[i : i + 1], name)
        figure.update_layout(height=420)
        st.plotly_chart(figure, key=f"encode_map_{i}")
        st.caption(
            f"Where it lands on the Map's {METHOD_LABELS[params.method]} view "
            f"({'exact' if params.method == 'pca' else 'placed by its nearest latent neighbours'}).{map_note}"
        )
    with right:
        neighbours, distances = nearest_neighbours(all_mu, mu[i].numpy(), k=8)
        st.markdown("Nearest neighbours in the dataset (latent distance)")
        thumbnails(
            data.images[neighbours],
            [
                f"{label_name(data.label_names, None if data.labels is None else data.labels[r])} · {d:.2f}"
                for r, d in zip(neighbours, distances)
            ],
        )
        decoded = decode_codes(vae, np.asarray(all_mu[neighbours]).mean(0), None if y is None else y[i : i + 1])
        st.image(picture(decoded[0], 80), caption="decoded mean of the neighbours", width=96, output_format="PNG")
