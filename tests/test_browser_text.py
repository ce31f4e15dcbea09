"""A text model in the live component, in real Chromium: the sentence under a slider changes
while the mouse drags it, and equals torch's greedy decode of the code shown; the JavaScript
detokenizer writes sentences as the vocabulary's Python does."""

import numpy as np
import pytest
import torch
from browser_support import (
    LIVE_FRAME,
    REPO,
    browser_available,
    chromium_page,
    exceptions_on,
    running_app,
    wait_for_app,
)
from text_models import save_text_checkpoint, train_text_model, write_text_corpus, z_dependent_model

from vae.data.vocabulary import Vocabulary, detokenize, tokenize

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium"),
]
APP = REPO / "tests" / "live_text_app.py"
CODES = np.random.default_rng(0).normal(size=(6, 16))  # as live_text_app.py


@pytest.fixture(scope="module")
def browser_page():
    """One Chromium page for the module: Playwright's sync API cannot run two at once in a thread."""
    with chromium_page(1000, 900) as page:
        yield page


@pytest.fixture(scope="module")
def app(tmp_path_factory, browser_page):
    folder = tmp_path_factory.mktemp("text-models")
    model = z_dependent_model("gru", latent_dim=4, sequence_length=12)
    # stored in float16 like the shipped text model: its graph holds float16 weights and Casts
    checkpoint = save_text_checkpoint(folder / "sentences.pt", model, half_weights=True)
    with running_app(script=APP, env={"TEXT_CHECKPOINT": str(checkpoint)}) as url:
        browser_page.set_viewport_size({"width": 1000, "height": 900})
        yield url, browser_page, model


def _open(page, url: str, mode: str):
    page.goto(f"{url}/?mode={mode}")
    wait_for_app(page)
    page.wait_for_selector(LIVE_FRAME, timeout=90_000)
    frame = page.frame_locator(LIVE_FRAME)
    frame.locator("#sentences[data-draws]").wait_for(timeout=90_000)
    return frame


def _greedy(model, codes) -> list[str]:
    z = torch.as_tensor(np.asarray(codes, dtype=np.float32).reshape(-1, model.latent_dim))
    return model.vocabulary.decode_batch(model.decode(z))


def _shown(frame) -> list[str]:
    return frame.locator(".sentence").evaluate_all("lines => lines.map(line => line.textContent)")


def test_the_sentence_changes_while_a_slider_is_dragged_and_equals_torchs(app):
    url, page, model = app
    frame = _open(page, url, "sliders")
    assert frame.locator("canvas").is_hidden() and frame.locator("#sentences").is_visible()
    assert _shown(frame) == _greedy(model, np.zeros(model.latent_dim))
    box = frame.locator('input[type="range"][data-dim="0"]').bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    seen = [_shown(frame)[0]]
    for i in range(1, 25):  # to the right end while the button is down
        page.mouse.move(box["x"] + box["width"] / 2 + i * box["width"] / 48, y)
        page.wait_for_timeout(40)
        if _shown(frame)[0] != seen[-1]:
            seen.append(_shown(frame)[0])
    changes = len(seen) - 1
    values = frame.locator('input[type="range"]').evaluate_all("inputs => inputs.map(input => Number(input.value))")
    page.mouse.up()
    assert changes >= 2, seen
    assert values[0] > 2.5  # the drag reached the slider's end
    page.wait_for_timeout(300)
    last = frame.locator("body").evaluate("() => window.__lastDecoded")
    assert np.allclose(last["z"], values, atol=1e-6)  # the code shown is the sliders' code
    assert _shown(frame) == last["sentences"] == _greedy(model, values)
    assert last["ids"] == model.decode(torch.tensor([values], dtype=torch.float32))[0].tolist()
    assert not page.app_errors


@pytest.mark.parametrize("mode", ["path", "mix", "grid"])
def test_interpolate_arithmetic_and_generate_show_torchs_sentences(app, mode):
    url, page, model = app
    frame = _open(page, url, mode)
    codes = CODES[:, : model.latent_dim]
    expected = {"path": codes[0], "mix": codes[0] + codes[1], "grid": codes}[mode]
    assert _shown(frame) == _greedy(model, expected)
    assert frame.locator("canvas").is_hidden()
    assert not page.app_errors


