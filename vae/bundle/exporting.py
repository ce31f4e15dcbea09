"""Writing a bundle: `export_bundle` for any pair of PyTorch modules (a checkpoint trained here:
vae.bundle.from_checkpoint). See vae.bundle for the format."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vae.bundle.checks import check_manifest
from vae.bundle.format import (
    DECODER,
    ENCODER,
    FORMAT,
    FORMAT_VERSION,
    LEVELS_FORMAT_VERSION,
    MANIFEST,
    MAX_SAMPLE_BYTES,
    MAX_SAMPLE_IMAGES,
    SAMPLE,
    prior_graph,
)
from vae.bundle.module_checks import check_graph, image_batch, labels_for, probe_modules, probe_priors
from vae.data.datasets import class_names
from vae.errors import BundleError


class _Labelled(nn.Module):
    """Fixes a network's input names and makes the label explicit (None when unconditional)."""

    def __init__(self, network: nn.Module, conditional: bool) -> None:
        super().__init__()
        self.network, self.conditional = network, conditional

    def forward(self, first: torch.Tensor, label: torch.Tensor | None = None):
        return self.network(first, label) if self.conditional else self.network(first)


def export_bundle(
    folder: str | Path,
    *,
    encoder: nn.Module,
    decoder: nn.Module,
    image_shape: tuple[int, int, int],
    pixel_range: tuple[float, float] = (0.0, 1.0),
    dataset: str | None = None,
    likelihood: str = "bernoulli",
    sigma: float | None = None,
    num_classes: int = 0,
    label_names: list[str] | None = None,
    upload_style: dict | None = None,
    sample_images: np.ndarray | torch.Tensor | None = None,
    sample_labels: np.ndarray | torch.Tensor | None = None,
    sample_factors: np.ndarray | torch.Tensor | None = None,
    factor_names: list[str] | None = None,
    description: str = "",
    levels: list[tuple[str, int]] | None = None,
    prior: nn.Module | list[nn.Module] | None = None,
) -> Path:
    """Write a bundle folder (created if needed; its files replaced). Raises BundleError with
    a one-line reason, before anything is written, when the manifest would not open in the app
    (the checks of vae.bundle.checks: image shape, pixel range, likelihood, a `dataset` that is
    not built in), when a module is in training mode, random, of the wrong shape, or when an
    exported graph does not compute what its module does. `dataset` names a built-in dataset
    (digits, sprites, mnist, fashion-mnist); other data travels as a sample: `sample_images`,
    (N, C, H, W) in [0, 1] (floats) or 0-255 (uint8), with `sample_labels`. `sigma` is the
    Gaussian likelihood's σ in `pixel_range` units.

    A hierarchical VAE: `levels` [(name, size), ...], the top level first; the encoder returns
    (mu, logvar) of all levels' values concatenated (along the mean path, as the model computes
    them), the decoder takes all levels' values, and `prior` gives p(z_l | z_<l) for each
    level below the top: a module per level (a list, the second level's first), or one module
    for all of them, taking the values of the levels above, (N, their sizes summed), and
    returning (mu, logvar), each (N, the level's size). The top level's prior is N(0, I)."""
    folder = Path(folder)
    levels = [(str(n), int(s)) for n, s in levels] if levels else []
    priors = _prior_modules(levels, prior)
    for name, module in (("encoder", encoder), ("decoder", decoder), *(("prior", m) for m in priors)):
        training = [n or type(module).__name__ for n, m in module.named_modules() if m.training]
        if training:
            raise BundleError(f"the {name} is in training mode ({training[0]}): call {name}.eval() first")
    described = {
        "image_shape": list(image_shape),
        "pixel_range": list(pixel_range),
        "likelihood": likelihood,
        "sigma": sigma if likelihood == "gaussian" else None,
        "num_classes": num_classes,
        "dataset": dataset,
    }
    described["levels"] = levels
    declared = sum(size for _, size in levels) if levels else 1  # D is not known yet
    checked = check_manifest(folder, _manifest(**described, latent_dim=declared))  # before any module runs
    image_shape, (low, high) = tuple(checked["image_shape"]), checked["pixel_range"]
    num_classes = checked["num_classes"]
    conditional = num_classes > 0
    described.update(image_shape=list(image_shape), pixel_range=[low, high], num_classes=num_classes)
    arrays = _sample_arrays(sample_images, sample_labels, sample_factors, image_shape)
    latent_dim = probe_modules(encoder, decoder, image_shape, low, high, num_classes)
    if levels and declared != latent_dim:
        raise BundleError(
            f"the levels' sizes {[size for _, size in levels]} add up to {declared}, "
            f"but the encoder returns {latent_dim} dimensions"
        )
    probe_priors(priors, levels)
    manifest = _manifest(
        **described,
        latent_dim=latent_dim,
        description=description,
        label_names=class_names(label_names, num_classes),
        upload_style=dict(upload_style or {}),
        sample=None if arrays is None else {**_sample_entry(arrays), "factor_names": list(factor_names or [])},
    )
    manifest = check_manifest(folder, manifest)  # as the app will read it back
    if len(levels) <= 1:  # a flat bundle's manifest as before levels: any version-1 reader opens it
        del manifest["levels"]
    if folder.exists() and not folder.is_dir():
        raise BundleError(f"{folder} is a file, not a folder: choose another place for the bundle")
    encoder_graph = _export(
        _Labelled(encoder, conditional), image_batch(image_shape, low, high, 2), "image", ["mu", "logvar"], num_classes
    )
    decoder_graph = _export(_Labelled(decoder, conditional), torch.zeros(2, latent_dim), "z", ["image"], num_classes)
    check_graph(
        "encoder",
        encoder_graph,
        _Labelled(encoder, conditional),
        image_batch(image_shape, low, high, 5, 1),
        num_classes,
    )
    check_graph(
        "decoder",
        decoder_graph,
        _Labelled(decoder, conditional),
        torch.randn(5, latent_dim, generator=torch.Generator().manual_seed(1)),
        num_classes,
    )
    prior_graphs = []
    for index, module in enumerate(priors, start=1):
        above = sum(size for _, size in levels[:index])
        graph = _export(_Labelled(module, False), torch.zeros(2, above), "upper", ["mu", "logvar"], 0)
        upper = torch.randn(5, above, generator=torch.Generator().manual_seed(index))
        check_graph(f"prior of level {levels[index][0]!r}", graph, _Labelled(module, False), upper, 0, "upper")
        prior_graphs.append(graph)
    from vae.files import write_bytes_atomically

    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(folder / ENCODER, encoder_graph)
        write_bytes_atomically(folder / DECODER, decoder_graph)
        for stale in folder.glob("prior_*.onnx"):
            stale.unlink()
        for index, graph in enumerate(prior_graphs, start=1):
            write_bytes_atomically(folder / prior_graph(index), graph)
        _write_sample(folder, arrays)
        write_bytes_atomically(folder / MANIFEST, json.dumps(manifest, indent=2).encode())
    except OSError as err:
        raise BundleError(f"cannot write the bundle to {folder}: {err.strerror or err}") from None
    return folder


