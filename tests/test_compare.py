"""Comparing models: which can be compared, rate + distortion = −ELBO, Procrustes alignment."""

from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO
from vae.analysis.compare import (
    HeldOutImages,
    compare_model,
    default_selection,
    equal_elbo_levels,
    image_keys,
    images_in,
    rate_distortion,
    shared_images,
)
from vae.analysis.metrics import elbo_per_example
from vae.latent.align import align_to, procrustes
from vae.models.architecture import VAEConfig
from vae.models.native import VAE
from vae.opened import OpenedModel
from vae.opened.comparability import held_out_images, incompatibility, training_knobs
from vae.opened.info import info_from_checkpoint, info_from_manifest


def _opened(spec="digits", shape=(1, 8, 8), held=None, **options):
    meta = {
        "dataset": {"spec": spec, "options": options},
        "image_shape": list(shape),
        "training": {"beta": 2.0},
        "split": None if held is None else {"held_out_indices": held},
    }
    return OpenedModel(Path(f"{spec}.pt"), None, info_from_checkpoint(f"{spec}.pt", meta, 0))


def _bundle(tmp_path, name="b", shape=(1, 8, 8)):
    manifest = {"image_shape": list(shape), "pixel_range": [0, 1], "sample": {"num_examples": 3}}
    return OpenedModel(tmp_path / name, None, info_from_manifest(tmp_path / name, manifest))


def _images(*pixels):
    """HeldOutImages of a data sample: images of one constant value each, indices 0..n-1."""
    x = torch.tensor(pixels, dtype=torch.float32).reshape(-1, 1, 1, 1).expand(-1, 1, 8, 8)
    return HeldOutImages(np.arange(len(pixels)), image_keys(x))


def _never(opened):
    raise AssertionError(f"{opened.name}: its data should not be needed")


def test_models_compare_when_they_share_held_out_images_and_the_reason_reads_well(tmp_path):
    reference = _opened(held=[1, 2, 3])
    # One index space (spec and options, not the folder): the descriptions decide, no data is loaded.
    assert incompatibility(reference, _opened(data_dir="/elsewhere"), _never) is None
    assert incompatibility(reference, _opened(held=[3, 4]), _never) is None
    assert (
        incompatibility(reference, _opened(held=[4, 5]), _never)
        == "shares no held-out images with digits.pt (another split)"
    )
    assert incompatibility(reference, _opened("sprites"), _never) == "trained on sprites, not digits"
    assert incompatibility(reference, _opened(shape=(1, 28, 28)), _never) == "images of 28×28, not 8×8"
    assert incompatibility(reference, _opened(shape=(3, 8, 8)), _never) == "images of 3×8×8, not 8×8"
    no_data = OpenedModel(
        Path("none.pt"), None, info_from_checkpoint("none.pt", {"dataset": None, "image_shape": [1, 8, 8]}, 0)
    )
    assert incompatibility(reference, no_data, _never) == "names no data"
    # Data of their own (a bundle's sample, other options): decided by the images' content.
    images = {"digits.pt": _images(0.0, 0.5, 1.0), "b": _images(1.0, 0.25), "c": _images(0.75)}
    held = lambda opened: images[opened.name]  # noqa: E731
    assert incompatibility(reference, _bundle(tmp_path, "b"), held) is None
    assert incompatibility(reference, _bundle(tmp_path, "c"), held) == "shares no held-out images with digits.pt"
    assert incompatibility(_bundle(tmp_path, "b"), _bundle(tmp_path, "c"), held) == "shares no held-out images with b"
    images["digits"] = images["digits.pt"]
    other_options = _opened(n=500)
    assert (
        incompatibility(reference, other_options, lambda o: images["b"] if o is other_options else images["digits.pt"])
        is None
    )
    assert training_knobs(_opened().info) == {"beta": 2.0, "warmup": 0.0, "free_bits": 0.0}  # as vae.train's defaults


def test_a_model_whose_data_is_missing_is_excluded_with_the_reason(tmp_path):
    from vae.errors import DatasetError

    def missing(opened):
        raise DatasetError("no mnist files in data/")

    reason = incompatibility(_opened(), _bundle(tmp_path, "b"), missing)
    assert reason == "its data is not here to look for shared images (no mnist files in data/)"


def test_shared_images_in_one_index_space_are_matched_by_index():
    space = ("digits", (), (1, 8, 8))
    models = [HeldOutImages(np.array(i), np.zeros(len(i), np.uint64), space) for i in ([1, 3, 5, 9], [3, 4, 9], [3, 9])]
    assert [s.tolist() for s in shared_images(models)] == [[3, 9]] * 3


def test_shared_images_across_datasets_are_matched_by_content_each_in_its_own_indices():
    x = torch.rand(6, 1, 8, 8)
    checkpoint = HeldOutImages(np.array([10, 20, 30, 40]), image_keys(x[:4]), ("digits", (), (1, 8, 8)))
    sample = HeldOutImages(np.arange(3), image_keys(x[[3, 1, 5]].clone()))  # images 40, 20 and one of its own
    mine, theirs = shared_images([checkpoint, sample])
    assert mine.tolist() == [20, 40] and theirs.tolist() == [1, 0]
    assert images_in(checkpoint, sample, np.array([0, 1, 2])).tolist()[:2] == [40, 20]
    assert images_in(checkpoint, sample, np.array([2]))[0] < 0  # not held out by the reference: a name of its own
    # Pixels at 8-bit precision: a data sample stores uint8 images.
    assert (image_keys((x * 255).round() / 255) == image_keys(x)).all()


