"""Every page through Streamlit's AppTest, on a tiny checkpoint and on the shipped models."""

import dataclasses
import io
import json
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import torch
from bundle_models import nan_bundle
from PIL import Image
from streamlit.elements.plotly_chart import PlotlyChartSelectionSerde
from streamlit.runtime.caching.cache_utils import CachedFunc
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from conftest import REPO, assert_no_errors, open_page
from ui.shell import cache
from ui.shell.page import CHOSEN_KEY, MAP_PARAMS_KEY, MODEL_KEY
from vae.analysis.anomaly import LatentGaussian, anomaly_scores
from vae.analysis.clusters import agreement, fit_clusters
from vae.analysis.imputation import impute, make_mask
from vae.data.datasets import Dataset, label_name, map_subset
from vae.data.source import dataset_for_checkpoint
from vae.latent.codes import (
    apply_attribute,
    arithmetic,
    classifier_vector,
    decode_codes,
    lerp,
    mean_difference_vector,
    prior_samples,
    slerp,
    slider_ranges,
)
from vae.latent.encoding import encode_dataset
from vae.latent.projection import ProjectionParams
from vae.models.checkpoints import load_checkpoint
from vae.models.interface import LatentModel
from vae.pictures import grid_picture, picture, png_bytes
from vae.training.config import TrainConfig
from vae.training.loop import train

PAGES = [
    "app.py",  # the entry point: st.navigation, opening Home
    "pages/0_Home.py",
    "pages/1_Map.py",
    "pages/2_Encode.py",
    "pages/3_Traverse.py",
    "pages/4_Interpolate.py",
    "pages/5_Arithmetic.py",
    "pages/6_Generate.py",
    "pages/7_Analyze.py",
    "pages/8_Compare.py",
    "pages/9_Train.py",
]
# The β sweep (digits-beta-*.pt) is digits.pt's architecture; mnist-hierarchical.pt has levels.
SHIPPED = ["digits.pt", "mnist.pt", "sprites.pt", "mnist-hierarchical.pt"]
PCA_PARAMS = {**ProjectionParams("pca").__dict__, "n_points": 100}


KEPT_CACHES = {"_opened", "_data", "_codes"}


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with empty caches, except the opened models, their datasets and their
    held-out encodings:
    they are keyed by the checkpoint's path and modification time, and regenerating 20,000
    sprites, or encoding and decoding 2,000 of them, took seconds for every sprites page run."""
    st.cache_data.clear()
    for name, cached in vars(cache).items():
        cached = getattr(cached, "cache", cached)  # a measure's cache behind its wrapper
        if isinstance(cached, CachedFunc) and name not in KEPT_CACHES:
            cached.clear()
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)  # the app sets one thread for itself; other tests train


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, tiny_checkpoint, tiny_conditional_checkpoint, tiny_hierarchical_checkpoint) -> Path:
    folder = tmp_path_factory.mktemp("models")
    shutil.copy(tiny_checkpoint, folder / "tiny.pt")
    shutil.copy(tiny_conditional_checkpoint, folder / "tiny_conditional.pt")
    shutil.copy(tiny_hierarchical_checkpoint, folder / "tiny_hierarchical.pt")
    return folder


def _app(page: str, models: Path, monkeypatch, model: str | None = None, **state) -> AppTest:
    return open_page(page, models, monkeypatch, state={**({MODEL_KEY: model} if model else {}), **state})


_no_errors = assert_no_errors


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


SHOWN: dict[str, bytes] = {}  # the bytes of every image a page showed, by media file id


@pytest.fixture(autouse=True)
def record_shown_images(monkeypatch):
    """Keep the bytes AppTest's media storage receives: its storage goes with each run, and a
    page's image is a URL naming only a file id."""
    load = MemoryMediaFileStorage.load_and_get_id

    def load_and_keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = load(self, path_or_data, mimetype, kind, filename)
        SHOWN[file_id] = self.get_file(file_id).content
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_keep)
    yield
    SHOWN.clear()


@dataclasses.dataclass(frozen=True)
class Held:
    """A model's held-out codes as the pages number them, computed here with the library."""

    vae: LatentModel
    data: Dataset
    index: np.ndarray  # (N,) dataset indices of the rows
    mu: np.ndarray  # (N, D)
    labels: np.ndarray

    def label(self, row: int) -> str:
        return label_name(self.data.label_names, self.labels[row])

    def first_row_not_like(self, row: int) -> int:
        return int(np.flatnonzero(self.labels != self.labels[row])[0])

    def first_row_of(self, label: int) -> int:
        return int(np.flatnonzero(self.labels == label)[0])

    def decoded(self, z, target: int, y=None) -> np.ndarray:
        """Pixels of `picture` of z decoded, as a page draws one image."""
        return np.asarray(picture(decode_codes(self.vae, z, y)[0], target))


def _held(path: Path, n_points: int = 2000) -> Held:
    """An unconditional model's held-out codes, encoded as the app encodes them: the same
    images in one batch, so the same bits. 2000: the pages' default number of points."""
    vae, meta = load_checkpoint(path)
    data, _, held_idx = dataset_for_checkpoint(meta)
    index = map_subset(held_idx, min(n_points, len(held_idx)))
    mu, _ = encode_dataset(vae, data.images[index])
    return Held(vae, data, index.numpy(), mu.numpy(), data.labels[index].numpy())


def _training_images(path: Path, n_points: int, labels: bool = False):
    """The first n of a checkpoint's training images in the fixed random order: what the
    Analyze tabs and attribute vectors fit on (`OpenedModel.fitting().fit_subset`); with
    `labels`, (images, labels)."""
    _, meta = load_checkpoint(path)
    data, train_idx, _ = dataset_for_checkpoint(meta)
    index = map_subset(train_idx, min(n_points, len(train_idx)))
    return (data.images[index], data.labels[index].numpy()) if labels else data.images[index]


