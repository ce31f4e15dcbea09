"""What a person waits for in Chromium, against a minimal Streamlit app in the same run.

- Slider: a key press on a Traverse slider (server sliders) until the new decoded image has
  loaded, against a one-slider app's key press until its text shows the new value.
- Map with 50k points: from a click on the sidebar's Map link (server caches warm) until the
  plot has drawn all points, and the size of the figure sent, against
  a two-page app whose second page is `px.scatter(..., render_mode="webgl")` of the same
  points coloured by label: what a user gets from Plotly Express alone.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.report import Comparison

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser_support import (  # noqa: E402
    browser_available,
    choose_model,
    chromium_page,
    running_app,
    use_server_sliders,
    wait_for_app,
)

SLIDER_APP = 'import streamlit as st\nvalue = st.slider("value", 0, 100, 50)\nst.write(f"value is {value}")\n'
MAP_POINTS = 50_000

# Resolves with performance.now() once the image captioned "decoded" shows a new, loaded picture.
NEW_IMAGE_JS = """(before) => new Promise(resolve => {
  const check = () => {
    const box = [...document.querySelectorAll('[data-testid="stImage"]')].find(e => e.innerText.includes('decoded'));
    const img = box && box.querySelector('img');
    if (img && img.src !== before && img.complete && img.naturalWidth > 0) resolve(performance.now());
    else requestAnimationFrame(check);
  };
  check();
})"""
DECODED_SRC_JS = """() => [...document.querySelectorAll('[data-testid="stImage"]')]
  .find(e => e.innerText.includes('decoded')).querySelector('img').src"""
NEW_TEXT_JS = """(before) => new Promise(resolve => {
  const check = () => {
    const text = document.querySelector('[data-testid="stMarkdown"]');
    if (text && text.innerText !== before) resolve(performance.now());
    else requestAnimationFrame(check);
  };
  check();
})"""
# Data points (the click grid of the app's map is not counted) of the fullest plot on the page.
PLOT_POINTS_JS = """() => Math.max(0, ...[...document.querySelectorAll('.js-plotly-plot')].map(gd => gd._fullData
  ? gd._fullData.filter(t => t.name !== 'empty space').reduce((sum, t) => sum + (t.x ? t.x.length : 0), 0) : 0))"""
# Resolves with performance.now() two animation frames after a plot holds `n` data points,
# so the frame with them has been drawn.
PLOT_DRAWN_JS = (
    """(n) => new Promise(resolve => {
  const points = """
    + PLOT_POINTS_JS
    + """;
  const check = () => {
    if (points() >= n) requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())));
    else requestAnimationFrame(check);
  };
  check();
})"""
)


def _slider_presses(page, presses: int, before_js: str, wait_js: str) -> list[float]:
    thumb = page.locator('[data-testid="stSlider"] input[type="range"]').first
    times = []
    for i in range(presses + 2):
        thumb.focus()
        before = page.evaluate(before_js)
        started = page.evaluate("performance.now()")
        page.keyboard.press("ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft")
        elapsed = page.evaluate(wait_js, before) - started
        if i >= 2:  # the first presses warm the page up
            times.append(elapsed)
        wait_for_app(page)
        time.sleep(0.2)
    return times


def slider_round_trips(names: list[str], presses: int, rounds: int, models_dir: Path, folder: Path) -> list[Comparison]:
    script = folder / "slider_app.py"
    script.write_text(SLIDER_APP)
    ours = {name: [] for name in names}
    reference = []
    with running_app(models_dir) as url, running_app(script=script) as minimal_url, chromium_page() as page:
        for _ in range(rounds):  # alternate the apps, so a slow spell hits both
            for name in names:
                page.goto(url + "/Traverse")
                wait_for_app(page, 120_000)
                choose_model(page, name)
                page.get_by_text("Decode in the browser while dragging").wait_for(timeout=120_000)
                wait_for_app(page, 120_000)
                use_server_sliders(page)
                wait_for_app(page, 120_000)
                ours[name] += _slider_presses(page, presses, DECODED_SRC_JS, NEW_IMAGE_JS)
            page.goto(minimal_url)
            wait_for_app(page)
            text_js = "() => document.querySelector('[data-testid=\"stMarkdown\"]').innerText"
            reference += _slider_presses(page, presses, text_js, NEW_TEXT_JS)
    return [
        Comparison(
            area="browser",
            case=f"slider key press → new image, {name}",
            measure="ms (median)",
            ours=statistics.median(ours[name]),
            reference=statistics.median(reference),
            reference_name="one-slider app: key press → new text",
            higher_is_better=False,
            note=f"{len(ours[name])} presses; ours min {min(ours[name]):.0f}, max {max(ours[name]):.0f} ms",
        )
        for name in names
    ]


def _map_model(models_dir: Path) -> str:
    """A small sprites model whose held-out split has 50k images (a map needs no good model)."""
    from vae.training.config import TrainConfig
    from vae.training.loop import train

    cfg = TrainConfig(dataset="sprites", image_size=32, n=62_500, held_out=0.8, epochs=1, iwae_k=0, device="cpu")
    train(cfg, models_dir / "sprites50k.pt", {"arch": "mlp", "latent_dim": 8, "hidden_dims": (64,)}, progress=False)
    return "sprites50k.pt"


def _reference_map_app(folder: Path, coords: np.ndarray, labels: np.ndarray) -> Path:
    (folder / "pages").mkdir(parents=True)
    np.save(folder / "coords.npy", coords)
    np.save(folder / "labels.npy", labels)

    home = folder / "home.py"
    home.write_text('import streamlit as st\nst.write("home")\n')
    (folder / "pages" / "1_Map.py").write_text(
        "import numpy as np\nimport plotly.express as px\nimport streamlit as st\n"
        f"coords, labels = np.load({str(folder / 'coords.npy')!r}), np.load({str(folder / 'labels.npy')!r})\n"
        'figure = px.scatter(x=coords[:, 0], y=coords[:, 1], color=labels.astype(str), render_mode="webgl")\n'
        "st.plotly_chart(figure)\n"
    )
    return home


def _navigation_paints(page, visits: int) -> list[float]:
    """Milliseconds of each visit: sidebar Home link, then the Map link until all points are drawn."""
    links = page.locator('[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"]')
    times = []
    for _ in range(visits):
        links.first.click()
        wait_for_app(page, 120_000)
        page.wait_for_function(f"() => ({PLOT_POINTS_JS})() < {MAP_POINTS}", timeout=60_000)
        started = page.evaluate("performance.now()")
        links.nth(1).click()
        times.append(page.evaluate(PLOT_DRAWN_JS, MAP_POINTS) - started)
        wait_for_app(page, 120_000)
    return times


def map_first_paint(visits: int, folder: Path) -> list[Comparison]:
    import plotly.express as px

    from ui.map.figures import latent_scatter
    from vae import load_checkpoint
    from vae.data.datasets import map_subset
    from vae.data.source import dataset_for_checkpoint
    from vae.latent.encoding import encode_dataset
    from vae.latent.projection import LatentMap, ProjectionParams

    models_dir = folder / "models"
    name = _map_model(models_dir)
    model, meta = load_checkpoint(models_dir / name)
    data, _, held_idx = dataset_for_checkpoint(meta)
    index = map_subset(held_idx, MAP_POINTS)
    coords = LatentMap(ProjectionParams("pca")).fit(encode_dataset(model, data.images[index])[0].numpy()).embedding_
    labels = data.labels[index].numpy()
    reference_home = _reference_map_app(folder / "reference", coords, labels)
    # The figure each page hands to st.plotly_chart, as JSON: what travels to the browser. (The
    # websocket is no measure: Streamlit's browser keeps big messages and a revisit gets a hash.)
    ours_json = latent_scatter(coords, index.numpy(), labels, data.label_names, None, "", "PCA").to_json()
    reference_json = px.scatter(x=coords[:, 0], y=coords[:, 1], color=labels.astype(str), render_mode="webgl").to_json()

    with chromium_page() as page:
        with running_app(models_dir) as url:
            page.goto(url + "/Map")
            wait_for_app(page, 300_000)
            page.locator('[data-testid="stSelectbox"]').filter(has_text="Projection").click()
            page.get_by_role("option", name="PCA").click()
            wait_for_app(page, 300_000)
            points = page.get_by_label(f"Points (of {MAP_POINTS} held out)")
            points.fill(str(MAP_POINTS))
            points.press("Enter")
            page.evaluate(PLOT_DRAWN_JS, MAP_POINTS)  # the server encodes and maps 50k images once
            wait_for_app(page, 300_000)
            ours_ms = _navigation_paints(page, visits)
        with running_app(script=reference_home) as url:
            page.goto(url)
            wait_for_app(page)
            reference_ms = _navigation_paints(page, visits)
    case = f"Map page with {MAP_POINTS:,} points (PCA), warm server"
    return [
        Comparison(
            area="browser",
            case=case,
            measure="ms to the drawn plot (median)",
            ours=statistics.median(ours_ms),
            reference=statistics.median(reference_ms),
            reference_name="px.scatter(render_mode='webgl') page",
            higher_is_better=False,
            note=f"{visits} visits each; ours adds the click targets over empty space, the detail panel and controls",
        ),
        Comparison(
            area="browser",
            case=case,
            measure="Plotly figure JSON bytes",
            ours=len(ours_json),
            reference=len(reference_json),
            reference_name="px.scatter(render_mode='webgl') page",
            higher_is_better=False,
        ),
    ]


def run(quick: bool = False, models_dir: Path = REPO / "models") -> list[Comparison]:
    if not browser_available():
        raise RuntimeError("needs playwright and Debian's chromium (apt-get install chromium)")
    names, presses, rounds, visits = (
        (["digits.pt"], 5, 1, 2) if quick else (["digits.pt", "mnist.pt", "sprites.pt"], 20, 2, 5)
    )
    with tempfile.TemporaryDirectory() as folder:
        results = slider_round_trips(names, presses, rounds, models_dir, Path(folder))
        if not quick:
            results += map_first_paint(visits, Path(folder))
    return results
