"""An opened model: the typed description read from a checkpoint or a bundle, lazy data and
held-out codes, the shared grids and formulas, and a bundle installed from a zip opened once."""

import io
import shutil
import zipfile

import numpy as np
import pytest
import torch
from bundle_models import examples_bundle

from conftest import REPO
from vae import load_checkpoint
from vae.bundle import BundleModel, install_bundle_zip
from vae.data.datasets import map_subset
from vae.data.source import FitScoreSplit
from vae.latent.encoding import encode_dataset
from vae.latent.grids import prior_grid, traversal_grid
from vae.models.gaussian import gaussian_log_density
from vae.opened import open_model, opened_bundle
from vae.opened.measures import (
    anomalies,
    attribute_vector,
    clusters,
    default_threshold,
    flagged_fraction,
    mean_image,
    probes,
)


def test_a_checkpoint_opens_with_its_description_in_typed_fields(tiny_checkpoint):
    opened = open_model(tiny_checkpoint)
    _, meta = load_checkpoint(tiny_checkpoint)
    info = opened.info
    assert (info.kind, info.is_native, info.name) == ("checkpoint", True, "tiny.pt")
    assert info.image_shape == (1, 8, 8) and info.data.spec == "digits" and info.data.num_examples == 1797
    assert info.split.held_out_indices.tolist() == meta["split"]["held_out_indices"].tolist()
    assert info.label_names == tuple(str(d) for d in range(10))
    assert info.epochs_done == 2 and len(info.history) == 2 and info.training.beta == 1.0
    assert info.metrics.elbo == pytest.approx(meta["metrics"]["elbo"])
    assert info.upload_style == meta["upload_style"] and info.provenance.origin == "trained here"
    with pytest.raises(AttributeError):
        info.kind = "bundle"  # frozen


def test_held_out_codes_are_the_maps_points_encoded_once(tiny_checkpoint):
    opened = open_model(tiny_checkpoint)
    data = opened.data()
    assert opened.data() is data  # loaded once
    codes = opened.held_out(50)
    index = map_subset(data.held_idx, 50)
    mu, logvar = encode_dataset(opened.model, data.dataset.images[index])
    assert codes.index.tolist() == index.tolist() and np.allclose(codes.mu, mu.numpy())
    assert np.allclose(codes.sigma, (0.5 * logvar).exp().numpy())
    assert codes.labels.tolist() == data.dataset.labels[index].tolist()
    expected_error = -opened.model.log_px_given_z(data.dataset.images[index], mu)
    assert np.allclose(codes.recon_error, expected_error.detach().numpy(), atol=1e-5)
    assert opened.held_out(50) is codes


def test_a_conditional_model_gets_a_name_for_every_class(tiny_conditional_checkpoint):
    info = open_model(tiny_conditional_checkpoint).info
    assert info.num_classes == 10 and len(info.label_names) == 10
    assert info.class_name(3) == "3" and info.class_name(None) == "no label" and info.class_name(12) == "12"


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundles") / "ex"
    examples_bundle(folder)
    return folder


def test_a_bundle_opens_with_its_manifest_as_provenance(examples):
    opened = open_model(examples)
    info = opened.info
    assert (info.kind, info.is_native, info.training, info.history, info.metrics) == ("bundle", False, None, (), None)
    assert info.provenance.origin == "exported" and "torch" in info.provenance.exported_with
    assert info.data.sample == examples / "data.npz"
    assert info.split.held_out_count == info.data.num_examples  # a sample is all held out
    assert len(opened.data().held_idx) == info.data.num_examples


def _zip(folder):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, file.name)
    return buffer.getvalue()


def test_a_bundle_added_on_home_is_checked_and_opened_once(examples, tmp_path, monkeypatch):
    """Home installs the zip (every check, onnxruntime sessions built) and hands the opened
    model to the app's cache, which then serves it without opening the folder again."""
    from ui.shell import cache

    models = tmp_path / "models"
    models.mkdir()
    built = []
    original = BundleModel.__init__

    def counting(self, *args, **kwargs):
        built.append(args[0])
        original(self, *args, **kwargs)

    monkeypatch.setattr(BundleModel, "__init__", counting)
    installed = install_bundle_zip(_zip(examples), models, "mine")
    cache.adopt(opened_bundle(installed))
    served = cache.opened(models / "mine")
    assert served.model is installed and served.info.name == "mine" and len(built) == 1
    assert served.data().dataset.images.shape[1:] == (1, 8, 8)
    shutil.rmtree(models)


