"""Traverse, Generate and Interpolate by level on a hierarchical model: the library's level
helpers, and the pages through AppTest (widgets by key)."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import assert_no_errors, open_page
from ui.shell.page import CHOSEN_KEY, MODEL_KEY
from vae import load_checkpoint
from vae.latent.codes import lerp, prior_samples, slerp
from vae.latent.hierarchy import (
    decode_values,
    from_values,
    level_path,
    level_traversal,
    to_values,
    value_ranges,
)
from vae.models.hierarchical import HierarchicalConfig, HierarchicalVAE

MODEL = "tiny_hierarchical.pt"
TOP, BOTTOM = slice(0, 2), slice(2, 5)  # the fixture's levels: top 2, bottom 3


def _model() -> HierarchicalVAE:
    torch.manual_seed(0)
    model = HierarchicalVAE(HierarchicalConfig((1, 8, 8), (2, 3), hidden_dim=16))
    with torch.no_grad():  # away from the zero-initialised priors, so every level matters
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model.eval()


# -- the library ----------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lerp, slerp], ids=["lerp", "slerp"])
def test_a_level_path_moves_one_level_from_a_to_b(make):
    level = _model().levels[1]
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    path = level_path(make, a, b, 6, level)
    assert np.array_equal(path[:, TOP], np.repeat(a[None, TOP], 6, 0))  # the top never moves
    assert np.allclose(path[0, BOTTOM], a[BOTTOM]) and np.allclose(path[-1, BOTTOM], b[BOTTOM], atol=1e-6)
    norms = np.linalg.norm(path[:, BOTTOM], axis=1)
    if make is slerp:  # the level's own norm moves evenly from |a_l| to |b_l| (not the whole code's)
        assert np.allclose(norms, np.linspace(norms[0], norms[-1], 6), atol=1e-5)
    else:
        assert np.allclose(np.diff(path[:, BOTTOM], axis=0), (b[BOTTOM] - a[BOTTOM]) / 5, atol=1e-6)


def test_value_ranges_cover_the_levels_values():
    model = _model()
    low, high = value_ranges(model, None, "prior")
    assert np.allclose(low[TOP], -3, atol=0.3) and np.allclose(high[TOP], 3, atol=0.3)  # the top's values are ε
    values = to_values(model, prior_samples(500, 5, 1.0, 7))
    inside = ((values >= low) & (values <= high)).mean(0)
    assert (inside > 0.98).all()
    mu = np.random.default_rng(1).normal(0.5, 0.2, (50, 5)).astype(np.float32)
    data_low, data_high = value_ranges(model, mu, "data")
    assert ((data_high - data_low) < (high - low)).all()  # the data's spread, not the prior's
    with pytest.raises(ValueError):
        value_ranges(model, mu, "nearby")


def test_decode_values_and_level_traversals_keep_or_follow():
    model = _model()
    code = np.random.default_rng(2).standard_normal(5).astype(np.float32)
    values = to_values(model, code)
    assert torch.allclose(decode_values(model, values), model.decode(torch.from_numpy(code[None])), atol=1e-6)
    steps = np.linspace(-2, 2, 4, dtype=np.float32)
    kept = level_traversal(model, code, [0], [steps], "keep").reshape(4, -1)
    followed = level_traversal(model, code, [0], [steps], "follow").reshape(4, -1)
    moved = np.repeat(values, 4, 0)
    moved[:, 0] = steps
    with torch.no_grad():
        assert torch.allclose(kept, model.decode_absolute(torch.from_numpy(moved)).reshape(4, -1), atol=1e-6)
        eps = np.repeat(code[None], 4, 0)
        eps[:, 0], eps[:, BOTTOM] = steps, 0.0
        assert torch.allclose(followed, model.decode(torch.from_numpy(eps)).reshape(4, -1), atol=1e-6)
    assert not torch.allclose(kept, followed, atol=1e-3)
    with pytest.raises(ValueError):
        level_traversal(model, code, [0], [steps], "sideways")


# -- the pages ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, tiny_hierarchical_checkpoint) -> Path:
    folder = tmp_path_factory.mktemp("models")
    shutil.copy(tiny_hierarchical_checkpoint, folder / MODEL)
    return folder


@pytest.fixture(scope="module")
def model(models_dir):
    return load_checkpoint(models_dir / MODEL)[0]


@pytest.fixture(autouse=True)
def fresh_caches():
    import streamlit as st

    st.cache_data.clear()
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _app(page: str, models_dir: Path, monkeypatch, **state):
    at = open_page(page, models_dir, monkeypatch, state={MODEL_KEY: MODEL, **state})
    assert_no_errors(at)
    return at


def _sliders(at, prefix: str) -> np.ndarray:
    found = {int(s.key.rsplit("_z", 1)[1]): s.value for s in at.slider if s.key.startswith(prefix)}
    assert sorted(found) == list(range(5)), sorted(found)
    return np.array([found[d] for d in range(5)], np.float32)


def _state_z(at) -> np.ndarray:
    return np.array(at.session_state["traverse_state"]["z"], np.float32)


def test_traverse_keep_values_moves_the_top_and_holds_the_bottoms_values(models_dir, model, monkeypatch):
    at = _app("pages/3_Traverse.py", models_dir, monkeypatch, traverse_live=False, traverse_below="keep")
    prefix = "traverse_tiny_hierarchical_prior_values_z"
    shown = _sliders(at, prefix)
    assert np.allclose(to_values(model, _state_z(at))[0], shown, atol=1e-4)  # sliders hold the levels' values
    labels = [s.label for s in at.slider if s.key.startswith(prefix)]
    assert any(label.startswith("top·z0") for label in labels) and any(
        label.startswith("bottom·z2") for label in labels
    )
    top = at.slider(key=prefix + "0")
    target = float(top.min + 0.25 * (top.max - top.min))
    top.set_value(target).run()
    assert_no_errors(at)
    after = _sliders(at, prefix)
    assert after[0] == pytest.approx(target, abs=0.05)
    assert np.array_equal(after[BOTTOM], shown[BOTTOM])  # the bottom's values are kept
    values = to_values(model, _state_z(at))[0]
    assert np.allclose(values[BOTTOM], shown[BOTTOM], atol=1e-4) and values[0] == pytest.approx(after[0], abs=1e-4)
    assert not np.allclose(_state_z(at)[BOTTOM], from_values(model, shown)[0][BOTTOM], atol=1e-3)  # its ε moved


def test_traverse_keep_values_release_from_the_browser_round_trips(models_dir, model, monkeypatch):
    at = _app("pages/3_Traverse.py", models_dir, monkeypatch, traverse_below="keep")
    assert at.toggle(key="traverse_live").value is True
    released = to_values(model, np.array([[1.0, -0.5, 0.3, 0.2, -1.0]], np.float32))[0]
    at.session_state["traverse_live_tiny_hierarchical_prior_values"] = {"z": released.tolist(), "nonce": 1}
    at.run()
    assert_no_errors(at)
    z = _state_z(at)
    assert np.allclose(z, from_values(model, released)[0], atol=1e-5)  # kept standardised
    assert np.allclose(to_values(model, z)[0], released, atol=1e-4)  # and back to the released values
    at.button(key="traverse_keep").click().run()
    assert np.allclose(at.session_state[CHOSEN_KEY]["z"], z, atol=1e-6)


def test_traverse_follow_sets_the_levels_below_to_their_prior_means(models_dir, monkeypatch):
    at = _app("pages/3_Traverse.py", models_dir, monkeypatch, traverse_live=False, traverse_below="follow")
    prefix = "traverse_tiny_hierarchical_prior_z"
    at.slider(key=prefix + "3").set_value(1.5).run()  # a bottom slider moves alone
    before = _sliders(at, prefix)
    assert before[3] == pytest.approx(1.5, abs=0.03)
    at.slider(key=prefix + "1").set_value(2.0).run()  # a top slider: the bottom follows
    assert_no_errors(at)
    after = _sliders(at, prefix)
    assert after[1] == pytest.approx(2.0, abs=0.03) and after[0] == before[0]
    assert np.array_equal(after[BOTTOM], np.zeros(3, np.float32))
    assert np.allclose(_state_z(at), after, atol=1e-6)
    assert any("the levels below at their conditional prior means" in c.value for c in at.caption)


def _kept(at, number: int) -> np.ndarray:
    at.number_input(key="generate_pick").set_value(number).run()
    at.button(key="generate_keep").click().run()
    return np.array(at.session_state[CHOSEN_KEY]["z"], np.float32)


def test_generate_keep_top_rows_share_the_top_and_temperatures_apply_per_level(models_dir, monkeypatch):
    at = _app("pages/6_Generate.py", models_dir, monkeypatch, generate_grid="keep_top")
    assert any(c.value.startswith("Each row keeps one draw of top") for c in at.caption)
    first, second, next_row = _kept(at, 0), _kept(at, 1), _kept(at, 8)  # 8 a row
    assert np.array_equal(first[TOP], second[TOP]) and not np.allclose(first[BOTTOM], second[BOTTOM])
    assert not np.allclose(first[TOP], next_row[TOP])
    at.slider(key="generate_temperature_top").set_value(0.5).run()
    cooler = _kept(at, 0)
    assert np.allclose(cooler[TOP], 0.5 * first[TOP], atol=1e-6) and np.array_equal(cooler[BOTTOM], first[BOTTOM])
    assert "T top = 0.5" in at.session_state[CHOSEN_KEY]["source"]


def test_generate_keep_below_rows_share_the_bottom(models_dir, monkeypatch):
    at = _app("pages/6_Generate.py", models_dir, monkeypatch, generate_grid="keep_below")
    assert any(c.value.startswith("Each row keeps one draw of bottom") for c in at.caption)
    first, second, next_row = _kept(at, 0), _kept(at, 1), _kept(at, 8)
    assert np.array_equal(first[BOTTOM], second[BOTTOM]) and not np.allclose(first[TOP], second[TOP])
    assert not np.allclose(first[BOTTOM], next_row[BOTTOM])


def _step_code(at, step: int) -> np.ndarray:
    at.slider(key="interpolate_step").set_value(step).run()
    at.button(key="interpolate_keep").click().run()
    return np.array(at.session_state[CHOSEN_KEY]["z"], np.float32)


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_interpolating_one_level_holds_the_others(method, models_dir, monkeypatch):
    at = _app("pages/4_Interpolate.py", models_dir, monkeypatch, interpolate_live=False)
    at.radio(key="interpolate_method").set_value(method).run()
    a, b = _step_code(at, 0), _step_code(at, 9)  # every level: A and B
    at.radio(key="interpolate_level").set_value("bottom").run()
    assert_no_errors(at)
    path = np.array([_step_code(at, step) for step in range(10)])
    assert np.allclose(path[:, TOP], a[TOP], atol=1e-6)  # the top held at A's
    assert np.allclose(path[0], a, atol=1e-6) and np.allclose(path[-1, BOTTOM], b[BOTTOM], atol=1e-5)
    assert not np.allclose(path[-1, TOP], b[TOP])
    assert f"{method} path of bottom only" in at.session_state[CHOSEN_KEY]["source"]
    norms = np.linalg.norm(path[:, BOTTOM], axis=1)
    if method == "spherical":
        assert np.allclose(norms, np.linspace(norms[0], norms[-1], 10), atol=1e-4)