def test_a_bundle_exported_from_a_checkpoint_shares_its_held_out_images(tmp_path):
    from vae import open_model
    from vae.bundle import bundle_from_checkpoint

    checkpoint = open_model(REPO / "models" / "digits.pt")
    bundle = open_model(bundle_from_checkpoint(REPO / "models" / "digits.pt", tmp_path / "digits-bundle", sample=2000))
    again = open_model(bundle_from_checkpoint(REPO / "models" / "digits.pt", tmp_path / "again", sample=2000))
    assert incompatibility(checkpoint, bundle) is None and incompatibility(bundle, checkpoint) is None
    assert incompatibility(bundle, again) is None  # the same sample, exported twice
    mine, theirs = shared_images([held_out_images(checkpoint), held_out_images(bundle)])
    assert len(mine) == len(checkpoint.data().held_idx)  # the whole held-out fifth (359 images)
    x, y = checkpoint.data().dataset.images[mine], bundle.data().dataset.images[theirs]
    assert torch.allclose(x, y, atol=0.5 / 255)  # the same images, each from its own dataset
    assert incompatibility(checkpoint, open_model(REPO / "models" / "mnist.pt")) == "images of 28×28, not 8×8"


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=4, arch="mlp", hidden_dims=(32,))).eval()


def test_rate_and_distortion_sum_to_minus_the_elbo_on_the_same_draws(small_model):
    x = torch.rand(50, 1, 8, 8)
    rd = rate_distortion(small_model, x, seed=3)
    parts = elbo_per_example(small_model, x, generator=torch.Generator().manual_seed(3))
    assert rd.rate + rd.distortion == pytest.approx(-rd.elbo, rel=1e-6)
    assert rd.elbo == pytest.approx(float(parts["elbo"].mean()), rel=1e-6)
    assert rd.rate == pytest.approx(float(parts["kl"].mean()), rel=1e-6) and rd.rate > 0


def test_a_model_comparison_has_every_column_part(small_model):
    x = torch.rand(20, 1, 8, 8)
    found = compare_model(small_model, x, shown=5, samples=6, traversed=2, iwae_k=4)
    assert found.reconstructions.shape == (5, 1, 8, 8) and found.prior_samples.shape == (6, 1, 8, 8)
    assert found.traversals.shape == (2 * 7, 1, 8, 8) and len(found.traversed_dims) == 2
    assert found.kl_per_dim[found.traversed_dims[0]] == found.kl_per_dim.max()
    assert found.iwae_nll <= -found.rate_distortion.elbo + 1.0  # the IWAE bound is no looser than the ELBO
    again = compare_model(small_model, x, shown=5, samples=6, traversed=2, iwae_k=4)
    assert torch.equal(found.prior_samples, again.prior_samples)  # same seed, same samples


def test_procrustes_recovers_a_rotated_scaled_shifted_copy_exactly():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(200, 2))
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = 3.5 * points @ rotation + np.array([10.0, -4.0])
    np.testing.assert_allclose(procrustes(moved, points).apply(moved), points, atol=1e-5)
    mirrored = points * np.array([-1.0, 1.0])  # a reflection is recovered too
    np.testing.assert_allclose(procrustes(mirrored, points).apply(mirrored), points, atol=1e-5)


def test_alignment_uses_the_images_both_maps_show():
    rng = np.random.default_rng(1)
    reference = rng.normal(size=(100, 2)).astype(np.float32)
    ids = np.arange(100)
    other_ids = np.arange(50, 150)  # half the images in common, in another order below
    other = np.concatenate([reference[50:] @ np.array([[0.0, 1.0], [-1.0, 0.0]]), rng.normal(size=(50, 2))])
    order = rng.permutation(100)
    aligned = align_to(reference, ids, other[order], other_ids[order])
    back = np.argsort(order)
    np.testing.assert_allclose(aligned[back][:50], reference[50:], atol=1e-4)
    assert np.allclose(align_to(reference, ids, other, other_ids + 1000), other)  # nothing shared: unchanged


def test_equal_elbo_levels_are_round_and_span_the_models():
    levels = equal_elbo_levels([23.9, 27.0, 24.3])
    assert levels[0] <= 23.9 and levels[-1] >= 27.0 and 2 <= len(levels) <= 8
    assert np.allclose(np.diff(levels), np.diff(levels)[0])


def test_compare_opens_on_the_current_sweep_else_the_newest_sweep():
    sweeps = {"a-1.pt": "a", "a-2.pt": "a", "b-1.pt": "b", "b-2.pt": "b", "solo.pt": None}
    oldest_first = ["a-1.pt", "a-2.pt", "solo.pt", "b-1.pt", "b-2.pt"]
    assert default_selection("a-2.pt", oldest_first, sweeps) == ["a-1.pt", "a-2.pt"]
    assert default_selection("solo.pt", oldest_first, sweeps) == ["b-1.pt", "b-2.pt"]
    assert default_selection("solo.pt", ["solo.pt", "x.pt", "y.pt"], {}, limit=2) == ["solo.pt", "x.pt"]