def test_the_gaussian_log_density_is_the_normal_distributions():
    x, mean, log_sigma = torch.randn(5, 3), torch.randn(5, 3), torch.randn(5, 3) * 0.3
    expected = torch.distributions.Normal(mean, log_sigma.exp()).log_prob(x)
    assert torch.allclose(gaussian_log_density(x, mean, log_sigma), expected, atol=1e-6)
    assert torch.allclose(gaussian_log_density(x, mean, 0.0), torch.distributions.Normal(mean, 1.0).log_prob(x))


class _Identity:
    """A 'model' whose decoder writes the code into the image: decoded grids show their codes."""

    latent_dim, image_shape, num_classes, device = 3, (1, 1, 3), 0, torch.device("cpu")

    def decode(self, z, y=None):
        return torch.as_tensor(z).reshape(-1, 1, 1, 3)


def test_a_traversal_grid_sets_one_dimension_per_row():
    z = np.array([0.1, 0.2, 0.3], np.float32)
    images = traversal_grid(_Identity(), z, [2, 0], np.array([-1.0, 1.0], np.float32)).reshape(-1, 3)
    expected = [[0.1, 0.2, -1.0], [0.1, 0.2, 1.0], [-1.0, 0.2, 0.3], [1.0, 0.2, 0.3]]
    assert np.allclose(images.numpy(), expected)


def test_a_prior_grid_of_a_conditional_model_keeps_one_z_per_column():
    class Conditional(_Identity):
        num_classes = 4

    z, y = prior_grid(Conditional(), rows=99, per_row=5, seed=1, temperature=0.5)
    assert z.shape == (20, 3) and y.tolist() == [k for k in range(4) for _ in range(5)]
    assert np.allclose(z[:5], z[15:]) and not np.allclose(z[0], z[1])
    plain, none = prior_grid(_Identity(), rows=2, per_row=5, seed=1, temperature=2.0)
    assert none is None and plain.shape == (10, 3) and np.allclose(plain[:5] / 2.0, z[:5] / 0.5)


def test_the_anomaly_threshold_starts_at_the_95th_percentile_and_flags_what_is_above():
    scores = np.arange(100, dtype=float)
    assert default_threshold(scores) == pytest.approx(94.05)
    assert flagged_fraction(scores, 94.05) == pytest.approx(0.05) and flagged_fraction(scores, 200) == 0.0


def test_each_cached_measure_has_a_cache_of_its_own(tiny_checkpoint):
    """Streamlit keys a cache by the function's name and source: two measures with the same
    arguments must not answer for each other."""
    from ui.shell import cache

    assert tuple(cache.all_mu(tiny_checkpoint).shape) == (1797, 4)
    assert tuple(cache.mean_image(tiny_checkpoint).shape) == (1, 1, 8, 8)
    assert cache.clusters(tiny_checkpoint, 30, 3, "kmeans").assigned.shape == (30,)
    assert isinstance(cache.spacing(tiny_checkpoint, 30), float)


def test_the_app_finds_the_shipped_models_without_a_setting(monkeypatch):
    from conftest import REPO
    from ui.shell.page import list_checkpoints, models_dir

    monkeypatch.delenv("VAE_MODELS_DIR", raising=False)
    assert models_dir() == REPO / "models"
    assert {"digits.pt", "mnist.pt", "sprites.pt"} <= {p.name for p in list_checkpoints()}


