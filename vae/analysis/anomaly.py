"""How unusual is an image to the model: three per-example scores, planted corruptions to
check them, and the ROC-AUC with which each score separates corrupted from clean images."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from vae.analysis.metrics import elbo_per_example
from vae.latent.encoding import encode_dataset
from vae.models.interface import LatentModel
from vae.models.sentence import sentence_lengths

SCORE_NAMES = {
    "neg_elbo": "−ELBO (nats)",
    "recon_error": "reconstruction error (nats)",
    "mahalanobis": "latent Mahalanobis distance",
}
CORRUPTIONS = {"noise": "salt-and-pepper noise", "occlusion": "a white square"}
TEXT_CORRUPTIONS = {"replace": "words replaced by random words", "shuffle": "words shuffled"}


class LatentGaussian:
    """A Gaussian fitted to reference latent means; Mahalanobis distance of new ones to it."""

    def __init__(self, mu: np.ndarray):
        mu = np.asarray(mu, dtype=np.float64)
        self.mean = mu.mean(0)
        covariance = np.cov(mu, rowvar=False).reshape(mu.shape[1], mu.shape[1])
        self.precision = np.linalg.pinv(covariance + 1e-6 * np.eye(mu.shape[1]))

    def distance(self, mu: np.ndarray) -> np.ndarray:
        centred = np.asarray(mu, dtype=np.float64) - self.mean
        return np.sqrt(np.maximum(np.einsum("nd,de,ne->n", centred, self.precision, centred), 0.0))


@torch.no_grad()
def anomaly_scores(
    model: LatentModel,
    x: torch.Tensor,
    reference: LatentGaussian,
    y: torch.Tensor | None = None,
    samples: int = 4,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Per-image scores (n,) each, higher = more unusual: −ELBO (averaged over `samples` z),
    reconstruction error −log p(x | z = μ), and the Mahalanobis distance of μ to `reference`."""
    generator = torch.Generator().manual_seed(seed)
    parts = elbo_per_example(model, x, y, generator=generator, samples=samples)
    mu, _ = encode_dataset(model, x, y)
    recon = -model.log_px_given_z(x, mu, y)
    return {
        "neg_elbo": (-parts["elbo"]).numpy(),
        "recon_error": recon.numpy(),
        "mahalanobis": reference.distance(mu.numpy()),
    }


def corrupt(x: torch.Tensor, kind: str, severity: float = 0.5, seed: int = 0, vocab_size: int = 0) -> torch.Tensor:
    """A corrupted copy of images (n, C, H, W) in [0, 1]. `noise`: a `severity` fraction of the
    pixels set to 0 or 1 at random; `occlusion`: a square of side `severity` × the image side,
    at a random place, filled with white (1). Token ids (n, L) go to `corrupt_sentences`."""
    if not x.is_floating_point():
        return corrupt_sentences(x, kind, severity, seed, vocab_size)
    generator = torch.Generator().manual_seed(seed)
    out = x.clone()
    n, c, h, w = x.shape
    if kind == "noise":
        hit = torch.rand((n, 1, h, w), generator=generator) < severity
        salt = (torch.rand((n, 1, h, w), generator=generator) < 0.5).to(x.dtype)
        return torch.where(hit.expand_as(out), salt.expand_as(out), out)
    if kind == "occlusion":
        side_h, side_w = max(1, round(severity * h)), max(1, round(severity * w))
        tops = torch.randint(0, h - side_h + 1, (n,), generator=generator)
        lefts = torch.randint(0, w - side_w + 1, (n,), generator=generator)
        for i in range(n):
            out[i, :, tops[i] : tops[i] + side_h, lefts[i] : lefts[i] + side_w] = 1.0
        return out
    raise ValueError(f"unknown corruption {kind!r}: use one of {sorted(CORRUPTIONS)}")


def corrupt_sentences(ids: torch.Tensor, kind: str, severity: float, seed: int, vocab_size: int) -> torch.Tensor:
    """A corrupted copy of sentences (n, L) of token ids. `replace`: each word, with probability
    `severity`, becomes a word drawn uniformly from the vocabulary's words (ids 4 .. vocab_size − 1);
    `shuffle`: a `severity` fraction of each sentence's word positions trade words among themselves.
    <eos> and <pad> stay where they are."""
    generator = torch.Generator().manual_seed(seed)
    out = ids.clone()
    words = sentence_lengths(ids) - 1  # each sentence's word count (its <eos> excluded)
    if kind == "replace":
        if vocab_size <= 4:
            raise ValueError("replacing words needs the vocabulary's size")
        positions = torch.arange(ids.shape[1])[None] < words[:, None]
        hit = positions & (torch.rand(ids.shape, generator=generator) < severity)
        random_words = torch.randint(4, vocab_size, ids.shape, generator=generator)
        return torch.where(hit, random_words, out)
    if kind == "shuffle":
        for i, count in enumerate(words.tolist()):
            chosen = torch.randperm(count, generator=generator)[: max(2, round(severity * count))] if count > 1 else []
            if len(chosen) > 1:
                out[i, chosen] = ids[i, chosen[torch.randperm(len(chosen), generator=generator)]]
        return out
    raise ValueError(f"unknown corruption {kind!r} for sentences: use one of {sorted(TEXT_CORRUPTIONS)}")


def detection_auc(clean: np.ndarray, corrupted: np.ndarray) -> float:
    """ROC-AUC of a score separating corrupted (positive) from clean images: 1 perfect, 0.5 chance."""
    truth = np.concatenate([np.zeros(len(clean)), np.ones(len(corrupted))])
    return float(roc_auc_score(truth, np.concatenate([clean, corrupted])))
