"""The Map on a large image set (AppTest): the set is offered under Points and by a link, its
PCA map is drawn from binary buffers written beside it, and the page's form encodes a new set
in the background."""

import shutil
import time

import numpy as np
import pytest

from conftest import REPO, assert_no_errors, open_page
from ui.shell.page import MAP_PARAMS_KEY, MODEL_KEY
from vae.large_maps.image_sets import SpriteSet
from vae.large_maps.set_encoding import encode_image_set
from vae.large_maps.set_jobs import LARGE_JOBS
from vae.large_maps.store import store_folder, stored_maps
from vae.models.checkpoints import load_checkpoint

COUNT = 3000


@pytest.fixture
def digits_with_a_set(tmp_path):
    """digits.pt in a folder of its own, with 3,000 8-pixel sprites encoded beside it."""
    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    model, _ = load_checkpoint(tmp_path / "digits.pt")
    sprites = SpriteSet(COUNT, 8, 1)
    encode_image_set(model, sprites, store_folder(tmp_path / "digits.pt", sprites.key), model_name="digits.pt")
    return tmp_path, sprites.key


def _open(folder, monkeypatch, query=None):
    return open_page(
        "pages/1_Map.py", folder, monkeypatch, query=query, state={MODEL_KEY: "digits.pt", MAP_PARAMS_KEY: {}}
    )


def test_a_stored_set_is_offered_and_drawn_from_buffers(digits_with_a_set, monkeypatch):
    folder, key = digits_with_a_set
    at = _open(folder, monkeypatch)
    assert_no_errors(at)
    points = at.selectbox(key="map_set_digits.pt")
    assert points.options[0].startswith("held-out sample") and len(points.options) == 2
    assert at.get("plotly_chart"), "the held-out sample's map comes first"
    at = points.select_index(1).run()
    assert_no_errors(at)
    assert not at.get("plotly_chart")
    assert any("PCA of every code" in c.value for c in at.caption)
    assert at.query_params["set"] in (key, [key])
    buffers = sorted((store_folder(folder / "digits.pt", key) / "buffers").glob("*.bin"))
    sizes = sorted(path.stat().st_size for path in buffers)
    latent_dim = load_checkpoint(folder / "digits.pt")[0].latent_dim
    assert sizes == sorted([COUNT, COUNT * 2 * 4, COUNT * latent_dim * 2])  # colours, positions, codes
    at = at.selectbox(key="large_colour").select("reconstruction error").run()
    assert_no_errors(at)
    assert len(list((store_folder(folder / "digits.pt", key) / "buffers").glob("*.bin"))) == 4  # a new colour buffer


def test_a_link_opens_the_set(digits_with_a_set, monkeypatch):
    folder, key = digits_with_a_set
    at = _open(folder, monkeypatch, query={"set": key, "method": "pca"})
    assert_no_errors(at)
    assert at.selectbox(key="map_set_digits.pt").value == key
    assert any("PCA of every code" in c.value for c in at.caption)


def test_the_form_encodes_a_set_in_the_background(tmp_path, monkeypatch):
    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    at = _open(tmp_path, monkeypatch)
    assert_no_errors(at)
    with pytest.raises(KeyError):
        at.selectbox(key="map_set_digits.pt")  # no large set yet: no choice to make
    at.number_input(key="large_count").set_value(2000)
    at = at.button(key="large_start").click().run()
    assert_no_errors(at)
    job = LARGE_JOBS.job(("encode", str(store_folder(tmp_path / "digits.pt", "sprites-n2000-s8-seed1"))))
    assert job is not None
    job.result(timeout=60)
    time.sleep(0.1)
    at = at.run()
    assert_no_errors(at)
    assert [s.count for s in stored_maps(tmp_path / "digits.pt")] == [2000]
    assert len(at.selectbox(key="map_set_digits.pt").options) == 2


def test_a_bad_folder_is_refused_in_words(tmp_path, monkeypatch):
    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    at = _open(tmp_path, monkeypatch)
    at = at.selectbox(key="large_kind").select("folder").run()
    at.text_input(key="large_folder").input(str(tmp_path / "missing"))
    at = at.button(key="large_start").click().run()
    assert not at.exception
    assert at.error and "does not exist" in at.error[0].value


def test_umap_is_placed_in_the_background_while_pca_shows(digits_with_a_set, monkeypatch):
    from vae.large_maps.placement import placed_key
    from vae.latent import projection
    from vae.latent.projection import ProjectionParams

    class QuickUMAP:  # the page's behaviour, without UMAP's seconds of compiling
        def __init__(self, n_components=2, **options):
            self.n_components = n_components

        def fit_transform(self, mu):
            return np.asarray(mu[:, : self.n_components]) * 10.0

    monkeypatch.setattr(projection, "_umap_class", lambda: QuickUMAP)
    folder, key = digits_with_a_set
    at = _open(folder, monkeypatch, query={"set": key, "method": "umap"})  # a link to the UMAP map
    assert_no_errors(at)
    assert at.selectbox(key="large_method").value == "umap"
    captions = "\n".join(c.value for c in at.caption)
    assert "PCA of every code" in captions or "fitted on a subset" in captions
    job = LARGE_JOBS.job(("place", str(store_folder(folder / "digits.pt", key)), placed_key(ProjectionParams("umap"))))
    if job is not None:
        job.result(timeout=120)
    at = at.run()
    assert_no_errors(at)
    assert any("fitted on a subset" in c.value for c in at.caption)
    assert (store_folder(folder / "digits.pt", key) / f"{placed_key(ProjectionParams('umap'))}.npy").is_file()


def test_an_encoding_stopped_by_a_restart_continues_from_the_page(tmp_path, monkeypatch):
    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    model, _ = load_checkpoint(tmp_path / "digits.pt")
    sprites = SpriteSet(4000, 8, 1)
    folder = store_folder(tmp_path / "digits.pt", sprites.key)

    def stop(done, total):
        if done >= 2500:
            raise KeyboardInterrupt  # the server stopped mid-way

    with pytest.raises(KeyboardInterrupt):
        encode_image_set(model, sprites, folder, chunk=1000, progress=stop, model_name="digits.pt")
    at = _open(tmp_path, monkeypatch)
    assert_no_errors(at)
    assert any("Unfinished" in c.value and "of 4,000 encoded" in c.value for c in at.caption)
    at = at.button(key=f"large_continue_{sprites.key}").click().run()
    LARGE_JOBS.job(("encode", str(folder))).result(timeout=60)
    at = at.run()
    assert_no_errors(at)
    stored = stored_maps(tmp_path / "digits.pt")
    assert [s.count for s in stored] == [4000] and stored[0].meta.chunks_reused >= 1


def test_encoding_other_images_into_a_folder_drops_its_old_maps(tmp_path):
    from vae.large_maps.placement import place_map
    from vae.latent.projection import ProjectionParams

    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    model, _ = load_checkpoint(tmp_path / "digits.pt")
    folder = tmp_path / "set"
    first = encode_image_set(model, SpriteSet(500, 8, 1), folder, model_name="digits.pt")
    place_map(first.mu, ProjectionParams("pca"), folder)
    (folder / "buffers").mkdir()
    other = encode_image_set(model, SpriteSet(500, 8, 2), folder, model_name="digits.pt")  # same count, other images
    assert not list(folder.glob("pca*.npy")) and not (folder / "buffers").exists()
    assert not np.array_equal(np.asarray(other.mu), np.asarray(first.mu))
