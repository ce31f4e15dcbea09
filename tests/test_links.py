"""The view lives in the URL: a reload, a bookmark or a shared link opens the same model, kept
code and page state (AppTest sets the query string a browser would send)."""

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.elements.plotly_chart import PlotlyChartSelectionSerde
from streamlit.testing.v1 import AppTest

from conftest import assert_no_errors, open_page
from ui.shell.page import CHOSEN_KEY, MODEL_KEY
from vae.latent.projection import ProjectionParams


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny_checkpoint) -> Path:
    folder = tmp_path_factory.mktemp("linked_models")
    for name in ("digits.pt", "other.pt"):  # digits.pt is the default a bad link falls back to
        shutil.copy(tiny_checkpoint, folder / name)
    return folder


def _open(page: str, models: Path, monkeypatch, **query) -> AppTest:
    """A new session opened on `page` with this query string, as a reload or a shared link is."""
    return open_page(page, models, monkeypatch, query=query)


_ok = assert_no_errors


def test_the_link_opens_its_model_and_a_picker_change_is_written_back(models, monkeypatch):
    at = _open("app.py", models, monkeypatch, model="other.pt")
    _ok(at)
    assert at.session_state[MODEL_KEY] == "other.pt"
    assert at.sidebar.selectbox[0].value == "other.pt"
    assert at.query_params["model"] == "other.pt"
    at.sidebar.selectbox[0].select("digits.pt").run()
    assert at.query_params["model"] == "digits.pt"
    assert any("Model card: digits.pt" in m.value for m in at.subheader)


def test_a_link_to_a_missing_model_says_so_and_falls_back(models, monkeypatch):
    at = _open("pages/1_Map.py", models, monkeypatch, model="gone.pt", method="pca")
    _ok(at)
    assert any("`gone.pt`" in w.value and "digits.pt" in w.value for w in at.warning)
    assert at.session_state[MODEL_KEY] == "digits.pt"
    assert at.query_params["model"] == "digits.pt"
    at.run()  # the note is for the run that met the link, not every rerun
    assert not at.warning


def test_the_map_link_restores_projection_view_points_and_the_chosen_point(models, monkeypatch):
    at = _open("pages/1_Map.py", models, monkeypatch, model="other.pt", method="pca", view="2", points="50", point="7")
    _ok(at)
    assert at.selectbox(key="map_method").value == "pca"
    assert at.radio(key="map_dims").value == 2
    assert at.number_input(key="map_points_other.pt").value == 50
    assert at.number_input(key="map_pick_other.pt").value == 7
    assert any(m.value.startswith("**Image ") for m in at.markdown)  # the point is shown, as if typed
    kept = at.session_state[CHOSEN_KEY]
    assert kept["model"] == "other.pt" and kept["source"].startswith("map point")
    # the URL now carries what a reload needs: the view and the kept code
    assert at.query_params["point"] == "7" and at.query_params["method"] == "pca"
    assert len(at.query_params["z"].split(",")) == 4


def test_a_map_click_moves_the_point_in_the_url(models, monkeypatch):
    at = _open("pages/1_Map.py", models, monkeypatch, model="other.pt", method="pca", points="50")
    point = {"curve_number": 1, "point_number": 3, "point_index": 3, "x": 0, "y": 0, "customdata": {"0": 3, "1": 0}}
    selection = {"selection": {"points": [point], "point_indices": [3], "box": [], "lasso": []}}
    chart_key = f"map_chart_{ProjectionParams('pca').key()}_50"
    at.session_state[chart_key] = PlotlyChartSelectionSerde().deserialize(json.dumps(selection))
    at.run()
    _ok(at)
    assert at.query_params["point"] == "3"


def test_a_link_with_a_kept_code_starts_traverse_from_it(models, monkeypatch):
    z = "0.5,-1,0.25,2"
    at = _open("pages/3_Traverse.py", models, monkeypatch, model="other.pt", z=z, start="kept", **{"from": "a friend"})
    _ok(at)
    assert at.radio(key="traverse_start_source").value == "kept"
    assert at.session_state[CHOSEN_KEY]["z"] == [0.5, -1.0, 0.25, 2.0]
    assert at.session_state[CHOSEN_KEY]["source"] == "a friend"
    assert at.query_params["z"] == z and at.query_params["start"] == "kept"


def test_a_traverse_link_to_a_data_point_or_prior_seed_opens_there(models, monkeypatch):
    at = _open("pages/3_Traverse.py", models, monkeypatch, model="other.pt", start="data:42")
    _ok(at)
    assert at.radio(key="traverse_start_source").value == "data"
    assert at.number_input(key="traverse_start_row").value == 42
    at = _open("pages/3_Traverse.py", models, monkeypatch, model="other.pt", start="prior:9")
    assert at.radio(key="traverse_start_source").value == "prior"
    assert at.number_input(key="traverse_start_seed").value == 9
    at.number_input(key="traverse_start_seed").set_value(11).run()
    assert at.query_params["start"] == "prior:11"


@pytest.mark.parametrize(
    "query",
    [
        {"z": "1,2", "start": "data:99999", "a": "upload", "b": "x:y", "method": "nope", "view": "7"},
        {"z": "1,nan,2,3", "start": "prior:-4", "points": "-1", "point": "100000", "label": "999"},
        {"z": "a,b,c,d", "start": "kept", "a": "data:", "points": "many"},
    ],
)
def test_bad_links_are_ignored_without_breaking_the_page(query, models, monkeypatch):
    for page in ("pages/1_Map.py", "pages/3_Traverse.py", "pages/4_Interpolate.py"):
        at = _open(page, models, monkeypatch, model="other.pt", **query)
        _ok(at)
        assert CHOSEN_KEY not in at.session_state