def _shown(at: AppTest, caption_start: str) -> np.ndarray:
    """Pixels of the image whose caption starts with `caption_start`, as the page sent them."""
    file_id = Path(_image(at, caption_start)).stem
    return np.asarray(Image.open(io.BytesIO(SHOWN[file_id])))


def _assert_shows(at: AppTest, caption_start: str, expected: np.ndarray) -> None:
    shown = _shown(at, caption_start)
    assert shown.shape == expected.shape, (shown.shape, expected.shape)
    differing = int(np.count_nonzero(shown != expected))
    assert differing == 0, f"{differing} of {shown.size} pixel values differ from the expected image"


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("model", ["tiny.pt", "tiny_conditional.pt", "tiny_hierarchical.pt"])
def test_every_page_runs_on_tiny_checkpoints(page, model, models_dir, monkeypatch):
    at = _app(page, models_dir, monkeypatch, model, **{MAP_PARAMS_KEY: PCA_PARAMS})
    _no_errors(at)
    assert at.session_state[MODEL_KEY] == model


# Analyze on the shipped sprites and MNIST models (clusters, probes, anomalies, MIG on 2,000 held-out
# images through a conv encoder): 20-30 s and 5-15 s; their other pages take 0.1-4 s.
SLOW_SHIPPED = {(m, "pages/7_Analyze.py") for m in ("sprites.pt", "mnist.pt", "mnist-hierarchical.pt")}


@pytest.mark.parametrize(
    ("model", "page"),
    [pytest.param(m, p, marks=[pytest.mark.slow] if (m, p) in SLOW_SHIPPED else []) for m in SHIPPED for p in PAGES],
)
def test_every_page_runs_on_the_shipped_models(page, model, monkeypatch, request):
    if model.startswith("mnist"):
        request.getfixturevalue("shared_mnist")  # skips where the MNIST files are not beside the repo
    # Analyze on 500 of the held-out images (its own tests cover the default 2,000): 25 s down to 10
    # (digits.pt holds out 359: the kept 500 is brought down to them, as after a switch of model)
    at = _app(page, REPO / "models", monkeypatch, model, **({"analyze_n": 500} if "Analyze" in page else {}))
    if "Analyze" in page and model == "digits.pt":
        assert at.sidebar.slider(key="analyze_n").value == 359
    _no_errors(at)


def test_navigation_names_home_and_reaches_every_page(models_dir, monkeypatch):
    at = _app("app.py", models_dir, monkeypatch, "tiny.pt", **{MAP_PARAMS_KEY: PCA_PARAMS})
    assert at.title[0].value == "VAE Latent Explorer"  # "/" opens Home
    for page in sorted((REPO / "pages").glob("*.py")):  # each page file is reachable through app.py
        at.switch_page(str(page)).run()
        _no_errors(at)
    source = (REPO / "app.py").read_text()
    assert 'title="Home"' in source and "default=True" in source


def test_home_shows_the_model_card(models_dir, monkeypatch):
    at = _app("app.py", models_dir, monkeypatch, "tiny.pt")
    assert "Model card: tiny.pt" in [s.value for s in at.subheader]
    card = at.table[0].value
    assert "held-out ELBO" in card.index.tolist() or "held-out ELBO" in card.iloc[:, 0].tolist()


def test_model_choice_survives_page_switches(models_dir, monkeypatch):
    at = _app("app.py", models_dir, monkeypatch, **{MAP_PARAMS_KEY: PCA_PARAMS})
    assert at.selectbox(key="_model_picker").value == "tiny.pt"
    at.selectbox(key="_model_picker").set_value("tiny_conditional.pt").run()
    assert at.session_state[MODEL_KEY] == "tiny_conditional.pt"
    at.switch_page(str(REPO / "pages/1_Map.py")).run()
    _no_errors(at)
    assert at.selectbox(key="_model_picker").value == "tiny_conditional.pt"
    at.switch_page(str(REPO / "pages/0_Home.py")).run()
    assert at.subheader[0].value == "Model card: tiny_conditional.pt"


def test_map_method_dimension_and_colour_changes(models_dir, monkeypatch):
    at = _app("pages/1_Map.py", models_dir, monkeypatch, "tiny.pt", **{MAP_PARAMS_KEY: PCA_PARAMS})
    for colour in ("reconstruction error", "z1", "label"):
        at.selectbox(key="map_colour").set_value(colour).run()
        _no_errors(at)
    at.radio(key="map_dims").set_value(3).run()
    _no_errors(at)
    at.selectbox(key="map_method").set_value("tsne").run()
    _no_errors(at)
    assert at.session_state[MAP_PARAMS_KEY]["method"] == "tsne"
    assert at.session_state[MAP_PARAMS_KEY]["n_components"] == 3


def _select(at: AppTest, selection: dict, key: str | None = None) -> AppTest:
    key = key or f"map_chart_{ProjectionParams('pca').key()}_100"
    at.session_state[key] = PlotlyChartSelectionSerde().deserialize(json.dumps({"selection": selection}))
    return at.run()


def _point(row: int, image: int, x=0.0, y=0.0) -> dict:
    # customdata as the browser sends it for a NumPy-built array
    return {
        "curve_number": 1,
        "point_number": row,
        "point_index": row,
        "x": x,
        "y": y,
        "customdata": {"0": row, "1": image},
    }


def test_map_click_on_a_point_shows_it_and_keeps_its_code(models_dir, monkeypatch):
    at = _app("pages/1_Map.py", models_dir, monkeypatch, "tiny.pt", **{MAP_PARAMS_KEY: PCA_PARAMS})
    assert "Nothing chosen yet." in [i.value for i in at.info]
    at = _select(at, {"points": [_point(3, 999)], "point_indices": [3], "box": [], "lasso": []})
    _no_errors(at)
    assert "Nearest neighbours in latent space" in _markdown(at)
    chosen = at.session_state[CHOSEN_KEY]
    assert chosen["model"] == "tiny.pt" and len(chosen["z"]) == 4 and chosen["source"].startswith("map point")


