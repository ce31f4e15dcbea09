import numpy as np
import pytest
import torch

from vae.latent.codes import (
    apply_attribute,
    arithmetic,
    class_means,
    classifier_vector,
    decode_as_every_class,
    decode_codes,
    kl_per_dimension,
    known_kl_per_dimension,
    lerp,
    mean_difference_vector,
    nearest_distances,
    order_by_kl,
    prior_samples,
    slerp,
    slider_ranges,
    traverse,
    typical_spacing,
)
from vae.models.checkpoints import load_checkpoint
from vae.opened.info import info_from_checkpoint

_ENDPOINTS = np.random.default_rng(0)
A, B = _ENDPOINTS.normal(size=6).astype(np.float32), 3 * _ENDPOINTS.normal(size=6).astype(np.float32)
del _ENDPOINTS


def test_lerp_moves_in_equal_steps_from_a_to_b():
    path = lerp(A, B, 9)
    assert path.shape == (9, 6)
    assert np.allclose(path[0], A) and np.allclose(path[-1], B)
    assert np.allclose(np.diff(path, axis=0), (B - A) / 8, atol=1e-6)


def test_slerp_turns_at_a_constant_angle_per_step():
    path = slerp(A, B, 9).astype(np.float64)
    assert path.shape == (9, 6)
    unit = path / np.linalg.norm(path, axis=1, keepdims=True)
    steps = np.arccos(np.clip(np.sum(unit[:-1] * unit[1:], axis=1), -1, 1))
    total = np.arccos(A @ B / np.linalg.norm(A) / np.linalg.norm(B))
    assert np.allclose(steps, total / 8, atol=1e-4)  # along the great circle, at even speed
    # every step stays in the plane of A and B: the residual outside it vanishes
    basis, _ = np.linalg.qr(np.stack([A, B], axis=1).astype(np.float64))
    assert np.allclose(path - path @ basis @ basis.T, 0, atol=1e-4)


def test_slerp_keeps_the_norm_profile_of_the_endpoints():
    path = slerp(A, B, 11)
    norms = np.linalg.norm(path, axis=1)
    assert np.allclose(norms, np.linspace(np.linalg.norm(A), np.linalg.norm(B), 11), rtol=1e-5)
    same_norm = B / np.linalg.norm(B) * np.linalg.norm(A)
    assert np.allclose(np.linalg.norm(slerp(A, same_norm, 7), axis=1), np.linalg.norm(A), rtol=1e-5)
    # a straight line between two equal-norm points dips towards the origin; slerp does not
    assert np.linalg.norm(lerp(A, same_norm, 7)[3]) < np.linalg.norm(A)


def test_slerp_handles_parallel_opposite_and_zero_vectors():
    assert np.allclose(slerp(A, 2 * A, 5)[2], 1.5 * A, atol=1e-5)
    assert np.allclose(slerp(np.zeros(6), B, 3)[1], B / 2)
    for a, b in [(A, -2 * A), (np.array([0.5]), np.array([-0.7]))]:  # antipodal: always so in 1-D
        path = slerp(a, b, 10)
        assert np.isfinite(path).all()
        assert np.allclose(path, lerp(a, b, 10))


def test_arithmetic_undoes_itself(rng):
    c = rng.normal(size=6).astype(np.float32)
    assert np.allclose(arithmetic(A, B, B), A)
    assert np.allclose(arithmetic(A, c, c), A)


def test_traversal_changes_only_its_dimension():
    values = np.linspace(-3, 3, 7)
    path = traverse(A, 2, values)
    assert np.allclose(path[:, 2], values)
    others = np.delete(path, 2, axis=1)
    assert np.allclose(others, np.delete(A, 2)[None].repeat(7, axis=0))


def _two_classes(rng):
    mu = np.concatenate([rng.normal(0, 0.3, (50, 4)), rng.normal(0, 0.3, (50, 4)) + [2, -1, 0, 0]])
    return mu.astype(np.float32), np.repeat([3, 8], 50)


def test_attribute_vector_points_from_class_b_to_class_a(rng):
    mu, labels = _two_classes(rng)
    means = class_means(mu, labels, 10)
    vector = mean_difference_vector(mu, labels, source=3, target=8)
    assert np.allclose(means[3] + vector, means[8], atol=1e-5)
    assert np.isnan(means[0]).all()
    moved = apply_attribute(means[3], vector, [0.0, 0.5, 1.0])
    assert np.allclose(moved[0], means[3]) and np.allclose(moved[2], means[8], atol=1e-5)
    with pytest.raises(ValueError, match="class 5"):
        mean_difference_vector(mu, labels, 5, 8)


def test_classifier_vector_agrees_with_the_mean_difference(rng):
    mu, labels = _two_classes(rng)
    by_means = mean_difference_vector(mu, labels, 3, 8)
    by_classifier = classifier_vector(mu, labels, 3, 8)
    cosine = by_means @ by_classifier / np.linalg.norm(by_means) / np.linalg.norm(by_classifier)
    assert cosine > 0.95
    assert np.linalg.norm(by_classifier) == pytest.approx(np.linalg.norm(by_means), rel=0.15)


