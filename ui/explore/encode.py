"""What the Encode page shows for one uploaded image: input, reconstruction and posterior draws;
its code; how familiar it is; where it lands on the map and its nearest neighbours."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.map.figures import add_markers, latent_scatter
from ui.shell import cache
from ui.shell.charts import histogram_with_marker, latent_bars
from ui.shell.items import show_item, show_items, thumbnails
from ui.shell.page import choose_latent
from ui.shell.panels import ready_map
from ui.shell.pickers import send_buttons
from vae.analysis.metrics import EncodedImages, encode_images
from vae.data.datasets import Dataset, label_name
from vae.latent.codes import decode_codes, familiarity, nearest_neighbours, percentile_rank, posterior_draws
from vae.latent.projection import METHOD_LABELS, LatentMap, ProjectionParams
from vae.models.interface import LatentModel, is_text
from vae.opened import HeldOutCodes, ModelInfo
from vae.opened.measures import ELBO_SAMPLES


@dataclass(frozen=True)
class EncodeView:
    path: Path
    vae: LatentModel
    x: torch.Tensor  # (N, C, H, W), what the model sees (a text model: ids (N, L))
    y: torch.Tensor | None  # (N,) the class conditioned on
    label: int | None
    encoded: EncodedImages
    texts: list[str] | None = None  # a text model: the sentences as typed


def encode_uploads(
    path: Path, vae: LatentModel, inputs: list[torch.Tensor], label: int | None, texts: list[str] | None = None
) -> EncodeView:
    """The uploads (each (1, C, H, W); typed sentences: (1, L) ids) encoded, reconstructed and
    scored as the held-out examples are."""
    x = torch.cat(inputs)
    y = torch.full((len(x),), int(label)) if label is not None else None
    return EncodeView(path, vae, x, y, label, encode_images(vae, x, y, elbo_samples=ELBO_SAMPLES), texts)


def upload_caption(info: ModelInfo) -> str:
    """What the model sees, and what is done to a photo to look like it."""
    if info.is_text:
        return (
            f"The model reads sentences of up to {info.image_shape[0] - 1} words, lower-cased and split into words "
            "and punctuation; a word it never saw in training is read as <unk> (shown as «word»)."
        )
    c, h, w = info.image_shape
    centred = info.upload_style.get("fit") == "mass_center"
    return f"The model sees {h}×{w} {'colour' if c == 3 else 'grey'} images" + (
        ", light ink on a dark background, centred like MNIST: photos of dark ink on paper are inverted and "
        "centred for you."
        if centred
        else "."
    )


@dataclass(frozen=True)
class DataContext:
    """The held-out data an upload is compared with (absent when the data is missing)."""

    data: Dataset
    codes: HeldOutCodes  # the map points
    heldout_elbos: np.ndarray
    latent_map: LatentMap
    params: ProjectionParams
    map_note: str
    all_mu: np.ndarray


def show_encoded(view: EncodeView, i: int, name: str, context: DataContext | None) -> None:
    st.divider()
    st.subheader(name)
    seen, latent, where = st.columns([1.1, 1.4, 1.5])
    mu, sigma, logvar = view.encoded.mu[i], view.encoded.sigma[i], view.encoded.logvar[i]
    y_i = None if view.y is None else view.y[i : i + 1]
    with seen:
        a, b = (st, st) if is_text(view.vae) else st.columns(2)
        source = None if view.texts is None else view.texts[i]
        show_item(
            a, view.vae, view.x[i], 112, "what the model reads" if is_text(view.vae) else "what the model sees", source
        )
        show_item(
            b,
            view.vae,
            view.encoded.reconstructions[i],
            112,
            "reconstruction (greedy, from μ)" if is_text(view.vae) else "reconstruction",
        )
        draws = posterior_draws(view.vae, mu, logvar, 8, y_i, torch.Generator().manual_seed(i))
        show_items(
            st,
            view.vae,
            draws,
            8,
            "8 draws from q(z|x)" + (", each decoded greedily" if is_text(view.vae) else ""),
            target=40,
        )
    with latent:
        st.markdown("Latent code: μ ± σ per dimension")
        st.plotly_chart(latent_bars(mu.numpy(), sigma.numpy()), key=f"encode_bars_{i}")
        if st.button("Use this code on the other pages", key=f"encode_choose_{i}"):
            choose_latent(view.path, mu.numpy(), f"upload {name}", view.label)
            st.success("Kept: the traversal, interpolation and arithmetic pages start from it.")
        send_buttons(view.path, mu.numpy(), f"upload {name}", f"encode_send_{i}", view.label)
    elbo = float(view.encoded.elbo[i])
    with where:
        if context is None:
            st.metric("ELBO", f"{elbo:.1f} nats")
            return
        _familiarity(i, name, elbo, context.heldout_elbos)
    left, right = st.columns([1.6, 1.4])
    with left:
        _where_it_lands(i, name, mu.numpy(), context)
    with right:
        _neighbours(view, mu.numpy(), y_i, context)


def _familiarity(i: int, name: str, elbo: float, heldout_elbos: np.ndarray) -> None:
    rank = percentile_rank(elbo, heldout_elbos)
    st.metric(
        "ELBO (higher is more familiar)",
        f"{elbo:.1f} nats",
        help="Reconstruction averaged over 8 draws, minus KL; compared with the held-out images.",
    )
    st.markdown(
        f"**{familiarity(rank)}**: only {rank:.1f}% of held-out images score this low or lower."
        if rank < 50
        else f"**{familiarity(rank)}**: it scores higher than {rank:.1f}% of held-out images."
    )
    chart = histogram_with_marker(heldout_elbos, {name[:18]: elbo}, "held-out ELBO (nats)")
    st.plotly_chart(chart, key=f"encode_hist_{i}")


def _where_it_lands(i: int, name: str, mu: np.ndarray, context: DataContext) -> None:
    method = context.params.method
    figure = latent_scatter(
        context.latent_map.embedding_,
        context.codes.index,
        context.codes.labels,
        context.data.label_names,
        axis_title=METHOD_LABELS[method],
        click_grid=False,
        sentences=[context.data.texts[i] for i in context.codes.index] if context.data.modality == "text" else None,
    )
    placed = context.latent_map.transform(mu[None])
    figure = add_markers(figure, placed, name)
    figure.update_layout(height=420)
    st.plotly_chart(figure, key=f"encode_map_{i}")
    st.caption(
        f"Where it lands on the Map's {METHOD_LABELS[method]} view "
        f"({'exact' if method == 'pca' else 'placed by its nearest latent neighbours'}).{context.map_note}"
    )


def _neighbours(view: EncodeView, mu: np.ndarray, y: torch.Tensor | None, context: DataContext) -> None:
    data = context.data
    neighbours, distances = nearest_neighbours(context.all_mu, mu, k=8)
    st.markdown("Nearest neighbours in the dataset (latent distance)")
    thumbnails(
        view.vae,
        data.images[neighbours],
        [
            f"{label_name(data.label_names, None if data.labels is None else data.labels[r])} · {d:.2f}"
            for r, d in zip(neighbours, distances)
        ],
        sources=[data.texts[int(r)] for r in neighbours] if data.modality == "text" else None,
    )
    decoded = decode_codes(view.vae, np.asarray(context.all_mu[neighbours]).mean(0), y)
    show_item(st, view.vae, decoded[0], 80, "decoded mean of the neighbours", width=96)


def data_context(path: Path, n_points: int, params: ProjectionParams, data: Dataset) -> DataContext:
    # the map as the Map page left it: UMAP / t-SNE are never fitted for an upload
    latent_map, params, note = ready_map(path, n_points, params)
    return DataContext(
        data,
        cache.codes(path, n_points),
        cache.heldout_elbo(path, n_points),
        latent_map,
        params,
        note,
        cache.all_mu(path),
    )
