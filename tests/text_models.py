"""Hand-built sentence VAEs for tests (no training): random weights with the paths from z
scaled up, so nearby codes decode to different sentences."""

from __future__ import annotations

from pathlib import Path

import torch

from vae.data.vocabulary import Vocabulary, tokenize
from vae.models.architecture import SentenceConfig
from vae.models.checkpoints import save_checkpoint
from vae.models.sentence import SentenceVAE

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


def save_text_checkpoint(path: Path, model: SentenceVAE) -> Path:
    meta = {
        "dataset": {"spec": "sentences", "options": {}, "num_examples": len(SENTENCES)},
        "split": {"held_out_fraction": 0.2, "seed": 0},
        "image_shape": [model.sequence_length],
        "vocabulary": model.vocabulary.to_list(),
    }
    save_checkpoint(path, model, meta)
    return path
