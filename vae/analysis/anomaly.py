"""How unusual is an image to the model: three per-example scores, planted corruptions to
check them, and the ROC-AUC with which each score separates corrupted from clean images."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from vae.analysis.metrics import elbo_per_example
from vae.latent.encoding import encode_dataset
from vae.models.interface import LatentModel

SCORE_NAMES = {
    "neg_elbo": "−ELBO (nats)",
    "recon_error": "reconstruction error (nats)",
    "mahalanobis": "latent Mahalanobis distance",
}
CORRUPTIONS = {"noise": "salt-and-pepper noise", "occlusion": "a white square"}


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


def corrupt(x: torch.Tensor, kind: str, severity: float = 0.5, seed: int = 0) -> torch.Tensor:
    """A corrupted copy of images (n, C, H, W) in [0, 1]. `noise`: a `severity` fraction of the
    pixels set to 0 or 1 at random; `occlusion`: a square of side `severity` × the image side,
    at a random place, filled with white (1)."""
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


def detection_auc(clean: np.ndarray, corrupted: np.ndarray) -> float:
    """ROC-AUC of a score separating corrupted (positive) from clean images: 1 perfect, 0.5 chance."""
    truth = np.concatenate([np.zeros(len(clean)), np.ones(len(corrupted))])
    return float(roc_auc_score(truth, np.concatenate([clean, corrupted])))
