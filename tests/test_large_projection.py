"""Maps of many codes (vae/large_maps/placement.py): PCA at once, subset-then-place that
resumes to the same map, and the neighbour-preservation measure.

Most tests replace the subset's UMAP fit by a cheap exact one (`fake_fit`: the first
coordinates), so that they test the placement and its files, not umap's compile time;
the slow tests run the real UMAP and t-SNE fits, and kill a run with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from vae.large_maps import placement
from vae.large_maps.faithfulness import neighbour_preservation
from vae.large_maps.pca import pca_axes, pca_map
from vae.large_maps.placement import (
    load_placed,
    map_file,
    place_map,
    placed_key,
)
from vae.latent.projection import ProjectionParams
from vae.models.levels import Level

N, SUBSET, CHUNK, EPOCHS = 3_000, 1_000, 500, 20


class Interrupted(Exception):
    pass


def clustered_codes(n: int = N, d: int = 8, seed: int = 0) -> np.ndarray:
    """Codes in a few anisotropic clusters, float32 (n, d)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(6, d))
    return (centres[rng.integers(0, 6, n)] + rng.normal(size=(n, d)) * np.linspace(1.5, 0.2, d)).astype(np.float32)


@pytest.fixture
def fake_fit(monkeypatch) -> list[int]:
    """The subset 'fit' made exact and instant (its first coordinates); the list counts its calls."""
    calls: list[int] = []

    def fit(codes, params, progress):
        calls.append(len(codes))
        progress("fake fit", 1.0)
        return np.ascontiguousarray(codes[:, : params.n_components], dtype=np.float32)

    monkeypatch.setattr(placement, "fit_subset", fit)
    return calls


def place(mu, folder, progress=None, params: ProjectionParams | None = None):
    params = params or ProjectionParams("umap")
    return place_map(mu, params, folder, progress, subset=SUBSET, epochs=EPOCHS, chunk=CHUNK)


def test_pca_matches_scikit_learn_up_to_sign(tmp_path):
    mu = clustered_codes(5_000, 16) + 100.0  # far from the origin: the mean must be taken off exactly
    np.save(tmp_path / "mu.npy", mu)
    ours = pca_map(np.load(tmp_path / "mu.npy", mmap_mode="r"))
    # scikit-learn in float64: on float32 input it centres in float32, and its error
    # (0.02 here) depends on its solver and the BLAS; ours accumulates in float64.
    theirs = PCA(n_components=2).fit_transform(mu.astype(np.float64))
    assert ours.shape == (5_000, 2) and ours.dtype == np.float32
    signs = np.sign((ours * theirs).sum(axis=0))
    np.testing.assert_allclose(ours * signs, theirs, atol=1e-3 * np.abs(theirs).max())
    mean, components = pca_axes(mu)
    np.testing.assert_allclose(mean, mu.mean(axis=0, dtype=np.float64), rtol=1e-6)
    np.testing.assert_allclose(np.abs(components @ components.T), np.eye(2), atol=1e-9)


def test_pca_of_a_2d_code_pads_a_3d_map():
    mu = clustered_codes(200, 2)
    out = pca_map(mu, n_components=3)
    assert out.shape == (200, 3) and not out[:, 2].any()


def test_place_map_writes_one_float32_map_the_same_for_the_same_seed(tmp_path, fake_fit):
    mu = clustered_codes()
    first, second = place(mu, tmp_path / "a"), place(mu, tmp_path / "b")
    assert first.shape == (N, 2) and first.dtype == np.float32 and np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)
    key = placed_key(ProjectionParams("umap"), SUBSET, EPOCHS)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [f"{key}-subset.npz", f"{key}.npy"]
    subset = placement.subset_indices(N, SUBSET, 0)
    np.testing.assert_array_equal(first[subset], mu[subset, :2])  # fitted points stay where fitted
    np.testing.assert_array_equal(load_placed(tmp_path / "a", key, N), first)
    assert load_placed(tmp_path / "a", key, N + 1) is None
    assert load_placed(tmp_path / "a", "umap-other", N) is None
    assert map_file(tmp_path / "a", key).name == f"{key}.npy"


def test_a_placed_code_lands_where_it_belongs_to_about_the_subset_spacing(tmp_path, fake_fit):
    """2-d codes and an exact subset map (the codes themselves): the right place is known."""
    mu = clustered_codes(d=2)
    embedding = place(mu, tmp_path)
    subset = mu[placement.subset_indices(N, SUBSET, 0)]
    spacing = np.median(NearestNeighbors(n_neighbors=2).fit(subset).kneighbors(subset)[0][:, 1])
    assert np.median(np.linalg.norm(embedding - mu, axis=1)) < 2 * spacing  # measured: 1.0 spacing
    assert neighbour_preservation(mu, embedding) > 0.4  # measured: 0.52


def test_the_key_names_method_parameters_and_subset():
    key = placed_key(ProjectionParams("umap", seed=3, n_neighbors=30, min_dist=0.5), subset=20_000)
    assert all(part in key for part in ("umap", "s3", "nn30", "md0.5", "sub20000"))
    assert "p50" in placed_key(ProjectionParams("tsne", perplexity=50), subset=5)
    assert placed_key(ProjectionParams("tsne"), subset=5) != placed_key(ProjectionParams("tsne"), subset=6)


