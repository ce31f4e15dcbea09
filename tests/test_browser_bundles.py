"""Bundles in the real app in Chromium: the map hover decodes before any click, the Map click decodes, the Traverse drag redraws the
canvas while the button is down (the conv bundle's decoder outputs [-1, 1]), an upload shows
its reconstruction, and a zipped bundle added on Home becomes the current model."""

import io
import shutil
import time
import zipfile

import pytest
from browser_support import (
    POINT_POSITION_JS,
    browser_available,
    canvas_state,
    chromium_page,
    exceptions_on,
    live_frame,
    map_hover_frames,
    running_app,
    wait_for_app,
)
from bundle_models import conv_bundle, examples_bundle
from PIL import Image

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium"),
]


@pytest.fixture(scope="module")
def bundle_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle_app")
    examples_bundle(folder / "examples")
    conv_bundle(folder / "conv")
    with running_app(folder) as url:
        yield url, folder


def _open(page, url: str, path: str, model: str) -> None:
    page.goto(f"{url}/{path}?model={model}")
    wait_for_app(page, 120_000)


@pytest.mark.parametrize("model", ["examples", "conv"])
def test_map_click_and_traverse_drag_on_a_bundle(bundle_app, model):
    url, _ = bundle_app
    with chromium_page() as page:
        # PCA: a bundle has no saved UMAP map, and the fitted one replacing PCA mid-hover would move the points
        _open(page, url, "Map", f"{model}&method=pca")
        page.wait_for_selector(".js-plotly-plot .scatterlayer, .js-plotly-plot .gl-container", timeout=90_000)
        wait_for_app(page)
        time.sleep(1.0)
        assert map_hover_frames(page, live_frame(page, 60_000)) >= 20  # before any click
        x, y = page.evaluate(POINT_POSITION_JS, [False, 0])
        page.mouse.move(x, y)
        time.sleep(0.3)
        page.mouse.click(x, y)
        page.get_by_text("reconstruction", exact=True).wait_for(timeout=30_000)

        _open(page, url, "Traverse", model)
        frame = live_frame(page, 90_000, sliders=4 if model == "examples" else 6)
        wait_for_app(page)
        page.wait_for_timeout(1000)
        before_image, before_draws = canvas_state(frame)
        box = frame.locator('input[type="range"]').first.bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + 5, y)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(box["x"] + 5 + step * (box["width"] - 10) / 10, y)
            page.wait_for_timeout(30)
        during_image, during_draws = canvas_state(frame)
        page.mouse.up()
        assert during_draws >= before_draws + 3 and during_image != before_image
        # the conv bundle's [-1, 1] output is mapped to pixels: not a black or white canvas
        spread = frame.locator("canvas").evaluate(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " let lo = 255, hi = 0; for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }"
            " return hi - lo; }"
        )
        assert spread > 20
        assert exceptions_on(page) == [] and page.app_errors == []


def test_encode_upload_and_a_zipped_bundle_added_on_home(bundle_app, tmp_path):
    url, folder = bundle_app
    picture = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 40, 40)).save(picture, "PNG")
    with chromium_page() as page:
        _open(page, url, "Encode", "conv")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            [{"name": "red.png", "mimeType": "image/png", "buffer": picture.getvalue()}]
        )
        page.get_by_text("reconstruction", exact=True).first.wait_for(timeout=60_000)
        wait_for_app(page)
        assert exceptions_on(page) == []

        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            for file in (folder / "examples").iterdir():
                if file.is_file():
                    zipped.write(file, "examples/" + file.name)
        _open(page, url, "", "conv")
        page.get_by_text("Add a model bundle").click()
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            [{"name": "uploaded.zip", "mimeType": "application/zip", "buffer": archive.getvalue()}]
        )
        wait_for_app(page)
        page.get_by_label("Name in the model picker").wait_for()  # proposed from the file name
        wait_for_app(page)
        page.get_by_role("button", name="Add the bundle").click()
        page.get_by_text("Model card: uploaded").wait_for(timeout=60_000)
        wait_for_app(page)
        assert page.get_by_text("Added uploaded: it is now the current model.").is_visible()
        assert page.get_by_label("Name in the model picker").input_value() == "uploaded"
        assert (folder / "uploaded" / "manifest.json").is_file()
        assert exceptions_on(page) == [] and page.app_errors == []
    shutil.rmtree(folder / "uploaded")
