"""One `.pt` file per model: format tag and version, model config, weights and metadata.

The model is rebuilt from the file alone. Files are read with `weights_only=True`, so a
file that carries pickled code is refused and nothing in it runs; files are written to a
temporary name and renamed, so a reader never sees half a file and a crash keeps the last
good checkpoint.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch

from vae.data.vocabulary import Vocabulary
from vae.errors import CheckpointError
from vae.files import write_atomically
from vae.models.build import NativeModel, build_model, config_from_dict
from vae.models.interface import is_text

FORMAT = "vae-latent-explorer"
FORMAT_VERSION = 1


def save_checkpoint(
    path: str | os.PathLike,
    model: NativeModel,
    meta: dict,
    optimizer_state: dict | None = None,
    half_weights: bool = False,
) -> Path:
    """Write atomically (temporary file in the same folder, fsync, rename). Weights are
    stored on the CPU so a GPU-trained file loads anywhere; with `half_weights`, floating-point
    ones as float16 (loading copies them into the float32 model)."""
    path = Path(path)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "state_dict": {
            k: _stored(v.detach().to("cpu", memory_format=torch.contiguous_format, copy=True), half_weights)
            for k, v in model.state_dict().items()
        },
        "meta": meta,
    }
    if optimizer_state is not None:
        payload["optimizer"] = optimizer_state
    try:
        write_atomically(path, lambda handle: torch.save(payload, handle))
    except (OSError, RuntimeError) as err:  # torch.save reports a failed write as RuntimeError
        reason = getattr(err, "strerror", None) or str(err).splitlines()[0][:160]
        raise CheckpointError(
            f"could not write checkpoint {path}: {reason}; any previous file there is unchanged"
        ) from None
    return path


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checked raw contents of a checkpoint file (config, state_dict, meta, optimizer)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "GLOBAL" in str(err):  # the unpickler met a reference to code and stopped there
            raise CheckpointError(
                f"{path} carries Python objects or code, which a checkpoint must not: refused, nothing in it was run"
            ) from None
        raise CheckpointError(f"{path} is not a readable checkpoint (not a PyTorch file, or corrupt)") from None
    except Exception as err:  # any parse failure of an arbitrary file means "unreadable"
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupt or truncated: {reason})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a VAE Latent Explorer checkpoint (train one with `python -m vae.train`)")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {version}; this version reads {FORMAT_VERSION}: "
            "retrain it with `python -m vae.train`"
        )
    for key in ("config", "state_dict", "meta"):
        if not isinstance(payload.get(key), dict):
            raise CheckpointError(f"{path} is incomplete: its {key!r} entry is missing")
    missing = [key for key in ("dataset", "split", "image_shape") if key not in payload["meta"]]
    if missing:
        raise CheckpointError(f"{path} is incomplete: its metadata lacks {', '.join(missing)} (retrain it)")
    return payload


def round_to_half(model: torch.nn.Module) -> None:
    """Round every floating-point weight and buffer to the nearest float16 value, in place
    (they stay float32): the model as `save_checkpoint(..., half_weights=True)` stores it.
    Raises ValueError, changing nothing, if a value lies beyond float16's range (±65504)."""
    tensors = [t for t in [*model.parameters(), *model.buffers()] if t.is_floating_point()]
    if any(not torch.isfinite(t.half()).all() for t in tensors if torch.isfinite(t).all()):
        raise ValueError("a weight lies beyond float16's range (±65504): store this model in float32")
    with torch.no_grad():
        for tensor in tensors:
            tensor.copy_(tensor.half())


def _stored(tensor: torch.Tensor, half_weights: bool) -> torch.Tensor:
    return tensor.half() if half_weights and tensor.is_floating_point() else tensor


def model_from_payload(payload: dict, path: str | os.PathLike = "checkpoint") -> NativeModel:
    try:
        config = config_from_dict(payload["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path} has an invalid model config: {err}") from None
    model = build_model(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as err:
        first = str(err).splitlines()[1].strip() if len(str(err).splitlines()) > 1 else str(err)
        raise CheckpointError(f"{path}: its weights don't match its model config ({first[:160]})") from None
    if is_text(model):
        words = payload["meta"].get("vocabulary")
        if not isinstance(words, list) or len(words) != model.config.vocab_size:
            raise CheckpointError(f"{path} is a text model without its vocabulary of {model.config.vocab_size} words")
        model.vocabulary = Vocabulary(tuple(str(w) for w in words))
    return model


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[NativeModel, dict]:
    """(model in eval mode on `device`, meta). Raises CheckpointError with a one-line reason."""
    payload = read_checkpoint(path)
    model = model_from_payload(payload, path).to(device)
    model.eval()
    return model, payload["meta"]
