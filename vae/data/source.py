"""Where a model's images come from, as typed values: the dataset it names (built-in spec, a
folder, or a bundle's data sample) and its held-out split; loading them back; and which of
them an analysis fits on and which disjoint ones it scores on (`FitScoreSplit`).

A checkpoint's `meta` and a bundle's manifest both come down to a (DataSource, Split)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vae.data.datasets import Dataset, class_names, load_dataset, map_subset, split_indices
from vae.data.text_corpus import tokenised
from vae.data.vocabulary import Vocabulary
from vae.errors import DatasetError

SAMPLE_SPLIT_SEED = 0  # the fixed split of a bundle's sample into images to fit on and to score on


@dataclass(frozen=True)
class DataSource:
    """The data a model names. `num_examples` is None for a built-in dataset a bundle names
    (its standard held-out fifth is used); `sample` is a bundle's data.npz."""

    spec: str
    options: dict = field(default_factory=dict)  # load_dataset(spec, **options); may hold data_dir
    num_examples: int | None = None
    label_names: tuple[str, ...] = ()
    factor_names: tuple[str, ...] = ()
    sample: Path | None = None

    @property
    def identity(self) -> tuple:
        """What "the same data" means: spec and options, not the folder it was read from."""
        options = {k: v for k, v in self.options.items() if k != "data_dir"}
        return self.spec, tuple(sorted(options.items()))

    @classmethod
    def from_dict(cls, info: dict | None) -> DataSource | None:
        if not info:
            return None
        return cls(
            spec=str(info["spec"]),
            options=dict(info.get("options") or {}),
            num_examples=None if info.get("num_examples") is None else int(info["num_examples"]),
            label_names=tuple(str(n) for n in info.get("label_names") or ()),
            factor_names=tuple(str(n) for n in info.get("factor_names") or ()),
            sample=Path(info["sample"]) if info.get("sample") else None,
        )


@dataclass(frozen=True, eq=False)  # an array field: compared by identity
class Split:
    """Which images were held out of training: `held_out_indices` (sorted dataset indices), or
    None where the standard split of the dataset is chosen when it is loaded."""

    held_out_fraction: float = 0.2
    seed: int = 0
    held_out_indices: np.ndarray | None = None

    @classmethod
    def from_dict(cls, info: dict | None) -> Split:
        info = info or {}
        held = info.get("held_out_indices")
        if held is not None:
            held = np.asarray(torch.as_tensor(held), dtype=np.int64)
            held.setflags(write=False)
        return cls(float(info.get("held_out_fraction", 0.2)), int(info.get("seed", 0)), held)

    @property
    def held_out_count(self) -> int | None:
        return None if self.held_out_indices is None else len(self.held_out_indices)


def load_source(
    source: DataSource | None,
    split: Split,
    data_dir: str | os.PathLike | None = None,
    vocabulary: Vocabulary | None = None,
    length: int | None = None,
) -> tuple[Dataset, torch.Tensor, torch.Tensor]:
    """(dataset, train indices, held-out indices). For IDX data the folder is `data_dir`, else
    `VAE_DATA_DIR`, else the one recorded at training time. A bundle's data sample is all held
    out: no training indices. Text is tokenised with the model's `vocabulary` into rows of
    `length` ids. Raises DatasetError when the data is missing or no longer matches."""
    if source is None:
        raise DatasetError("this model carries no data and names no dataset: the pages that need data are hidden")
    if source.sample is not None:
        data = _sample_dataset(source)
        held_idx = torch.tensor(split.held_out_indices, dtype=torch.long)
        return data, torch.zeros(0, dtype=torch.long), held_idx  # the model trained on none of these
    options = dict(source.options)
    recorded_dir = options.pop("data_dir", None)
    chosen_dir = data_dir or os.environ.get("VAE_DATA_DIR") or recorded_dir
    data = load_dataset(source.spec, data_dir=chosen_dir, **options)
    if data.modality == "text" and vocabulary is not None:
        data = tokenised(data, vocabulary, length)
    if source.num_examples is None:  # a bundle that names a dataset: its standard held-out fifth
        train_idx, held_idx = split_indices(len(data), 0.2, 0)
        return data, train_idx, held_idx
    if len(data) != source.num_examples:
        raise DatasetError(
            f"the data for {source.spec!r} has {len(data)} examples, the model was trained on "
            f"{source.num_examples}: point --data-dir / VAE_DATA_DIR at the same files"
        )
    held_idx = torch.tensor(split.held_out_indices, dtype=torch.long)
    keep = torch.ones(len(data), dtype=torch.bool)
    keep[held_idx] = False
    return data, keep.nonzero().flatten(), held_idx