def test_the_map_hover_shows_the_sentence_under_the_mouse(app):
    url, page, model = app
    frame = _open(page, url, "map")
    plot = page.locator(".js-plotly-plot").first.bounding_box()
    seen = set()
    for i in range(20):
        page.mouse.move(plot["x"] + 90 + i * (plot["width"] - 180) / 19, plot["y"] + plot["height"] / 2)
        page.wait_for_timeout(50)
        seen.add(_shown(frame)[0])
    last = frame.locator("body").evaluate("() => window.__lastDecoded")
    assert len(seen) >= 3
    assert _shown(frame) == last["sentences"] == _greedy(model, last["z"])
    assert "nearest sentence" in frame.locator("#reading").inner_text()


TRICKY = [
    "The cat sat on the mat.",
    "Well, well... what's this?!",
    "He said: 'no' (twice) [really] {ok}.",
    "( a ) [ b ] { c } ( )",
    "It costs $1 & $& or $' -- 50% off; right?",
    "don't can't won't rock'n'roll 'quoted'",
    "a , , b . . . c ; : ! ?",
    "((nested)) and [[more]] }{ )(",
    "numbers 3.14 and 1,000 and 2nd",
    "",
    "<unk> ' <unk> .",
]


def test_the_javascript_detokenizer_writes_what_python_writes(app):
    _, page, _ = app
    page.goto("about:blank")
    page.add_script_tag(path=str(REPO / "ui" / "live" / "component" / "text.js"))
    lists = [tokenize(s) for s in TRICKY] + [s.split(" ") for s in TRICKY] + [["<unk>", "'", "«x»", "(", ")", "$1"]]
    assert page.evaluate("lists => lists.map(words => liveText.detokenize(words))", lists) == [
        detokenize(w) for w in lists
    ]

    words = Vocabulary.build([tokenize(s) for s in TRICKY], min_count=1)
    rng = np.random.default_rng(0)
    rows = [rng.integers(-2, len(words) + 3, size=14).tolist() for _ in range(300)]
    rows += [[1, 5, 3, 6, 2, 7], [5, 1, 6, 0, 7], [3, 3, 2], [0, 5], [len(words), -1, 4, 2]]
    got = page.evaluate("([rows, words]) => rows.map(ids => liveText.sentence(ids, words))", [rows, list(words.words)])
    assert got == [words.decode(row) for row in rows]
    assert "<unk>" in got[-1]


@pytest.fixture(scope="module")
def traverse_app(tmp_path_factory):
    """The real app over a sentence VAE trained on the small template corpus."""
    folder = tmp_path_factory.mktemp("trained-text")
    train_text_model(write_text_corpus(tmp_path_factory.mktemp("corpus")), folder / "tiny-text.pt")
    with running_app(folder) as url:
        yield url


def test_the_traverse_page_sentence_follows_a_drag_before_release(traverse_app, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 1500})
    page.app_errors.clear()
    page.goto(traverse_app + "/Traverse?model=tiny-text.pt")
    wait_for_app(page, 120_000)
    page.wait_for_selector(LIVE_FRAME, timeout=120_000)
    frame = page.frame_locator(LIVE_FRAME)
    frame.locator("#sentences[data-draws]").wait_for(timeout=120_000)
    box = frame.locator('input[type="range"]').first.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 3, y)
    page.mouse.down()
    seen = [_shown(frame)[0]]
    for i in range(1, 31):  # across the slider with the button down
        page.mouse.move(box["x"] + 3 + i * (box["width"] - 6) / 30, y)
        page.wait_for_timeout(40)
        if _shown(frame)[0] != seen[-1]:
            seen.append(_shown(frame)[0])
    page.mouse.up()
    assert len(seen) >= 3, seen  # the sentence changed at least twice while the button was down
    assert all(sentence.endswith(".") for sentence in seen)  # sentences of the corpus' kind, not noise
    wait_for_app(page)
    assert exceptions_on(page) == [] and not page.app_errors
