import math

import pytest
import torch

from vae.analysis.metrics import (
    active_units,
    bits_per_dim,
    elbo_per_example,
    encode_images,
    evaluate_model,
    iwae_log_likelihood,
    unit_activity,
)
from vae.data.datasets import load_dataset
from vae.models.checkpoints import load_checkpoint


def _model_and_data(path):
    model, meta = load_checkpoint(path)
    x = load_dataset("digits").images[meta["split"]["held_out_indices"].long()[:100]]
    return model, x


def test_iwae_bounds_the_elbo_and_tightens_with_k(tiny_checkpoint):
    model, x = _model_and_data(tiny_checkpoint)
    gen = torch.Generator().manual_seed(0)
    elbo = elbo_per_example(model, x, generator=gen)["elbo"].mean()
    bounds = [iwae_log_likelihood(model, x, k=k, generator=gen).mean() for k in (1, 5, 50)]
    assert bounds[0] >= elbo - 1.0  # k = 1 is the ELBO, up to sampling noise
    assert bounds[1] >= elbo and bounds[2] >= bounds[1] >= bounds[0]


def test_unit_activity_is_the_variance_of_the_means_and_the_threshold_counts():
    mu = torch.stack([torch.linspace(-1, 1, 50), torch.full((50,), 3.0), 0.01 * torch.randn(50)], 1)
    activity = unit_activity(mu)
    # n evenly spaced points on [-1, 1]: population variance (n + 1) / (3 (n - 1)), times n / (n - 1)
    assert activity[0] == pytest.approx(50 * 51 / (3 * 49**2), rel=1e-5) and activity[1] == 0
    assert active_units(mu) == [0]
    assert active_units(mu, threshold=1.0) == [] and active_units(mu, threshold=-1.0) == [0, 1, 2]
    assert active_units(mu.numpy()) == [0]  # NumPy means too (the Analyze page's)


def test_bits_per_dim_converts_nats_per_image():
    assert bits_per_dim(64 * math.log(2), 64) == pytest.approx(1.0)  # one bit for each of 64 pixels
    assert bits_per_dim(0.0, 10) == 0.0


def test_evaluate_model_reports_consistent_numbers(tiny_checkpoint):
    model, x = _model_and_data(tiny_checkpoint)
    m = evaluate_model(model, x, iwae_k=10)
    assert m["n"] == 100 and len(m["kl_per_dim"]) == 4
    assert abs(m["elbo"] - (m["recon_ll"] - m["kl"])) < 1e-3
    assert abs(sum(m["kl_per_dim"]) - m["kl"]) < 1e-3
    assert m["iwae_nll"] <= -m["elbo"] + 1.0
    assert m["bits_per_dim"] * 64 * math.log(2) == pytest.approx(m["iwae_nll"])
    with torch.no_grad():
        mu = model.encode(x)[0].numpy()
    assert m["active_dims"] == [d for d in range(4) if mu[:, d].var(ddof=1) > 0.01]
    assert m["active_units"] == len(m["active_dims"]) and m["activity"] == pytest.approx(mu.var(0, ddof=1), rel=1e-4)
    assert model.training is False


def test_encode_images_scores_like_the_held_out_images(tiny_checkpoint):
    model, x = _model_and_data(tiny_checkpoint)
    encoded = encode_images(model, x[:5], elbo_samples=3, seed=1)
    with torch.no_grad():
        mu, logvar = model.encode(x[:5])
        assert torch.allclose(encoded.mu, mu) and torch.allclose(encoded.sigma, (0.5 * logvar).exp())
        assert torch.allclose(encoded.reconstructions, model.decode(mu))
    again = elbo_per_example(model, x[:5], generator=torch.Generator().manual_seed(1), samples=3)["elbo"].numpy()
    assert encoded.elbo.shape == (5,) and (encoded.elbo == again).all()  # same draws, same scores
