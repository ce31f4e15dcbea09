"""The real app in real Chromium: clicks on the map and an upload, as a user does them."""

import io
import shutil
import time

import pytest
from browser_support import (
    POINT_POSITION_JS,
    REPO,
    browser_available,
    canvas_state,
    choose_model,
    chromium_page,
    exceptions_on,
    live_frame,
    map_hover_frames,
    running_app,
    use_server_sliders,
    wait_for_app,
)
from PIL import Image, ImageDraw

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium"),
]


@pytest.fixture(scope="module")
def app_url():
    with running_app(REPO / "models") as url:
        yield url


def _details_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_map_click_point_then_empty_space(app_url, tmp_path):
    with chromium_page() as page:
        page.goto(app_url + "/Map")
        page.wait_for_selector(".js-plotly-plot .scatterlayer, .js-plotly-plot .gl-container", timeout=90_000)
        wait_for_app(page)
        time.sleep(1.0)  # let Plotly finish its first layout
        x, y = page.evaluate(POINT_POSITION_JS, [False, 0])
        page.mouse.move(x, y)  # Plotly clicks the hovered point, and updates hover every 50 ms
        time.sleep(0.3)
        page.mouse.click(x, y)
        page.get_by_text("Nearest neighbours in latent space").wait_for(timeout=30_000)
        page.get_by_text("reconstruction", exact=True).wait_for(timeout=30_000)
        # original, reconstruction and four neighbours
        page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 6", timeout=30_000)
        time.sleep(0.5)  # a second click within Plotly's double-click delay would unselect
        x, y = page.evaluate(POINT_POSITION_JS, [True, 0])  # the grid's corner: far from every point
        page.mouse.move(x, y)
        time.sleep(0.3)
        page.mouse.click(x, y)
        page.get_by_text("Location (").first.wait_for(timeout=30_000)
        page.get_by_text("decoded", exact=True).wait_for(timeout=30_000)
        wait_for_app(page)
        assert "far from any real data" in _details_text(page)
        page.screenshot(path=str(tmp_path / "map.png"))
        assert exceptions_on(page) == []
        assert page.app_errors == []


def test_encode_upload_shows_the_reconstruction(app_url):
    image = Image.new("RGB", (200, 260), (235, 232, 225))
    ImageDraw.Draw(image).line([(50, 60), (140, 40), (60, 220), (150, 220)], fill=(20, 20, 30), width=16)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    with chromium_page() as page:
        page.goto(app_url + "/Encode")
        wait_for_app(page)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            [
                {"name": "two.png", "mimeType": "image/png", "buffer": buffer.getvalue()},
                {"name": "broken.png", "mimeType": "image/png", "buffer": b"not really a png"},
            ]
        )
        page.get_by_text("reconstruction", exact=True).first.wait_for(timeout=60_000)
        page.get_by_text("Nearest neighbours in the dataset").wait_for(timeout=60_000)
        wait_for_app(page)
        text = _details_text(page)
        assert "two.png" in text, text
        assert "held-out images" in text, text  # the percentile reading
        assert "nats" in page.locator('[data-testid="stMetricValue"]').first.inner_text()
        assert "broken.png: this is not an image" in text
        assert exceptions_on(page) == []
        assert page.app_errors == []


def _decoded_src(page) -> str:
    return page.locator('[data-testid="stImage"]', has_text="decoded").locator("img").get_attribute("src")


def test_traverse_slider_moved_with_the_keyboard_changes_the_image(app_url):
    with chromium_page() as page:
        page.goto(app_url + "/Traverse")
        wait_for_app(page, 120_000)
        use_server_sliders(page)
        before = _decoded_src(page)
        thumb = page.locator('[data-testid="stSlider"] input[type="range"]').first
        value = thumb.get_attribute("aria-valuetext")
        thumb.focus()
        for _ in range(10):
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([before]) => { const image = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
            ".find(e => e.innerText.includes('decoded')); const img = image && image.querySelector('img');"
            " return img && img.src !== before && img.complete && img.naturalWidth > 0; }",
            arg=[page.evaluate("(src) => new URL(src, location.href).href", before)],
            timeout=30_000,
        )
        wait_for_app(page)
        assert thumb.get_attribute("aria-valuetext") != value
        assert _decoded_src(page) != before
        assert exceptions_on(page) == []
        assert page.app_errors == []


def test_interpolation_gif_download_has_one_frame_per_step(app_url, tmp_path):
    steps = 10  # the page's default
    with chromium_page() as page:
        page.goto(app_url + "/Interpolate")
        wait_for_app(page, 120_000)
        button = page.get_by_role("button", name="Download the animation (GIF)")
        button.wait_for(timeout=60_000)
        with page.expect_download(timeout=30_000) as download:
            button.click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        gif = Image.open(saved)
        assert saved.name == f"interpolation-linear-{steps}.gif"
        assert gif.format == "GIF" and gif.is_animated and gif.n_frames == steps
        wait_for_app(page)
        assert exceptions_on(page) == []
        assert page.app_errors == []


