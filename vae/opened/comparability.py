"""Which models can be compared (scored on the same images) and the training knobs the Compare
page shows beside each, from their descriptions alone."""

from __future__ import annotations

from vae.opened.info import ModelInfo


def data_identity(info: ModelInfo) -> tuple | None:
    """What "trained on the same data" means: dataset spec, its options (not the folder it was
    read from) and image shape; None for a model that names no data."""
    if info.data is None:
        return None
    spec, options = info.data.identity
    return spec, options, tuple(info.image_shape)


def incompatibility(reference: ModelInfo, info: ModelInfo) -> str | None:
    """Why a model cannot be compared with the reference model, or None if it can."""
    mine, theirs = data_identity(reference), data_identity(info)
    if theirs is None:
        return "names no data"
    if mine is None:
        return "the reference model names no data"
    if theirs[0] != mine[0]:
        return f"trained on {theirs[0]}, not {mine[0]}"
    if theirs[2] != mine[2]:
        return f"images of {'×'.join(map(str, theirs[2]))}, not {'×'.join(map(str, mine[2]))}"
    if theirs[1] != mine[1]:
        return f"other data options ({dict(theirs[1]) or 'defaults'} vs {dict(mine[1]) or 'defaults'})"
    return None


def training_knobs(info: ModelInfo) -> dict[str, float | None]:
    """β, KL warm-up (epochs) and free bits (nats per dimension) a model was trained with:
    None each for a model trained elsewhere (a bundle)."""
    training = info.training
    if training is None:
        return {"beta": None, "warmup": None, "free_bits": None}
    return {"beta": training.beta, "warmup": training.warmup_epochs, "free_bits": training.free_bits}
