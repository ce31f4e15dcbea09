"""What a page shows for decoded or data items, chosen by the model's modality: an image model's
items are pictures, a text model's are sentences. Pages call these instead of drawing pictures
themselves, so one page serves both kinds of model."""

from __future__ import annotations

import html

import streamlit as st
import torch

from ui.shell.panels import show_picture
from vae.models.interface import LatentModel, is_text
from vae.pictures import grid_picture, picture

SENTENCE_STYLE = (
    "border-left: 3px solid #9aa5b1; padding: 0.15rem 0.6rem; margin: 0.1rem 0 0.35rem 0; "
    "font-family: Georgia, serif; font-size: 1.02rem"
)


def item_text(vae: LatentModel, ids: torch.Tensor, source: str | None = None) -> str:
    """A row of token ids as a sentence; with `source` (the sentence it was read from) an
    unknown word shows as «word»."""
    text = vae.vocabulary.decode(torch.as_tensor(ids).reshape(-1).tolist(), source)
    return text or "(empty sentence)"


def sentence_html(text: str) -> str:
    return f'<div style="{SENTENCE_STYLE}">{html.escape(text)}</div>'


def show_sentence(where, text: str, caption: str | None = None) -> None:
    """One sentence as a quoted block, with a small caption under it."""
    where.markdown(sentence_html(text), unsafe_allow_html=True)
    if caption:
        where.caption(caption)


def show_item(
    where,
    vae: LatentModel,
    item: torch.Tensor,
    size: int = 160,
    caption: str | None = None,
    source: str | None = None,
    width=None,
) -> None:
    """One item: an image (C, H, W) as a picture `size` pixels high, or a row of ids as a sentence."""
    if is_text(vae):
        show_sentence(where, item_text(vae, item, source), caption)
        return
    kwargs = {"caption": caption, "output_format": "PNG"}
    if width is not None:
        kwargs["width"] = width
    show_picture(where, picture(item, size), **kwargs)


def show_items(
    where,
    vae: LatentModel,
    items: torch.Tensor,
    ncols: int = 8,
    caption: str | None = None,
    target: int = 64,
    sources: list[str] | None = None,
    numbered: bool = True,
    width=None,
) -> None:
    """Several items: an image grid of `ncols` columns, or a (numbered) list of sentences."""
    if is_text(vae):
        texts = [item_text(vae, row, None if sources is None else sources[i]) for i, row in enumerate(items)]
        lines = "".join(f"<li>{html.escape(t)}</li>" if numbered else f"<div>{html.escape(t)}</div>" for t in texts)
        tag = "ol" if numbered else "div"
        where.markdown(f'<{tag} style="{SENTENCE_STYLE}">{lines}</{tag}>', unsafe_allow_html=True)
        if caption:
            where.caption(caption)
        return
    kwargs = {"caption": caption, "output_format": "PNG"}
    if width is not None:
        kwargs["width"] = width
    show_picture(where, grid_picture(items, ncols=ncols, target=target), **kwargs)


def data_item(data, index: int) -> tuple[torch.Tensor, str | None]:
    """Dataset item `index` and, for text, the sentence it was read from (unknown words visible)."""
    return data.images[index], (data.texts[index] if data.modality == "text" else None)


def thumbnails(
    vae: LatentModel,
    items: torch.Tensor,
    captions: list[str],
    per_row: int = 4,
    target: int = 64,
    sources: list[str] | None = None,
) -> None:
    """Small images with captions in rows, or sentences each with its caption."""
    if is_text(vae):
        for i, (row, caption) in enumerate(zip(items, captions)):
            show_sentence(st, item_text(vae, row, None if sources is None else sources[i]), caption)
        return
    for start in range(0, len(items), per_row):
        columns = st.columns(per_row)
        for column, image, caption in zip(columns, items[start : start + per_row], captions[start : start + per_row]):
            show_picture(column, picture(image, target), caption=caption, output_format="PNG")