def test_map_click_on_empty_space_decodes_the_location(models_dir, monkeypatch):
    at = _app("pages/1_Map.py", models_dir, monkeypatch, "tiny.pt", **{MAP_PARAMS_KEY: PCA_PARAMS})
    spot = {"curve_number": 0, "point_number": 5, "point_index": 5, "x": 40.0, "y": -40.0, "customdata": [-1, -1]}
    at = _select(at, {"points": [spot], "point_indices": [5], "box": [], "lasso": []})
    _no_errors(at)
    text = _markdown(at)
    assert "**Location** (40.00, -40.00)" in text and "far from any real data" in text
    assert at.session_state[CHOSEN_KEY]["source"].startswith("map location")


def test_map_box_selection_shows_the_group(models_dir, monkeypatch):
    at = _app("pages/1_Map.py", models_dir, monkeypatch, "tiny.pt", **{MAP_PARAMS_KEY: PCA_PARAMS})
    points = [_point(r, r) for r in (1, 2, 5)] + [{**_point(0, 0), "customdata": [-1, -1]}]
    at = _select(at, {"points": points, "point_indices": [1, 2, 5], "box": [{"x": [0, 1], "y": [0, 1]}], "lasso": []})
    _no_errors(at)
    assert "**3 selected images**" in _markdown(at)
    assert at.session_state[CHOSEN_KEY]["source"] == "mean of 3 selected images"


def test_map_point_picked_by_number(models_dir, monkeypatch):
    at = _app("pages/1_Map.py", models_dir, monkeypatch, "tiny_conditional.pt", **{MAP_PARAMS_KEY: PCA_PARAMS})
    at.number_input(key="map_pick_tiny_conditional.pt").set_value(7).run()
    _no_errors(at)
    assert "Nearest neighbours in latent space" in _markdown(at)


def test_encode_without_upload_explains(models_dir, monkeypatch):
    at = _app("pages/2_Encode.py", models_dir, monkeypatch, "tiny_conditional.pt")
    assert "Upload one or more images to encode them." in [i.value for i in at.info]
    assert at.selectbox(key="encode_label").value == 0


def test_broken_checkpoint_in_the_folder_gets_a_message(models_dir, monkeypatch, tmp_path):
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    for page in [p for p in PAGES if p != "pages/9_Train.py"]:  # Train loads no model
        at = _app(page, tmp_path, monkeypatch, "broken.pt")
        assert not at.exception
        assert "broken.pt is not a readable checkpoint" in at.error[0].value


@pytest.fixture(scope="module")
def mnist_alone(tmp_path_factory) -> Path:
    """mnist.pt in a folder of its own, for the tests that hide its data: one folder, so its
    decoder graph is exported once for them all."""
    folder = tmp_path_factory.mktemp("mnist_alone")
    shutil.copy(REPO / "models" / "mnist.pt", folder / "mnist.pt")
    return folder


def test_missing_data_is_explained_on_home(monkeypatch, mnist_alone, tmp_path, shared_mnist):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "nowhere"))
    at = _app("app.py", mnist_alone, monkeypatch, "mnist.pt")
    assert not at.exception
    assert any("python -m vae.download mnist" in w.value for w in at.warning)


def test_empty_models_folder(monkeypatch, tmp_path):
    at = _app("app.py", tmp_path, monkeypatch)
    assert not at.exception and "No models in" in at.info[0].value


def test_typing_a_number_after_a_click_shows_the_typed_point(models_dir, monkeypatch):
    at = _app("pages/1_Map.py", models_dir, monkeypatch, "tiny.pt", **{MAP_PARAMS_KEY: PCA_PARAMS})
    at = _select(at, {"points": [_point(3, 999)], "point_indices": [3], "box": [], "lasso": []})
    held = _held(models_dir / "tiny.pt", PCA_PARAMS["n_points"])
    assert at.session_state[CHOSEN_KEY]["source"] == f"map point: image {held.index[3]} (label {held.label(3)})"
    at.number_input(key="map_pick_tiny.pt").set_value(8).run()
    _no_errors(at)
    chosen = at.session_state[CHOSEN_KEY]
    assert chosen["source"] == f"map point: image {held.index[8]} (label {held.label(8)})"
    assert chosen["z"] == pytest.approx(held.mu[8].tolist(), abs=1e-6)


def _generated(at: AppTest):
    return at.session_state[CHOSEN_KEY]["z"]


def test_generate_follows_seed_and_temperature_and_keeps_a_sample(models_dir, monkeypatch):
    at = _app("pages/6_Generate.py", models_dir, monkeypatch, "tiny.pt")
    _no_errors(at)
    at.toggle(key="generate_live").set_value(False).run()  # the server's slider and grid
    at.button(key="generate_keep").click().run()
    first = _generated(at)
    assert first == pytest.approx(prior_samples(32, 4, 1.0, 0)[0].tolist())  # 4 rows of 8: sample 0 of seed 0
    at.slider(key="generate_temperature").set_value(0.5).run()
    at.button(key="generate_keep").click().run()
    cooler = _generated(at)
    assert cooler == pytest.approx([0.5 * v for v in first], rel=1e-5)  # same seed, half the spread
    at.number_input(key="generate_seed").set_value(3).run()
    at.button(key="generate_keep").click().run()
    assert _generated(at) == pytest.approx((0.5 * prior_samples(32, 4, 1.0, 3)[0]).tolist(), rel=1e-5)
    assert at.session_state[CHOSEN_KEY]["source"].startswith("prior sample 0 (seed 3")


def test_generate_conditional_rows_share_a_style(models_dir, monkeypatch):
    at = _app("pages/6_Generate.py", models_dir, monkeypatch, "tiny_conditional.pt")
    _no_errors(at)
    at.number_input(key="generate_pick").set_value(2).run()
    at.button(key="generate_keep").click().run()
    same_column = at.session_state[CHOSEN_KEY]["z"]
    at.number_input(key="generate_pick").set_value(8 + 2).run()  # next class, same column
    at.button(key="generate_keep").click().run()
    assert at.session_state[CHOSEN_KEY]["z"] == same_column
    assert "class 1" in at.session_state[CHOSEN_KEY]["source"]


