"""The mutual information I(x; z) estimate (vae.analysis.metrics.mutual_information) on known
channels: collapsed, at the log N bound, and a Gaussian channel's exact value."""

import math

import numpy as np
import pytest
import torch

from vae.analysis.metrics import mutual_information as estimate


def mutual_information(mu: np.ndarray, sigma: np.ndarray) -> float:
    return estimate(torch.as_tensor(mu), torch.as_tensor(2 * np.log(sigma)), torch.Generator().manual_seed(0))


def test_a_collapsed_posterior_carries_no_information():
    mu, sigma = np.zeros((500, 3)), np.ones((500, 3))
    assert mutual_information(mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_sharp_distinct_posteriors_reach_the_log_n_bound():
    mu = np.random.default_rng(0).normal(size=(400, 4)) * 10
    value = mutual_information(mu, np.full_like(mu, 0.01))
    assert math.log(400) - 0.05 < value <= math.log(400) + 1e-9


def test_wider_posteriors_carry_less():
    mu = np.random.default_rng(1).normal(size=(1000, 2))
    sharp, wide = (mutual_information(mu, np.full_like(mu, s)) for s in (0.2, 1.0))
    # Gaussian channel: I = Σ_d ½ log(1 + 1/s²) for unit-variance means (below the log N bound here)
    assert wide == pytest.approx(2 * 0.5 * math.log(2.0), abs=0.15)
    assert sharp > wide + 1.0
