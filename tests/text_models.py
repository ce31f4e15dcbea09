"""Sentence VAEs for tests: a small labelled corpus (two .txt files of template sentences) and a
GRU trained on it for a few hundred steps; and hand-built models (no training) whose decoded
sentence changes often as z moves, for the browser tests."""

from __future__ import annotations

from pathlib import Path

import torch

from vae.data.datasets import load_dataset, split_indices
from vae.data.text_corpus import sentence_length_for, tokenised
from vae.data.vocabulary import Vocabulary, tokenize
from vae.models.architecture import SentenceConfig
from vae.models.checkpoints import round_to_half, save_checkpoint
from vae.models.sentence import SentenceVAE
from vae.training.config import TrainConfig, dataset_meta

ANIMALS = ["cat", "dog", "bird", "horse", "fish", "mouse"]
PLACES = ["garden", "house", "river", "field", "forest", "city"]
SHIPS = ["ship", "boat", "train", "plane", "car", "truck"]
SPEEDS = ["fast", "slow", "late", "early", "loud", "quiet"]


def write_text_corpus(folder: Path) -> Path:
    """A folder of two .txt files (labels "animals" and "vehicles"), 36 sentences each."""
    folder.mkdir(parents=True, exist_ok=True)
    animals = [f"the {a} sleeps in the {p} ." for a in ANIMALS for p in PLACES]
    vehicles = [f"my {s} is very {v} today ." for s in SHIPS for v in SPEEDS]
    (folder / "animals.txt").write_text("\n".join(animals) + "\n")
    (folder / "vehicles.txt").write_text("\n".join(vehicles) + "\n")
    return folder


def train_text_model(corpus: Path, out: Path, steps: int = 300, latent_dim: int = 4, arch: str = "gru") -> Path:
    """A sentence VAE trained on `corpus` (a folder or file of sentences) and saved as a checkpoint
    with the metadata vae.train writes (data spec, split, vocabulary)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small recurrent steps: 2 threads took 4.6× as long as 1 on a busy machine
    try:
        return _train(corpus, out, steps, latent_dim, arch)
    finally:
        torch.set_num_threads(threads)


def _train(corpus: Path, out: Path, steps: int, latent_dim: int, arch: str) -> Path:
    torch.manual_seed(0)
    data = load_dataset(str(corpus))
    train_idx, held_idx = split_indices(len(data), 0.2, 0)
    vocabulary = Vocabulary.build([tokenize(data.texts[i]) for i in train_idx], min_count=1)
    data = tokenised(data, vocabulary, sentence_length_for(data))
    config = SentenceConfig(
        vocab_size=len(vocabulary),
        sequence_length=data.images.shape[1],
        latent_dim=latent_dim,
        arch=arch,
        embed_dim=16,
        hidden_dim=32,
        num_classes=data.num_classes,
    )
    model = SentenceVAE(config, vocabulary).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, generator = data.images[train_idx], torch.Generator().manual_seed(0)
    for step in range(steps):
        batch = x[torch.randint(len(x), (32,), generator=generator)]
        terms = model.elbo_terms(batch, beta=min(1.0, step / 100), free_bits=0.2, generator=generator)
        optimizer.zero_grad()
        terms.loss.backward()
        optimizer.step()
    model.eval()
    cfg = TrainConfig(dataset=data.spec, epochs=1)
    meta = {
        **dataset_meta(data, cfg, held_idx),
        "training": vars(cfg),
        "epochs_done": 1,
        "history": [],
        "metrics": None,
        "vocabulary": vocabulary.to_list(),
    }
    save_checkpoint(out, model, meta)
    return out


SENTENCES = [
    "the cat sat on the mat.",
    "a dog ran in the park!",
    "is it raining, or is it snowing?",
    "she said (quietly) that it's late.",
    "we can't stay here; it's cold: very cold.",
    "he bought 3 apples and 12 pears.",
    "the [old] house stood on {the} hill.",
    "why not? because i'm tired.",
]


def vocabulary() -> Vocabulary:
    return Vocabulary.build([tokenize(s) for s in SENTENCES], min_count=1)


def z_dependent_model(arch: str = "gru", latent_dim: int = 4, sequence_length: int = 12, seed: int = 0) -> SentenceVAE:
    """A small model in eval mode whose greedy sentence changes often as z moves."""
    words = vocabulary()
    config = SentenceConfig(
        vocab_size=len(words), sequence_length=sequence_length, latent_dim=latent_dim, arch=arch,
        embed_dim=16, hidden_dim=32,
    )  # fmt: skip
    torch.manual_seed(seed)
    model = SentenceVAE(config, words)
    with torch.no_grad():
        model.latent_to_state.weight.mul_(4)
        model.decoder_rnn.weight_ih_l0[:, config.embed_dim :].mul_(6)  # z beside every input word
        model.to_logits.weight.mul_(3)
        model.to_logits.bias[2] -= 1.0  # <eos> a little less likely: longer sentences
    return model.eval()


def save_text_checkpoint(path: Path, model: SentenceVAE, half_weights: bool = False) -> Path:
    """`half_weights`: the model's weights rounded to float16 (in place) and stored so, as
    `vae.train --half-weights` does."""
    if half_weights:
        round_to_half(model)
    meta = {
        "dataset": {"spec": "sentences", "options": {}, "num_examples": len(SENTENCES)},
        "split": {"held_out_fraction": 0.2, "seed": 0},
        "image_shape": [model.sequence_length],
        "vocabulary": model.vocabulary.to_list(),
    }
    save_checkpoint(path, model, meta, half_weights=half_weights)
    return path
