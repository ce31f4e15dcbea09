"""The per-level views of a hierarchical model on Map, Analyze and Compare (AppTest), and that a
flat model shows none of them."""

import json
import shutil

import numpy as np
import pytest
import streamlit as st
from streamlit.elements.plotly_chart import PlotlyChartSelectionSerde

from conftest import assert_no_errors, open_page
from ui.shell.page import CHOSEN_KEY, COMPARE_KEY, MAP_PARAMS_KEY, MODEL_KEY
from vae.latent.projection import ProjectionParams
from vae.models.levels import Level
from vae.opened import open_model

N_POINTS = 100
PCA = {**ProjectionParams("pca").__dict__, "n_points": N_POINTS}
TOP = Level("top", 0, 2)
WHOLE = ProjectionParams("pca")
HIER, FLAT = "tiny_hierarchical.pt", "tiny.pt"


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture
def models(tmp_path, tiny_hierarchical_checkpoint, tiny_checkpoint):
    """The hierarchical and the flat tiny digits models in one folder (they share their split)."""
    shutil.copy(tiny_hierarchical_checkpoint, tmp_path / HIER)
    shutil.copy(tiny_checkpoint, tmp_path / FLAT)
    return tmp_path


def _map(models, monkeypatch, model=HIER, query=None):
    state = {MODEL_KEY: model, MAP_PARAMS_KEY: dict(PCA)}
    return open_page("pages/1_Map.py", models, monkeypatch, query=query, state=state)


def _level_box(at, model=HIER):
    return at.selectbox(key=f"map_level_{model}")


def _saved_map(models, params: ProjectionParams) -> np.ndarray:
    (found,) = (models / ".cache").glob(f"*-{params.key()}-n{N_POINTS}.npz")
    with np.load(found) as saved:
        return saved["embedding"]


def test_the_map_of_a_hierarchical_model_maps_one_level_and_decodes_whole_codes(models, monkeypatch):
    at = _map(models, monkeypatch)
    assert_no_errors(at)
    box = _level_box(at)
    assert box.options == ["all levels", "top", "bottom"] and box.value == "all levels"
    box.set_value("top").run()
    assert_no_errors(at)
    assert at.query_params["level"] == "top"
    assert any("level **top** alone" in c.value for c in at.caption)
    assert at.session_state[MAP_PARAMS_KEY].get("level") is None  # the level stays on this model's Map

    # Each level's map is saved under its own key, fitted on its own dimensions.
    level_map, whole_map = _saved_map(models, ProjectionParams("pca", level=TOP)), _saved_map(models, WHOLE)
    assert level_map.shape == whole_map.shape == (N_POINTS, 2)
    assert not np.allclose(level_map, whole_map, atol=1e-3)

    # A click at map point 7's place decodes point 7's whole code, every level of it.
    row = 7
    spot = {"curve_number": 0, "point_number": 0, "point_index": 0, "customdata": [-1, -1]}
    spot |= {"x": float(level_map[row, 0]), "y": float(level_map[row, 1])}
    key = f"map_chart_{ProjectionParams('pca', level=TOP).key()}_{N_POINTS}"
    selection = {"selection": {"points": [spot], "point_indices": [0], "box": [], "lasso": []}}
    at.session_state[key] = PlotlyChartSelectionSerde().deserialize(json.dumps(selection))
    at.run()
    assert_no_errors(at)
    chosen = at.session_state[CHOSEN_KEY]
    assert chosen["source"].startswith("map location")
    mu = open_model(models / HIER).held_out(N_POINTS).mu
    np.testing.assert_allclose(chosen["z"], mu[row], atol=1e-4)
    assert any("every level" in c.value for c in at.caption)


def test_a_link_opens_the_map_of_its_level(models, monkeypatch):
    at = _map(models, monkeypatch, query={"level": "bottom"})
    assert_no_errors(at)
    assert _level_box(at).value == "bottom"
    at = _map(models, monkeypatch, query={"level": "nowhere"})
    assert_no_errors(at)
    assert _level_box(at).value == "all levels"


def test_a_flat_model_has_no_level_control(models, monkeypatch):
    at = _map(models, monkeypatch, model=FLAT)
    assert_no_errors(at)
    assert not [b for b in at.selectbox if (b.key or "").startswith("map_level")]
    assert "level" not in at.query_params


def _tab(at, label):
    (tab,) = [t for t in at.tabs if t.label == label]
    return tab


def test_analyze_shows_what_each_level_holds(models, monkeypatch):
    at = open_page("pages/7_Analyze.py", models, monkeypatch, state={MODEL_KEY: HIER, "analyze_n": N_POINTS})
    assert_no_errors(at)
    tab = _tab(at, "Levels")
    table = tab.dataframe[0].value
    assert list(table["level"]) == ["top", "bottom", "all levels"]
    kl = table["KL (nats)"].to_numpy()
    assert (kl >= 0).all() and kl[-1] == pytest.approx(kl[0] + kl[1], abs=2e-3) and kl[-1] > 0
    assert list(table["active units"].str.split().str[-1]) == ["2", "3", "5"]
    accuracy = table["probe accuracy"].str.rstrip(" %").astype(float).to_numpy()
    assert ((0 <= accuracy) & (accuracy <= 100)).all()
    assert accuracy[-1] > 20  # the whole code knows the digit better than chance (about 10 %)
    caption = " ".join(c.value for c in tab.caption)
    assert "scored on" in caption and "commonest class" in caption and "conditional prior" in caption
    chart = json.loads(tab.get("plotly_chart")[0].proto.spec)
    assert [trace["name"] for trace in chart["data"]] == ["top", "bottom"]
    assert chart["data"][1]["x"] == ["bottom·z0", "bottom·z1", "bottom·z2"]


def test_analyze_of_a_flat_model_has_no_levels_tab(models, monkeypatch):
    at = open_page("pages/7_Analyze.py", models, monkeypatch, state={MODEL_KEY: FLAT, "analyze_n": N_POINTS})
    assert_no_errors(at)
    assert "Levels" not in [t.label for t in at.tabs]


def test_compare_splits_the_rate_by_level(models, monkeypatch):
    state = {MODEL_KEY: HIER, COMPARE_KEY: [HIER, FLAT]}
    at = open_page("pages/8_Compare.py", models, monkeypatch, state=state)
    assert_no_errors(at)
    assert at.multiselect[0].value == [HIER, FLAT]
    (table,) = [d.value for d in at.dataframe if "model" in d.value.columns]
    assert list(table["model"]) == [HIER, FLAT]
    hier, flat = table.iloc[0], table.iloc[1]
    assert hier["top"] > 0 and hier["bottom"] > 0 and np.isnan(flat["top"]) and flat["z"] > 0
    chart = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert [trace["name"] for trace in chart["data"]] == ["top", "bottom", "z"]
    assert chart["layout"]["barmode"] == "stack"
    # The split adds up to the model's rate (its column's caption).
    captions = [c.value for c in at.caption]
    (rate,) = [float(c.split()[1]) for c in captions if c.startswith("rate ") and "distortion" in c][:1]
    assert rate == pytest.approx(hier["top"] + hier["bottom"], abs=0.02)
    (split,) = [c for c in captions if c.startswith("rate by level:")]  # the flat model's column has none
    assert split == f"rate by level: top {hier['top']:.2f} · bottom {hier['bottom']:.2f}"
