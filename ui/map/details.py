"""The Map's detail panel: one point, an empty location, or a box / lasso group."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.live.decoding import live_map_hover, unavailable_reason
from ui.live.graphs import decoder_graph
from ui.shell import links
from ui.shell.items import data_item, show_item, show_items, thumbnails
from ui.shell.page import choose_latent
from ui.shell.panels import DISTANCE_READINGS, distance_reading
from vae.data.datasets import Dataset, label_name
from vae.latent.codes import decode_codes, nearest_neighbours
from vae.latent.projection import METHOD_LABELS, LatentMap
from vae.models.interface import LatentModel, is_conditional, is_text
from vae.models.levels import dim_label, levels_of
from vae.opened import HeldOutCodes


@dataclass(frozen=True)
class MapView:
    """What the detail panels read: the model, its data, the encoded map points and the map."""

    path: Path
    vae: LatentModel
    data: Dataset
    codes: HeldOutCodes
    latent_map: LatentMap
    method: str


def show_point(view: MapView, row: int) -> None:
    """Original, reconstruction, label, mu ± σ and latent neighbours of one map point."""
    path, vae, data, codes = view.path, view.vae, view.data, view.codes
    image_index = int(codes.index[row])
    x, source = data_item(data, image_index)
    y = data.labels[image_index : image_index + 1] if is_conditional(vae) else None
    reconstruction = decode_codes(vae, codes.mu[row], y)[0]
    label = label_name(data.label_names, None if codes.labels is None else codes.labels[row])
    st.markdown(f"**{'Sentence' if is_text(vae) else 'Image'} {image_index}** · label **{label}**")
    left, right = (st, st) if is_text(vae) else st.columns(2)
    show_item(left, vae, x, 128, "original", source)
    show_item(
        right, vae, reconstruction, 128, "reconstruction (greedy decoding of μ)" if is_text(vae) else "reconstruction"
    )
    st.dataframe(
        {
            "dim": [dim_label(levels_of(vae), i) for i in range(len(codes.mu[row]))],
            "μ": codes.mu[row].round(3),
            "σ": codes.sigma[row].round(3),
        },
        hide_index=True,
        height=180,
    )
    neighbours, distances = nearest_neighbours(codes.mu, codes.mu[row], k=4, exclude=row)
    st.markdown("Nearest neighbours in latent space")
    thumbnails(
        vae,
        data.images[codes.index[neighbours]],
        [
            f"{label_name(data.label_names, None if codes.labels is None else codes.labels[r])} · d={d:.2f}"
            for r, d in zip(neighbours, distances)
        ],
        sources=_texts(data, codes.index[neighbours]),
    )
    known = int(codes.labels[row]) if codes.labels is not None else None
    choose_latent(path, codes.mu[row], f"map point: image {image_index} (label {label})", known)
    links.set_param("point", row)


def show_location(view: MapView, point: np.ndarray) -> None:
    """Decode what lies at an empty spot of the map."""
    path, vae, latent_map, method = view.path, view.vae, view.latent_map, view.method
    z = latent_map.inverse_transform(point[None])[0]
    y = torch.zeros(1, dtype=torch.long) if is_conditional(vae) else None
    image = decode_codes(vae, z, y)[0]
    distance = float(latent_map.distance_to_data(point[None])[0])
    st.markdown(f"**Location** ({point[0]:.2f}, {point[1]:.2f})")
    show_item(st, vae, image, 160, "decoded" + (" (as class 0)" if y is not None else ""))
    item = "sentence" if is_text(vae) else "image"
    st.markdown(f"{distance:.1f}× the typical spacing from the nearest {item}: {distance_reading(distance, item)}.")
    how = "exact PCA inverse" if latent_map.pca_parameters() is not None else "distance-weighted nearest map points"
    whole = f" (every level: the map is of level {latent_map.params.level.name})" if latent_map.params.level else ""
    st.caption(f"Latent vector from the {how}{whole}.")
    choose_latent(path, z, f"map location ({point[0]:.2f}, {point[1]:.2f}) with {METHOD_LABELS[method]}")
    links.set_param("point", None)  # the kept code in the link holds the location


def show_group(view: MapView, rows: list[int]) -> None:
    """A box / lasso selection: its images and the decoded mean of their codes."""
    path, vae, data, codes = view.path, view.vae, view.data, view.codes
    item = "sentences" if is_text(vae) else "images"
    st.markdown(f"**{len(rows)} selected {item}**")
    shown = codes.index[rows[: 12 if is_text(vae) else 48]]
    show_items(st, vae, data.images[shown], ncols=8, target=40, sources=_texts(data, shown))
    mean_z = codes.mu[rows].mean(0)
    y = data.labels[codes.index[rows[:1]]] if is_conditional(vae) else None
    show_item(st, vae, decode_codes(vae, mean_z, y)[0], 128, "decoded mean of their codes")
    choose_latent(path, mean_z, f"mean of {len(rows)} selected {item}")
    links.set_param("point", None)


def _texts(data: Dataset, index) -> list[str] | None:
    """The sentences of dataset rows `index` (a text corpus), else None."""
    return [data.texts[int(i)] for i in index] if data.modality == "text" else None


def map_hover(view: MapView) -> None:
    """Above the 2-D map: the code under the mouse, decoded in the browser while it moves."""
    graph = decoder_graph(view.path)
    if graph is None or unavailable_reason():
        return
    about, panel = st.columns([3, 2])
    about.markdown(
        "**Hover the map**: the code under the mouse is decoded in your browser as it moves (right), with its "
        "distance to the data; over a point, its reconstruction. "
        + ("A conditional model draws it as class 0. " if is_conditional(view.vae) else "")
        + "Click to pick a point or a spot for the other pages."
    )
    latent_map = view.latent_map
    with panel:
        live_map_hover(
            graph,
            is_conditional(view.vae),
            latent_map.embedding_,
            latent_map.mu_,
            latent_map.spacing_,
            latent_map.placement_k,
            latent_map.pca_parameters(),
            DISTANCE_READINGS,
            key=f"map_hover_{view.path.name}_{latent_map.params.key()}_{len(latent_map.mu_)}",
        )