@pytest.mark.slow
def test_the_architecture_docs_example_runs_as_written():
    import re
    import subprocess
    import sys

    from conftest import REPO

    (example,) = re.findall(r"```python\n(.*?)```", (REPO / "docs" / "architecture.md").read_text(), re.S)
    result = subprocess.run([sys.executable, "-c", example], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == ["checkpoint digits ('0', '1', '2') -23.978036880493164", "359 (359, 8)"]


def test_held_out_codes_are_stored_beside_the_model_and_read_back(tmp_path, monkeypatch):
    from vae.opened import opening

    model = tmp_path / "digits.pt"
    shutil.copy(REPO / "models" / "digits.pt", model)
    first = open_model(model).held_out(100)
    (stored,) = (tmp_path / ".cache").glob("digits-*-heldout-n100.npz")

    def no_encoding(*args, **kwargs):
        raise AssertionError("encoded again although the codes are stored")

    monkeypatch.setattr(opening, "encode_codes", no_encoding)
    again = open_model(model).held_out(100)  # a fresh process would find the same file
    for name in ("index", "mu", "sigma", "labels", "recon_error"):
        assert np.array_equal(getattr(again, name), getattr(first, name)), name
    monkeypatch.undo()
    stored.write_bytes(b"damaged")
    assert np.array_equal(open_model(model).held_out(100).mu, first.mu)  # encoded again, not trusted


@pytest.mark.parametrize("kind", ["checkpoint", "sample", "dataset"])
def test_analyses_fit_on_images_disjoint_from_those_they_score_on(kind, digits_models):
    """A probe, a reference Gaussian, a threshold, clusters, an attribute direction and the
    mean image are fitted on `fit_idx` and scored on `score_idx`, never the same image."""
    opened = open_model(digits_models[kind])
    data, split = opened.data(), opened.fitting()
    fit, score = split.fit_idx, split.score_idx
    assert min(len(fit), len(score)) >= 2 and not torch.isin(fit, score).any()
    assert torch.isin(score, data.held_idx).all()  # scored on images the model did not train on
    if kind == "sample":  # all held out: a fixed seeded half to fit on, the other half to score on
        assert (len(fit), len(score), len(data.train_idx)) == (179, 180, 0)
        assert torch.equal(torch.cat([fit, score]).sort().values, data.held_idx)
        assert torch.equal(open_model(digits_models[kind]).fitting().fit_idx, fit)  # the same split each time
    else:  # training (or the standard training part) vs held-out (the standard held-out fifth)
        assert torch.equal(fit, data.train_idx) and torch.equal(score, data.held_idx)
    mu, _ = opened.fit_codes(30)
    index = split.fit_subset(30)
    assert torch.isin(index, fit).all() and np.allclose(mu, encode_dataset(opened.model, data.dataset.images[index])[0])
    assert np.isin(opened.scored(30).index, score.numpy()).all()
    report = clusters(opened, 40, 3, "kmeans")
    assert report.n_fit == min(2000, len(fit)) and report.assigned.shape == (40,)
    assert report.scored.tolist() == np.isin(opened.held_out(40).index, score.numpy()).tolist()


def test_a_fit_and_score_split_refuses_to_share_an_image():
    with pytest.raises(ValueError, match="must not be among"):
        FitScoreSplit(torch.tensor([1, 2]), torch.tensor([2, 3]), "a", "b", "c")


def test_a_bundles_probe_is_scored_on_sample_images_it_was_not_fitted_on(digits_models):
    """On the sample alone the pixel probe used to be fitted and scored on the same 359 digits
    (100 %); on a half it has not seen, a logistic regression on 64 pixels is not perfect."""
    report = probes(open_model(digits_models["sample"]), 2000)
    assert (report.n_train, report.n_test) == (179, 180)
    assert 0.6 < report.pixels < 0.99 and 0.3 < report.latent < 0.99
    assert report.about == "fitted on 179 images of the bundle's data sample, scored on 180 others of it"
    named = probes(open_model(digits_models["dataset"]), 2000)
    assert (
        named.about
        == "fitted on 1000 images of the standard training part of digits, scored on 359 of its standard held-out fifth"
    )


def test_anomalies_place_the_threshold_on_images_fitted_on_and_flag_others(digits_models):
    opened = open_model(digits_models["sample"])
    split = opened.fitting()
    report = anomalies(opened, 2000, "noise", 0.4)
    assert np.isin(report.index, split.score_idx.numpy()).all() and len(report.index) == 180
    assert all(len(scores) == 179 for scores in report.fitted.values())
    assert report.about.startswith("reference Gaussian fitted on 179 images of the bundle's data sample, scored on 180")
    assert attribute_vector(opened, 1, 7, "means").shape == (opened.model.latent_dim,)
    expected = opened.data().dataset.images[split.fit_idx].mean(0, keepdim=True)
    assert torch.allclose(mean_image(opened), expected)