def test_interrupted_then_resumed_gives_the_same_map_without_refitting(tmp_path, fake_fit, monkeypatch):
    mu = clustered_codes()
    whole = np.array(place(mu, tmp_path / "whole"))

    calls = []

    def stop_after_three(stage, fraction):
        if stage.startswith("placing"):
            calls.append(fraction)
            if len(calls) == 3:
                raise Interrupted

    with pytest.raises(Interrupted):
        place(mu, tmp_path, stop_after_three)
    key = placed_key(ProjectionParams("umap"), SUBSET, EPOCHS)
    assert np.load(tmp_path / f"{key}.chunks.npy").tolist() == [True] * 3 + [False] * 3
    assert not map_file(tmp_path, key).exists() and load_placed(tmp_path, key, N) is None
    subset_written = (tmp_path / f"{key}-subset.npz").stat().st_mtime_ns

    placed_chunks = []
    real_place = placement.place

    def counted_place(codes, *args):
        placed_chunks.append(len(codes))
        return real_place(codes, *args)

    monkeypatch.setattr(placement, "place", counted_place)
    resumed = place(mu, tmp_path)
    np.testing.assert_array_equal(resumed, whole)
    assert fake_fit == [SUBSET, SUBSET]  # one fit for each folder; none on resuming
    assert (tmp_path / f"{key}-subset.npz").stat().st_mtime_ns == subset_written
    assert placed_chunks == [CHUNK] * 3  # only the three chunks left
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{key}-subset.npz", f"{key}.npy", "whole"]
    assert place(mu, tmp_path) is not None and placed_chunks == [CHUNK] * 3  # finished: read, not redone


def test_state_and_maps_from_other_codes_are_not_reused(tmp_path, fake_fit):
    mu = clustered_codes()

    def stop(stage, fraction):
        if stage.startswith("placing"):
            raise Interrupted

    with pytest.raises(Interrupted):
        place(mu, tmp_path, stop)
    other = clustered_codes(seed=1)
    np.testing.assert_array_equal(place(other, tmp_path), place(other, tmp_path / "fresh"))
    assert fake_fit == [SUBSET] * 3
    np.testing.assert_array_equal(place(mu, tmp_path), place(mu, tmp_path / "first"))  # a finished map, too
    assert fake_fit == [SUBSET] * 5


def test_a_level_is_mapped_by_its_own_dimensions(tmp_path, fake_fit):
    mu = clustered_codes(d=6)
    level = Level("top", 2, 3)
    embedding = place(mu, tmp_path, params=ProjectionParams("umap", level=level))
    assert fake_fit == [SUBSET]
    subset = placement.subset_indices(N, SUBSET, 0)
    np.testing.assert_array_equal(embedding[subset], mu[subset, 2:4])


def test_place_map_of_pca_is_pca_map(tmp_path):
    mu = clustered_codes()
    embedding = place_map(mu, ProjectionParams("pca"), tmp_path)
    np.testing.assert_array_equal(embedding, pca_map(mu))
    assert load_placed(tmp_path, placed_key(ProjectionParams("pca")), N) is not None


def test_neighbour_preservation_is_one_for_the_codes_themselves_and_low_for_noise():
    mu = clustered_codes(d=2)
    assert neighbour_preservation(mu, mu) == 1.0
    assert neighbour_preservation(mu, mu * 3.0 + 1.0) == 1.0  # only the order of distances counts
    random_map = np.random.default_rng(1).normal(size=(N, 2))
    assert neighbour_preservation(mu, random_map) < 0.02
    with pytest.raises(ValueError):
        neighbour_preservation(mu, mu[:-1])


@pytest.mark.slow
@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_real_fits_place_every_code_the_same_way_twice(tmp_path, method):
    mu = clustered_codes()
    params = ProjectionParams(method)
    first = place(mu, tmp_path / "a", params=params)
    second = place(mu, tmp_path / "b", params=params)
    np.testing.assert_array_equal(first, second)
    assert np.isfinite(first).all()
    assert neighbour_preservation(mu, first) > 0.15  # a random map: about 0.005


KILLED_RUN = """
import sys, time
import numpy as np
sys.path.insert(0, "tests")
import test_large_projection as t
from vae.large_maps import placement
placement.fit_subset = lambda codes, params, progress: np.ascontiguousarray(codes[:, :2], dtype=np.float32)
t.place(t.clustered_codes(), sys.argv[1], lambda stage, fraction: time.sleep(0.5) if stage.startswith("placing") else None)
"""


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_map(tmp_path, fake_fit):
    """kill -9 in the middle of placing: the next call finishes the map from the chunks on disk."""
    mu = clustered_codes()
    whole = np.array(place(mu, tmp_path / "whole"))
    key = placed_key(ProjectionParams("umap"), SUBSET, EPOCHS)
    record = tmp_path / f"{key}.chunks.npy"
    run = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(tmp_path)], cwd=Path(__file__).parents[1])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and run.poll() is None:
            try:
                if np.load(record).sum() >= 2:
                    break
            except (OSError, ValueError, EOFError):
                pass
            time.sleep(0.05)
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.wait()
    done = np.load(record)
    assert 2 <= done.sum() < len(done)
    np.testing.assert_array_equal(place(mu, tmp_path), whole)
    assert fake_fit == [SUBSET]  # here only for "whole": the resumed run read the killed run's subset fit
