"""Maps of a million points, each figure against a reference in the same run.

The set: 8-pixel sprites drawn afresh (seed 1) and encoded by the shipped digits model, whose
input is 8×8 (a million encode in about 25 s here; a 64-pixel sprites model takes about 20 min
on two CPU cores, docs/large_maps.md). What is measured is the map, not the model:

- first paint of the Map page on a million points (warm server, map cached) against a bare page
  of Plotly's WebGL scatter fed the same positions as typed arrays (no Streamlit at all);
- hover → nearest point: the grid index against a scan of every point, in the same page;
- hover → decoded frame, p95: at a million points against the same map at 50,000;
- pan and zoom, frames per second: the canvas against Plotly's relayout in the reference page;
- a lasso holding 100,000 points, answered on the server: ours against a plain even-odd test;
- 50,000 points, first paint: the canvas Map page against a bare px.scatter(render_mode="webgl")
  page (today's Plotly Map page is 1.6× that page, docs/performance.md);
- PCA of a million codes against scikit-learn's PCA; UMAP by subset-then-place on a million
  against a full UMAP fit of 100,000;
- server memory: what a second session on the same million-point map adds, against the first.
"""

from __future__ import annotations

import functools
import http.server
import math
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench.report import Comparison

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser_support import browser_available, chromium_page, running_app, server_rss_mb, wait_for_app  # noqa: E402

from bench.browser import PLOT_DRAWN_JS, _reference_map_app  # noqa: E402

CANVAS = 'iframe[title*="canvas_map"]'
PLOTLY_JS = Path(__import__("plotly").__file__).parent / "package_data" / "plotly.min.js"
REFERENCE_PAGE = """<!doctype html><html><body style="margin:0"><div id="g" style="width:720px;height:540px"></div>
<script src="plotly.min.js"></script><script>
fetch("xy.bin").then(r => r.arrayBuffer()).then(async (b) => {
  const xy = new Float32Array(b), n = xy.length / 2, x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) { x[i] = xy[2 * i]; y[i] = xy[2 * i + 1]; }
  await Plotly.newPlot("g", [{type: "scattergl", mode: "markers", x, y, marker: {size: 2}}], {width: 720, height: 540, margin: {l: 0, r: 0, t: 0, b: 0}});
  requestAnimationFrame(() => requestAnimationFrame(() => { window.drawn = performance.now(); }));
});
</script></body></html>"""


def _store(models: Path, count: int) -> tuple[str, float]:
    """Encode `count` 8-pixel sprites with digits.pt into the large-map store; (key, seconds)."""
    from vae.large_maps.image_sets import SpriteSet
    from vae.large_maps.set_encoding import encode_image_set
    from vae.large_maps.store import store_folder
    from vae.models.checkpoints import load_checkpoint

    model, _ = load_checkpoint(models / "digits.pt")
    sprites = SpriteSet(count, 8, 1)
    started = time.perf_counter()
    encode_image_set(model, sprites, store_folder(models / "digits.pt", sprites.key), model_name="digits.pt")
    return sprites.key, time.perf_counter() - started


def pca_positions_of(models: Path, key: str) -> np.ndarray:
    from vae.large_maps.placement import place_map
    from vae.large_maps.store import store_folder
    from vae.latent.projection import ProjectionParams

    folder = store_folder(models / "digits.pt", key)
    return place_map(np.load(folder / "mu.npy", mmap_mode="r"), ProjectionParams("pca"), folder)


def _open_map(page, url: str, key: str) -> float:
    """Milliseconds from navigation to the canvas drawn with every point."""
    started = time.perf_counter()
    page.goto(f"{url}/Map?model=digits.pt&set={key}&method=pca")
    page.wait_for_selector(CANVAS, timeout=300_000)
    page.frame_locator(CANVAS).locator("#map[data-draws]").wait_for(timeout=300_000)
    elapsed = (time.perf_counter() - started) * 1000
    wait_for_app(page, 300_000)
    return elapsed


def _frame(page):
    return next(frame for frame in page.frames if "canvas_map" in frame.url)


def _hover(page, moves: int = 60) -> tuple[list[float], list[float]]:
    """(nearest-point ms, mouse event → decoded frame ms) over `moves` moves across the map."""
    frame, locator = _frame(page), page.frame_locator(CANVAS)
    box = locator.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    locator.locator("#decoded[data-draws]").wait_for(timeout=120_000)
    frame.evaluate("() => { window.__nearestTimes.length = 0; window.__hoverLatencies.length = 0; }")
    for i in range(moves):
        page.mouse.move(cx - 200 + 400 * i / moves, cy + 60 * math.sin(i / 4))
        page.wait_for_timeout(40)
    page.wait_for_timeout(500)
    return frame.evaluate("() => [window.__nearestTimes.slice(), window.__hoverLatencies.slice()]")


