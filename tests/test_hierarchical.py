"""The hierarchical VAE: its levels, bounds, conversions and the level operations."""

import numpy as np
import pytest
import torch

from vae import load_checkpoint
from vae.analysis.metrics import elbo_per_example, evaluate_model, iwae_log_likelihood
from vae.latent.hierarchy import (
    at_prior_means_below,
    interpolate_level,
    keep_below_grid,
    keep_top_grid,
    redraw_levels,
    to_values,
)
from vae.models.build import config_from_dict
from vae.models.hierarchical import HierarchicalConfig, HierarchicalVAE
from vae.models.interface import LatentModel
from vae.models.levels import dim_label, is_hierarchical, levels_of, per_level_sums
from vae.training.cli import main as train_main


def _model(levels=(3, 4, 5), image_shape=(1, 16, 16), likelihood="bernoulli") -> HierarchicalVAE:
    torch.manual_seed(0)
    model = HierarchicalVAE(HierarchicalConfig(image_shape, levels, hidden_dim=32, likelihood=likelihood))
    with torch.no_grad():  # away from the zero-initialised priors, so every level matters
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def _binary_images(n=6, shape=(1, 16, 16)) -> torch.Tensor:
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(3)).round()


def test_it_is_a_latent_model_with_named_levels():
    model = _model()
    assert isinstance(model, LatentModel)
    assert [(lv.name, lv.start, lv.size) for lv in levels_of(model)] == [
        ("top", 0, 3),
        ("middle", 3, 4),
        ("bottom", 7, 5),
    ]
    assert model.latent_dim == 12 and is_hierarchical(model)
    assert dim_label(model.levels, 8) == "bottom·z1"
    mu, logvar = model.encode(_binary_images())
    assert mu.shape == logvar.shape == (6, 12)
    assert model.decode(mu).shape == (6, 1, 16, 16)


def test_a_flat_model_is_one_level():
    from vae.models.native import VAE, VAEConfig

    flat = VAE(VAEConfig((1, 8, 8), latent_dim=5, arch="mlp", hidden_dims=(8,)))
    assert [(lv.name, lv.size) for lv in levels_of(flat)] == [("z", 5)] and not is_hierarchical(flat)


def test_kl_per_level_sums_to_the_total_kl():
    model, x = _model(), _binary_images()
    parts = elbo_per_example(model, x, generator=torch.Generator().manual_seed(0))
    per_level = per_level_sums(parts["kl_per_dim"].mean(0).numpy(), model.levels)
    assert set(per_level) == {"top", "middle", "bottom"} and all(v > 0 for v in per_level.values())
    assert sum(per_level.values()) == pytest.approx(float(parts["kl"].mean()), rel=1e-5)
    with torch.no_grad():
        terms = model.elbo_terms(x, noise=torch.zeros(6, 12))
    assert float(terms.kl) == pytest.approx(float(terms.kl_per_dim.sum()), rel=1e-6)


def test_the_kl_is_against_each_levels_conditional_prior():
    """Level l's KL equals E_q[log q(z_l) − log p(z_l | z_<l)] estimated by sampling."""
    model, x = _model(levels=(2, 3)), _binary_images(2)
    torch.manual_seed(1)
    many = x.repeat(4000, 1, 1, 1)
    _, kl_per_dim, _ = model.elbo_parts(many, torch.Generator().manual_seed(2))
    exact = kl_per_dim.view(4000, 2, 5).mean(0).sum(1)
    log_w = model.log_weights(x, k=4000, generator=torch.Generator().manual_seed(2))
    recon, _, _ = model.elbo_parts(many, torch.Generator().manual_seed(2))
    # E[log w] = E[log p(x|z)] − KL: compare the sampled total KL with the analytic one
    sampled_kl = recon.view(4000, 2).mean(0) - log_w.mean(0)
    assert torch.allclose(sampled_kl, exact, rtol=0.05, atol=0.05)


def test_iwae_is_above_the_elbo_and_tightens_with_k():
    model, x = _model(), _binary_images()
    many = x.repeat(100, 1, 1, 1)  # k = 1 is one draw: average many to compare with the ELBO
    elbo = float(elbo_per_example(model, many, generator=torch.Generator().manual_seed(0))["elbo"].mean())
    one = float(iwae_log_likelihood(model, many, k=1, generator=torch.Generator().manual_seed(1)).mean())
    assert one == pytest.approx(elbo, abs=0.5)
    bounds = [
        float(iwae_log_likelihood(model, x, k=k, generator=torch.Generator().manual_seed(1)).mean()) for k in (10, 200)
    ]
    assert elbo < bounds[0] < bounds[1]


def test_standardised_and_absolute_codes_convert_exactly():
    model = _model()
    eps = torch.randn(5, 12, generator=torch.Generator().manual_seed(0))
    values = model.absolute(eps)
    assert torch.allclose(model.standardised(values), eps, atol=1e-5)
    assert torch.equal(values[:, :3], eps[:, :3])  # the top level's prior is N(0, I)
    assert torch.allclose(model.decode_absolute(values), model.decode(eps), atol=1e-6)


def test_resampling_below_keeps_the_upper_levels_exactly():
    model = _model()
    code = np.random.default_rng(0).standard_normal((4, 12)).astype(np.float32)
    redrawn = redraw_levels(code, model.levels, [1, 2], [1.0, 0.5, 0.5], seed=3)
    assert np.array_equal(redrawn[:, :3], code[:, :3]) and not np.allclose(redrawn[:, 3:], code[:, 3:])
    values, new_values = to_values(model, code), to_values(model, redrawn)
    assert np.array_equal(values[:, :3], new_values[:, :3])
    assert np.std(redrawn[:, 3:]) < 0.8  # drawn at temperature 0.5


