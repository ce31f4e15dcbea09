"""A bundle whose decoder returns NaN for z0 > 2.5, in the real app in Chromium: dragging
Traverse's z0 above 2.5 marks the live canvas (a caption, a magenta checkerboard, a red
outline) instead of a silent black image, the mark goes when z0 comes back, and the server's
traversal grid says how many of its images were not finite, with no RuntimeWarning in the log."""

import os

import pytest
from browser_support import (
    SERVERS,
    browser_available,
    chromium_page,
    exceptions_on,
    live_frame,
    running_app,
    wait_for_app,
)
from bundle_models import nan_bundle

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium"),
]
PIXEL_JS = "(c, [x, y]) => Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3))"


def _drag(page, frame, start: float, end: float) -> None:
    """Drag z0's slider from `start` to `end` (fractions of its width), button down between."""
    slider = frame.locator('input[type="range"][data-dim="0"]')
    slider.wait_for(state="visible")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + start * box["width"], y)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(box["x"] + (start + (end - start) * step / 8) * box["width"], y)
        page.wait_for_timeout(30)


def test_traverse_drag_into_nan_codes_marks_the_canvas_and_the_grid(tmp_path):
    nan_bundle(tmp_path / "nan")
    with running_app(tmp_path) as url, chromium_page() as page:
        page.goto(f"{url}/Traverse?model=nan")
        wait_for_app(page, 120_000)
        frame = live_frame(page, 90_000, sliders=2)
        canvas, caption = frame.locator("canvas"), frame.locator("#nonfinite")
        page.wait_for_timeout(500)
        assert canvas.get_attribute("data-nonfinite") == "0" and not caption.is_visible()

        _drag(page, frame, 0.5, 0.995)  # z0 from 0 to about 3, still dragging
        frame.locator('canvas[data-nonfinite="1"]').wait_for(timeout=10_000)
        assert caption.inner_text() == "decoder returned NaN/inf for this code"
        # 8×8 pixels drawn 32× larger: source pixel (2, 2) is a magenta square of the checkerboard,
        # (2, 1) a black one, and the frame's label sits in its top-left corner, in red
        assert canvas.evaluate(PIXEL_JS, [80, 80]) == [255, 0, 255]
        assert canvas.evaluate(PIXEL_JS, [80, 48]) == [0, 0, 0]
        assert canvas.evaluate(PIXEL_JS, [4, 4]) == [255, 43, 43]
        page.mouse.up()  # the release reruns the page: the component redraws at the released z0
        wait_for_app(page)
        frame = live_frame(page, 60_000, sliders=2)
        frame.locator('canvas[data-nonfinite="1"]').wait_for(timeout=10_000)

        _drag(page, frame, 0.995, 0.5)  # back to z0 ≈ 0: a finite image, no mark
        frame.locator('canvas[data-nonfinite="0"]').wait_for(timeout=10_000)
        page.mouse.up()
        assert not caption.is_visible()

        # the server's traversal grid (z0 from -3 to 3 in its first row): marked and counted
        page.get_by_text("The decoder returned NaN or infinite values for 1 of 18 images").wait_for(timeout=30_000)
        assert exceptions_on(page) == [] and page.app_errors == []
        log = SERVERS[url].stderr
        os.set_blocking(log.fileno(), False)
        assert "RuntimeWarning" not in (log.read() or b"").decode()
