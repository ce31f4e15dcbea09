"""Which models can be compared: those that can be scored on the same images (the same image
shape and held-out images in common, found by their content, so a bundle's data sample meets
the checkpoint it came from); and the training knobs the Compare page shows beside each."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from vae.analysis.compare import HeldOutImages, image_keys
from vae.data.datasets import BUILTIN
from vae.errors import DatasetError
from vae.opened.info import ModelInfo
from vae.opened.opening import OpenedModel


def index_space(info: ModelInfo) -> tuple | None:
    """Models with the same index space number the same images the same way: the same dataset
    spec and options (not the folder it was read from) and image shape. None for a model that
    names no data or carries a data sample of its own (a bundle's)."""
    if info.data is None or info.data.sample is not None:
        return None
    spec, options = info.data.identity
    return spec, options, tuple(info.image_shape)


def held_out_images(opened: OpenedModel) -> HeldOutImages:
    """The model's held-out images, sorted by dataset index, with their content keys. Loads its
    data: raises DatasetError when the data is not here."""
    data = opened.data()
    index = torch.sort(data.held_idx).values
    return HeldOutImages(index.numpy(), image_keys(data.dataset.images[index]), index_space(opened.info))


def incompatibility(
    reference: OpenedModel,
    other: OpenedModel,
    held_out: Callable[[OpenedModel], HeldOutImages] = held_out_images,
) -> str | None:
    """Why `other` cannot be scored on the same held-out images as `reference`, or None if it
    can. The descriptions decide where they can (image shape; one index space: the recorded
    splits; two different built-in datasets); otherwise `held_out` loads both models' held-out
    images and they must have some in common."""
    mine, theirs = reference.info, other.info
    if theirs.data is None:
        return "names no data"
    if mine.data is None:
        return f"{mine.name} names no data"
    if theirs.modality != mine.modality:
        return f"a {theirs.modality} model, not a {mine.modality} model"
    if theirs.is_text and theirs.image_shape != mine.image_shape:
        return f"sentences of up to {theirs.image_shape[0] - 1} words, not {mine.image_shape[0] - 1}"
    if tuple(theirs.image_shape) != tuple(mine.image_shape):
        return f"images of {_shape(theirs.image_shape)}, not {_shape(mine.image_shape)}"
    space, my_space = index_space(theirs), index_space(mine)
    if space is not None and space == my_space:  # the fast path: the same images under the same numbers
        held, my_held = theirs.split.held_out_indices, mine.split.held_out_indices
        if held is not None and my_held is not None and not np.intersect1d(held, my_held).size:
            return f"shares no held-out images with {mine.name} (another split)"
        return None
    if (
        space is not None
        and my_space is not None
        and space[0] != my_space[0]
        and {space[0], my_space[0]} <= set(BUILTIN)
    ):
        return f"trained on {space[0]}, not {my_space[0]}"  # two built-in datasets share no image
    try:
        their_images = held_out(other)
    except DatasetError as err:
        return f"its data is not here to look for shared images ({err})"
    try:
        my_images = held_out(reference)
    except DatasetError:
        return f"the data of {mine.name} is not here to look for shared images"
    if not np.intersect1d(their_images.keys, my_images.keys).size:
        return f"shares no held-out images with {mine.name}"
    return None


def _shape(shape: tuple[int, ...]) -> str:
    """8×8 for one channel, 3×64×64 for more."""
    return "×".join(str(s) for s in (shape[1:] if shape[0] == 1 else shape))


def training_knobs(info: ModelInfo) -> dict[str, float | None]:
    """β, KL warm-up (epochs) and free bits (nats per dimension) a model was trained with:
    None each for a model trained elsewhere (a bundle)."""
    training = info.training
    if training is None:
        return {"beta": None, "warmup": None, "free_bits": None}
    return {"beta": training.beta, "warmup": training.warmup_epochs, "free_bits": training.free_bits}
