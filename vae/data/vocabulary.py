"""Words to token ids and back: the tokeniser and the vocabulary of a text model.

A sentence is lower-cased and split into words, numbers and punctuation marks; the
vocabulary holds the words seen often enough in the training split, after four special
tokens. A sentence becomes a row of ids: its words, then <eos>, then <pad> up to the row
length; a word outside the vocabulary becomes <unk>, and the text shows it as «word» so an
unknown word stays visible.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import torch

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
# A word, a number, or a punctuation mark; also "<unk>" (an unknown word in PTB and Yelp files)
# and a clitic standing alone as in PTB ("it 's", "do n't"), each kept as one token.
_WORD = re.compile(r"<unk>|'(?:s|re|ve|ll|d|m)\b|[a-z0-9]+(?:'[a-z]+)*|[^\sa-z0-9]")


def tokenize(sentence: str) -> list[str]:
    """Lower-case words (with inner apostrophes), numbers and single punctuation marks."""
    return _WORD.findall(sentence.lower())


def detokenize(words: Iterable[str]) -> str:
    """Words joined by spaces, with no space before closing punctuation."""
    text = re.sub(r" (n't)\b", r"\1", " ".join(words))
    return re.sub(r" ([.,!?;:)\]}'])", r"\1", re.sub(r"([(\[{]) ", r"\1", text))


@dataclass(frozen=True)
class Vocabulary:
    """`words[i]` is the word of id i; the first four are SPECIALS."""

    words: tuple[str, ...]

    def __post_init__(self) -> None:
        if tuple(self.words[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        object.__setattr__(self, "_ids", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def build(cls, sentences: Iterable[list[str]], min_count: int = 2, max_size: int | None = None) -> Vocabulary:
        """The words of tokenised `sentences` seen at least `min_count` times, most frequent
        first (ties alphabetically, so the same sentences always give the same ids)."""
        counts = Counter(word for words in sentences for word in words)
        kept = sorted(
            (w for w, c in counts.items() if c >= min_count and w not in SPECIALS), key=lambda w: (-counts[w], w)
        )
        if max_size is not None:
            kept = kept[: max(0, max_size - len(SPECIALS))]
        return cls((*SPECIALS, *kept))

    def id_of(self, word: str) -> int:
        return self._ids.get(word, UNK)

    def unknown_words(self, sentence: str) -> list[str]:
        """The words of `sentence` the model reads as <unk>."""
        return [w for w in tokenize(sentence) if w not in self._ids]

    def encode(self, sentence: str | list[str], length: int) -> list[int]:
        """Ids of the sentence's words, <eos>, then <pad> to `length`; words past length − 1 are cut."""
        words = tokenize(sentence) if isinstance(sentence, str) else sentence
        ids = [self.id_of(w) for w in words[: length - 1]] + [EOS]
        return ids + [PAD] * (length - len(ids))

    def encode_batch(self, sentences: Iterable[str | list[str]], length: int) -> torch.Tensor:
        """(N, length) int64 token ids."""
        return torch.tensor([self.encode(s, length) for s in sentences], dtype=torch.int64).reshape(-1, length)

    def decode(self, ids: Iterable[int], source: str | None = None) -> str:
        """The sentence of a row of ids, up to its first <eos>. With `source` (the sentence the
        ids were encoded from), an <unk> shows the word it replaced as «word»."""
        originals = tokenize(source) if source is not None else None
        words = []
        for position, i in enumerate(int(i) for i in ids):
            if i in (EOS, PAD):
                break
            if i == BOS:
                continue
            if i == UNK:
                replaced = originals[position] if originals is not None and position < len(originals) else None
                words.append(f"«{replaced}»" if replaced and replaced != "<unk>" else "<unk>")
            else:
                words.append(self.words[i] if 0 <= i < len(self.words) else "<unk>")
        return detokenize(words)

    def decode_batch(self, rows: torch.Tensor) -> list[str]:
        return [self.decode(row.tolist()) for row in rows]

    def to_list(self) -> list[str]:
        """What a checkpoint stores (plain strings: read back with weights_only)."""
        return list(self.words)


def cut_to_tokens(sentence: str, count: int) -> str:
    """`sentence` up to the end of its first `count` tokens (its case kept)."""
    spans = [match.end() for match in _WORD.finditer(sentence.lower())]
    if len(spans) <= count:
        return sentence
    if len(sentence.lower()) != len(sentence):  # lower-casing moved the characters: cut the tokens
        return detokenize(tokenize(sentence)[:count])
    return sentence[: spans[count - 1]]
