"""Text data for a sentence VAE: the vocabulary of the training split and the token ids.

The vocabulary is built from the training sentences alone, so a held-out sentence may hold
words the model has never seen (they become <unk>, as they would for any new sentence)."""

from __future__ import annotations

from dataclasses import replace

import torch

from vae.data.datasets import Dataset
from vae.data.vocabulary import Vocabulary, tokenize
from vae.errors import TrainingError


def is_text_data(data: Dataset) -> bool:
    return getattr(data, "modality", "image") == "text"


def sentence_length(data: Dataset) -> int:
    """Ids per row: the longest sentence's words and its <eos>."""
    return max((len(tokenize(t)) for t in data.texts), default=0) + 1


def training_vocabulary(data: Dataset, train_idx: torch.Tensor, min_count: int) -> Vocabulary:
    """The words seen at least `min_count` times in the training split's sentences."""
    vocabulary = Vocabulary.build((tokenize(data.texts[i]) for i in train_idx.tolist()), min_count=min_count)
    if len(vocabulary) < 5:
        raise TrainingError(f"no word of {data.spec} occurs {min_count} times in the training split: lower --min-count")
    return vocabulary


def with_ids(data: Dataset, vocabulary: Vocabulary, length: int) -> Dataset:
    """The dataset with its sentences as (N, length) int64 ids in `images` (kept as they are
    when they already are those ids)."""
    if data.images.dim() == 2 and data.images.shape[1] == length and data.vocabulary == vocabulary:
        return data
    return replace(data, images=vocabulary.encode_batch(data.texts, length), vocabulary=vocabulary)


def checkpoint_ids(data: Dataset, meta: dict) -> Dataset:
    """A text checkpoint's data as ids with its own vocabulary and row length; images as they are."""
    if not is_text_data(data):
        return data
    vocabulary = Vocabulary(tuple(str(w) for w in meta["vocabulary"]))
    return with_ids(data, vocabulary, int(meta["image_shape"][0]))
