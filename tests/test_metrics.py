import torch

from vae.checkpoints import load_checkpoint
from vae.data import load_dataset
from vae.metrics import active_units, bits_per_dim, elbo_per_example, evaluate_model, iwae_log_likelihood


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


def test_active_units_is_the_variance_of_the_means():
    mu = torch.stack([torch.linspace(-1, 1, 50), torch.full((50,), 3.0), 0.01 * torch.randn(50)], 1)
    activity = active_units(mu)
    assert (activity > 0.01).tolist() == [True, False, False]


def test_evaluate_model_reports_consistent_numbers(tiny_checkpoint):
    model, x = _model_and_data(tiny_checkpoint)
    m = evaluate_model(model, x, iwae_k=10)
    assert m["n"] == 100 and len(m["kl_per_dim"]) == 4
    assert abs(m["elbo"] - (m["recon_ll"] - m["kl"])) < 1e-3
    assert abs(sum(m["kl_per_dim"]) - m["kl"]) < 1e-3
    assert m["iwae_nll"] <= -m["elbo"] + 1.0
    assert m["bits_per_dim"] == bits_per_dim(m["iwae_nll"], 64)
    assert m["active_units"] == len(m["active_dims"])
    assert model.training is False