def test_train_page_job_finishes_and_the_model_shows_in_the_picker(tmp_path):
    import shutil

    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    with running_app(tmp_path) as url, chromium_page() as page:
        page.goto(url + "/Train")
        page.get_by_text("No training job yet").wait_for(timeout=60_000)
        page.get_by_label("Model name (saved as NAME.pt in the models folder)").fill("browser-made")
        epochs = page.get_by_label("Epochs", exact=True)
        epochs.fill("2")
        epochs.press("Enter")
        page.get_by_role("button", name="Start training").click()
        page.get_by_text("is trained (2 epochs)").wait_for(timeout=120_000)
        assert (tmp_path / "browser-made.pt").is_file()
        assert exceptions_on(page) == []
        page.locator(
            '[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"]'
        ).first.click()  # Home, where the picker is
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
        page.get_by_role("option", name="browser-made.pt").wait_for(timeout=10_000)
        assert exceptions_on(page) == []
        assert page.app_errors == []


def test_hostile_uploads_get_messages_and_other_sessions_keep_working(app_url):
    from browser_support import server_rss_mb
    from hostile_files import hostile_uploads

    files = hostile_uploads()
    rss_before = server_rss_mb(app_url)
    with chromium_page() as page:
        other = page.context.browser.new_page()  # its own context: a separate app session
        page.goto(app_url + "/Encode")
        wait_for_app(page)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            [
                {"name": name, "mimeType": "application/octet-stream", "buffer": data}
                for name, (data, _) in files.items()
            ]
            + [{"name": "huge.png", "mimeType": "image/png", "buffer": b"\x89PNG" + b"\x00" * (11 * 1024 * 1024)}]
        )
        page.locator('[data-testid="stHeading"]', has_text="long-strip.png").wait_for(timeout=120_000)
        wait_for_app(page, 120_000)
        text = _details_text(page)
        for name, (_, should_encode) in files.items():
            if should_encode:
                assert page.locator('[data-testid="stHeading"]', has_text=name).count() == 1, name
            else:
                assert f"{name}: " in text, name  # its one-line message
        assert "huge.png" in text and ("10.0MB" in text or "10MB" in text)  # refused by the uploader itself
        assert exceptions_on(page) == []
        # a second session, meanwhile, works as usual
        other.goto(app_url + "/Traverse")
        live_frame(other)  # its browser decoder drew the start point
        assert exceptions_on(other) == []
    assert server_rss_mb(app_url) - rss_before < 400  # MiB: the bomb and the big file were not decoded


def test_three_sessions_at_once_keep_their_own_state(app_url):
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    from load import run_load

    result = run_load(app_url, sessions=3, seconds=8)
    for report in result["reports"]:
        assert report["exceptions"] == [] and report["errors"] == [], report
        assert report["own_point"], report  # Traverse starts from this session's own map click
        assert report["latencies"], report
    assert result["peak_rss_mb"] < 1500


def _image_src(page, caption_start: str) -> str:
    box = page.locator('[data-testid="stImage"]', has_text=caption_start).first
    return box.locator("img").get_attribute("src")


def _press_slider(page, label: str, key: str = "ArrowRight", times: int = 5) -> None:
    slider = page.locator('[data-testid="stSlider"]', has_text=label).locator('input[type="range"]').first
    slider.focus()
    for _ in range(times):
        page.keyboard.press(key)


def test_home_generate_arithmetic_and_analyze_main_interactions(app_url):
    with chromium_page() as page:
        page.goto(app_url)
        page.get_by_text("Model card: digits.pt").wait_for(timeout=60_000)
        for name in ("sprites.pt", "digits.pt"):  # the picker switches the card, and the choice holds
            choose_model(page, name)
            page.get_by_text(f"Model card: {name}").wait_for(timeout=60_000)

        page.goto(app_url + "/Generate")
        page.get_by_text("samples, seed 0").first.wait_for(timeout=60_000)
        frame = live_frame(page)
        before, _ = canvas_state(frame)
        seed = page.get_by_label("Seed", exact=True)
        seed.fill("5")
        seed.press("Enter")
        page.get_by_text("samples, seed 5").first.wait_for(timeout=30_000)
        page.wait_for_function(
            "(old) => { const f = document.querySelector('iframe[title*=\"live_traverse\"]');"
            " return f && f.contentDocument.querySelector('canvas').toDataURL() !== old; }",
            arg=before,
            timeout=30_000,
        )

        page.goto(app_url + "/Analyze")
        page.get_by_role("tab", name="Anomalies").click()
        flagged = page.locator('[data-testid="stMetric"]', has_text="Held-out images flagged")
        flagged.wait_for(timeout=90_000)
        first = flagged.inner_text()
        _press_slider(page, "Flag above", "ArrowLeft", 20)
        page.wait_for_function(
            "(first) => [...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
            ".some(m => m.innerText.includes('Held-out images flagged') && m.innerText !== first)",
            arg=first,
            timeout=30_000,
        )
        wait_for_app(page)
        assert exceptions_on(page) == []
        assert page.app_errors == []


