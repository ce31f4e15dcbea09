"""The Compare page in real Chromium: linked box selection across aligned maps, and a sweep
started from the Train page that opens in Compare."""

import shutil
import time

import pytest
from browser_support import (
    POINT_POSITION_JS,
    REPO,
    browser_available,
    chromium_page,
    exceptions_on,
    running_app,
    wait_for_app,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium"),
]

LINKED_COUNTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .filter(plot => (plot.data || []).some(t => t.name === 'images' || /^\\d+$/.test(t.name || '')))
    .map(plot => (plot.data || []).filter(t => t.name === 'selected in another map')
                                  .reduce((sum, t) => sum + t.x.length, 0))"""
SELECTED_JS = """(index) => {
    const plots = [...document.querySelectorAll('.js-plotly-plot')]
        .filter(plot => (plot.data || []).some(t => t.name === 'images' || /^\\d+$/.test(t.name || '')));
    return plots[index].data.reduce((sum, t) => sum + (t.selectedpoints ? t.selectedpoints.length : 0), 0);
}"""


def _drag_box(page, plot, start=0.15, end=0.7) -> None:
    area = plot.locator(".nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    x0, y0 = box["x"] + box["width"] * start, box["y"] + box["height"] * start
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x0 + step * box["width"] * (end - start) / 10, y0 + step * box["height"] * (end - start) / 10)
    page.mouse.up()


def test_box_select_in_one_map_rings_the_same_images_in_the_others():
    with running_app(REPO / "models") as url, chromium_page(1400, 2600) as page:
        page.goto(url + "/Compare")
        page.get_by_text("Maps, aligned").wait_for(timeout=120_000)
        wait_for_app(page, 120_000)
        page.wait_for_function(f"() => ({LINKED_COUNTS_JS})().length === 5", timeout=60_000)
        assert page.evaluate(LINKED_COUNTS_JS) == [0, 0, 0, 0, 0]
        plots = page.locator(".js-plotly-plot").filter(has=page.locator(".nsewdrag"))
        for attempt in range(3):  # a drag during the page's last redraw can be lost: drag again
            time.sleep(1)
            _drag_box(page, plots.nth(plots.count() - 5))
            try:
                page.wait_for_function(f"() => ({LINKED_COUNTS_JS})()[1] > 0", timeout=20_000)
                break
            except Exception:
                if attempt == 2:
                    raise
        wait_for_app(page)
        selected = page.evaluate(SELECTED_JS, 0)
        counts = page.evaluate(LINKED_COUNTS_JS)
        assert selected > 5
        assert counts == [0] + [selected] * 4  # the same images, ringed in every other map
        assert (
            f"{selected} images selected in digits-beta-0.5.pt" in page.locator('[data-testid="stMain"]').inner_text()
        )
        time.sleep(0.6)  # past Plotly's double-click delay
        x, y = page.evaluate(POINT_POSITION_JS, [False, 2])  # the rate–distortion plane's third model
        page.mouse.move(x, y)
        time.sleep(0.3)
        page.mouse.click(x, y)
        page.get_by_text("digits-beta-2.pt is now the current model on every page").wait_for(timeout=60_000)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stSidebar\"] [role=\"combobox\"]').value === 'digits-beta-2.pt'",
            timeout=30_000,
        )
        assert exceptions_on(page) == [] and page.app_errors == []


def test_a_sweep_started_on_the_train_page_opens_together_in_compare(tmp_path):
    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    with running_app(tmp_path) as url, chromium_page(1400, 2200) as page:
        page.goto(url + "/Train")
        page.get_by_text("No training job yet").wait_for(timeout=60_000)
        # Enter in a form's field submits the form: fill everything, then press the button.
        page.get_by_role("combobox", name="Models to train").click()
        page.get_by_role("option", name="a sweep: one model per β").click()
        page.get_by_label("Values for a sweep (replace the β or free bits above)").fill("1, 4")
        page.get_by_label("Model name (saved as NAME.pt in the models folder)").fill("sw")
        page.get_by_label("Epochs", exact=True).fill("1")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("Sweep sw: model").first.wait_for(timeout=60_000)
        page.get_by_text("Sweep sw is done: 2 models").wait_for(timeout=180_000)
        assert (tmp_path / "sw-1.pt").is_file() and (tmp_path / "sw-4.pt").is_file()
        page.get_by_role("button", name="Compare them").click()
        page.get_by_text("Maps, aligned").wait_for(timeout=120_000)
        wait_for_app(page, 120_000)
        page.wait_for_function(  # the page may run once more as the Train page's polling stops
            "() => (document.querySelector('[data-testid=\"stMultiSelect\"]') || {}).innerText?.includes('sw-4.pt')",
            timeout=120_000,
        )
        wait_for_app(page, 120_000)
        picker = page.locator('[data-testid="stMultiSelect"]').inner_text()
        assert picker.split("\n")[-2:] == ["sw-1.pt", "sw-4.pt"] and picker.count(".pt") == 3  # digits.pt: the label
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "sw-1.pt" in main and "β 4" in main
        time.sleep(0.5)
        assert exceptions_on(page) == [] and page.app_errors == []
