import numpy as np
import pytest

from vae.latent.codes import nearest_neighbours, percentile_rank
from vae.latent.projection import LatentMap, ProjectionParams, cache_path, fit_or_load


def _clusters(n=120, d=6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (3, d))
    return (centres[np.arange(n) % 3] + rng.normal(0, 0.3, (n, d))).astype(np.float32)


@pytest.mark.parametrize("method", ["pca", "umap", "tsne"])
def test_fit_place_and_locate(method):
    mu = _clusters()
    params = ProjectionParams(method, n_components=2, seed=0, n_neighbors=10, perplexity=10)
    latent_map = LatentMap(params).fit(mu)
    assert latent_map.embedding_.shape == (120, 2)
    placed = latent_map.transform(mu[:5])
    assert np.allclose(placed, latent_map.embedding_[:5], atol=1e-4)  # a fitted point lands on itself
    if method != "pca":  # PCA's inverse is exact only in its subspace: tested below
        assert np.allclose(latent_map.inverse_transform(latent_map.embedding_[:5]), mu[:5], atol=1e-4)
    assert latent_map.distance_to_data(latent_map.embedding_[:1])[0] == pytest.approx(0, abs=1e-6)
    far = latent_map.embedding_.max(0) + 100 * latent_map.spacing_
    assert latent_map.distance_to_data(far)[0] > 50


@pytest.mark.parametrize(
    ("method", "last"), [("umap", "layout: epoch 500 of 500"), ("tsne", "layout: iteration 750 of 750")]
)
def test_umap_and_tsne_report_their_progress(method, last):
    heard = []
    LatentMap(ProjectionParams(method, n_neighbors=10, perplexity=10)).fit(
        _clusters(), lambda *report: heard.append(report)
    )
    assert heard[0] == ("finding neighbours", None) and heard[-1] == (last, 1.0)
    fractions = [fraction for _, fraction in heard[1:]]
    assert fractions == sorted(fractions) and len(fractions) >= 2  # start and end at least


def test_spacing_of_a_large_map_is_the_neighbour_distance():
    gx, gy = np.meshgrid(np.arange(120.0), np.arange(100.0))  # 12,000 points one unit apart
    mu = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size), np.zeros(gx.size)], axis=1).astype(np.float32)
    latent_map = LatentMap(ProjectionParams("pca")).fit(mu)
    assert latent_map.spacing_ == pytest.approx(1.0, abs=1e-3)
    assert latent_map.distance_to_data(np.array([[0.0, 60.0]]) + latent_map.embedding_.min(0))[0] < 1.0


def test_pca_inverse_is_exact_in_the_principal_subspace():
    rng = np.random.default_rng(1)
    mu = (rng.normal(size=(200, 2)) @ rng.normal(size=(2, 5))).astype(np.float32)  # rank 2
    latent_map = LatentMap(ProjectionParams("pca")).fit(mu)
    assert np.allclose(latent_map.inverse_transform(latent_map.transform(mu)), mu, atol=1e-4)


def test_umap_is_seeded():
    mu = _clusters()
    a = LatentMap(ProjectionParams("umap", seed=3, n_neighbors=10)).fit(mu).embedding_
    b = LatentMap(ProjectionParams("umap", seed=3, n_neighbors=10)).fit(mu).embedding_
    assert np.allclose(a, b)


def test_three_d_and_tiny_latents():
    mu = _clusters(d=2)
    latent_map = LatentMap(ProjectionParams("pca", n_components=3)).fit(mu)
    assert latent_map.embedding_.shape == (120, 3) and latent_map.transform(mu[:2]).shape == (2, 3)


def test_persisted_maps_reload_without_refitting(tmp_path):
    mu = _clusters()
    for method in ("pca", "tsne"):
        params = ProjectionParams(method, perplexity=10)
        path = tmp_path / f"{method}.npz"
        first, loaded = fit_or_load(mu, params, path)
        assert not loaded and path.is_file()
        second, loaded = fit_or_load(mu, params, path)
        assert loaded and np.array_equal(first.embedding_, second.embedding_)
        assert np.allclose(first.inverse_transform([[0.5, 0.5]]), second.inverse_transform([[0.5, 0.5]]), atol=1e-5)
    _, loaded = fit_or_load(mu[:100], ProjectionParams("pca"), tmp_path / "pca.npz")
    assert not loaded  # other points: refit


def test_cache_path_changes_with_the_checkpoint(tmp_path):
    ckpt = tmp_path / "m.pt"
    ckpt.write_bytes(b"one")
    a = cache_path(ckpt, ProjectionParams("umap"), 100)
    ckpt.write_bytes(b"two")
    assert cache_path(ckpt, ProjectionParams("umap"), 100) != a
    assert a.parent == tmp_path / ".cache"
    assert cache_path(ckpt, ProjectionParams("umap", n_neighbors=5), 100) != cache_path(
        ckpt, ProjectionParams("umap"), 100
    )


def test_nearest_neighbours_and_percentiles():
    codes = np.array([[0.0], [1.0], [2.0], [10.0]], dtype=np.float32)
    index, distance = nearest_neighbours(codes, [1.1], k=2)
    assert index.tolist() == [1, 2] and np.allclose(distance, [0.1, 0.9], atol=1e-6)
    duplicated = np.vstack([codes, codes[1:2]])  # row 4 repeats row 1
    index, distance = nearest_neighbours(duplicated, duplicated[1], k=2, exclude=1)
    assert index.tolist() == [4, 0] and distance[0] == 0  # the duplicate counts, the query's own row not
    assert percentile_rank(5, np.arange(10)) == 60.0 and percentile_rank(-1, np.arange(10)) == 0.0


def test_umap_uses_cuml_when_installed_and_umap_learn_otherwise(monkeypatch):
    import sys
    import types

    import umap

    from vae.latent.projection import _umap_class

    monkeypatch.delenv("VAE_NO_CUML", raising=False)
    assert _umap_class() is umap.UMAP  # no cuML here

    class FakeGpuUMAP:
        pass

    manifold = types.ModuleType("cuml.manifold")
    manifold.UMAP = FakeGpuUMAP
    monkeypatch.setitem(sys.modules, "cuml", types.ModuleType("cuml"))
    monkeypatch.setitem(sys.modules, "cuml.manifold", manifold)
    assert _umap_class() is FakeGpuUMAP
    monkeypatch.setenv("VAE_NO_CUML", "1")
    assert _umap_class() is umap.UMAP