def test_live_traverse_canvas_follows_a_mouse_drag_before_release(app_url):
    with chromium_page() as page:
        page.goto(app_url + "/Traverse")
        wait_for_app(page, 120_000)
        frame = live_frame(page)
        reading = page.get_by_text("the typical spacing from the nearest held-out code").inner_text()
        before_image, before_draws = canvas_state(frame)
        box = frame.locator('input[type="range"]').first.bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + 5, y)
        page.mouse.down()
        for step in range(1, 11):  # drag to the right end in 10 moves
            page.mouse.move(box["x"] + 5 + step * (box["width"] - 10) / 10, y)
            page.wait_for_timeout(30)
        during_image, during_draws = canvas_state(frame)
        page.mouse.up()
        assert during_draws >= before_draws + 3  # redrawn while the button was still down
        assert during_image != before_image
        # on release the vector goes to Python: the server-side reading follows
        page.wait_for_function(
            "(old) => { const el = [...document.querySelectorAll('[data-testid=\"stMarkdownContainer\"]')]"
            ".find(e => e.innerText.includes('the typical spacing from the nearest held-out code'));"
            " return el && el.innerText !== old; }",
            arg=reading,
            timeout=30_000,
        )
        wait_for_app(page)
        # a second release, on another slider, keeps the first one where it was released
        inputs = frame.locator('input[type="range"]')
        first_value = inputs.nth(0).input_value()
        second = inputs.nth(1).bounding_box()
        y2 = second["y"] + second["height"] / 2
        page.mouse.move(second["x"] + 5, y2)
        page.mouse.down()
        page.mouse.move(second["x"] + second["width"] / 3, y2)
        page.mouse.up()
        second_value = inputs.nth(1).input_value()
        page.wait_for_timeout(1500)  # the release reruns the page, which renders the component again
        wait_for_app(page)
        assert inputs.nth(0).input_value() == first_value
        assert inputs.nth(1).input_value() == second_value
        assert exceptions_on(page) == []
        assert page.app_errors == []


def test_a_browser_without_webassembly_gets_server_sliders_and_a_note(app_url):
    with chromium_page() as page:
        page.add_init_script("delete globalThis.WebAssembly")  # in every frame, the component's too
        page.goto(app_url + "/Traverse")
        wait_for_app(page, 120_000)
        note = page.get_by_text("This browser cannot decode here")
        note.wait_for(timeout=60_000)
        assert "WebAssembly" in note.inner_text()
        page.get_by_text("decoded", exact=True).wait_for(timeout=60_000)  # the server's image
        before = _decoded_src(page)
        page.get_by_role("slider").first.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "(old) => { const box = [...document.querySelectorAll('[data-testid=\"stImage\"]')]"
            ".find(e => e.innerText.includes('decoded')); const img = box && box.querySelector('img');"
            " return img && img.src !== old; }",
            arg=before,
            timeout=30_000,
        )
        assert exceptions_on(page) == []


def _drag_changes_the_canvas(page, frame, slider_index: int = 0) -> None:
    """Drag a slider of the live frame; the canvas must redraw while the button is down."""
    before_image, before_draws = canvas_state(frame)
    box = frame.locator('input[type="range"]').nth(slider_index).bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(box["x"] + box["width"] / 2 - step * box["width"] / 20, y)
        page.wait_for_timeout(30)
    during_image, during_draws = canvas_state(frame)
    page.mouse.up()
    assert during_draws >= before_draws + 3 and during_image != before_image


def test_arithmetic_weights_strength_and_temperature_decode_while_dragging(app_url):
    with chromium_page() as page:
        page.goto(app_url + "/Arithmetic")
        wait_for_app(page, 120_000)
        _drag_changes_the_canvas(page, live_frame(page, nth=0), 1)  # the weight of b
        page.get_by_text("(as released)").first.wait_for(timeout=30_000)
        page.get_by_role("tab", name="Attribute vectors").click()
        _drag_changes_the_canvas(page, live_frame(page, nth=1))
        page.get_by_text("strength").filter(has_text="as released").first.wait_for(timeout=30_000)

        page.goto(app_url + "/Generate")
        wait_for_app(page, 120_000)
        frame = live_frame(page)
        _drag_changes_the_canvas(page, frame)
        page.get_by_text("T as released: 1.00").wait_for(state="detached", timeout=30_000)
        assert exceptions_on(page) == [] and page.app_errors == []


