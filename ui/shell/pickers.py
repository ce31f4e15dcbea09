"""Choosing a latent vector on a page: the code kept on another page, a held-out data point,
an upload, a prior sample or the origin. Used by Traverse, Interpolate and Arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.shell import cache, links
from ui.shell.items import show_item
from ui.shell.page import MAP_PARAMS_KEY, choose_latent, chosen_latent
from ui.shell.panels import read_sentence, read_upload
from vae.data.datasets import Dataset, label_name
from vae.errors import DatasetError
from vae.latent.codes import decode_codes, prior_samples
from vae.models.interface import LatentModel, is_conditional, is_text
from vae.opened import HeldOutCodes, ModelInfo

SOURCES = {
    "kept": "Kept code",
    "data": "Data point",
    "upload": "Upload",  # a text model: a typed sentence
    "prior": "Prior sample",
    "origin": "Origin",
}
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
DEFAULT_MAP_POINTS = 2000


@dataclass(frozen=True)
class HeldOut:
    """The held-out encodings the Map shows (same numbering), with their dataset."""

    codes: HeldOutCodes
    data: Dataset

    def label_of(self, row: int) -> str:
        return label_name(self.data.label_names, None if self.codes.labels is None else self.codes.labels[row])


@dataclass(frozen=True)
class LatentChoice:
    z: np.ndarray  # (D,)
    caption: str  # what it is, in words
    label: int | None = None  # its class, when known (a data point)
    image: torch.Tensor | None = None  # the image it encodes, (C, H, W) (a text model: ids (L,)), when there is one
    text: str | None = None  # a text model: the sentence it encodes, as written


def held_out(path: Path) -> HeldOut | None:
    """The Map's held-out points (its point count, default 2000), or None with a note when the
    model's data is not available here."""
    try:
        data, _, held_idx = cache.data(path)
    except DatasetError as err:
        st.warning(f"The model's data is not available, so data points are not offered. {err}")
        return None
    if len(held_idx) < 2:
        st.warning("This model holds out fewer than 2 images: data points are not offered.")
        return None
    wanted = int(st.session_state.get(MAP_PARAMS_KEY, {}).get("n_points", DEFAULT_MAP_POINTS))
    return HeldOut(cache.codes(path, min(wanted, len(held_idx))), data)


def decode_class(
    vae: LatentModel, info: ModelInfo, key: str, follow: LatentChoice | None = None
) -> torch.Tensor | None:
    """For a conditional model, a class picker; the label tensor (1,) to decode with, else None.
    When `follow` (the page's main code) has a known class, the picker moves to it each time
    that code changes; the user can still pick another class afterwards."""
    if not is_conditional(vae):
        return None
    names = info.label_names
    if follow is not None and follow.label is not None:
        followed = f"{key}_followed"
        if st.session_state.get(followed) != follow.caption:
            st.session_state[followed] = follow.caption
            st.session_state[key] = int(follow.label)
    chosen = st.selectbox("Decode as class", range(vae.num_classes), format_func=lambda k: names[k], key=key)
    return torch.tensor([int(chosen)])


def class_in_use(vae: LatentModel, key: str) -> torch.Tensor | None:
    """The class a page's class picker holds now (0 before it exists): for encoding uploads
    and drawing thumbnails in pickers shown above it."""
    return torch.tensor([int(st.session_state.get(key, 0))]) if is_conditional(vae) else None


def _random_row(key: str, n: int) -> None:
    st.session_state[key] = int(np.random.default_rng().integers(n))


def _forget(key: str) -> None:
    st.session_state.pop(key, None)


def forget_kept_snapshot(source_key: str) -> None:
    """Make the picker whose radio is `source_key` take the newest kept code on its next run."""
    _forget(source_key.removesuffix("_source") + "_kept")


