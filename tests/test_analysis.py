"""The analysis metrics on properties: disentanglement, clusters, probes, anomalies, imputation, export."""

import io
import json
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO
from vae import load_checkpoint
from vae.analysis.anomaly import LatentGaussian, anomaly_scores, corrupt, detection_auc
from vae.analysis.clusters import agreement, cluster, linear_probe
from vae.analysis.disentanglement import discretize, gaussian_total_correlation, mig
from vae.analysis.export import latents_csv, latents_npz, projector_files, zip_bytes
from vae.analysis.imputation import hidden_error, impute, make_mask, mean_image_fill
from vae.data.source import dataset_for_checkpoint


def _factors(rng, n=3000):
    return np.stack([rng.integers(0, 3, n), rng.integers(0, 6, n), rng.integers(0, 32, n)], axis=1).astype(float)


def test_mig_is_high_for_an_identity_code_and_low_for_a_constant_one(rng):
    factors = _factors(rng)
    identity = mig(factors + rng.normal(0, 1e-3, factors.shape), factors)
    assert identity.mig >= 0.9
    assert list(identity.top_dims) == [0, 1, 2]
    assert mig(np.zeros((len(factors), 4)), factors).mig <= 0.1
    mixed = np.stack([factors[:, 1] + factors[:, 2], factors[:, 1] - factors[:, 2], factors[:, 0]], axis=1)
    assert mig(mixed, factors).mig < identity.mig  # two factors smeared over two dimensions
    with pytest.raises(ValueError):
        mig(factors[:, :1], factors)


def test_mig_is_zero_for_a_code_stacked_twice(rng):
    """disentanglement_lib's duplicated-latent case: each factor in two identical dimensions
    leaves no gap between the best and the second-best dimension."""
    factors = _factors(rng)
    code = factors + rng.normal(0, 1e-3, factors.shape)
    assert mig(np.concatenate([code, code], axis=1), factors).mig == pytest.approx(0.0, abs=1e-6)


def test_discretize_uses_equal_width_bins_per_column():
    values = np.stack([np.linspace(0, 1, 100), np.full(100, 3.0)], axis=1)
    binned = discretize(values, bins=10)
    assert binned[:, 0].min() == 0 and binned[:, 0].max() == 9
    assert np.bincount(binned[:, 0]).tolist() == [10] * 10
    assert len(np.unique(binned[:, 1])) == 1


def test_gaussian_total_correlation(rng):
    independent = rng.normal(size=(20000, 3))
    assert gaussian_total_correlation(independent) == pytest.approx(0.0, abs=0.01)
    rho = 0.8
    correlated = independent @ np.linalg.cholesky([[1, rho, 0], [rho, 1, 0], [0, 0, 1]]).T
    assert gaussian_total_correlation(correlated) == pytest.approx(-0.5 * np.log(1 - rho**2), rel=0.05)
    assert gaussian_total_correlation(np.zeros((10, 3))) == 0.0


def test_nmi_is_one_when_clusters_equal_labels(rng):
    labels = rng.integers(0, 4, 200)
    renamed = (labels + 1) % 4  # cluster numbers are arbitrary
    result = agreement(labels, renamed)
    assert result.nmi == pytest.approx(1.0) and result.ari == pytest.approx(1.0)
    assert result.confusion.shape == (4, 4) and result.confusion.sum() == 200
    assert (np.count_nonzero(result.confusion, axis=1) == 1).all()
    assert agreement(labels, rng.integers(0, 4, 200)).ari == pytest.approx(0.0, abs=0.05)


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_clustering_recovers_separated_blobs(method, rng):
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    labels = np.repeat([0, 1, 2], 60)
    mu = centres[labels] + rng.normal(0, 0.5, (180, 2))
    assert agreement(labels, cluster(mu, 3, method)).nmi == pytest.approx(1.0)
    with pytest.raises(ValueError):
        cluster(mu, 0, method)


def test_linear_probe_reads_a_linear_code_and_not_noise(rng):
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    assert linear_probe(x[:300], y[:300], x[300:], y[300:]) > 0.95
    noise = rng.normal(size=(400, 5))
    assert linear_probe(noise[:300], y[:300], noise[300:], y[300:]) < 0.7


@pytest.fixture(scope="module")
def digits():
    model, meta = load_checkpoint(REPO / "models" / "digits.pt")
    data, train_idx, held_idx = dataset_for_checkpoint(meta)
    return model, data, train_idx, held_idx


