"""Held-out metrics of a LatentModel on plain tensors: ELBO and its parts, the IWAE bound, bits per
dimension, KL per latent dimension and active units; for a text model also the per-word
perplexity and the mutual information between sentences and codes."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from vae.latent.encoding import batches, encode_dataset, labels_part
from vae.models.gaussian import gaussian_kl, gaussian_log_density, reparameterize
from vae.models.interface import LatentModel, is_text
from vae.models.levels import levels_of

# Pixels (for text: logits) decoded at once inside the IWAE loop: bounds memory whatever k and the image size.
_IWAE_PIXELS = 2**23


def decoded_values(model: LatentModel) -> int:
    """Numbers the decoder writes per example: pixels, or for text a logit per word of the
    vocabulary at every position."""
    if is_text(model):
        return model.sequence_length * model.vocab_size
    return math.prod(model.image_shape)


def _batch_size(model: LatentModel, batch_size: int) -> int:
    """`batch_size`, smaller for a text model whose logits would not fit (a vocabulary of
    thousands of words at every position)."""
    return min(batch_size, max(1, _IWAE_PIXELS // decoded_values(model))) if is_text(model) else batch_size


@torch.no_grad()
def elbo_per_example(
    model: LatentModel,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    batch_size: int = 1024,
    generator: torch.Generator | None = None,
    samples: int = 1,
) -> dict[str, torch.Tensor]:
    """ELBO per image, its reconstruction term averaged over `samples` draws of z:
    `elbo`, `recon_ll`, `kl` of shape (N,), `kl_per_dim` (N, D). For a hierarchical model the
    KL of each level is against its conditional prior, given levels drawn from the posterior."""
    device = model.device
    out: dict[str, list[torch.Tensor]] = {"elbo": [], "recon_ll": [], "kl": [], "kl_per_dim": []}
    for s in batches(len(x), _batch_size(model, batch_size)):
        xb, yb = x[s].to(device), labels_part(y, s, device)
        if hasattr(model, "elbo_parts"):  # a hierarchical model draws its levels top-down
            draws = [model.elbo_parts(xb, generator) for _ in range(samples)]
            recon_ll = sum(d[0] for d in draws) / samples
            kl_per_dim = sum(d[1] for d in draws) / samples
        else:
            mu, logvar = model.encode(xb, yb)
            recon_ll = (
                sum(model.log_px_given_z(xb, reparameterize(mu, logvar, generator), yb) for _ in range(samples))
                / samples
            )
            kl_per_dim = gaussian_kl(mu, logvar)
        out["recon_ll"].append(recon_ll.cpu())
        out["kl_per_dim"].append(kl_per_dim.cpu())
        out["kl"].append(kl_per_dim.sum(1).cpu())
        out["elbo"].append((recon_ll - kl_per_dim.sum(1)).cpu())
    return {k: torch.cat(v) for k, v in out.items()}


class EncodedImages(NamedTuple):
    """What the Encode page shows for each image: (N, D) means and log-variances, (N, C, H, W)
    reconstructions at μ, and (N,) ELBOs."""

    mu: torch.Tensor
    logvar: torch.Tensor
    reconstructions: torch.Tensor
    elbo: np.ndarray

    @property
    def sigma(self) -> torch.Tensor:
        return (0.5 * self.logvar).exp()


@torch.no_grad()
def encode_images(
    model: LatentModel, x: torch.Tensor, y: torch.Tensor | None = None, elbo_samples: int = 8, seed: int = 0
) -> EncodedImages:
    """Encode images, reconstruct them at μ and score their ELBO over `elbo_samples` draws of
    z (score held-out images the same way to compare)."""
    mu, logvar = encode_dataset(model, x, y)
    reconstructions = model.decode(mu.to(model.device), None if y is None else y.to(model.device)).cpu()
    generator = torch.Generator(device=model.device).manual_seed(seed)
    elbo = elbo_per_example(model, x, y, generator=generator, samples=elbo_samples)["elbo"].numpy()
    return EncodedImages(mu, logvar, reconstructions, elbo)


@torch.no_grad()
def iwae_log_likelihood(
    model: LatentModel,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    k: int = 100,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Importance-weighted estimate of log p(x) per image, (N,) (Burda et al. 2016, eq. 8):
    log (1/k) Σ_i p(x, z_i) / q(z_i | x) with z_i ~ q(z | x). k = 1 is the ELBO; it
    tightens towards log p(x) as k grows."""
    device = model.device
    batch = max(1, _IWAE_PIXELS // (k * decoded_values(model)))
    results = []
    for s in batches(len(x), batch):
        xb, yb = x[s].to(device), labels_part(y, s, device)
        if hasattr(model, "log_weights"):  # the top-down posterior of a hierarchical model
            results.append((torch.logsumexp(model.log_weights(xb, k, generator), 0) - math.log(k)).cpu())
            continue
        mu, logvar = model.encode(xb, yb)
        eps = torch.randn((k, *mu.shape), generator=generator, device=device)
        z = mu + torch.exp(0.5 * logvar) * eps  # (k, B, D)
        flat_y = None if yb is None else yb.repeat(k)
        x_repeated = xb.repeat(k, *([1] * (xb.dim() - 1)))  # (k·B, C, H, W), or (k·B, L) token ids
        log_px_z = model.log_px_given_z(x_repeated, z.reshape(-1, mu.shape[1]), flat_y).view(k, -1)
        log_pz = gaussian_log_density(z, torch.zeros_like(z), 0.0).sum(-1)
        log_qz = gaussian_log_density(z, mu, 0.5 * logvar).sum(-1)
        log_w = log_px_z + log_pz - log_qz
        results.append((torch.logsumexp(log_w, 0) - math.log(k)).cpu())
    return torch.cat(results)


ACTIVITY_THRESHOLD = 0.01  # a unit is active when Cov_x(E_q[z | x]) exceeds this (Burda et al. 2016)


def unit_activity(mu: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Per-dimension activity Cov_x(E_q[z | x]): the (unbiased) variance of the latent means
    over the data, (D,) (Burda et al. 2016, section 5.2)."""
    mu = torch.as_tensor(mu, dtype=torch.float32)
    return mu.var(0, unbiased=True) if len(mu) > 1 else torch.zeros(mu.shape[1])


def active_units(mu: torch.Tensor | np.ndarray, threshold: float = ACTIVITY_THRESHOLD) -> list[int]:
    """The latent dimensions whose activity exceeds `threshold`."""
    return (unit_activity(mu) > threshold).nonzero().flatten().tolist()


def bits_per_dim(nll_nats: float, num_pixels: int) -> float:
    return nll_nats / (num_pixels * math.log(2))


def scored_tokens(x: torch.Tensor) -> torch.Tensor:
    """(N,) the ids a text model scores in each row of token ids: its words and its <eos>."""
    from vae.models.sentence import sentence_lengths

    return sentence_lengths(x)


def perplexity(nll_nats_total: float, tokens: int) -> float:
    """Per-word perplexity exp(NLL / tokens), <eos> counted as a word (Bowman et al. 2016)."""
    return math.exp(nll_nats_total / max(tokens, 1))


@torch.no_grad()
def mutual_information(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None, chunk: int = 512
) -> float:
    """I(x; z) under the encoder's joint q(x, z) = p_data(x) q(z | x), in nats: the mean over
    the N examples given of log q(z_i | x_i) − log q(z_i), one z_i drawn from each posterior and
    the aggregate posterior q(z) the mixture of the N posteriors (Hoffman & Johnson 2016; He et
    al. 2019 use the same estimator with the exact entropy in place of log q(z_i | x_i), which
    is noisier). 0 when every posterior is the same; at most log N."""
    mu, logvar = mu.double(), logvar.double()
    n = len(mu)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    log_q_own = _log_normal(z, mu, logvar)
    log_qz = []
    for s in batches(n, chunk):  # log q(z_i) = logsumexp_j log N(z_i; mu_j, var_j) − log N
        log_qz.append(torch.logsumexp(_log_normal(z[s, None, :], mu[None], logvar[None]), 1) - math.log(n))
    return float((log_q_own - torch.cat(log_qz)).mean())


def _log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))), summed over the last dimension."""
    return -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)


def evaluate_model(
    model: LatentModel,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    iwae_k: int = 100,
    seed: int = 0,
    activity_threshold: float = ACTIVITY_THRESHOLD,
) -> dict:
    """Everything `python -m vae.evaluate` reports, as plain Python numbers and lists."""
    generator = torch.Generator(device=model.device).manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        parts = elbo_per_example(model, x, y, generator=generator)
        mu, logvar = encode_dataset(model, x, y)
        log_px = iwae_log_likelihood(model, x, y, k=iwae_k, generator=generator) if iwae_k > 0 else None
    finally:
        model.train(was_training)
    activity = unit_activity(mu)
    active = active_units(mu, activity_threshold)
    nll = float(-log_px.mean()) if log_px is not None else float(-parts["elbo"].mean())
    text = _text_metrics(x, nll, float(parts["elbo"].mean()), mu, logvar, seed) if is_text(model) else {}
    return {
        "n": len(x),
        "elbo": float(parts["elbo"].mean()),
        "recon_ll": float(parts["recon_ll"].mean()),
        "kl": float(parts["kl"].mean()),
        "iwae_k": iwae_k,
        "iwae_nll": nll,
        "bits_per_dim": text.pop("bits_per_dim") if text else bits_per_dim(nll, math.prod(model.image_shape)),
        "kl_per_dim": [float(v) for v in parts["kl_per_dim"].mean(0)],
        "activity": [float(v) for v in activity],
        "active_units": len(active),
        "active_dims": active,
        "levels": [
            {
                "name": level.name,
                "size": level.size,
                "kl": float(parts["kl_per_dim"].mean(0)[level.dims].sum()),
                "active_units": sum(level.start <= d < level.start + level.size for d in active),
            }
            for level in levels_of(model)
        ],
        **text,
    }


def _text_metrics(x: torch.Tensor, nll: float, elbo: float, mu, logvar, seed: int) -> dict:
    """A text model's figures per word: NLL per sentence × sentences / scored tokens. For a
    sentence, "bits per dimension" is bits per scored token (words and <eos>)."""
    n, tokens = len(x), int(scored_tokens(x).sum())
    return {
        "tokens": tokens,
        "words_per_sentence": tokens / max(n, 1),
        "perplexity": perplexity(nll * n, tokens),
        "elbo_perplexity": perplexity(-elbo * n, tokens),
        "bits_per_dim": nll * n / (max(tokens, 1) * math.log(2)),
        "mutual_information": mutual_information(mu, logvar, torch.Generator().manual_seed(seed)),
    }