def pick_latent(
    path: Path,
    vae: LatentModel,
    info: ModelInfo,
    key: str,
    title: str,
    sources: list[str],
    held: HeldOut | None,
    y: torch.Tensor | None = None,
    default_row: int = 0,
    default_seed: int = 0,
    prefer_kept: bool = False,
    link: str | None = None,
) -> LatentChoice | None:
    """Radio of sources, then that source's input and a thumbnail. None (with a note) when the
    chosen source has nothing to give yet. `y` is the class used to encode and decode when
    the model is conditional. Widget keys start with `key`. With `prefer_kept`, the picker
    opens on the kept code when there is one.

    The kept code is read when the page opens or the source is switched to it, then held:
    a "Keep" button on the same page does not move the point the page started from.

    With `link`, the choice is also the URL parameter of that name ("data:12", "prior:7",
    "kept", "origin"; an upload cannot travel in a link), read when a link opens the page."""
    offered = [s for s in sources if s != "data" or held is not None]
    source_key, snapshot_key, row_key = f"{key}_source", f"{key}_kept", f"{key}_row"
    kept = chosen_latent(path)
    if kept and prefer_kept and "kept" in offered:
        default = "kept"
    else:
        default = next((s for s in ("data", "prior", "origin") if s in offered), offered[0])
    linked_source, linked_number = _parse_start(links.linked(link) if link else None)
    if linked_source in offered and source_key not in st.session_state and (linked_source != "kept" or kept):
        default = linked_source
        if linked_source == "data" and 0 <= linked_number < len(held.codes.mu):
            st.session_state[row_key] = linked_number
        elif linked_source == "prior":
            default_seed = min(max(linked_number, 0), 1_000_000)
    if source_key not in st.session_state:  # the page was just opened: read the kept code afresh
        _forget(snapshot_key)
    names = {**SOURCES, "upload": "Typed sentence"} if is_text(vae) else SOURCES
    source = st.radio(
        title,
        offered,
        index=offered.index(default),
        format_func=names.get,
        horizontal=True,
        key=source_key,
        on_change=_forget,
        args=(snapshot_key,),
    )
    choice = None
    if source == "kept":
        snapshot = st.session_state.get(snapshot_key)
        if snapshot is None or (snapshot["model"], snapshot["modified"]) != (path.name, path.stat().st_mtime):
            snapshot = st.session_state[snapshot_key] = kept
        if snapshot is None:
            st.info("Nothing kept yet: click a point on the Map, or keep a code on Encode, Generate or Traverse.")
        else:
            choice = LatentChoice(
                np.asarray(snapshot["z"], np.float32), f"kept code ({snapshot['source']})", snapshot.get("label")
            )
    elif source == "data":
        n = len(held.codes.mu)
        if row_key not in st.session_state:
            st.session_state[row_key] = min(default_row, n - 1)
        # A flex row, not columns: a fixed column share cut the button to "R…" in a narrow column.
        row_box = st.container(horizontal=True, vertical_alignment="bottom", wrap=False)
        row = row_box.number_input(f"Held-out point (0–{n - 1}, as numbered on the Map)", 0, n - 1, key=row_key)
        row_box.button(
            "Random", key=f"{key}_random", on_click=_random_row, args=(row_key, n), help="A random data point"
        )
        image_index = int(held.codes.index[row])
        choice = LatentChoice(
            held.codes.mu[row],
            f"{'sentence' if is_text(vae) else 'image'} {image_index} (label {held.label_of(row)})",
            None if held.codes.labels is None else int(held.codes.labels[row]),
            held.data.images[image_index],
            held.data.texts[image_index] if is_text(vae) else None,
        )
    elif source == "upload" and is_text(vae):
        typed = st.text_input("Sentence", key=f"{key}_typed", placeholder="Type a sentence and press Enter")
        x = read_sentence(typed, vae) if typed.strip() else None
        if x is None:
            st.info("Type a sentence to start from its code.")
        else:
            with torch.no_grad():
                mu, _ = vae.encode(x)
            choice = LatentChoice(mu[0].numpy(), f"typed: “{typed.strip()[:40]}”", image=x[0], text=typed)
    elif source == "upload":
        upload = st.file_uploader("Image", type=UPLOAD_TYPES, key=f"{key}_upload")
        if upload is None:
            st.info("Upload an image to start from its code.")
        else:
            x = read_upload(upload, info)
            if x is not None:
                with torch.no_grad():
                    mu, _ = vae.encode(x, y)
                choice = LatentChoice(mu[0].numpy(), f"upload {upload.name}", image=x[0])
    elif source == "prior":
        seed = st.number_input("Seed", 0, 1_000_000, default_seed, key=f"{key}_seed")
        choice = LatentChoice(prior_samples(1, vae.latent_dim, 1.0, int(seed))[0], f"prior sample (seed {seed})")
    else:
        choice = LatentChoice(np.zeros(vae.latent_dim, np.float32), "the origin (the prior's mean)")
    if choice is not None:
        shown = choice.image if choice.image is not None else decode_codes(vae, choice.z, y)[0]
        show_item(st, vae, shown, 72, choice.caption, choice.text)
    if link:
        number = {"data": row_key, "prior": f"{key}_seed"}.get(source)
        links.set_param(
            link, None if source == "upload" else source + (f":{st.session_state[number]}" if number else "")
        )
    return choice


def _parse_start(text: str | None) -> tuple[str | None, int]:
    """'data:12' -> ('data', 12); 'origin' -> ('origin', 0); anything else -> (None, 0)."""
    if not text:
        return None, 0
    source, _, number = text.partition(":")
    if source not in SOURCES or source == "upload":
        return None, 0
    return source, int(number) if number.isdigit() else 0


# Pages that start from the kept code, with the key of their start-source radio.
SEND_TO = {
    "Traverse from here": ("pages/3_Traverse.py", "traverse_start_source"),
    "Interpolate from here (as A)": ("pages/4_Interpolate.py", "interpolate_a_source"),
}


def keep_button(path: Path, z, source: str, key: str, label: int | None = None, text: str = "Keep this code") -> None:
    """A button that keeps this code (and its class) for the other pages, and says so."""
    if st.button(text, key=key):
        choose_latent(path, z, source, label)
        st.success("Kept for the other pages.")


def send_buttons(path, z, source: str, key: str, label: int | None = None) -> None:
    """Buttons that keep this code (and its class, when known) and open a page that starts from it."""
    for column, (text, (page, source_key)) in zip(st.columns(len(SEND_TO)), SEND_TO.items()):
        if column.button(text, key=f"{key}_{source_key}"):
            choose_latent(path, z, source, label)
            st.session_state[source_key] = "kept"
            forget_kept_snapshot(source_key)
            st.switch_page(page)
