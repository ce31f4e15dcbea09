"""Datasets as float tensors (N, C, H, W) in [0, 1], with labels, label names and factors.

A dataset is named by a SPEC string (see `load_dataset`); the SPEC plus `Dataset.options`
rebuild the same tensors, which is how a checkpoint finds its data again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vae.data.idx import idx_image_files, labels_file_for, read_idx
from vae.data.image_folder import IMAGE_EXTENSIONS, load_image_folder
from vae.data.sprites import make_sprites
from vae.data.vocabulary import Vocabulary
from vae.errors import DatasetError

MNIST_LIKE = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
}
BUILTIN = ("digits", "sprites", *MNIST_LIKE)
TEXT_DATASETS = ("fortunes", "ptb", "yelp")  # sentences: see vae.data.text_corpus

# How an upload is made to look like the training data (see vae.data.preprocess).
DIGIT_STYLE = {"background": "dark", "fit": "mass_center", "ink_box": 20, "canvas": 28}
SMALL_DIGIT_STYLE = {"background": "dark", "fit": "mass_center", "ink_box": 8, "canvas": 8}
OBJECT_STYLE = {"background": "dark", "fit": "box", "ink_box": 28, "canvas": 28}
SHAPE_STYLE = {"background": "dark", "fit": "resize"}
PHOTO_STYLE = {"background": "keep", "fit": "resize"}


def class_names(names, count: int) -> list[str]:
    """A name for each of `count` classes: the given names, then the class numbers past them."""
    names = [str(n) for n in names or ()]
    return names + [str(k) for k in range(len(names), count)]


def label_name(label_names: list[str], value: int | None) -> str:
    """The name of class `value` ("no label" for None; the number itself past the names)."""
    if value is None:
        return "no label"
    value = int(value)
    return label_names[value] if 0 <= value < len(label_names) else str(value)


@dataclass
class Dataset:
    """Images, or for a text corpus (`modality` "text") its sentences in `texts` and their
    token ids (N, L) int64 in `images` once tokenised with `vocabulary`."""

    spec: str
    images: torch.Tensor  # (N, C, H, W) float32 in [0, 1]; text: (N, L) int64 token ids
    labels: torch.Tensor | None = None  # (N,) int64
    label_names: list[str] = field(default_factory=list)
    factors: torch.Tensor | None = None  # (N, F) float32 ground-truth generative factors
    factor_names: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)  # load_dataset(spec, **options) rebuilds it
    upload_style: dict = field(default_factory=lambda: dict(PHOTO_STYLE))
    skipped_files: int = 0
    long_lines: int = 0  # text: lines past the length limit (cut in a .txt file, left out of PTB / Yelp)
    modality: str = "image"  # "image" or "text"
    texts: list[str] = field(default_factory=list)  # text: one sentence per example
    vocabulary: Vocabulary | None = None  # text: the ids' words

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.label_names) if self.labels is not None else 0

    def __len__(self) -> int:
        return self.images.shape[0]


def default_data_dir() -> Path:
    """`VAE_DATA_DIR`, read at call time, else ./data."""
    return Path(os.environ.get("VAE_DATA_DIR") or "data")


def load_dataset(
    spec: str,
    data_dir: str | os.PathLike | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    n: int | None = None,
    seed: int = 0,
) -> Dataset:
    """Load a dataset by SPEC.

    SPEC is `digits` (scikit-learn's 8×8 digits), `sprites` (generated shapes, `n` images of
    `image_size`, default 64), `mnist` / `fashion-mnist` (IDX files under `data_dir`, its
    `mnist/` or `fashion-mnist/` sub-folder, or `VAE_DATA_DIR`), or a folder path holding IDX
    files or images in one sub-folder per class (`image_size` default 64, `channels` inferred).
    Text: `fortunes`, `ptb`, `yelp`, a `.txt` file (one sentence per line) or a folder of
    them; see `vae.data.text_corpus.load_text_dataset`.
    """
    if spec in TEXT_DATASETS or spec.lower().endswith(".txt"):
        from vae.data.text_corpus import load_text_dataset

        return load_text_dataset(spec, data_dir)
    if spec == "digits":
        return _load_digits()
    if spec == "sprites":
        size = image_size or 64
        count = n or 10_000
        sprites = make_sprites(count, size=size, seed=seed)
        return Dataset(
            spec,
            sprites.images,
            sprites.labels,
            sprites.label_names,
            sprites.factors,
            sprites.factor_names,
            options={"n": count, "image_size": size, "seed": seed},
            upload_style=dict(SHAPE_STYLE),
        )
    if spec in MNIST_LIKE:
        folder = _find_idx_folder(spec, data_dir)
        dataset = _load_idx_folder(folder, spec)
        dataset.label_names = MNIST_LIKE[spec]
        dataset.options = {"data_dir": str(data_dir)} if data_dir else {}
        dataset.upload_style = dict(DIGIT_STYLE if spec == "mnist" else OBJECT_STYLE)
        return dataset
    path = Path(spec).expanduser()
    if not path.exists() and (os.sep in spec or "/" in spec):
        raise DatasetError(f"dataset folder {spec} does not exist (moved? pass its new location)")
    if not path.exists():
        raise DatasetError(
            f"unknown dataset {spec!r}: use one of {', '.join(BUILTIN + TEXT_DATASETS)}, or a folder of IDX "
            "files, of images in one sub-folder per class, or of .txt files (one sentence per line)"
        )
    if not path.is_dir():
        raise DatasetError(
            f"dataset path {spec!r} is a file, not a folder: give the folder that holds the data (or a .txt file)"
        )
    spec = str(path.resolve())  # recorded in checkpoints: found again from any working folder
    if idx_image_files(path):
        return _load_idx_folder(path, spec)
    from vae.data.text_files import is_text_folder

    if is_text_folder(path):
        from vae.data.text_corpus import load_text_dataset

        return load_text_dataset(spec, data_dir)
    loaded = load_image_folder(path, image_size or 64, channels)
    options = {"image_size": image_size or 64}
    if channels:
        options["channels"] = channels
    return Dataset(
        spec,
        loaded.images,
        loaded.labels,
        loaded.label_names,
        options=options,
        skipped_files=loaded.skipped,
    )


def _load_digits() -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    return Dataset("digits", images, labels, [str(d) for d in range(10)], upload_style=dict(SMALL_DIGIT_STYLE))


def _find_idx_folder(name: str, data_dir: str | os.PathLike | None) -> Path:
    """DATA_DIR/NAME, or DATA_DIR itself when it is named NAME: MNIST and Fashion-MNIST use the
    same file names, so a folder of another name could hold either."""
    root = Path(data_dir) if data_dir else default_data_dir()
    for folder in (root, root / name) if root.name == name else (root / name,):
        if folder.is_dir() and idx_image_files(folder):
            return folder
    raise DatasetError(
        f"no {name} IDX files in {root / name}: run `python -m vae.download {name} --data-dir {root}` "
        f"(needs internet), point --data-dir / VAE_DATA_DIR at the folder that holds {name}/, "
        "or give the folder of IDX files itself as the dataset"
    )


def _load_idx_folder(folder: Path, spec: str) -> Dataset:
    """Every `*images-idx3-ubyte[.gz]` in the folder (train before t10k), with labels if present."""
    image_files = idx_image_files(folder)
    image_parts, label_parts = [], []
    for image_file in image_files:
        images = read_idx(image_file, expected_dims=3)
        image_parts.append(images)
        label_file = labels_file_for(image_file)
        if label_file is None:
            label_parts.append(None)
            continue
        labels = read_idx(label_file, expected_dims=1)
        if len(labels) != len(images):
            raise DatasetError(
                f"{label_file.name} has {len(labels)} labels but {image_file.name} has {len(images)} "
                "images: the two files must come from the same release"
            )
        label_parts.append(labels)
    images = torch.from_numpy(np.concatenate(image_parts).astype(np.float32) / 255.0).unsqueeze(1)
    labels = None
    if all(part is not None for part in label_parts):
        labels = torch.from_numpy(np.concatenate(label_parts).astype(np.int64))
    names = [str(i) for i in range(int(labels.max()) + 1)] if labels is not None else []
    return Dataset(
        spec, images, labels, names, upload_style=dict(DIGIT_STYLE if images.shape[-1] == 28 else PHOTO_STYLE)
    )


def split_indices(n: int, held_out_fraction: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A deterministic (train, held-out) split of range(n), each sorted."""
    if not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    n_held = max(1, round(n * held_out_fraction))
    if n_held >= n:
        raise DatasetError(f"a dataset of {n} images is too small to hold {n_held} out")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[n_held:].sort().values, order[:n_held].sort().values


__all__ = [
    "BUILTIN",
    "TEXT_DATASETS",
    "Dataset",
    "DatasetError",
    "IMAGE_EXTENSIONS",
    "default_data_dir",
    "load_dataset",
    "split_indices",
]


def map_subset(held_idx: torch.Tensor, n_points: int) -> torch.Tensor:
    """The map's points: a fixed random subset of the held-out split (so any first n are
    representative, whatever order the data came in)."""
    order = torch.randperm(len(held_idx), generator=torch.Generator().manual_seed(0))
    return held_idx[order[:n_points]]