def test_grids_keep_what_they_say():
    levels = _model().levels
    top = keep_top_grid(levels, rows=3, columns=4, keep=1, seed=0).reshape(3, 4, 12)
    assert all(np.array_equal(row[:, :3], np.repeat(row[:1, :3], 4, 0)) for row in top)
    assert not np.allclose(top[0, 0, 3:], top[0, 1, 3:])
    below = keep_below_grid(levels, rows=2, columns=5, redraw_top=1, seed=0).reshape(2, 5, 12)
    assert all(np.array_equal(row[:, 3:], np.repeat(row[:1, 3:], 5, 0)) for row in below)
    assert not np.allclose(below[0, 0, :3], below[0, 1, :3])
    with pytest.raises(ValueError):
        keep_top_grid(levels, 2, 2, keep=3)


def test_a_middle_level_traversal_at_a_fixed_top_changes_only_what_it_should():
    model = _model()
    base = np.random.default_rng(1).standard_normal((1, 12)).astype(np.float32)
    moved = base.repeat(5, 0)
    moved[:, 4] = np.linspace(-2, 2, 5)  # middle·z1
    values, moved_values = to_values(model, base), to_values(model, moved)
    assert np.array_equal(moved_values[:, :3], values.repeat(5, 0)[:, :3])  # the top is untouched
    assert np.allclose(np.delete(moved_values[:, 3:7], 1, axis=1), np.delete(values[:, 3:7], 1, axis=1), atol=1e-6)
    assert not np.allclose(moved_values[:, 7:], values[:, 7:])  # the bottom follows its prior
    # keeping the bottom's values instead: decode_absolute with them held
    held = moved_values.copy()
    held[:, 7:] = values[:, 7:]
    images = model.decode_absolute(torch.as_tensor(held))
    assert not torch.allclose(images[0], images[-1])
    assert np.array_equal(at_prior_means_below(moved, model.levels, 1)[:, 7:], np.zeros((5, 5), np.float32))


def test_interpolating_one_level_holds_the_others():
    level = _model().levels[1]
    start, end = np.zeros(12, np.float32), np.ones(12, np.float32)
    path = np.linspace(start, end, 5)
    out = interpolate_level(path, start, level)
    assert np.array_equal(out[:, level.dims], path[:, level.dims])
    assert np.array_equal(np.delete(out, level.indices, axis=1), np.zeros((5, 8), np.float32))


def test_free_bits_floor_each_levels_kl():
    model, x = _model(levels=(2, 3)), _binary_images()
    noise = torch.zeros(6, 5)
    with torch.no_grad():
        plain = model.elbo_terms(x, noise=noise)
        floored = model.elbo_terms(x, free_bits=5.0, noise=noise)
    assert float(floored.loss) == pytest.approx(
        float(-plain.recon_ll + 5.0 * 5), rel=1e-5
    )  # both levels below the floor
    assert float(floored.elbo) == pytest.approx(float(plain.elbo))


def test_config_round_trips_and_rejects_what_it_cannot_build():
    config = HierarchicalConfig((1, 28, 28), (4, 8, 16))
    assert config_from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="2 to 5 levels"):
        HierarchicalConfig((1, 28, 28), (8,))
    with pytest.raises(ValueError, match="unconditional"):
        HierarchicalConfig((1, 28, 28), (4, 8), conditional=True)


def test_gaussian_likelihood_trains_a_step():
    model = _model(likelihood="gaussian")
    terms = model.elbo_terms(torch.rand(4, 1, 16, 16))
    terms.loss.backward()
    assert torch.isfinite(terms.loss) and model.log_scale.grad is not None


def test_the_cli_trains_saves_and_resumes_a_hierarchical_model(tmp_path, capsys):
    out = tmp_path / "h.pt"
    args = ["--dataset", "digits", "--arch", "hierarchical", "--levels", "2", "3", "--hidden", "32", "--iwae-k", "5"]
    assert train_main([*args, "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    assert train_main([*args, "--epochs", "2", "--out", str(out), "--quiet", "--resume"]) == 0
    model, meta = load_checkpoint(out)
    assert isinstance(model, HierarchicalVAE) and model.config.level_dims == (2, 3)
    assert meta["epochs_done"] == 2 and len(meta["metrics"]["kl_per_dim"]) == 5
    assert meta["metrics"]["iwae_nll"] <= -meta["metrics"]["elbo"] + 1.0
    assert train_main([*args, "--epochs", "1", "--tc-beta", "6", "--out", str(tmp_path / "x.pt"), "--quiet"]) == 1
    assert "for flat VAEs" in capsys.readouterr().err


def test_evaluate_reports_kl_and_active_units_per_level(tiny_hierarchical_checkpoint):
    from vae.evaluate import format_report

    model, _ = load_checkpoint(tiny_hierarchical_checkpoint)
    x = torch.rand(20, *model.image_shape).round()
    report = evaluate_model(model, x, iwae_k=10)
    assert report["iwae_nll"] <= -report["elbo"] + 0.5 and len(report["activity"]) == 5
    assert [(lv["name"], lv["size"]) for lv in report["levels"]] == [("top", 2), ("bottom", 3)]
    assert sum(lv["kl"] for lv in report["levels"]) == pytest.approx(report["kl"], rel=1e-5)
    assert sum(lv["active_units"] for lv in report["levels"]) == report["active_units"]
    shown = format_report({**report, "checkpoint": "h.pt", "dataset": "digits", "epochs": 2})
    assert "KL per level     top " in shown