def _image(at: AppTest, caption_start: str) -> str:
    """URL of the first image whose caption starts with `caption_start` (content-addressed)."""
    for image in at.get("image"):
        for url, caption in zip(image.value, image.captions):
            if caption.startswith(caption_start):
                return url
    raise AssertionError(f"no image captioned {caption_start!r}: {[i.captions for i in at.get('image')]}")


def _slider_values(at: AppTest, prefix: str) -> dict[str, float]:
    return {s.key: s.value for s in at.slider if s.key.startswith(prefix)}


def _by_dimension(sliders: dict[str, float]) -> list[float]:
    """Traverse's slider values (keys ending in _z<d>) in dimension order."""
    return [v for _, v in sorted(sliders.items(), key=lambda item: int(item[0].rsplit("_z", 1)[1]))]


def test_traverse_slider_changes_the_decoded_image_and_only_its_dimension(models_dir, monkeypatch):
    at = _app("pages/3_Traverse.py", models_dir, monkeypatch, "tiny.pt", traverse_live=False)
    _no_errors(at)
    held = _held(models_dir / "tiny.pt")
    start = np.clip(held.mu[0], -3, 3)  # held-out point 0, within the prior's ±3
    z_before = list(at.session_state["traverse_state"]["z"])
    assert z_before == pytest.approx(start.tolist(), abs=1e-6)
    _assert_shows(at, "decoded", held.decoded(start, 256))
    first = at.slider[0]  # the most informative dimension
    dim = int(first.key.rsplit("_z", 1)[1])
    first.set_value(first.max).run()
    _no_errors(at)
    moved = start.copy()
    moved[dim] = first.max
    _assert_shows(at, "decoded", held.decoded(moved, 256))
    z_after = at.session_state["traverse_state"]["z"]
    assert z_after[dim] == pytest.approx(first.max)
    assert [v for d, v in enumerate(z_after) if d != dim] == [v for d, v in enumerate(z_before) if d != dim]


def test_traverse_reset_randomise_and_range(models_dir, monkeypatch):
    at = _app("pages/3_Traverse.py", models_dir, monkeypatch, "tiny.pt", traverse_live=False)
    held = _held(models_dir / "tiny.pt")
    start = _slider_values(at, "traverse_tiny_prior")
    assert _by_dimension(start) == pytest.approx(np.clip(held.mu[0], -3, 3).tolist(), abs=1e-6)
    at.button(key="traverse_random").click().run()
    randomised = _slider_values(at, "traverse_tiny_prior")
    # a random draw (its seed is not shown): not the start, within the range, and what the page holds and shows
    assert randomised != start and all(-3 <= v <= 3 for v in randomised.values())
    assert at.session_state["traverse_state"]["z"] == pytest.approx(_by_dimension(randomised))
    _assert_shows(at, "decoded", held.decoded(np.array(_by_dimension(randomised), np.float32), 256))
    at.button(key="traverse_reset").click().run()
    assert _slider_values(at, "traverse_tiny_prior") == start
    at.radio(key="traverse_range").set_value("data").run()
    _no_errors(at)
    data_sliders = sorted(
        (s for s in at.slider if s.key.startswith("traverse_tiny_data")), key=lambda s: int(s.key.rsplit("_z", 1)[1])
    )
    low, high = slider_ranges(held.mu, "data")  # the held-out codes' mean ± 3 sd
    assert [s.min for s in data_sliders] == pytest.approx(low.tolist(), abs=1e-6)
    assert [s.max for s in data_sliders] == pytest.approx(high.tolist(), abs=1e-6)
    # the values carry over, clipped to the data's spread
    expected = np.clip(_by_dimension(start), low, high)
    assert [s.value for s in data_sliders] == pytest.approx(expected.tolist(), abs=1e-6)


def test_traverse_starts_from_the_origin_and_a_prior_sample(models_dir, monkeypatch):
    at = _app("pages/3_Traverse.py", models_dir, monkeypatch, "tiny.pt", traverse_live=False)
    at.radio(key="traverse_start_source").set_value("origin").run()
    assert set(_slider_values(at, "traverse_tiny_prior").values()) == {0.0}
    at.radio(key="traverse_start_source").set_value("prior").run()
    _no_errors(at)
    expected = np.clip(prior_samples(1, 4, 1.0, 0)[0], -3, 3)  # seed 0 by default
    assert _by_dimension(_slider_values(at, "traverse_tiny_prior")) == pytest.approx(expected.tolist(), abs=1e-6)


def test_interpolation_follows_its_inputs(models_dir, monkeypatch):
    at = _app("pages/4_Interpolate.py", models_dir, monkeypatch, "tiny.pt", interpolate_live=False)
    _no_errors(at)
    held = _held(models_dir / "tiny.pt")
    a, b = held.mu[0], held.mu[held.first_row_not_like(0)]  # B: the first point labelled unlike A

    def strip(path: np.ndarray) -> np.ndarray:
        return np.asarray(grid_picture(decode_codes(held.vae, path), ncols=len(path), target=80))

    _assert_shows(at, "linear path, 10 steps", strip(lerp(a, b, 10)))
    at.radio(key="interpolate_method").set_value("spherical").run()
    _assert_shows(at, "spherical path, 10 steps", strip(slerp(a, b, 10)))
    at.number_input(key="interpolate_b_row").set_value(5).run()
    _assert_shows(at, "spherical path, 10 steps", strip(slerp(a, held.mu[5], 10)))
    at.slider(key="interpolate_steps").set_value(4).run()
    _no_errors(at)
    at.slider(key="interpolate_step").set_value(3).run()
    last = decode_codes(held.vae, slerp(a, held.mu[5], 4))[3]  # the last of 4 steps: B, decoded with the strip
    _assert_shows(at, "step 3 of 3", np.asarray(picture(last, 192)))
    assert "t = 1.00" in _markdown(at)


