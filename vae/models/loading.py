"""Any model the app opens: a checkpoint file (`.pt`, the native VAE) or a bundle folder (ONNX
graphs and a manifest). Both come back as (model, meta), the model behind the one interface."""

from __future__ import annotations

import os
from pathlib import Path

from vae.models.interface import LatentModel


def load_model(path: str | os.PathLike) -> tuple[LatentModel, dict]:
    """Raises CheckpointError (BundleError for a bundle) with a one-line reason."""
    path = Path(path)
    if path.is_dir():
        from vae.models.bundled import load_bundle

        return load_bundle(path)
    from vae.models.checkpoints import load_checkpoint

    return load_checkpoint(path)


def is_native(meta: dict) -> bool:
    """Whether the model was trained here (a checkpoint: history, training setup, resumable)."""
    return meta.get("kind") != "bundle"
