"""A checkpoint trained here as a bundle (`python -m vae.bundle CKPT --out DIR`): its networks
handed to `export_bundle`, a hierarchical model's in the levels' values, with up to `sample`
of its held-out images."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vae.bundle.exporting import export_bundle
from vae.errors import BundleError, VAEError
from vae.models.interface import is_text
from vae.models.onnx_graphs import DecodeAbsoluteModule, DecodeModule, EncodeModule


class _EncodeValues(nn.Module):
    """A native hierarchical model's encoder in the levels' values, along the mean path."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor):
        return self.model.encode_absolute(image)


class _LevelPrior(nn.Module):
    """The conditional prior of level `level`: the values of the levels above -> μ_p, log σ_p²."""

    def __init__(self, model, level: int) -> None:
        super().__init__()
        self.model, self.level = model, level

    def forward(self, upper: torch.Tensor):
        return self.model.conditional_prior(self.level, upper)


def bundle_from_checkpoint(checkpoint: str | Path, out: str | Path, sample: int = 2000) -> Path:
    """A native checkpoint as a bundle, with up to `sample` of its held-out images when its
    data is here."""
    from vae.data.datasets import BUILTIN
    from vae.data.source import dataset_for_checkpoint
    from vae.models.checkpoints import load_checkpoint

    model, meta = load_checkpoint(checkpoint)
    if is_text(model):
        raise BundleError(
            f"{checkpoint} is a text model (a sentence VAE): bundles hold image models' ONNX graphs. "
            "Open the checkpoint itself in the app (copy it into models/)"
        )
    images = labels = factors = None
    factor_names: list[str] = []
    if sample > 0:
        try:
            data, _, held_idx = dataset_for_checkpoint(meta)
        except VAEError as err:
            print(f"note: no data sample ({err})", file=sys.stderr)
        else:
            index = held_idx[:sample]
            images = data.images[index]
            labels = data.labels[index] if data.labels is not None else None
            factors = data.factors[index] if data.factors is not None else None
            factor_names = list(data.factor_names)
    spec = meta["dataset"]["spec"]
    gaussian = model.likelihood == "gaussian"
    levels = getattr(model, "levels", None) or ()
    if len(levels) > 1:  # networks in the levels' values; the browser composes priors and decoder
        networks = {
            "encoder": _EncodeValues(model).eval(),
            "decoder": DecodeAbsoluteModule(model).eval(),
            "levels": [(level.name, level.size) for level in levels],
            "prior": [_LevelPrior(model, i).eval() for i in range(1, len(levels))],
        }
    else:
        networks = {"encoder": EncodeModule(model).eval(), "decoder": DecodeModule(model).eval()}
    return export_bundle(
        out,
        **networks,
        image_shape=model.image_shape,
        dataset=spec if spec in BUILTIN else None,
        likelihood=model.likelihood,
        sigma=float(model.log_scale.clamp(min=float(np.log(1e-3))).exp()) if gaussian else None,
        num_classes=model.num_classes,
        label_names=meta.get("label_names") or None,
        upload_style=meta.get("upload_style"),
        sample_images=images,
        sample_labels=labels,
        sample_factors=factors,
        factor_names=factor_names,
        description=f"exported from {Path(checkpoint).name} ({model.architecture})",
    )