def test_map_hover_decodes_before_any_click(app_url):
    for model in ("digits.pt", "mnist.pt"):
        with chromium_page() as page:
            page.goto(f"{app_url}/Map?model={model}&method=pca")
            wait_for_app(page, 120_000)
            page.wait_for_selector(".js-plotly-plot", timeout=90_000)
            frame = live_frame(page, 90_000)
            page.wait_for_timeout(1000)
            assert map_hover_frames(page, frame) >= 20
            assert "typical spacing" in frame.locator("#reading").inner_text()
            assert page.locator('[data-testid="stImage"]', has_text="reconstruction").count() == 0  # no click yet
            assert exceptions_on(page) == [] and page.app_errors == []


def test_interpolation_scrubber_decodes_while_dragging(app_url):
    with chromium_page() as page:
        page.goto(app_url + "/Interpolate")
        wait_for_app(page, 120_000)
        frame = live_frame(page)
        page.get_by_text("Step 0 of 9").wait_for(timeout=30_000)
        before_image, before_draws = canvas_state(frame)
        box = frame.locator('input[type="range"]').first.bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + 3, y)
        page.mouse.down()
        for step in range(1, 9):  # to about 40 % of the path
            page.mouse.move(box["x"] + 3 + step * 0.05 * box["width"], y)
            page.wait_for_timeout(30)
        during_image, during_draws = canvas_state(frame)
        assert during_draws >= before_draws + 3  # redrawn while the button was still down
        assert during_image != before_image
        page.mouse.up()
        page.wait_for_function("() => /Step [1-9] of 9/.test(document.body.innerText)", timeout=30_000)
        wait_for_app(page)
        assert exceptions_on(page) == []
        assert page.app_errors == []


def test_reload_and_shared_links_keep_the_model_and_the_kept_point(app_url, shared_mnist):
    with chromium_page() as page:
        page.goto(app_url)
        page.get_by_text("Model card: digits.pt").wait_for(timeout=60_000)
        links = page.locator('[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"]')
        links.first.wait_for(timeout=30_000)
        names = links.all_inner_texts()
        assert names[0].strip() == "Home" and not any(n.strip() == "app" for n in names)
        choose_model(page, "mnist.pt")
        page.get_by_text("Model card: mnist.pt").wait_for(timeout=60_000)
        page.wait_for_url("**model=mnist.pt**", timeout=30_000)
        page.reload()
        page.get_by_text("Model card: mnist.pt").wait_for(timeout=60_000)

        # a link sent to a colleague: the Map's projection and point, then Traverse starts from it
        page.goto(app_url + "/Map?model=mnist.pt&method=pca&view=2&points=500&point=5")
        page.get_by_text("Kept for the other pages: map point").wait_for(timeout=90_000)
        page.wait_for_url("**z=**", timeout=30_000)
        page.locator('[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"][href$="Traverse"]').click()
        page.get_by_text("kept code (map point").wait_for(timeout=60_000)
        page.wait_for_url("**start=kept**", timeout=30_000)
        assert "model=mnist.pt" in page.url
        page.reload()
        page.get_by_text("kept code (map point").wait_for(timeout=60_000)
        assert "model=mnist.pt" in page.url  # the kept code above belongs to mnist.pt: it was read back

        page.goto(app_url + "/Map?model=missing.pt")
        page.get_by_text("The link names the model").wait_for(timeout=60_000)
        wait_for_app(page)
        assert exceptions_on(page) == []
        assert page.app_errors == []


@pytest.mark.slow  # a cold UMAP fit in the app's server: 15-60 s here
def test_first_umap_map_shows_pca_then_switches_by_itself(tmp_path):
    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")  # no saved maps beside it
    with running_app(tmp_path) as url, chromium_page() as page:
        page.goto(f"{url}/Map?model=digits.pt&method=umap")
        page.get_by_text("PCA shown while UMAP is fitted").wait_for(timeout=60_000)
        assert page.locator(".js-plotly-plot .xtitle").first.text_content() == "PCA 1"
        # No reload, no click: the status fragment polls and the page switches when the fit ends.
        page.wait_for_function(
            "() => [...document.querySelectorAll('.js-plotly-plot .xtitle')].some(t => t.textContent === 'UMAP 1')",
            timeout=180_000,
        )
        wait_for_app(page)
        assert "PCA shown" not in page.locator('[data-testid="stMain"]').inner_text()
        assert exceptions_on(page) == [] and page.app_errors == []
