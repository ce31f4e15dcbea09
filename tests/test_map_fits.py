"""Background map fits (vae.latent.background): one fit per key, shared; saved; failures reported."""

import threading

import numpy as np
import pytest

from vae.latent.background import FitRegistry, fit_map, map_key
from vae.latent.projection import LatentMap, ProjectionParams, cache_path


def _clusters(n=90, d=5, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (3, d))
    return (centres[np.arange(n) % 3] + rng.normal(0, 0.3, (n, d))).astype(np.float32)


def test_two_requests_for_the_same_map_share_one_fit():
    registry, release, calls = FitRegistry(), threading.Event(), []

    def work(progress):
        calls.append(1)
        progress("layout", 0.5)
        assert release.wait(10)
        return "the map"

    first = registry.submit("key", work)
    second = registry.submit("key", work)  # while the first runs (or waits to)
    assert second is first and not first.done
    release.set()
    assert first.result(10) == "the map" and second.result(10) == "the map"
    assert calls == [1]  # fitted once
    assert registry.submit("key", work) is first and calls == [1]  # a finished job is kept, not refitted
    assert first.error is None and first.elapsed > 0 and first.progress.fraction == 0.5


def test_fits_run_one_at_a_time_in_order():
    registry, release, order = FitRegistry(), threading.Event(), []
    first = registry.submit("a", lambda progress: (release.wait(10), order.append("a")))
    second = registry.submit("b", lambda progress: order.append("b"))
    assert second.queued and second.elapsed == 0
    release.set()
    second.result(10)
    assert first.done and order == ["a", "b"]


def test_a_fit_is_saved_beside_the_model_and_reports_progress(tmp_path):
    checkpoint = tmp_path / "model.pt"
    checkpoint.write_bytes(b"weights")
    mu, params = _clusters(), ProjectionParams("tsne", perplexity=10)
    path = cache_path(checkpoint, params, len(mu))
    job = fit_map(map_key(checkpoint, 1.0, len(mu), params), mu, params, path, FitRegistry())
    latent_map = job.result(60)
    assert latent_map.embedding_.shape == (90, 2) and path.is_file()
    assert np.array_equal(LatentMap.load(path, params, mu).embedding_, latent_map.embedding_)
    assert job.progress.fraction == 1.0 and job.progress.stage == "layout: iteration 750 of 750"


def test_a_failing_fit_reports_its_error_and_can_be_tried_again(tmp_path):
    registry, params = FitRegistry(), ProjectionParams("umap")
    path = tmp_path / "map.npz"
    job = fit_map("key", _clusters(2), params, path, registry)  # two points: no map
    with pytest.raises(ValueError, match="at least 3 points"):
        job.result(10)
    assert isinstance(job.error, ValueError) and not path.exists()
    assert registry.job("key") is job  # kept: not refitted on every rerun
    registry.forget("key")
    assert registry.job("key") is None
    assert fit_map("key", _clusters(2), params, path, registry) is not job


def test_only_the_last_finished_jobs_are_kept():
    registry = FitRegistry(keep=2)
    jobs = [registry.submit(k, lambda progress, k=k: k) for k in range(4)]
    jobs[-1].result(10)
    registry.submit("next", lambda progress: None).result(10)
    assert registry.job(0) is None and registry.job("next") is not None
