"""The Gaussian parts of every VAE here: its log-density, drawing z from q(z | x), its KL to
the prior, and the total correlation of the aggregate posterior."""

from __future__ import annotations

import math

import torch

LOG_2PI = math.log(2 * math.pi)


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, log_sigma: torch.Tensor | float) -> torch.Tensor:
    """log N(x; mean, σ²) elementwise, in nats; `log_sigma` is log σ (a tensor that broadcasts, or a number)."""
    if isinstance(log_sigma, (int, float)):  # σ as a number: divide by it exactly, not by a rounded exp
        return -0.5 * ((x - mean) / math.exp(log_sigma)) ** 2 - log_sigma - 0.5 * LOG_2PI
    log_sigma = torch.as_tensor(log_sigma, dtype=x.dtype, device=x.device)
    return -0.5 * ((x - mean) / log_sigma.exp()) ** 2 - log_sigma - 0.5 * LOG_2PI


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + σ ⊙ ε with ε ~ N(0, I), so gradients flow through mu and logvar."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, σ²) || N(0, 1)) per dimension, (N, D) (Kingma & Welling 2014, appendix B)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def total_correlation(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int) -> torch.Tensor:
    """Minibatch-weighted-sampling estimate of TC(q(z)) = KL(q(z) || Π_d q(z_d)) from one
    batch: z_i ~ q(z | x_i), and q(z) approximated by the batch's posteriors (Chen et al.
    2018, section 3.1). Scalar, nats; biased by a constant that depends on the batch and
    dataset sizes, which leaves its gradient (what the penalty uses) intact."""
    batch = z.shape[0]
    # log q(z_i,d | x_j) for every pair (i, j) and dimension d: (B, B, D)
    log_q = gaussian_log_density(z[:, None], mu[None], 0.5 * logvar[None])
    log_norm = math.log(batch * dataset_size)
    log_qz = torch.logsumexp(log_q.sum(2), dim=1) - log_norm
    log_prod_qzd = (torch.logsumexp(log_q, dim=1) - log_norm).sum(1)
    return (log_qz - log_prod_qzd).mean()


def gaussian_kl_between(
    mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor
) -> torch.Tensor:
    """KL(N(mu_q, σ_q²) || N(mu_p, σ_p²)) per dimension: a hierarchical level's KL to its
    conditional prior. With mu_p = 0, logvar_p = 0 it is `gaussian_kl`."""
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).pow(2)) / logvar_p.exp() - 1.0)