def test_neg_elbo_detects_heavy_corruption_on_digits(digits):
    model, data, train_idx, held_idx = digits
    x = data.images[held_idx]
    reference = LatentGaussian(_train_mu(model, data, train_idx))
    clean = anomaly_scores(model, x, reference)
    broken = anomaly_scores(model, corrupt(x, "noise", 0.5, seed=1), reference)
    assert detection_auc(clean["neg_elbo"], broken["neg_elbo"]) > 0.9
    assert set(clean) == {"neg_elbo", "recon_error", "mahalanobis"}
    assert all(len(v) == len(x) for v in clean.values())


def _train_mu(model, data, train_idx):
    with torch.no_grad():
        return model.encode(data.images[train_idx])[0].numpy()


def test_corruptions_change_what_they_say():
    x = torch.full((4, 1, 10, 10), 0.25)
    noisy = corrupt(x, "noise", 0.3, seed=0)
    changed = (noisy != x).float().mean()
    assert 0.2 < changed < 0.4 and set(noisy.unique().tolist()) <= {0.0, 0.25, 1.0}
    occluded = corrupt(x, "occlusion", 0.5, seed=0)
    assert ((occluded != x).sum(dim=(1, 2, 3)) == 25).all()
    with pytest.raises(ValueError):
        corrupt(x, "blur")


def test_imputation_keeps_a_fully_observed_image_and_only_fills_hidden_pixels(digits):
    model, data, _, held_idx = digits
    x = data.images[held_idx[:5]]
    full = torch.ones(1, 1, *x.shape[-2:])
    assert torch.equal(impute(model, x, full, iterations=5), x)
    mask = make_mask(*x.shape[-2:], "right")
    filled = impute(model, x, mask, iterations=20)
    observed = mask.bool().expand_as(x)
    assert torch.equal(filled[observed], x[observed])
    assert not torch.equal(filled[~observed], x[~observed])
    mean_image = data.images.mean(0, keepdim=True)
    assert hidden_error(filled, x, mask) < hidden_error(mean_image_fill(x, mask, mean_image), x, mask) * 1.5
    assert hidden_error(x, x, mask) == 0.0 and hidden_error(filled, x, full) == 0.0


@pytest.mark.parametrize("kind", ["rectangle", "left", "right", "top", "bottom", "random"])
def test_masks_hide_what_they_name(kind):
    mask = make_mask(8, 8, kind, fraction=0.5, seed=0)
    assert mask.shape == (1, 1, 8, 8)
    hidden = 1 - mask.mean().item()
    expected = {"rectangle": 0.25, "left": 0.5, "right": 0.5, "top": 0.5, "bottom": 0.5}
    if kind in expected:
        assert hidden == pytest.approx(expected[kind])
    else:
        assert 0.3 < hidden < 0.7
    if kind == "left":
        assert mask[..., :4].sum() == 0 and mask[..., 4:].sum() == 32


def test_exports_round_trip(rng):
    index, mu, sigma, labels = (
        np.arange(6) + 10,
        rng.normal(size=(6, 3)),
        rng.random((6, 3)),
        np.array([0, 1, 2, 0, 1, 2]),
    )
    rows = latents_csv(index, mu, sigma, labels).strip().splitlines()
    assert rows[0] == "index,label,mu_0,mu_1,mu_2,sigma_0,sigma_1,sigma_2" and len(rows) == 7
    assert float(rows[1].split(",")[2]) == pytest.approx(mu[0, 0], rel=1e-5)
    arrays = np.load(io.BytesIO(latents_npz(index, mu, sigma, labels)))
    assert np.array_equal(arrays["mu"], mu) and np.array_equal(arrays["labels"], labels)
    images = torch.rand(6, 1, 8, 8)
    files = projector_files(mu, labels, ["a", "b", "c"], images, index)
    assert files["vectors.tsv"].decode().splitlines()[0].count("\t") == 2
    assert files["metadata.tsv"].decode().splitlines()[:2] == ["index\tlabel", "10\ta"]
    assert Image.open(io.BytesIO(files["sprite.png"])).size == (24, 24)  # 3×3 tiles of 8 px
    config = json.loads(files["projector_config.json"])
    assert config["embeddings"][0]["sprite"]["singleImageDim"] == [8, 8]
    assert sorted(zipfile.ZipFile(io.BytesIO(zip_bytes(files))).namelist()) == sorted(files)
