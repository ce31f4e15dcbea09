"""The decoder graph a model's live views load in the browser: a checkpoint's decoder exported
to ONNX once (then cached beside the model by content), or a bundle's own decoder.onnx; a text
model's greedy decoder with its vocabulary beside it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.live.decoding import DecoderGraph, graph_folder
from ui.shell import cache
from vae.bundle.composing import browser_decoder
from vae.bundle.format import DECODER
from vae.models.interface import is_text
from vae.models.levels import is_hierarchical
from vae.models.onnx_graphs import cached_graph, cached_vocabulary, served_copy


@st.cache_data(max_entries=16, show_spinner="Exporting the decoder for the browser (once per model)…")
def _decoder_graph(path: str, modified: float, part: str = "decoder") -> tuple[str, float, float, str | None] | None:
    found = cache.opened(Path(path))
    folder = graph_folder(Path(path).parent)
    try:
        if is_text(found.model):  # ids out, the vocabulary beside the graph for the browser's words
            if part != "decoder":
                return None
            words = cached_vocabulary(folder, found.model.vocabulary.words)
            return str(cached_graph(folder, path, found.model, part)), 0.0, 1.0, str(words)
        if not found.info.is_native:
            low, high = found.info.provenance.pixel_range
            if part == "decoder":  # a bundle's decoder (composed with its priors for levels), by content
                return str(browser_decoder(found.model, folder)), float(low), float(high), None
            if not is_hierarchical(found.model):
                return None
            # a hierarchical bundle's own decoder.onnx reads the levels' values: the absolute graph
            return str(served_copy(folder, Path(path) / DECODER)), float(low), float(high), None
        return str(cached_graph(folder, path, found.model, part)), 0.0, 1.0, None
    except Exception:  # an exporter failure on some layer: the page decodes on the server instead
        return None


def decoder_graph(path: Path, part: str = "decoder") -> DecoderGraph | None:
    """The model's decoder as an ONNX file for the browser (exported on first use, then cached
    beside the model by content), or None when it cannot be exported. `part="decoder-absolute"`:
    a hierarchical model's decoder of the levels' values (not standardised codes). A text
    model's graph decodes z to token ids and comes with its vocabulary (`DecoderGraph.vocabulary`):
    the live component then shows sentences."""
    found = _decoder_graph(str(path), cache.mtime(path), part)
    if found is None or not Path(found[0]).is_file() or (found[3] is not None and not Path(found[3]).is_file()):
        return None
    return DecoderGraph(Path(found[0]), (found[1], found[2]), None if found[3] is None else Path(found[3]))
