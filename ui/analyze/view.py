"""What every Analyze tab receives: the model, its data and the analysed held-out codes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ui import cache
from vae.data.datasets import Dataset
from vae.models.interface import LatentModel


@dataclass(frozen=True)
class AnalysisView:
    path: Path
    vae: LatentModel
    meta: dict
    data: Dataset | None  # None when the model's data is not available here
    codes: cache.Codes | None  # the first n_points held-out encodings (the Map's numbering)
    n_points: int
    names: list[str]
    has_labels: bool  # labels with at least two classes among the analysed images
    train_idx: torch.Tensor | None
    held_idx: torch.Tensor | None
