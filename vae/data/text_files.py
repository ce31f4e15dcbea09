"""Sentences from text files: a `.txt` file (one sentence per line), a folder of them (one
label per file), and the Penn Treebank and Yelp files of the text-VAE papers (fetched by
`python -m vae.download ptb|yelp`, see `vae.data.fetch`).

Each gives a text Dataset whose ids are not yet filled in (see `vae.data.text_corpus`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from vae.data.datasets import Dataset, default_data_dir
from vae.data.text_corpus import MAX_SENTENCE_LENGTH, text_dataset
from vae.data.vocabulary import cut_to_tokens, tokenize
from vae.errors import DatasetError

MAX_TOKENS = MAX_SENTENCE_LENGTH - 1  # a sentence's tokens, leaving room for <eos>
SPLIT_FILES = {  # a corpus's files in the order they are read: training, validation, test
    "ptb": ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"),
    "yelp": ("yelp.train.txt", "yelp.valid.txt", "yelp.test.txt"),
}


def read_lines(path: Path) -> list[str]:
    """The non-blank lines of a UTF-8 text file, stripped. Raises DatasetError for a file that
    is not text."""
    data = path.read_bytes()
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "a NUL byte")
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"{path.name} is not a text file: give UTF-8 text, one sentence per line") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _cut(lines: list[str]) -> tuple[list[str], int]:
    """Lines cut to MAX_TOKENS tokens, and how many were longer."""
    cut = [cut_to_tokens(line, MAX_TOKENS) for line in lines]
    return cut, sum(1 for before, after in zip(lines, cut) if after is not before)


def load_text_file(path: Path, spec: str) -> Dataset:
    """A .txt file, one sentence per line (blank lines skipped, long ones cut); no labels."""
    texts, long_lines = _cut(read_lines(path))
    if not texts:
        raise DatasetError(f"{path.name} holds no sentences: give one sentence per line")
    return text_dataset(spec, texts, None, [], long_lines=long_lines)


def load_text_folder(folder: Path, spec: str) -> Dataset:
    """Every .txt file of a folder, one label per file (its name without .txt, sorted); files
    that are not text are skipped and counted."""
    texts, labels, names, skipped, long_lines = [], [], [], 0, 0
    for path in text_files_in(folder):
        try:
            lines, cut = _cut(read_lines(path))
        except DatasetError:
            skipped += 1
            continue
        if not lines:
            continue
        texts += lines
        labels += [len(names)] * len(lines)
        names.append(path.stem)
        long_lines += cut
    if not texts:
        raise DatasetError(f"the .txt files in {folder} hold no sentences: give one sentence per line")
    return text_dataset(spec, texts, labels, names, skipped_files=skipped, long_lines=long_lines)


def text_files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".txt")


def is_text_folder(folder: Path) -> bool:
    """A folder of .txt files with no sub-folders (a folder of images has one per class)."""
    return bool(text_files_in(folder)) and not any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir())


def find_corpus_folder(name: str, data_dir: str | os.PathLike | None) -> Path:
    """DATA_DIR/NAME (or DATA_DIR itself when it is named NAME) holding NAME's files."""
    root = Path(data_dir) if data_dir else default_data_dir()
    for folder in (root, root / name) if root.name == name else (root / name,):
        if any((folder / file).is_file() for file in SPLIT_FILES[name]):
            return folder
    raise DatasetError(
        f"no {name} files ({', '.join(SPLIT_FILES[name])}) in {root / name}: run "
        f"`python -m vae.download {name} --data-dir {root}` (needs internet), or point --data-dir / "
        f"VAE_DATA_DIR at the folder that holds {name}/"
    )


def load_ptb(data_dir: str | os.PathLike | None = None) -> Dataset:
    """Mikolov's Penn Treebank sentences (training, validation then test file; lower-case,
    numbers as N, rare words as <unk>) of at most MAX_TOKENS tokens; no labels."""
    folder = find_corpus_folder("ptb", data_dir)
    texts, long_lines = [], 0
    for name in SPLIT_FILES["ptb"]:
        if (folder / name).is_file():
            for line in read_lines(folder / name):
                if len(tokenize(line)) > MAX_TOKENS:
                    long_lines += 1
                else:
                    texts.append(line)
    return text_dataset("ptb", texts, None, [], long_lines=long_lines, options=_options(data_dir))


def load_yelp(data_dir: str | os.PathLike | None = None) -> Dataset:
    """Yelp reviews as in Yang et al. 2017 (lines `label<TAB>review`, the review lower-case and
    tokenised, rare words as _UNK) of at most MAX_TOKENS tokens, labelled by star rating."""
    folder = find_corpus_folder("yelp", data_dir)
    texts, ratings, long_lines = [], [], 0
    for name in SPLIT_FILES["yelp"]:
        if not (folder / name).is_file():
            continue
        for number, line in enumerate(read_lines(folder / name), 1):
            rating, tab, review = line.partition("\t")
            if not tab or not rating.strip().isdigit():
                raise DatasetError(
                    f"{name} line {number} is not `stars<TAB>review`: is it the Yelp file of the text-VAE papers?"
                )
            review = re.sub(r"\b_UNK\b", "<unk>", review.strip())
            if len(tokenize(review)) > MAX_TOKENS:
                long_lines += 1
                continue
            texts.append(review)
            ratings.append(int(rating))
    values = sorted(set(ratings))
    labels = [values.index(r) for r in ratings]
    return text_dataset(
        "yelp", texts, labels, [_stars(v, values) for v in values], long_lines=long_lines, options=_options(data_dir)
    )


def _stars(value: int, values: list[int]) -> str:
    """A rating's name: the files may count stars from 0 (0-4) or from 1 (1-5)."""
    stars = value + 1 if min(values) == 0 else value
    return f"{stars} star" if stars == 1 else f"{stars} stars"


def _options(data_dir: str | os.PathLike | None) -> dict:
    return {"data_dir": str(data_dir)} if data_dir else {}