def dataset_for_checkpoint(
    meta: dict, data_dir: str | os.PathLike | None = None
) -> tuple[Dataset, torch.Tensor, torch.Tensor]:
    """The data a checkpoint (its `meta`) was trained on, and its (train, held-out) indices; a
    text model's sentences as rows of ids of its vocabulary, of its sentence length."""
    vocabulary, length = None, None
    if meta.get("vocabulary"):
        vocabulary, length = Vocabulary(tuple(str(w) for w in meta["vocabulary"])), int(meta["image_shape"][0])
    source, split = DataSource.from_dict(meta["dataset"]), Split.from_dict(meta.get("split"))
    return load_source(source, split, data_dir, vocabulary, length)


def _sample_dataset(source: DataSource) -> Dataset:
    """A bundle's data sample (data.npz: uint8 images, optional labels and factors)."""
    try:
        with np.load(source.sample, allow_pickle=False) as arrays:
            images = torch.from_numpy(arrays["images"]).float() / 255.0
            labels = torch.from_numpy(arrays["labels"]).long() if "labels" in arrays else None
            factors = torch.from_numpy(arrays["factors"]).float() if "factors" in arrays else None
    except Exception as err:  # checked when the bundle was opened; a file changed since then
        raise DatasetError(f"the bundle's data sample cannot be read ({type(err).__name__})") from None
    if images.dim() != 4 or len(images) != source.num_examples:
        raise DatasetError("the bundle's data sample does not match its manifest")
    names = class_names(source.label_names, int(labels.max()) + 1 if labels is not None and len(labels) else 0)
    return Dataset(source.spec, images, labels, names, factors, list(source.factor_names), options={})


@dataclass(frozen=True, eq=False)  # tensor fields: compared by identity
class FitScoreSplit:
    """Which images an analysis fits on (a probe, a reference Gaussian, a threshold, clusters, a
    mean image) and which disjoint images it scores on, with what they are in words. Both are
    sorted dataset indices; `fit_subset(n)` and `scored(n)` take the first n of a fixed random
    order of each (`map_subset`: `scored(n)` of a checkpoint are the Map's first n points)."""

    fit_idx: torch.Tensor
    score_idx: torch.Tensor
    fit_about: str  # "training images"
    score_about: str  # "held-out images"
    rule: str  # one sentence: where the two sets come from

    def __post_init__(self) -> None:
        if torch.isin(self.fit_idx, self.score_idx).any():
            raise ValueError("the images an analysis fits on must not be among those it scores on")

    def fit_subset(self, n: int) -> torch.Tensor:
        return map_subset(self.fit_idx, n)

    def scored(self, n: int) -> torch.Tensor:
        return map_subset(self.score_idx, n)

    def describe(self, n_fit: int, n_score: int) -> str:
        """ "fitted on 300 images of the bundle's data sample, scored on 300 others of it"."""
        return f"fitted on {n_fit} {self.fit_about}, scored on {n_score} {self.score_about}"


def fit_score_split(source: DataSource | None, train_idx: torch.Tensor, held_idx: torch.Tensor) -> FitScoreSplit:
    """The images analyses fit on and score on, for each kind of model: a checkpoint fits on its
    training images and scores on its held-out ones; a bundle that names a dataset, on that
    dataset's standard training part and held-out fifth; a bundle's data sample (all held
    out) is split by a fixed seed into a half to fit on and the other half to score on."""
    if source is not None and source.sample is not None:
        order = torch.randperm(len(held_idx), generator=torch.Generator().manual_seed(SAMPLE_SPLIT_SEED))
        n_fit = len(held_idx) // 2
        fit, score = held_idx[order[:n_fit]].sort().values, held_idx[order[n_fit:]].sort().values
        return FitScoreSplit(
            fit,
            score,
            "images of the bundle's data sample",
            "others of it",
            f"the bundle's data sample ({len(held_idx)} images, none trained on here) is split by a fixed "
            f"seed into {len(fit)} images to fit on and the other {len(score)} to score on",
        )
    if source is not None and source.num_examples is None:
        return FitScoreSplit(
            train_idx,
            held_idx,
            f"images of the standard training part of {source.spec}",
            "of its standard held-out fifth",
            f"{source.spec} is split as usual: analyses fit on its first four fifths and score on the held-out "
            "fifth (the bundle does not say which images the model itself was trained on)",
        )
    return FitScoreSplit(
        train_idx,
        held_idx,
        "training images",
        "held-out images",
        "analyses fit on the model's training images and score on the images it held out",
    )
