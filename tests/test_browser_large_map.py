"""A 200,000-point large map in real Chromium: the canvas draws every point, hover decodes a
new picture as the mouse moves, a click opens the point and a lasso selects a group on the
server."""

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser_support import browser_available, chromium_page, exceptions_on, running_app, wait_for_app

from vae.large_maps.image_sets import SpriteSet
from vae.large_maps.set_encoding import encode_image_set
from vae.large_maps.store import store_folder
from vae.models.checkpoints import load_checkpoint

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium"),
]
COUNT = 200_000
CANVAS = 'iframe[title*="canvas_map"]'


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    shutil.copy("models/digits.pt", models / "digits.pt")
    model, _ = load_checkpoint(models / "digits.pt")
    sprites = SpriteSet(COUNT, 8, 1)  # 8-pixel sprites fit the digits model: 200k encode in seconds
    encode_image_set(model, sprites, store_folder(models / "digits.pt", sprites.key), model_name="digits.pt")
    with running_app(models) as url:
        yield url, sprites.key, models / "digits.pt"


def _map_frame(page):
    page.wait_for_selector(CANVAS, timeout=120_000)
    frame = page.frame_locator(CANVAS)
    frame.locator("#map[data-draws]").wait_for(timeout=120_000)
    return frame


def test_a_large_map_draws_hovers_clicks_and_lassos(app_url):
    url, key, url_models = app_url
    with chromium_page() as page:
        page.goto(f"{url}/Map?model=digits.pt&set={key}&method=pca")
        wait_for_app(page, 120_000)
        frame = _map_frame(page)
        assert frame.locator("#map").get_attribute("data-visible") == str(COUNT)  # every point on screen
        assert frame.locator("#status").inner_text() == f"{COUNT:,} points"
        box = frame.locator("#map").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

        # Hover: the codes and the decoder load after the first paint; then each move decodes.
        page.mouse.move(cx, cy)
        frame.locator("#decoded[data-draws]").wait_for(timeout=60_000)
        pictures = set()
        for i in range(30):
            page.mouse.move(cx - 150 + 10 * i, cy + 40 * math.sin(i / 3))
            page.wait_for_timeout(60)
            pictures.add(frame.locator("#decoded").evaluate("c => c.toDataURL()"))
        assert len(pictures) >= 20
        assert frame.locator("#about").inner_text().startswith("point ")
        nearest = frame.locator("#nearest")
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=nearest.element_handle(), timeout=30_000
        )

        # The grid index finds the nearest point a scan of every point finds (ties: the same distance).
        gaps = frame.locator("#map").evaluate(
            """() => { const gaps = [];
            for (let i = 0; i < 50; i++) {
              const [x, y] = window.__toMap(40 + (i * 97) % 640, 30 + (i * 61) % 480);
              const a = window.__nearestByIndex(x, y), b = window.__nearestByScan(x, y);
              gaps.push([a, b, x, y]);
            } return gaps; }"""
        )
        xy = np.load(next(store_folder(Path(url_models), key).glob("pca-2d*.npy")))
        for a, b, x, y in gaps:
            assert np.hypot(*(xy[a] - (x, y))) == pytest.approx(np.hypot(*(xy[b] - (x, y))), abs=1e-6)

        # Click the densest spot: the nearest point opens on the server.
        page.mouse.click(cx, cy)
        page.get_by_text("reconstruction", exact=True).wait_for(timeout=60_000)
        assert page.locator("text=/^Point [0-9,]+/").count() >= 1

        # Lasso around the middle: the server counts what it holds.
        frame.locator("#lasso").click()
        page.mouse.move(cx + 80, cy)
        page.mouse.down()
        for i in range(1, 61):
            t = 2 * math.pi * i / 60
            page.mouse.move(cx + 80 * math.cos(t), cy + 80 * math.sin(t))
        page.mouse.up()
        selected = page.locator("text=/^[0-9,]+ selected images/")
        selected.wait_for(timeout=60_000)
        count = int(selected.inner_text().split()[0].replace(",", ""))
        assert 0 < count < COUNT
        page.get_by_text("decoded mean of their codes").wait_for()
        assert not exceptions_on(page)
        assert not page.app_errors
