"""The Map's first UMAP map: PCA at once, the fit in the background, the UMAP map once fitted."""

import json
import shutil
import threading

import numpy as np
import pytest
from streamlit.elements.plotly_chart import PlotlyChartSelectionSerde

from conftest import REPO, assert_no_errors, open_page
from ui.shell.page import CHOSEN_KEY, MAP_PARAMS_KEY, MODEL_KEY
from vae.latent import projection
from vae.latent.background import MAP_FITS, map_key
from vae.latent.projection import ProjectionParams, cache_path

UMAP = ProjectionParams("umap")
N_POINTS = 359  # digits.pt holds out 359 images: the whole held-out set, as the Map's default 2,000 allows


@pytest.fixture
def digits_alone(tmp_path):
    """The shipped digits model in a folder of its own: no saved maps beside it."""
    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    return tmp_path


@pytest.fixture
def gated_umap(monkeypatch):
    """UMAP replaced by a stand-in that waits until the test releases it (or fails when told):
    the page's behaviour while a fit runs, without UMAP's seconds of compiling."""
    release, failure = threading.Event(), []

    class GatedUMAP:
        def __init__(self, n_components=2, **options):
            self.n_components = n_components

        def fit_transform(self, mu):
            if not release.wait(30):
                raise TimeoutError("the test never released the fit")
            if failure:
                raise failure[0]
            return np.asarray(mu[:, : self.n_components]) * 10.0 + 100.0

    monkeypatch.setattr(projection, "_umap_class", lambda: GatedUMAP)
    yield release, failure
    release.set()


def _open_map(folder, monkeypatch):
    return open_page("pages/1_Map.py", folder, monkeypatch, state={MODEL_KEY: "digits.pt", MAP_PARAMS_KEY: {}})


def _axis(at) -> str:
    return json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["xaxis"]["title"]["text"]


def _captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def _job(folder):
    model = folder / "digits.pt"
    return MAP_FITS.job(map_key(model, model.stat().st_mtime, N_POINTS, UMAP))


def test_first_map_shows_pca_at_once_and_umap_when_fitted(digits_alone, gated_umap, monkeypatch):
    release, _ = gated_umap
    at = _open_map(digits_alone, monkeypatch)
    assert_no_errors(at)
    job = _job(digits_alone)
    assert job is not None and not job.done  # the page came back while the fit still runs
    assert _axis(at) == "PCA 1"
    assert "PCA shown while UMAP is fitted on 359 points" in _captions(at)

    # Meanwhile the PCA map answers a click.
    key = f"map_chart_{ProjectionParams('pca').key()}_{N_POINTS}"
    point = {"curve_number": 1, "point_number": 3, "point_index": 3, "x": 0, "y": 0, "customdata": [3, 0]}
    selection = {"selection": {"points": [point], "point_indices": [3], "box": [], "lasso": []}}
    at.session_state[key] = PlotlyChartSelectionSerde().deserialize(json.dumps(selection))
    at.run()
    assert_no_errors(at)
    assert at.session_state[CHOSEN_KEY]["source"].startswith("map point")

    release.set()
    job.result(30)
    assert cache_path(digits_alone / "digits.pt", UMAP, N_POINTS).is_file()  # saved for the other pages
    at.run()
    assert_no_errors(at)
    assert _axis(at) == "UMAP 1"
    assert "PCA shown" not in _captions(at)
    # The point clicked on the PCA map stays picked on the UMAP map.
    assert at.number_input(key="map_pick_digits.pt").value == 3
    assert "Nearest neighbours in latent space" in "\n".join(m.value for m in at.markdown)


def test_a_failed_fit_says_why_and_leaves_the_pca_map(digits_alone, gated_umap, monkeypatch):
    release, failure = gated_umap
    failure.append(ValueError("the neighbour graph is disconnected"))
    release.set()
    at = _open_map(digits_alone, monkeypatch)
    _job(digits_alone).future.exception(30)
    at.run()
    assert not at.exception
    assert "UMAP could not map these 359 points (ValueError: the neighbour graph is disconnected)" in at.error[0].value
    assert _axis(at) == "PCA 1"