def test_live_releases_set_temperature_weights_and_strength(models_dir, monkeypatch):
    """The browser decodes while dragging; what it reports on release drives the rest of the page."""
    at = _app("pages/6_Generate.py", models_dir, monkeypatch, "tiny.pt")
    assert at.toggle(key="generate_live").value is True
    assert not [s for s in at.slider if s.key == "generate_temperature"]  # the component holds it
    at.button(key="generate_keep").click().run()
    first = _generated(at)
    at.session_state["generate_live_grid"] = {"temperature": 0.5, "nonce": 1}
    at.run()
    at.button(key="generate_keep").click().run()
    assert _generated(at) == pytest.approx([0.5 * v for v in first], rel=1e-5)
    assert any("T as released: 0.50" in c.value for c in at.caption)

    at = _app("pages/5_Arithmetic.py", models_dir, monkeypatch, "tiny.pt")
    _no_errors(at)
    held = _held(models_dir / "tiny.pt")  # a, b, c: held-out points 0, 1, 2
    at.button(key="arithmetic_keep_sum").click().run()
    assert at.session_state[CHOSEN_KEY]["z"] == pytest.approx(arithmetic(*held.mu[:3]).tolist(), abs=1e-6)
    at.session_state["arithmetic_live_sum"] = {"weights": [1.0, 0.0, 0.0], "nonce": 1}  # a alone
    at.run()
    _no_errors(at)
    assert any("+1.00·a +0.00·b +0.00·c" in c.value for c in at.caption)
    at.button(key="arithmetic_keep_sum").click().run()
    assert at.session_state[CHOSEN_KEY]["z"] == pytest.approx(held.mu[0].tolist(), abs=1e-6)


def test_arithmetic_outputs_follow_their_inputs(models_dir, monkeypatch):
    at = _app("pages/5_Arithmetic.py", models_dir, monkeypatch, "tiny.pt")
    _no_errors(at)
    at.toggle(key="arithmetic_live").set_value(False).run()  # decoded on the server
    held = _held(models_dir / "tiny.pt")
    a, b = held.mu[0], held.mu[1]
    _assert_shows(at, "nearest held-out code", held.decoded(arithmetic(a, b, held.mu[2]), 160))
    at.number_input(key="arithmetic_c_row").set_value(7).run()
    _assert_shows(at, "nearest held-out code", held.decoded(arithmetic(a, b, held.mu[7]), 160))
    # Attribute vectors: from the first class toward the last, applied to the first point of the first class
    names, classes = held.data.label_names, np.unique(held.labels)
    source, target = int(classes[0]), int(classes[-1])
    start = held.mu[held.first_row_of(source)]
    images, fit_labels = _training_images(models_dir / "tiny.pt", 2000, labels=True)  # what the vector is fitted on
    fit_mu = encode_dataset(held.vae, images)[0].numpy()
    vector = mean_difference_vector(fit_mu, fit_labels, source, target)
    for strength in (0.0, 2.0):
        at.slider(key="arithmetic_strength").set_value(strength).run()
        expected = held.decoded(apply_attribute(start, vector, [strength])[0], 160)
        _assert_shows(at, f"strength {strength:+.2f}", expected)
    for method, make in (("means", mean_difference_vector), ("classifier", classifier_vector)):
        at.radio(key="arithmetic_method").set_value(method).run()
        _no_errors(at)
        length = np.linalg.norm(make(fit_mu, fit_labels, source, target))
        expected = (
            f"Vector from {names[source]} toward {names[target]}: length {length:.2f}, found from the codes of "
            f"{len(fit_mu)} training images."
        )
        assert next(c.value for c in at.caption if c.value.startswith("Vector from")).startswith(expected)


def test_conditional_label_swap_grid(models_dir, monkeypatch):
    at = _app("pages/5_Arithmetic.py", models_dir, monkeypatch, "tiny_conditional.pt")
    _no_errors(at)
    columns = next(c.value for c in at.caption if c.value.startswith("Columns:"))
    assert columns == "Columns: original, " + ", ".join(str(k) for k in range(10))


@pytest.mark.parametrize(
    ("button", "page", "source_key"),
    [
        ("generate_send_traverse_start_source", "Traverse", "traverse_start_source"),
        ("generate_send_interpolate_a_source", "Interpolate", "interpolate_a_source"),
    ],
)
def test_generate_sends_a_sample_to_another_page(button, page, source_key, models_dir, monkeypatch):
    at = _app("app.py", models_dir, monkeypatch, "tiny.pt")
    at.switch_page("pages/6_Generate.py").run()
    at.number_input(key="generate_pick").set_value(3).run()
    at.button(key=button).click().run()
    _no_errors(at)
    assert at.title[0].value.startswith(page)
    assert at.radio(key=source_key).value == "kept"
    z = at.session_state[CHOSEN_KEY]["z"]
    assert at.session_state[CHOSEN_KEY]["source"].startswith("prior sample 3")
    if page == "Traverse":
        assert at.session_state["traverse_state"]["z"] == pytest.approx(z, abs=1e-6)


@pytest.mark.parametrize("page", ["pages/3_Traverse.py", "pages/4_Interpolate.py", "pages/5_Arithmetic.py"])
def test_pages_without_the_data_start_from_the_prior(page, monkeypatch, mnist_alone, tmp_path, shared_mnist):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "nowhere"))
    at = _app(page, mnist_alone, monkeypatch, "mnist.pt")
    assert not at.exception and not at.error
    assert any("not available" in w.value for w in at.warning)
    vae, _ = load_checkpoint(mnist_alone / "mnist.pt")
    _assert_shows(
        at, "prior sample (seed 0)", np.asarray(picture(decode_codes(vae, prior_samples(1, vae.latent_dim))[0], 72))
    )


