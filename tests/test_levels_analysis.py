"""Per-level views in the library: maps of one level, active units and probes per level, the
Analyze page's level report and the rate split by level on Compare."""

import numpy as np
import pytest
import torch

from vae.analysis.compare import compare_model
from vae.analysis.per_level import ALL_LEVELS, active_per_level, chance_accuracy, probe_per_level
from vae.latent.background import map_key
from vae.latent.projection import LatentMap, ProjectionParams, cache_path, fit_or_load
from vae.models.hierarchical import HierarchicalConfig, HierarchicalVAE
from vae.models.levels import Level, make_levels
from vae.opened import open_model
from vae.opened.measures import level_report

LEVELS = make_levels([2, 3])  # top: dims 0-1, bottom: dims 2-4
TOP, BOTTOM = LEVELS


def _codes(n=120, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Codes whose top level holds the class (two well-separated clusters) and whose bottom
    level is noise of the same spread."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    mu = rng.standard_normal((n, 5)).astype(np.float32)
    mu[:, 0] += 6.0 * labels
    return mu, labels


@pytest.mark.parametrize("method", ["pca", "umap", "tsne"])
def test_a_level_map_is_fitted_on_that_level_alone(method):
    mu, _ = _codes()
    params = ProjectionParams(method, level=TOP, n_neighbors=10, perplexity=10.0)
    other = mu.copy()
    other[:, BOTTOM.dims] = np.random.default_rng(7).standard_normal((len(mu), 3)) * 5
    first, second = LatentMap(params).fit(mu), LatentMap(params).fit(other)
    np.testing.assert_allclose(first.embedding_, second.embedding_, atol=1e-4)  # the bottom level counts for nothing
    whole = LatentMap(ProjectionParams(method, n_neighbors=10, perplexity=10.0)).fit(other)
    assert not np.allclose(whole.embedding_, second.embedding_, atol=1e-2)  # while the whole code's map moves


@pytest.mark.parametrize("method", ["pca", "umap"])
def test_a_level_map_decodes_to_full_codes_and_places_by_the_level(method):
    mu, _ = _codes()
    latent_map = LatentMap(ProjectionParams(method, level=BOTTOM, n_neighbors=10)).fit(mu)
    assert latent_map.mu_.shape == mu.shape
    # A fitted point's own map position gives back its whole code, every level of it.
    back = latent_map.inverse_transform(latent_map.embedding_[:5])
    assert back.shape == (5, 5)
    np.testing.assert_allclose(back, mu[:5], atol=1e-4)
    # An empty spot: a whole code too, and the browser inverts it the same way (no PCA inverse).
    assert latent_map.inverse_transform(np.array([[1e3, 1e3]], np.float32)).shape == (1, 5)
    assert latent_map.pca_parameters() is None
    # New codes are placed by the level's dimensions: the top level's values do not move them.
    moved = mu[:5].copy()
    moved[:, TOP.dims] += 50.0
    np.testing.assert_allclose(latent_map.transform(moved), latent_map.transform(mu[:5]), atol=1e-4)


def test_a_whole_code_pca_map_keeps_its_exact_inverse():
    mu, _ = _codes()
    latent_map = LatentMap(ProjectionParams("pca")).fit(mu)
    assert latent_map.pca_parameters() is not None


def test_the_level_is_in_every_key(tmp_path):
    checkpoint = tmp_path / "m.pt"
    checkpoint.write_bytes(b"weights")
    whole, top, bottom = (ProjectionParams("umap", level=level) for level in (None, TOP, BOTTOM))
    assert len({whole.key(), top.key(), bottom.key()}) == 3
    assert whole.key() == "umap-2d-s0-nn15-md0.1"  # a flat model's (and the whole code's) maps keep their files
    assert "top" in top.key() and "bottom" in bottom.key()
    paths = {cache_path(checkpoint, p, 100) for p in (whole, top, bottom)}
    keys = {map_key(checkpoint, 1.0, 100, p) for p in (whole, top, bottom)}
    assert len(paths) == 3 and len(keys) == 3
    # The same name with other dimensions (another model's levels) is another map.
    assert ProjectionParams("umap", level=Level("top", 0, 3)).key() != top.key()


def test_a_saved_level_map_reloads_and_never_passes_for_another(tmp_path):
    mu, _ = _codes()
    params = ProjectionParams("pca", level=TOP)
    path = tmp_path / "map.npz"
    fitted, loaded = fit_or_load(mu, params, path)
    assert not loaded
    again, loaded = fit_or_load(mu, params, path)
    assert loaded
    np.testing.assert_allclose(again.embedding_, fitted.embedding_)
    np.testing.assert_allclose(again.transform(mu[:3]), fitted.transform(mu[:3]), atol=1e-5)
    for other in (ProjectionParams("pca"), ProjectionParams("pca", level=BOTTOM)):
        with pytest.raises(ValueError, match="other dimensions"):
            LatentMap.load(path, other, mu)


def test_a_level_outside_the_code_is_refused():
    mu, _ = _codes()
    with pytest.raises(ValueError, match="outside"):
        LatentMap(ProjectionParams("pca", level=Level("deep", 4, 3))).fit(mu)


def test_active_units_are_counted_within_each_level():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((200, 5))
    mu[:, 1] = 0.5  # a collapsed top dimension
    mu[:, 3] *= 0.01  # a bottom dimension whose means barely move (variance 1e-4)
    assert active_per_level(mu, LEVELS) == {"top": 1, "bottom": 2}
    assert active_per_level(mu, (Level("z", 0, 5),)) == {"z": 3}


def test_the_probe_per_level_finds_the_level_that_knows_the_class():
    train_mu, train_labels = _codes(200, seed=1)
    test_mu, test_labels = _codes(200, seed=2)
    accuracy = probe_per_level(train_mu, train_labels, test_mu, test_labels, LEVELS)
    assert list(accuracy) == ["top", "bottom", ALL_LEVELS]
    assert accuracy["top"] > 0.95 and accuracy[ALL_LEVELS] > 0.95
    assert accuracy["bottom"] < 0.7  # noise: about chance
    flat = probe_per_level(train_mu, train_labels, test_mu, test_labels, (Level("z", 0, 5),))
    assert list(flat) == [ALL_LEVELS]
    with pytest.raises(ValueError, match="two classes"):
        probe_per_level(train_mu, np.zeros(200), test_mu, test_labels, LEVELS)


def test_chance_is_the_commonest_fitted_class():
    assert chance_accuracy(np.array([1, 1, 2]), np.array([1, 2, 2, 2])) == 0.25


def test_the_level_report_of_a_hierarchical_checkpoint(tiny_hierarchical_checkpoint):
    report = level_report(open_model(tiny_hierarchical_checkpoint), 100)
    assert [level.name for level in report.levels] == ["top", "bottom"]
    assert report.kl_per_dim.shape == (5,) and (report.kl_per_dim >= 0).all()
    assert report.kl["top"] == pytest.approx(report.kl_per_dim[:2].sum())
    assert report.kl["bottom"] == pytest.approx(report.kl_per_dim[2:].sum())
    assert 0 <= report.active["top"] <= 2 and 0 <= report.active["bottom"] <= 3
    assert report.n_images == 100
    assert set(report.probe) == {"top", "bottom", ALL_LEVELS}
    assert all(0.0 <= a <= 1.0 for a in report.probe.values())
    assert 0.0 < report.chance < 0.5  # ten digit classes
    assert "fitted on" in report.about and "scored on 100" in report.about


def test_the_level_report_of_a_flat_checkpoint_is_one_level(tiny_checkpoint):
    report = level_report(open_model(tiny_checkpoint), 50)
    assert [level.name for level in report.levels] == ["z"]
    assert report.kl["z"] == pytest.approx(report.kl_per_dim.sum())
    assert list(report.probe) == [ALL_LEVELS]


def test_the_rate_splits_by_level_and_adds_up():
    torch.manual_seed(0)
    model = HierarchicalVAE(HierarchicalConfig((1, 8, 8), (2, 3), hidden_dim=16)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = torch.rand(12, 1, 8, 8, generator=torch.Generator().manual_seed(1)).round()
    found = compare_model(model, x, shown=2, samples=2, traversed=1, iwae_k=0)
    assert list(found.rate_by_level) == ["top", "bottom"]
    assert sum(found.rate_by_level.values()) == pytest.approx(found.rate_distortion.rate, rel=1e-5)
    assert found.rate_by_level["top"] > 0 and found.rate_by_level["bottom"] > 0


def test_a_flat_model_has_one_rate_level():
    from vae.models.native import VAE, VAEConfig

    torch.manual_seed(0)
    model = VAE(VAEConfig((1, 8, 8), latent_dim=4, arch="mlp", hidden_dims=(8,))).eval()
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(1)).round()
    found = compare_model(model, x, shown=2, samples=2, traversed=1, iwae_k=0)
    assert list(found.rate_by_level) == ["z"]
    assert found.rate_by_level["z"] == pytest.approx(found.rate_distortion.rate, rel=1e-5)