def _scan_times(page, queries: int = 20) -> tuple[float, float]:
    """Mean ms per nearest-point query, by the index (1,000 queries timed together: a browser
    clock ticks in 0.1 ms) and by a scan of every point, in the same page."""
    return _frame(page).evaluate(
        """(q) => { const spots = [];
        for (let i = 0; i < 1000; i++) spots.push(window.__toMap(150 + (i * 37) % 400, 120 + (i * 53) % 300));
        let t = performance.now(); for (const [x, y] of spots) window.__nearestByIndex(x, y);
        const index = (performance.now() - t) / spots.length;
        t = performance.now(); for (const [x, y] of spots.slice(0, q)) window.__nearestByScan(x, y);
        return [index, (performance.now() - t) / q]; }""",
        queries,
    )


def _zoom_fps(page, steps: int = 20) -> float:
    """Frames per second while the wheel zooms in and out (each step awaits its frame)."""
    frame, locator = _frame(page), page.frame_locator(CANVAS)
    box = locator.locator("#map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    before = len(frame.evaluate("() => window.__renderTimes"))
    started = time.perf_counter()
    for i in range(steps):
        page.mouse.wheel(0, -120 if i < steps // 2 else 120)
        frame.wait_for_function(f"() => window.__renderTimes.length > {before + i}", timeout=30_000)
    return steps / (time.perf_counter() - started)


def _reference_page(folder: Path, xy: np.ndarray) -> str:
    """A bare Plotly scattergl page of the positions, served from `folder`; its URL."""
    shutil.copy(PLOTLY_JS, folder / "plotly.min.js")
    np.ascontiguousarray(xy, np.float32).tofile(folder / "xy.bin")
    (folder / "index.html").write_text(REFERENCE_PAGE)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/index.html"


def _plotly_first_paint_and_fps(page, url: str, steps: int = 6) -> tuple[float, float]:
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function("() => window.drawn", timeout=600_000, polling=100)
    first = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    for i in range(steps):
        page.evaluate(
            """(k) => Plotly.relayout("g", {"xaxis.range": [-2 + k * 0.1, 2 - k * 0.1], "yaxis.range": [-2 + k * 0.1, 2 - k * 0.1]})
            .then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))""",
            i,
        )
    return first, steps / (time.perf_counter() - started)


def _lasso(xy: np.ndarray, target: int = 100_000) -> tuple[float, float, int]:
    """(ours ms, plain even-odd ms, points) for a 200-vertex circle holding about `target` points."""
    from vae.large_maps.selection import rows_in_polygon

    centre = np.median(xy, axis=0)
    radius = float(np.sort(np.hypot(*(xy - centre).T))[target])
    angles = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    polygon = np.c_[centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)]
    ours = []
    for _ in range(5):
        started = time.perf_counter()
        rows = rows_in_polygon(xy, polygon)
        ours.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    plain = _even_odd(xy, polygon)
    plain_ms = (time.perf_counter() - started) * 1000
    assert np.array_equal(np.flatnonzero(plain), rows)
    return statistics.median(ours), plain_ms, len(rows)


def _even_odd(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """The textbook test: every point against every edge."""
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    inside = np.zeros(len(xy), bool)
    for (ax, ay), (bx, by) in zip(polygon, np.roll(polygon, -1, axis=0)):
        straddles = (ay < y) != (by < y)  # low < y <= high, as rows_in_polygon counts
        with np.errstate(divide="ignore", invalid="ignore"):
            inside ^= straddles & (x < ax + (y - ay) * (bx - ax) / (by - ay))
    return inside


def _projections(mu: np.ndarray, folder: Path, quick: bool) -> list[Comparison]:
    from sklearn.decomposition import PCA

    from vae.large_maps.placement import place_map
    from vae.latent.projection import LatentMap, ProjectionParams

    n = len(mu)
    started = time.perf_counter()
    place_map(mu, ProjectionParams("pca"), folder)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    PCA(2).fit_transform(np.asarray(mu))
    reference = time.perf_counter() - started
    found = [
        Comparison(
            "large",
            f"PCA of {n:,} codes",
            "s",
            ours,
            reference,
            "sklearn PCA(2).fit_transform",
            False,
            note=f"goal ≤ 10 s: {'met' if ours <= 10 else 'missed'}",
        )  # fmt: skip
    ]
    if quick:
        return found
    full_n = 100_000
    started = time.perf_counter()
    place_map(mu, ProjectionParams("umap"), folder)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    LatentMap(ProjectionParams("umap")).fit(np.asarray(mu[:full_n]))
    reference = time.perf_counter() - started
    found.append(
        Comparison(
            "large",
            f"UMAP map of {n:,} codes (subset, then placed)",
            "s",
            ours,
            reference,
            f"full UMAP fit of {full_n:,} codes",
            False,
            note=f"goal ≤ 15 min in the background: {'met' if ours <= 900 else 'missed'}",
        )  # fmt: skip
    )
    return found


def run(quick: bool = False) -> list[Comparison]:
    if not browser_available():
        raise RuntimeError("needs playwright and Debian's chromium (apt-get install chromium)")
    big, small = (20_000, 5_000) if quick else (1_000_000, 50_000)
    results: list[Comparison] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        models = folder / "models"
        models.mkdir()
        shutil.copy(REPO / "models" / "digits.pt", models / "digits.pt")
        big_key, encode_s = _store(models, big)
        small_key, _ = _store(models, small)
        from vae.large_maps.store import store_folder

        stored = store_folder(models / "digits.pt", big_key)
        mu = np.load(stored / "mu.npy", mmap_mode="r")
        results += _projections(mu, stored, quick)  # PCA here also makes the Map's map: warm
        xy = np.asarray(pca_positions_of(models, big_key))
        ours_lasso, plain_lasso, held = _lasso(xy, min(100_000, big // 5))
        results.append(
            Comparison(
                "large",
                f"lasso holding {held:,} of {big:,} points, on the server",
                "ms",
                ours_lasso,
                plain_lasso,
                "even-odd test of every point against every edge",
                False,
                note=f"goal ≤ 200 ms: {'met' if ours_lasso <= 200 else 'missed'}",
            )  # fmt: skip
        )
        with running_app(models) as url, chromium_page(1400, 1300) as page:
            _open_map(page, url, big_key)  # warms the server: buffers written, index built
            rss_one = server_rss_mb(url)
            paints = [_open_map(page, url, big_key) for _ in range(1 if quick else 3)]
            nearest, hover = _hover(page)
            by_index, by_scan = _scan_times(page)
            fps = _zoom_fps(page)
            second = page.context.browser.new_page(viewport={"width": 1400, "height": 1300})  # a second session
            _open_map(second, url, big_key)
            rss_two = server_rss_mb(url)
            second.close()
            pca_positions_of(models, small_key)
            _open_map(page, url, small_key)
            small_paints = [_open_map(page, url, small_key) for _ in range(1 if quick else 3)]
            _, small_hover = _hover(page)
        (folder / "reference").mkdir()
        with chromium_page(1400, 1300) as page:
            plotly_first, plotly_fps = _plotly_first_paint_and_fps(page, _reference_page(folder / "reference", xy))
        small_xy = np.asarray(pca_positions_of(models, small_key))
        home = _reference_map_app(folder / "px", small_xy, np.zeros(small, np.int64))
        with running_app(script=home) as url, chromium_page(1400, 1300) as page:
            px_paints = [_px_first_paint(page, url, small) for _ in range(2 if quick else 4)][1:]  # the first warms
    first = statistics.median(paints)
    p95 = float(np.percentile(hover, 95))
    results += [
        Comparison(
            "large",
            f"Map page, {big:,} points, warm server: first paint",
            "ms",
            first,
            plotly_first,
            "bare page of Plotly scattergl fed typed arrays",
            False,
            note=f"goal ≤ 5 s: {'met' if first <= 5000 else 'missed'}; {len(paints)} visits; "
            f"encoding the set took {encode_s:.0f} s",
        ),  # fmt: skip
        Comparison(
            "large",
            f"hover → nearest of {big:,} points",
            "ms per query",
            by_index,
            by_scan,
            "scan of every point",
            False,
            note=f"while hovering: p95 {np.percentile(nearest, 95):.2f} ms, max {max(nearest):.2f} ms "
            f"(0.1 ms clock); goal ≤ 16 ms: {'met' if max(nearest) <= 16 else 'missed'}",
        ),  # fmt: skip
        Comparison(
            "large",
            f"hover → decoded frame, {big:,} points",
            "ms p95",
            p95,
            float(np.percentile(small_hover, 95)),
            f"the same at {small:,} points",
            False,
            note=f"{len(hover)} frames; goal ≤ 50 ms: {'met' if p95 <= 50 else 'missed'}",
        ),  # fmt: skip
        Comparison(
            "large",
            f"zoom, {big:,} points",
            "frames/s",
            fps,
            plotly_fps,
            "Plotly scattergl relayout",
            True,
            note=f"software rendering; goal ≥ 10: {'met' if fps >= 10 else 'missed'}",
        ),  # fmt: skip
        Comparison(
            "large",
            f"Map page, {small:,} points: first paint",
            "ms",
            statistics.median(small_paints),
            statistics.median(px_paints),
            "Streamlit page of px.scatter(render_mode='webgl')",
            False,
            goal=0.5,
            note="today's Plotly Map page is 1.6× the bare page, so this is the stricter reference",
        ),  # fmt: skip
        Comparison(
            "large",
            f"server memory, two sessions on the {big:,}-point map",
            "MiB",
            rss_two,
            rss_one,
            "the same server with one session on it",
            False,
            note="sessions share the positions, codes, index and buffers",
        ),  # fmt: skip
    ]
    return results


def _px_first_paint(page, url: str, points: int) -> float:
    """Milliseconds from navigation to the reference Streamlit page's plot drawn with every point."""
    started = time.perf_counter()
    page.goto(f"{url}/Map")
    page.evaluate(PLOT_DRAWN_JS, points)
    return (time.perf_counter() - started) * 1000
