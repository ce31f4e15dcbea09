"""Comparing models: which can be compared, rate + distortion = −ELBO, Procrustes alignment."""

import numpy as np
import pytest
import torch

from vae.analysis.compare import (
    compare_model,
    default_selection,
    equal_elbo_levels,
    rate_distortion,
    shared_heldout,
)
from vae.analysis.metrics import elbo_per_example
from vae.latent.align import align_to, procrustes
from vae.models.architecture import VAEConfig
from vae.models.native import VAE
from vae.opened.comparability import incompatibility, training_knobs
from vae.opened.info import info_from_checkpoint


def _meta(spec="digits", shape=(1, 8, 8), **options):
    meta = {"dataset": {"spec": spec, "options": options}, "image_shape": list(shape), "training": {"beta": 2.0}}
    return info_from_checkpoint("model.pt", meta, 0)


def test_only_models_of_the_same_data_compare_and_the_reason_is_given():
    reference = _meta()
    assert incompatibility(reference, _meta(data_dir="/elsewhere")) is None  # where it was read from does not matter
    assert incompatibility(reference, _meta("sprites")) == "trained on sprites, not digits"
    assert "images of 1×16×16" in incompatibility(reference, _meta(shape=(1, 16, 16)))
    assert "other data options" in incompatibility(reference, _meta(n=500))
    no_data = info_from_checkpoint("none.pt", {"dataset": None, "image_shape": [1, 8, 8]}, 0)
    assert incompatibility(reference, no_data) == "names no data"
    assert training_knobs(_meta()) == {"beta": 2.0, "warmup": 0.0, "free_bits": 0.0}  # as vae.train's defaults


def test_shared_heldout_keeps_what_every_model_held_out():
    assert shared_heldout([np.array([5, 1, 3, 9]), torch.tensor([3, 9, 4]), np.array([9, 3])]).tolist() == [3, 9]


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