def test_prior_samples_are_seeded_and_scaled():
    assert np.array_equal(prior_samples(5, 3, seed=1), prior_samples(5, 3, seed=1))
    big = prior_samples(20000, 2, temperature=0.5, seed=2)
    assert abs(big.std() - 0.5) < 0.01


def test_kl_per_dimension_is_zero_for_the_prior_and_orders_dimensions(rng):
    n = 500
    mu = np.zeros((n, 3), np.float32)
    sigma = np.ones((n, 3), np.float32)
    mu[:, 1] = rng.normal(0, 2, n)  # informative
    sigma[:, 1] = 0.1
    mu[:, 2] = rng.normal(0, 0.5, n)
    sigma[:, 2] = 0.8
    kl = kl_per_dimension(mu, sigma)
    assert kl[0] == pytest.approx(0.0, abs=1e-9)
    expected = 0.5 * (np.mean(mu[:, 1] ** 2) + 0.01 - 1 - np.log(0.01))
    assert kl[1] == pytest.approx(expected, rel=1e-5)
    active, inactive = order_by_kl(kl)
    assert active == [1, 2] and inactive == [0]


def test_slider_ranges_follow_the_prior_or_the_data(rng):
    mu = np.stack([rng.normal(1.0, 0.5, 400), np.zeros(400)], axis=1).astype(np.float32)
    low, high = slider_ranges(mu, "prior")
    assert np.all(low == -3) and np.all(high == 3)
    low, high = slider_ranges(mu, "data")
    assert low[0] == pytest.approx(mu[:, 0].mean() - 3 * mu[:, 0].std(), rel=1e-5)
    assert high[0] == pytest.approx(mu[:, 0].mean() + 3 * mu[:, 0].std(), rel=1e-5)
    assert (low[1], high[1]) == pytest.approx((-0.1, 0.1))  # a dead dimension still moves
    with pytest.raises(ValueError, match="range mode"):
        slider_ranges(mu, "wide")


def test_nearest_distances_and_typical_spacing(rng):
    codes = np.array([[0, 0], [1, 0], [3, 0], [3, 0]], np.float32)
    assert np.allclose(nearest_distances(codes, [[0, 0], [2, 0], [10, 0]]), [0, 1, 7])
    many = rng.normal(size=(300, 5))
    queries = rng.normal(size=(700, 5))
    brute = np.sqrt(((queries[:, None] - many[None]) ** 2).sum(-1)).min(1)
    assert np.allclose(nearest_distances(many, queries, chunk=64), brute)
    assert typical_spacing(codes) == pytest.approx(0.5)  # nearest others: 1, 1, 0, 0


def test_known_kl_per_dimension_measures_then_falls_back_to_the_checkpoint(rng):
    mu, sigma = rng.normal(size=(50, 3)), np.full((50, 3), 0.5)
    measured, note = known_kl_per_dimension(None, 3, mu, sigma)
    assert np.allclose(measured, kl_per_dimension(mu, sigma)) and "50 held-out" in note
    assert known_kl_per_dimension([1.0, 2.0, 3.0], 3)[0].tolist() == [1.0, 2.0, 3.0]
    assert known_kl_per_dimension([0.0, 1.0, 0.5], 4) == (None, "unknown")  # another latent size: not this model's
    assert known_kl_per_dimension(None, 3) == (None, "unknown")


def test_a_checkpoint_records_kl_in_its_final_metrics_else_its_last_epoch():
    metrics = {
        "n": 3,
        "elbo": -1.0,
        "iwae_nll": 1.0,
        "bits_per_dim": 0.1,
        "active_units": 3,
        "kl_per_dim": [1.0, 2.0, 3.0],
    }
    base = {"dataset": None, "image_shape": [1, 8, 8], "history": [{"kl_per_dim": [9.0, 9.0, 9.0]}]}
    assert info_from_checkpoint("a.pt", {**base, "metrics": metrics}, 0).recorded_kl_per_dim == (1.0, 2.0, 3.0)
    last_epoch = {**base, "metrics": None, "history": [{"kl_per_dim": [0.0, 1.0, 0.5]}]}
    assert info_from_checkpoint("a.pt", last_epoch, 0).recorded_kl_per_dim == (0.0, 1.0, 0.5)
    assert info_from_checkpoint("a.pt", {**base, "history": []}, 0).recorded_kl_per_dim is None


def test_decode_as_every_class_gives_one_image_per_class(tiny_conditional_checkpoint):
    model, _ = load_checkpoint(tiny_conditional_checkpoint)
    z = np.zeros((2, model.config.latent_dim), np.float32)
    decoded = decode_as_every_class(model, z)
    assert decoded.shape == (2, model.config.num_classes, *model.config.image_shape)
    assert torch.allclose(decoded[1, 3], decode_codes(model, z[1], torch.tensor([3]))[0])
    assert not torch.allclose(decoded[0, 0], decoded[0, 1])  # the class changes the picture
