"""Every page on a sentence VAE (AppTest): sentences where an image model shows pictures, typed
sentences where it takes uploads, and the text-only controls (decoding, corruptions)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from text_models import train_text_model, write_text_corpus

from conftest import REPO, assert_no_errors, open_page
from ui.shell.page import CHOSEN_KEY, MAP_PARAMS_KEY, MODEL_KEY

PAGES = sorted(str(p.relative_to(REPO)) for p in (REPO / "pages").glob("[0-8]_*.py"))
PCA = {"method": "pca", "n_components": 2, "seed": 0, "n_points": 14}
SHIPPED = REPO / "models" / "text-fortunes.pt"


@pytest.fixture(scope="module")
def text_models(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("text_models")
    corpus = write_text_corpus(tmp_path_factory.mktemp("corpus"))
    train_text_model(corpus, folder / "tiny-text.pt")
    return folder


@pytest.fixture(autouse=True)
def _fresh_caches():
    import streamlit as st

    st.cache_data.clear()
    yield


def _open(page: str, models: Path, monkeypatch, **state):
    return open_page(page, models, monkeypatch, state={MODEL_KEY: "tiny-text.pt", MAP_PARAMS_KEY: PCA, **state})


def _text(at) -> str:
    """Everything the page wrote: markdown (sentences are HTML blocks in markdown), captions, tables."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [str(frame.value.to_dict()) for frame in at.dataframe]
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_a_text_model(page, text_models, monkeypatch):
    at = _open(page, text_models, monkeypatch)
    assert_no_errors(at)
    assert not [w.value for w in at.warning if "not available" in w.value]  # its data was found and tokenised


def test_home_lists_sentences_and_reconstructions(text_models, monkeypatch):
    at = _open("pages/0_Home.py", text_models, monkeypatch)
    shown = _text(at)
    assert "held-out sentence" in shown and "reconstruction (greedy)" in shown
    assert "sleeps in the" in shown or "is very" in shown


def test_encode_reads_typed_sentences_and_names_unknown_words(text_models, monkeypatch):
    at = _open("pages/2_Encode.py", text_models, monkeypatch)
    at.text_area(key="encode_text").input("the cat sleeps in the garden.\nthe zebra sleeps in the house.").run()
    assert_no_errors(at)
    shown = _text(at)
    assert "«zebra»" in shown  # the unknown word stays visible
    assert "what the model reads" in shown and "reconstruction (greedy, from μ)" in shown
    assert "8 draws from q(z|x)" in shown
    assert any("more familiar" in m.label for m in at.metric)  # its ELBO against the held-out sentences


def test_generate_offers_greedy_and_sampled_decoding(text_models, monkeypatch):
    at = _open("pages/6_Generate.py", text_models, monkeypatch)
    greedy = _text(at)
    at.radio(key="generate_decoding").set_value("sampled").run()
    assert_no_errors(at)
    sampled = _text(at)
    assert "each word the most likely (greedy)" in greedy and "each word drawn from softmax" in sampled
    assert greedy != sampled


def test_interpolate_between_two_typed_sentences_lists_the_path(text_models, monkeypatch):
    at = _open("pages/4_Interpolate.py", text_models, monkeypatch)
    for end, sentence in (("a", "the dog sleeps in the river."), ("b", "my boat is very slow today.")):
        at.radio(key=f"interpolate_{end}_source").set_value("upload").run()
        at.text_input(key=f"interpolate_{end}_typed").input(sentence).run()
    assert_no_errors(at)
    [path] = [f.value for f in at.dataframe if "decoded sentence (greedy)" in f.value.columns]
    assert len(path) == at.slider(key="interpolate_steps").value
    assert "× spacing from the data" in path.columns
    assert path["decoded sentence (greedy)"].iloc[0] != path["decoded sentence (greedy)"].iloc[-1]


def test_a_map_point_shows_its_sentence(text_models, monkeypatch):
    at = _open("pages/1_Map.py", text_models, monkeypatch)
    at.number_input(key="map_pick_tiny-text.pt").set_value(2).run()
    assert_no_errors(at)
    shown = _text(at)
    assert "Sentence" in shown and "reconstruction (greedy decoding of μ)" in shown
    assert at.session_state[CHOSEN_KEY]["source"].startswith("map point")


def test_analyze_plants_text_corruptions(text_models, monkeypatch):
    at = _open("pages/7_Analyze.py", text_models, monkeypatch)
    assert_no_errors(at)
    corruption = at.radio(key="analyze_corruption_sentences")
    assert corruption.options == ["words replaced by random words", "words shuffled"]
    assert "The 8 most unusual held-out sentences" in _text(at)


@pytest.mark.slow  # 3,780 held-out sentences encoded per page: about 10 s a page
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_shipped_text_model(page, tmp_path, monkeypatch):
    shutil.copy(SHIPPED, tmp_path / SHIPPED.name)
    at = open_page(
        page, tmp_path, monkeypatch, state={MODEL_KEY: SHIPPED.name, MAP_PARAMS_KEY: {**PCA, "n_points": 500}}
    )
    assert_no_errors(at)
