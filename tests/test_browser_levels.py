"""A hierarchical model on Traverse in real Chromium: the live sliders come grouped by level, and
dragging an upper level's slider with the mouse button held redraws the canvas in the browser,
both when the levels below keep their values (the absolute decoder graph) and when they follow
the upper ones (the standardised graph, the lower sliders at 0)."""

import shutil

import pytest
from browser_support import (
    browser_available,
    canvas_state,
    chromium_page,
    exceptions_on,
    live_frame,
    running_app,
    wait_for_app,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium"),
]
MODEL = "levels.pt"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, tiny_hierarchical_checkpoint):
    models = tmp_path_factory.mktemp("models")
    shutil.copy(tiny_hierarchical_checkpoint, models / MODEL)  # digits, levels 2 and 3, 2 epochs
    with running_app(models) as url:
        yield url


def _drag_top(page, frame) -> tuple[str, int, str, int, list[str]]:
    """Drag the top level's first slider across, button held; (image and draws before, image
    and draws while still down, the bottom sliders' values while down). Releases at the end."""
    slider = frame.locator('input[type="range"][data-dim="0"]')
    slider.wait_for(state="visible")
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    before_image, before_draws = canvas_state(frame)
    page.mouse.move(box["x"] + 0.2 * box["width"], y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + (0.2 + 0.07 * step) * box["width"], y)
        page.wait_for_timeout(40)
    during_image, during_draws = canvas_state(frame)
    bottom = [frame.locator(f'input[type="range"][data-dim="{d}"]').input_value() for d in (2, 3, 4)]
    page.mouse.up()
    return before_image, before_draws, during_image, during_draws, bottom


def test_dragging_an_upper_level_redraws_while_the_button_is_down(app_url):
    with chromium_page() as page:
        page.goto(f"{app_url}/Traverse?model={MODEL}")
        wait_for_app(page, 120_000)
        frame = live_frame(page, 240_000, sliders=5)  # the first visit exports both decoders
        headers = frame.locator(".level")
        assert headers.all_inner_texts() == ["top", "bottom"]
        assert (
            frame.locator('input[data-level="0"]').count() == 2 and frame.locator('input[data-level="1"]').count() == 3
        )
        assert "top·z0" in frame.locator("label").first.inner_text()

        # keep their values (the default): the absolute decoder; the bottom sliders stay put
        bottom_before = [frame.locator(f'input[type="range"][data-dim="{d}"]').input_value() for d in (2, 3, 4)]
        before_image, before_draws, during_image, during_draws, bottom = _drag_top(page, frame)
        assert during_draws >= before_draws + 3 and during_image != before_image
        assert bottom == bottom_before
        wait_for_app(page)

        # follow the upper levels: the standardised decoder; the bottom sliders go to 0 while dragging
        page.get_by_text("follow the upper levels (conditional prior means)").click()
        wait_for_app(page)
        frame = live_frame(page, 60_000, sliders=5)
        frame.locator('input[type="range"][data-dim="2"][min="-3"]').wait_for(timeout=30_000)  # ε: ±3
        page.wait_for_timeout(500)
        held = [float(frame.locator(f'input[type="range"][data-dim="{d}"]').input_value()) for d in (2, 3, 4)]
        assert max(abs(v) for v in held) > 0.01  # the bottom's ε before the drag: not already at 0
        before_image, before_draws, during_image, during_draws, bottom = _drag_top(page, frame)
        assert during_draws >= before_draws + 3 and during_image != before_image
        assert [float(v) for v in bottom] == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)  # on the sliders' step grid
        wait_for_app(page)
        assert exceptions_on(page) == []
        assert page.app_errors == []