def test_interpolate_starts_a_at_the_kept_code_and_b_at_data(models_dir, monkeypatch):
    at = _app("app.py", models_dir, monkeypatch, "tiny.pt")
    at.switch_page("pages/6_Generate.py").run()
    at.button(key="generate_send_interpolate_a_source").click().run()
    assert at.radio(key="interpolate_a_source").value == "kept"
    assert at.radio(key="interpolate_b_source").value == "data"
    strip = next(c for i in at.get("image") for c in i.captions if c.startswith("linear path"))
    assert "A = kept code (prior sample 0" in strip and "B = image" in strip


def test_keeping_a_code_on_traverse_does_not_move_its_start(models_dir, monkeypatch):
    at = _app("app.py", models_dir, monkeypatch, "tiny.pt", traverse_live=False)
    at.switch_page("pages/6_Generate.py").run()
    at.button(key="generate_send_traverse_start_source").click().run()
    at.switch_page("pages/3_Traverse.py")  # AppTest would otherwise rerun the page it last switched to
    start = list(at.session_state["traverse_state"]["z"])
    at.slider[0].set_value(at.slider[0].max).run()
    at.button(key="traverse_keep").click().run()
    at.button(key="traverse_reset").click().run()
    _no_errors(at)
    assert at.session_state["traverse_state"]["z"] == pytest.approx(start, abs=1e-6)
    assert at.session_state[CHOSEN_KEY]["source"].startswith("traversal from kept code (prior sample")


def test_conditional_class_follows_the_sent_sample(models_dir, monkeypatch):
    at = _app("app.py", models_dir, monkeypatch, "tiny_conditional.pt")
    at.switch_page("pages/6_Generate.py").run()
    at.number_input(key="generate_pick").set_value(7 * 8 + 2).run()  # row 7: class 7
    at.button(key="generate_send_traverse_start_source").click().run()
    _no_errors(at)
    assert at.selectbox(key="traverse_class").value == 7
    at.switch_page("pages/3_Traverse.py")  # AppTest would otherwise rerun the page it last switched to
    at.selectbox(key="traverse_class").set_value(3).run()  # the user can still choose
    assert at.selectbox(key="traverse_class").value == 3


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label))


def test_analyze_reports_clusters_probe_and_collapse(models_dir, monkeypatch):
    at = _app("pages/7_Analyze.py", models_dir, monkeypatch, "tiny.pt")
    _no_errors(at)
    held = _held(models_dir / "tiny.pt")  # the analysed images: the first 2000 held out, as on the Map
    fit_mu = encode_dataset(held.vae, _training_images(models_dir / "tiny.pt", 2000))[0].numpy()

    def assert_agreement(k: int) -> None:  # k-means (the default method), seed 0, fitted on training images
        found = agreement(held.labels, fit_clusters(fit_mu, k, "kmeans", 0).predict(held.mu))
        assert (_metric(at, "NMI"), _metric(at, "ARI")) == (f"{found.nmi:.3f}", f"{found.ari:.3f}")

    assert_agreement(len(np.unique(held.labels)))  # k starts at the number of classes
    assert 0 < float(_metric(at, "NMI")) <= 1
    at.number_input(key="analyze_k").set_value(2).run()
    assert_agreement(2)
    assert _metric(at, "Probe on μ").endswith("%") and _metric(at, "Same probe on raw pixels").endswith("%")
    assert _metric(at, "Active dimensions").endswith("of 4")


def test_analyze_anomaly_threshold_and_imputation_follow_their_inputs(models_dir, monkeypatch):
    at = _app("pages/7_Analyze.py", models_dir, monkeypatch, "tiny.pt")
    held = _held(models_dir / "tiny.pt")
    vae, data = held.vae, held.data
    # −ELBO of each analysed image, 2 draws of z (seed 0); the reference Gaussian only enters the Mahalanobis score
    reference = LatentGaussian(np.zeros((2, vae.latent_dim), np.float32))
    clean = anomaly_scores(vae, data.images[held.index], reference, samples=2)["neg_elbo"]
    # the threshold starts at the 95th percentile of 500 training images' scores: flagged out of sample
    fitted = anomaly_scores(vae, _training_images(models_dir / "tiny.pt", 500), reference, samples=2)["neg_elbo"]
    assert _metric(at, "Held-out images flagged") == f"{100 * np.mean(clean > np.percentile(fitted, 95)):.1f} %"
    slider = at.slider(key="analyze_threshold_neg_elbo")
    assert slider.min == pytest.approx(float(clean.min()))
    slider.set_value(slider.min).run()
    assert _metric(at, "Held-out images flagged") == f"{100 * np.mean(clean > slider.min):.1f} %"
    assert "ROC-AUC" in _markdown(at)
    original = data.images[held.index[:1]]  # held-out point 0; 50 iterations
    for kind in ("rectangle", "left"):  # the middle half of the rows and columns by default
        if kind == "left":
            at.selectbox(key="analyze_mask").set_value("left").run()
            _no_errors(at)
        filled = impute(vae, original, make_mask(*vae.image_shape[1:], kind), iterations=50)
        _assert_shows(at, "imputed", np.asarray(picture(filled[0], 128)))
    assert "Squared error on the hidden pixels: model" in _markdown(at)


def test_analyze_on_a_bundles_sample_fits_on_one_half_and_scores_on_the_other(digits_models, monkeypatch):
    """A bundle's data sample is all held out: the probe, the anomaly reference and threshold,
    the clusters and the mean image are fitted on a fixed half and scored on the other, and
    the captions say so with the sizes of the actual sets."""
    at = _app("pages/7_Analyze.py", digits_models["sample"].parent, monkeypatch, "digits-sample")
    _no_errors(at)
    captions = "\n".join(c.value for c in at.caption)
    split = "fitted on 179 images of the bundle's data sample, scored on 180 others of it"
    assert f"Logistic regression on standardised features, {split}." in captions
    assert f"reference Gaussian {split}" in captions and f"k-means {split}" in captions
    pixels = float(_metric(at, "Same probe on raw pixels").rstrip(" %"))
    assert 60 < pixels < 99  # fitted and scored on the same 359 digits it read 100.0 %
    assert at.number_input(key="analyze_impute_row").max == 179  # the images scored on


