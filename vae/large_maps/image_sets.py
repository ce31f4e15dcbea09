"""The images a large map encodes: up to a million of them, given row by row.

A large set cannot sit in memory as float tensors (a million 64×64 sprites are 16 GB), so an
`ImageSet` hands out the rows asked for: generated sprites keep only their factor values and
render on demand; a dataset already in memory (the model's held-out images, MNIST-like IDX
files, an image folder, digits) is indexed. Each set has a short filename-safe `key` (the
store's folder name) and a `description` in words (what the Map says its points are)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import torch

from vae.data.datasets import MNIST_LIKE, Dataset, load_dataset, map_subset
from vae.data.sprites import RENDERER_VERSION, SHAPES, draw_factors, render
from vae.errors import DatasetError

if TYPE_CHECKING:
    from vae.opened import OpenedModel

MAX_IMAGES = 1_000_000  # what the Map is built to show
HELD_OUT = "held-out"


@runtime_checkable
class ImageSet(Protocol):
    """N images, handed out by row. `labels` (N,) int or None; `source` says how to make the
    same images again (recorded in the store, compared when a run resumes)."""

    key: str
    description: str
    image_shape: tuple[int, int, int]
    labels: np.ndarray | None
    label_names: list[str]
    source: dict

    def __len__(self) -> int: ...

    def images(self, rows: np.ndarray) -> torch.Tensor:
        """Rows (n,) -> images (n, C, H, W) float32 in [0, 1]."""
        ...


@dataclass(frozen=True, eq=False)  # an array field: compared by identity
class SpriteSet:
    """`count` sprites drawn as `make_sprites(count, size, seed)` draws them (row i is its
    image i), rendered only when asked for: memory is the factors (40 bytes a row)."""

    count: int
    size: int
    seed: int
    description: str = ""
    factors: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        factors = draw_factors(self.count, self.seed)
        factors.setflags(write=False)
        object.__setattr__(self, "factors", factors)
        if not self.description:
            object.__setattr__(self, "description", f"{self.count:,} generated sprites (seed {self.seed})")

    @property
    def key(self) -> str:
        return f"sprites-n{self.count}-s{self.size}-seed{self.seed}"

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, self.size, self.size)

    @property
    def labels(self) -> np.ndarray:
        return self.factors[:, 0].astype(np.int64)

    @property
    def label_names(self) -> list[str]:
        return list(SHAPES)

    @property
    def source(self) -> dict:
        return {"spec": "sprites", "n": self.count, "size": self.size, "seed": self.seed, "renderer": RENDERER_VERSION}

    def __len__(self) -> int:
        return self.count

    def images(self, rows: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(render(self.factors[np.asarray(rows)], self.size)).unsqueeze(1)


@dataclass(frozen=True, eq=False)
class DatasetSubset:
    """Rows `index` of a dataset held in memory: row i is dataset image `index[i]`."""

    dataset: Dataset
    index: np.ndarray  # (N,) dataset indices
    key: str
    description: str
    source: dict

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.dataset.image_shape

    @property
    def labels(self) -> np.ndarray | None:
        return None if self.dataset.labels is None else self.dataset.labels.numpy()[self.index]

    @property
    def label_names(self) -> list[str]:
        return list(self.dataset.label_names)

    def __len__(self) -> int:
        return len(self.index)

    def images(self, rows: np.ndarray) -> torch.Tensor:
        return self.dataset.images[torch.from_numpy(self.index[np.asarray(rows)])]


def image_set_from_spec(
    spec: str,
    count: int | None,
    opened: OpenedModel,
    seed: int | None = None,
    data_dir: str | os.PathLike | None = None,
) -> ImageSet:
    """The set `python -m vae.project CKPT --images SPEC [--count N] [--seed S]` names:
    `held-out` (the model's held-out images), `sprites` (COUNT freshly drawn; seed default
    `default_sprite_seed`), `digits`, `mnist`, `fashion-mnist` or a folder (IDX files, or
    images in class sub-folders, read at the model's size). A dataset gives all its images,
    or COUNT of them: the first COUNT of a fixed random order (`map_subset`), so any prefix is
    representative. Raises DatasetError when the images do not fit the model."""
    if count is not None and not 1 <= count <= MAX_IMAGES:
        raise DatasetError(f"--count must be between 1 and {MAX_IMAGES:,}, got {count:,}")
    shape = tuple(opened.info.image_shape)
    if spec == "sprites":
        return _sprites_for(opened, count, seed, shape)
    if spec == HELD_OUT:
        data = opened.data(data_dir)
        index = map_subset(data.held_idx, count or len(data.held_idx)).numpy()
        return DatasetSubset(
            data.dataset,
            index,
            f"heldout-n{len(index)}",
            f"{_how_many(len(index), len(data.held_idx), 'held-out images of the model')}, none seen in training",
            {"spec": HELD_OUT, "n": len(index)},
        )
    found_in = _data_dir(spec, opened, data_dir)
    dataset = load_dataset(spec, data_dir=found_in, image_size=shape[1], channels=shape[0])
    check_shape(dataset.image_shape, shape, spec)
    index = map_subset(torch.arange(len(dataset)), count or len(dataset)).numpy()
    name = spec if spec in (*MNIST_LIKE, "digits") else _folder_name(dataset.spec)
    return DatasetSubset(
        dataset,
        index,
        f"{name}-n{len(index)}",
        _how_many(len(index), len(dataset), f"images of {spec if name == spec else dataset.spec}"),
        # where IDX files were found: the Map reads the images again from there
        {
            "spec": dataset.spec,
            "n": len(index),
            "of": len(dataset),
            **({"data_dir": str(found_in)} if found_in else {}),
        },
    )


def default_sprite_seed(opened: OpenedModel) -> int:
    """One past the seed of the model's training sprites (1 for other models): a draw apart
    from the images it trained on."""
    data = opened.info.data
    if data is not None and data.spec == "sprites":
        return int(data.options.get("seed", 0)) + 1
    return 1


def check_shape(found: tuple[int, ...], expected: tuple[int, ...], what: str) -> None:
    if tuple(found) != tuple(expected):
        raise DatasetError(
            f"the images of {what} are {_shape_words(found)}, the model reads {_shape_words(expected)}: "
            "choose images of the model's shape"
        )


def _sprites_for(opened: OpenedModel, count: int | None, seed: int | None, shape: tuple) -> SpriteSet:
    if count is None:
        raise DatasetError("--images sprites needs --count N: how many sprites to generate")
    if shape[0] != 1 or shape[1] != shape[2] or shape[1] < 8:
        raise DatasetError(f"sprites are 1×S×S images (S ≥ 8), the model reads {_shape_words(shape)}")
    seed = default_sprite_seed(opened) if seed is None else int(seed)
    data = opened.info.data
    trained = int(data.options.get("seed", 0)) if data is not None and data.spec == "sprites" else None
    if trained is None:
        about = f"seed {seed}"
    elif trained != seed:
        about = f"seed {seed}; the model trained on another draw, seed {trained}"
    else:
        about = f"seed {seed}, the training seed: the training images themselves where the counts match"
    return SpriteSet(count, shape[1], seed, f"{count:,} generated sprites ({about})")


def _data_dir(spec: str, opened: OpenedModel, data_dir: str | os.PathLike | None):
    """The given folder, else VAE_DATA_DIR, else where the model's own data of this name was."""
    data = opened.info.data
    recorded = data.options.get("data_dir") if data is not None and data.spec == spec else None
    return data_dir or os.environ.get("VAE_DATA_DIR") or recorded


def _folder_name(path: str) -> str:
    """A folder's name, made filename-safe, and a digest of its full path (two folders named
    `test` must not share a store)."""
    name = re.sub(r"[^A-Za-z0-9._]+", "_", Path(path).name)[:32].strip("._") or "folder"
    return f"{name}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"


def _how_many(count: int, of: int, what: str) -> str:
    """ "all 359 WHAT" or "2,000 of the 4,000 WHAT (a fixed random subset)"."""
    return f"all {count:,} {what}" if count == of else f"{count:,} of the {of:,} {what} (a fixed random subset)"


def _shape_words(shape: tuple[int, ...]) -> str:
    return "×".join(str(int(s)) for s in shape) + " images"


def image_set_from_source(source: dict, opened: OpenedModel, data_dir: str | os.PathLike | None = None) -> ImageSet:
    """The image set a store's `meta.source` records, made again (the Map shows its images):
    the same sprites, the same held-out subset or the same subset of a dataset."""
    spec, count = str(source.get("spec", "")), int(source.get("n", 0)) or None
    if spec == "sprites":
        return SpriteSet(int(source["n"]), int(source["size"]), int(source["seed"]))
    recorded = source.get("data_dir")  # a folder set is found by its recorded full path
    return image_set_from_spec(spec, count, opened, data_dir=data_dir or recorded)
