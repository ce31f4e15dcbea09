"""How much a code says about its input: the mutual information I(x; z) under the encoder's
joint q(x, z) = p_data(x) q(z | x), the quantity posterior collapse drives to 0.

I(x; z) = E_x E_q(z|x) [log q(z | x)] − E_q(z) [log q(z)], with the aggregate posterior q(z)
approximated by the mixture of the given posteriors (He et al. 2019, "Lagging Inference
Networks and Posterior Collapse", their `calc_mi`). The estimate is bounded by log N for N
posteriors, so it is reported with N.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from vae.models.gaussian import gaussian_log_density


def mutual_information(mu: np.ndarray, sigma: np.ndarray, seed: int = 0) -> float:
    """I(x; z) in nats from posteriors N(mu_n, sigma_n²), (N, D) each: one draw z_n ~ q(z | x_n)
    per row, scored under its own posterior and under the mixture of all N."""
    mu_t = torch.as_tensor(np.asarray(mu), dtype=torch.float64)
    sigma_t = torch.as_tensor(np.asarray(sigma), dtype=torch.float64).clamp(min=1e-12)
    n = len(mu_t)
    if n < 2:
        raise ValueError("the mutual information needs at least 2 posteriors")
    generator = torch.Generator().manual_seed(seed)
    z = mu_t + sigma_t * torch.randn(mu_t.shape, generator=generator, dtype=torch.float64)
    log_sigma = sigma_t.log()
    own = gaussian_log_density(z, mu_t, log_sigma).sum(1)  # log q(z_n | x_n)
    log_q = torch.empty(n, dtype=torch.float64)
    for start in range(0, n, 512):  # log q(z_n) = log mean_m q(z_n | x_m), in blocks of rows
        block = z[start : start + 512, None, :]
        pairs = gaussian_log_density(block, mu_t[None], log_sigma[None]).sum(2)
        log_q[start : start + 512] = torch.logsumexp(pairs, 1) - math.log(n)
    return float((own - log_q).mean())