@pytest.mark.slow  # MIG and its heatmap on 500 sprites through the shipped conv model: 10-15 s
def test_analyze_disentanglement_click_picks_the_traversed_dimension(monkeypatch):
    at = _app("pages/7_Analyze.py", REPO / "models", monkeypatch, "sprites.pt", analyze_n=500)
    _no_errors(at)
    assert 0 <= float(_metric(at, "MIG")) <= 1
    cell = {"curve_number": 0, "point_number": 3, "point_index": 3, "x": "z3", "y": "shape", "customdata": [3]}
    _select(at, {"points": [cell], "point_indices": [3], "box": [], "lasso": []}, key="analyze_mi")
    assert "Traversal of z3" in _markdown(at)


def _submit_training(at: AppTest, name: str, epochs: int = 1, replace: bool = False, arch: str = "mlp") -> AppTest:
    at.text_input(key="train_name").set_value(name)
    at.selectbox(key="train_arch").set_value(arch)
    at.number_input(key="train_epochs").set_value(epochs)
    at.checkbox(key="train_replace").set_value(replace)
    return next(b for b in at.button if b.label == "Start training").click().run()


class FakeJobs:
    """The job runner as the Train page sees it, in memory: tests/test_jobs.py runs real jobs;
    here only what the page asks for and shows is checked. The real `check_can_start` runs
    against it, so the page's refusals are the runner's own."""

    def __init__(self, monkeypatch):
        from ui.train import job as train_job
        from vae.training import jobs

        self.jobs, self.job, self.started = jobs, None, []
        for module in (jobs, train_job):
            monkeypatch.setattr(module, "read_job", self.read_job)
            monkeypatch.setattr(module, "cancel_job", self.cancel_job)
        monkeypatch.setattr(jobs, "start_job", self.start_job)

    def read_job(self, models_dir):
        return self.job

    def start_job(self, models_dir, name, train_config, model_config, overwrite=False):
        self.jobs.check_can_start(models_dir, name, overwrite)
        self.started.append((name, train_config, model_config))
        self.job = self.jobs.JobState(name, "running", "", train_config["epochs"], [], None, time.time())
        return self.job

    def cancel_job(self, models_dir):
        self.job = dataclasses.replace(self.job, state="cancelled")
        return True

    def finish(self, record: dict, recon_png: bytes):
        self.job = dataclasses.replace(self.job, state="done", history=[record], recon_png=recon_png)


def test_train_page_runs_one_job_at_a_time_cancels_and_finishes(tmp_path, monkeypatch, tiny_checkpoint):
    shutil.copy(tiny_checkpoint, tmp_path / "tiny.pt")
    fake = FakeJobs(monkeypatch)
    at = _app("pages/9_Train.py", tmp_path, monkeypatch)
    _no_errors(at)
    assert any("No training job yet" in i.value for i in at.info)
    _submit_training(at, "long", epochs=1000)
    _no_errors(at)
    name, train_config, model_config = fake.started[-1]
    assert name == "long.pt" and train_config["epochs"] == 1000 and train_config["dataset"] == "digits"
    assert model_config["arch"] == "mlp" and train_config["slim"] is True
    assert any("Training **long.pt**" in p.proto.text for p in at.get("progress"))
    _submit_training(at, "second")
    assert any("running already: long.pt" in e.value for e in at.error) and len(fake.started) == 1
    at.button(key="train_cancel").click().run()
    assert any("was cancelled" in w.value for w in at.warning)

    _submit_training(at, "fresh")
    record = torch.load(tiny_checkpoint, weights_only=False)["meta"]["history"][-1]
    shutil.copy(tiny_checkpoint, tmp_path / "fresh.pt")  # what the job moves into place when it ends
    fake.finish(record, png_bytes(grid_picture(torch.rand(2, 1, 8, 8), ncols=2)))
    at.run()
    _no_errors(at)
    assert any("**fresh.pt** is trained" in s.value for s in at.success)
    assert any(f"held-out ELBO {record['heldout_elbo']:.2f}" in c.value for c in at.caption)
    home = _app("app.py", tmp_path, monkeypatch)
    assert "fresh.pt" in home.sidebar.selectbox(key="_model_picker").options
    _submit_training(at, "fresh")
    assert any("fresh.pt exists" in e.value for e in at.error)


def test_train_page_refuses_a_sweep_of_one_value_or_a_taken_member_name(tmp_path, monkeypatch, tiny_checkpoint):
    FakeJobs(monkeypatch)
    at = _app("pages/9_Train.py", tmp_path, monkeypatch)
    at.selectbox(key="train_sweep").set_value("beta")
    at.text_input(key="train_sweep_values").set_value("2, 2")
    _submit_training(at, "b")
    assert any("at least two different values" in e.value for e in at.error)
    shutil.copy(tiny_checkpoint, tmp_path / "b-4.pt")
    at.text_input(key="train_sweep_values").set_value("1, 4")
    _submit_training(at, "b")
    assert any("b-4.pt exists" in e.value for e in at.error)
    assert not (tmp_path / ".jobs" / "job.json").exists()  # nothing started


def test_train_page_starts_a_hierarchical_model_with_its_levels(tmp_path, monkeypatch):
    fake = FakeJobs(monkeypatch)
    at = _app("pages/9_Train.py", tmp_path, monkeypatch)
    at.selectbox(key="train_arch").set_value("hierarchical")
    at.text_input(key="train_levels").set_value("4, 8 16")
    at.text_input(key="train_name").set_value("deep")
    next(b for b in at.button if b.label == "Start training").click().run()
    _no_errors(at)
    _, _, model_config = fake.started[-1]
    assert model_config["arch"] == "hierarchical" and model_config["level_dims"] == [4, 8, 16]
    assert "latent_dim" not in model_config
    at.text_input(key="train_levels").set_value("16")
    at.text_input(key="train_name").set_value("shallow")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert any("2 to 5 positive whole numbers" in e.value for e in at.error) and len(fake.started) == 1