def _prior_modules(levels: list[tuple[str, int]], prior) -> list[nn.Module]:
    """One prior module per level below the top, checked against `levels` before anything runs."""
    if len(levels) <= 1:
        if prior is not None:
            raise BundleError("a prior is for a model with levels: pass levels=[(name, size), ...], the top first")
        return []
    below = len(levels) - 1
    if prior is None:
        raise BundleError(
            f"a model with {len(levels)} levels needs prior=: p(z_l | z_<l) for the {below} below the top"
        )
    priors = [prior] * below if isinstance(prior, nn.Module) else list(prior)
    if len(priors) != below or not all(isinstance(m, nn.Module) for m in priors):
        raise BundleError(
            f"prior= takes one torch module, or a list of {below} (one per level below the top), "
            f"not {len(priors)} item(s)"
        )
    return priors


def _manifest(
    *,
    image_shape: list,
    pixel_range: list,
    latent_dim: int,
    likelihood: str,
    sigma: float | None,
    num_classes: int,
    dataset: str | None,
    label_names: list[str] | None = None,
    upload_style: dict | None = None,
    sample: dict | None = None,
    description: str = "",
    levels: list[tuple[str, int]] | None = None,
) -> dict:
    """The manifest.json a bundle of these fields has (vae.bundle.checks reads it back)."""
    levels = levels or []
    graphs: dict = {"encoder": ENCODER, "decoder": DECODER}
    if len(levels) > 1:
        graphs["priors"] = [prior_graph(i) for i in range(1, len(levels))]
    return {
        "format": FORMAT,
        "format_version": LEVELS_FORMAT_VERSION if len(levels) > 1 else FORMAT_VERSION,
        "description": description,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "image_shape": image_shape,
        "pixel_range": pixel_range,
        "latent_dim": latent_dim,
        "likelihood": likelihood,
        "sigma": sigma,
        "num_classes": num_classes,
        "label_names": label_names or [],
        "dataset": dataset,
        "upload_style": upload_style or {},
        "sample": sample,
        **({"levels": [{"name": name, "size": size} for name, size in levels]} if levels else {}),
        "graphs": graphs,
        "exported_with": {"torch": torch.__version__, "onnx": _onnx().__version__},
    }


def _onnx():
    import onnx

    return onnx


def _export(module: nn.Module, first: torch.Tensor, first_name: str, outputs: list[str], num_classes: int) -> bytes:
    from vae.models.onnx_graphs import export_module

    args = (first, labels_for(len(first), num_classes)) if num_classes else (first,)
    names = [first_name, "label"] if num_classes else [first_name]
    return export_module(module, args, names, outputs)


def _sample_arrays(images, labels, factors, image_shape) -> dict | None:
    """The sample as the arrays data.npz holds, checked before anything is written."""
    if images is None:
        return None
    images = torch.as_tensor(images)
    if images.dtype != torch.uint8:
        images = (images.float().clamp(0, 1) * 255).round().to(torch.uint8)
    if images.dim() != 4 or tuple(images.shape[1:]) != image_shape:
        raise BundleError(f"sample images have shape {tuple(images.shape[1:])}; the model's is {image_shape}")
    limit = min(MAX_SAMPLE_IMAGES, MAX_SAMPLE_BYTES // max(int(np.prod(image_shape)), 1))
    arrays = {"images": images[:limit].numpy()}
    count = len(arrays["images"])
    for key, values, dtype in (("labels", labels, torch.long), ("factors", factors, torch.float32)):
        if values is not None:
            values = torch.as_tensor(values)[:count].to(dtype)
            if len(values) != count or (key == "factors" and values.dim() != 2):
                raise BundleError(f"sample {key} must give one row per sample image")
            arrays[key] = values.numpy()
    return arrays


def _sample_entry(arrays: dict) -> dict:
    """The manifest's `sample` entry for these arrays."""
    return {
        "file": SAMPLE,
        "num_examples": len(arrays["images"]),
        "labels": "labels" in arrays,
        "factors": "factors" in arrays,
    }


def _write_sample(folder: Path, arrays: dict | None) -> None:
    (folder / SAMPLE).unlink(missing_ok=True)
    if arrays is None:
        return
    from vae.files import write_atomically

    write_atomically(folder / SAMPLE, lambda handle: np.savez_compressed(handle, **arrays))
