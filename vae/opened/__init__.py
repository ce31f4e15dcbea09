"""An opened model: `open_model(path)` gives the model behind the one interface, its typed
description (`ModelInfo`) and lazy access to its data and held-out encodings."""

from vae.data.source import FitScoreSplit
from vae.opened.info import HeldOutMetrics, ModelInfo, Provenance, TrainingSetup
from vae.opened.opening import HeldOutCodes, ModelData, OpenedModel, model_changed_at, open_model, opened_bundle

__all__ = [
    "FitScoreSplit",
    "HeldOutCodes",
    "HeldOutMetrics",
    "ModelData",
    "ModelInfo",
    "OpenedModel",
    "Provenance",
    "TrainingSetup",
    "model_changed_at",
    "open_model",
    "opened_bundle",
]
