"""What every Analyze tab receives: the model, its data and the analysed held-out codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.shell import cache
from vae.data.datasets import Dataset
from vae.data.source import FitScoreSplit
from vae.errors import DatasetError
from vae.models.interface import LatentModel
from vae.opened import HeldOutCodes, ModelInfo


@dataclass(frozen=True)
class AnalysisView:
    path: Path
    vae: LatentModel
    info: ModelInfo
    data: Dataset | None  # None when the model's data is not available here
    codes: HeldOutCodes | None  # the first n_points held-out encodings (the Map's numbering)
    n_points: int
    names: list[str]
    has_labels: bool  # labels with at least two classes among the analysed images
    fitting: FitScoreSplit | None  # what the tabs that fit something fit on, and what they score on
    held_idx: torch.Tensor | None


def analysis_view(path: Path, vae: LatentModel, info: ModelInfo) -> AnalysisView:
    """The model's data and the held-out codes to analyse (a sidebar slider sets how many), with
    a warning when the data is missing or too small (then only the history is analysed)."""
    try:
        data, _, held_idx = cache.data(path)
        fitting = cache.fitting(path)
    except DatasetError as err:
        st.warning(f"The model's data is not available, so only the training history is analysed. {err}")
        data, fitting, held_idx = None, None, None
    if data is not None and (len(held_idx) < 3 or min(len(fitting.fit_idx), len(fitting.score_idx)) < 2):
        st.warning(
            "This model holds out fewer than 3 images, or has fewer than 2 images to fit on or to score on: "
            "too few to analyse."
        )
        data = None
    codes, n_points, names, has_labels = None, 0, [], False
    if data is not None:
        kept = st.session_state.get("analyze_n")
        if isinstance(kept, int) and not 3 <= kept <= len(held_idx):  # chosen for a model with more images
            st.session_state["analyze_n"] = min(max(kept, 3), len(held_idx))
        n_points = (
            st.sidebar.slider("Held-out images analysed", 3, len(held_idx), min(2000, len(held_idx)), key="analyze_n")
            if len(held_idx) > 3
            else len(held_idx)
        )
        codes = cache.codes(path, n_points)
        names = data.label_names
        has_labels = codes.labels is not None and len(np.unique(codes.labels)) >= 2
    return AnalysisView(path, vae, info, data, codes, n_points, names, has_labels, fitting, held_idx)