def test_train_page_starts_a_sentence_vae_on_text_and_refuses_mismatches(tmp_path, monkeypatch):
    fake = FakeJobs(monkeypatch)
    at = _app("pages/9_Train.py", tmp_path, monkeypatch)
    _submit_training(at, "words", arch="gru")  # gru on the default digits
    assert any("sentence VAE: choose a text dataset" in e.value for e in at.error) and not fake.started
    at.selectbox(key="train_dataset").set_value("fortunes")
    at.number_input(key="train_word_dropout").set_value(0.3)
    at.number_input(key="train_hidden").set_value(64)
    _submit_training(at, "words", arch="gru")
    _no_errors(at)
    _, train_config, model_config = fake.started[-1]
    assert train_config["dataset"] == "fortunes" and train_config["word_dropout"] == 0.3
    assert model_config == {"arch": "gru", "latent_dim": 10, "embed_dim": 128, "hidden_dim": 64, "conditional": False}
    fake.job = dataclasses.replace(fake.job, state="done", history=[_TEXT_RECORD], recon_text="a b .\n→ a b .\n")
    at.run()
    assert any("sentences/s" in c.value for c in at.caption) and at.code[0].value.startswith("a b .")
    _submit_training(at, "pictures", replace=True, arch="conv")
    assert any("fortunes holds sentences" in e.value for e in at.error) and len(fake.started) == 1


_TEXT_RECORD = {
    "epoch": 1,
    "heldout_elbo": -50.0,
    "heldout_recon_ll": -47.0,
    "heldout_kl": 3.0,
    "seconds": 2.0,
    "images_per_second": 900.0,
    "train_elbo": -50.0,
}


def test_train_page_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_DISABLE_TRAINING", "1")
    at = _app("pages/9_Train.py", tmp_path, monkeypatch)
    assert any("turned off" in i.value for i in at.info) and not at.button


def test_traverse_live_component_release_updates_the_code(models_dir, monkeypatch):
    at = _app("pages/3_Traverse.py", models_dir, monkeypatch, "tiny.pt")
    _no_errors(at)
    assert at.toggle(key="traverse_live").value is True and not at.slider  # the component replaces the sliders
    released = [0.5, -0.25, 1.0, 9.0]  # the last one beyond the slider range
    at.session_state["traverse_live_tiny_prior"] = {"z": released, "nonce": 1}
    at.run()
    _no_errors(at)
    assert at.session_state["traverse_state"]["z"] == pytest.approx([0.5, -0.25, 1.0, 3.0])
    at.button(key="traverse_keep").click().run()
    assert at.session_state[CHOSEN_KEY]["z"] == pytest.approx([0.5, -0.25, 1.0, 3.0])
    at.toggle(key="traverse_live").set_value(False).run()  # back to server sliders, at the same point
    assert [s.value for s in sorted(at.slider, key=lambda s: s.key)] == pytest.approx([0.5, -0.25, 1.0, 3.0])


def test_interpolate_browser_scrubber_release_sets_the_step(models_dir, monkeypatch):
    at = _app("pages/4_Interpolate.py", models_dir, monkeypatch, "tiny.pt")
    _no_errors(at)
    assert at.toggle(key="interpolate_live").value is True
    assert "Step 0 of 9" in _markdown(at)
    at.session_state["interpolate_live_linear_10"] = {"step": 4, "nonce": 7}
    at.run()
    _no_errors(at)
    assert "Step 4 of 9" in _markdown(at) and "t = 0.44" in _markdown(at)
    at.button(key="interpolate_keep").click().run()
    assert at.session_state[CHOSEN_KEY]["source"].startswith("step 4/9 of the linear path")


def test_analyze_a_one_dimensional_sprites_model(tmp_path, monkeypatch):
    train(
        TrainConfig(dataset="sprites", n=300, image_size=16, epochs=1, iwae_k=0),
        tmp_path / "line.pt",
        {"arch": "mlp", "latent_dim": 1, "hidden_dims": (16,)},
        progress=False,
    )
    at = _app("pages/7_Analyze.py", tmp_path, monkeypatch, "line.pt")
    _no_errors(at)
    assert any("one latent dimension" in i.value for i in at.info)


def test_traverse_marks_and_reports_images_the_decoder_returned_nan_for(tmp_path, monkeypatch):
    nan_bundle(tmp_path / "nan")  # a bundle whose decoder gives NaN for z0 > 2.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # NaN cast to pixels warned in the server log
        at = _app("pages/3_Traverse.py", tmp_path, monkeypatch, "nan", traverse_live=False)
        _no_errors(at)
        # the grid's z0 row runs from -3 to 3: its last image (z0 = 3) has no finite pixel
        assert [w.value for w in at.warning if "NaN" in w.value] == [
            "The decoder returned NaN or infinite values for 1 of 18 images: those pixels are drawn as a "
            "magenta-and-black checkerboard, not as black."
        ]
        z0 = next(s for s in at.slider if s.key.endswith("_z0"))
        z0.set_value(3.0).run()
        _no_errors(at)
    notes = [w.value for w in at.warning if "NaN" in w.value]
    assert len(notes) == 2 and "for this image:" in notes[0] and "for 10 of 18 images:" in notes[1]
    decoded = _shown(at, "decoded")  # marked, not black
    assert set(map(tuple, decoded.reshape(-1, 3))) == {(255, 0, 255), (0, 0, 0)}


def test_the_progress_line_is_gone_when_a_page_ends(models_dir, monkeypatch):
    """Through app.py a page's progress line ("Opening tiny.pt…") is removed when the page ends
    (however it ends); a page script run alone draws none, since nothing would remove it."""
    for page in ("app.py", "pages/3_Traverse.py"):
        at = _app(page, models_dir, monkeypatch, "tiny.pt")
        _no_errors(at)
        captions = [c.value for c in at.caption]
        assert not any("Opening tiny.pt" in c or "Loading…" in c for c in captions), captions
