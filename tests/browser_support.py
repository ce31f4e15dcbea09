"""Start the app on a free port and drive it with Playwright in Debian's Chromium.

Used by the browser tests and by bench/ (for click-to-image timings)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# JavaScript: pixel position (page coordinates) of point `i` of the `n`-th trace (default the
# first) whose customdata says it holds data points (or of the click grid when `grid` is true).
POINT_POSITION_JS = """([grid, i, n]) => {
  const gd = document.querySelector('.js-plotly-plot');
  const trace = gd._fullData.filter(t => t.customdata && ((t.customdata[0][0] < 0) === grid))[n || 0];
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return [box.left + xa._offset + xa.d2p(trace.x[i]), box.top + ya._offset + ya.d2p(trace.y[i])];
}"""


SERVERS: dict[str, subprocess.Popen] = {}  # base URL -> the streamlit process serving it


def server_rss_mb(url: str) -> float:
    """Resident memory of the app server behind `url`, in MiB (Linux /proc)."""
    status = Path(f"/proc/{SERVERS[url].pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


def browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(
    models_dir: Path | None = None,
    env: dict | None = None,
    timeout: float = 90,
    script: Path = REPO / "app.py",
    address: str | None = "127.0.0.1",
):
    """Yield the base URL of `streamlit run app.py` (or another `script`, run from the repo
    folder so it gets the same .streamlit/config.toml) served on 127.0.0.1; stop it afterwards.
    `address=None` leaves the listening address to the config file."""
    port = _free_port()
    environment = {**os.environ, **(env or {})}
    if models_dir is not None:
        environment["VAE_MODELS_DIR"] = str(models_dir)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.port",
            str(port),
            *(["--server.address", address] if address else []),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    SERVERS[url] = process
    process.port = port
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        SERVERS.pop(url, None)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def chromium_page(width: int = 1400, height: int = 1800):
    """A fresh headless Chromium page; console errors from the app collect in page.app_errors."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.app_errors = []

            def on_console(message):
                url = (message.location or {}).get("url", "")
                # Streamlit drops an image or download that a newer rerun replaced, which the browser
                # may still be fetching (fast slider moves): not ours. Tests check that final images
                # load and that a download works.
                superseded = "/media/" in url + message.text or "Download Button source error - 404" in message.text
                if message.type == "error" and not superseded:
                    page.app_errors.append(message.text)

            page.on("console", on_console)
            page.on("pageerror", lambda error: page.app_errors.append(str(error)))
            yield page
        finally:
            browser.close()


def wait_for_app(page, timeout_ms: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout_ms,
    )


def exceptions_on(page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


def use_server_sliders(page) -> None:
    """Turn the Traverse page's browser decoding off: Streamlit sliders, decoded on the server."""
    page.get_by_text("Decode in the browser while dragging").click()
    page.get_by_text("decoded", exact=True).wait_for(timeout=60_000)


def choose_model(page, name: str) -> None:
    """Pick a checkpoint in the sidebar's model picker."""
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').click()
    page.get_by_role("option", name=name).click()


LIVE_FRAME = 'iframe[title*="live_traverse"]'


def live_frame(page, timeout_ms: float = 60_000, sliders: int | None = None, nth: int | None = None):
    """The browser-decoding component's frame, once its canvas has been drawn (and, with
    `sliders`, once it is the frame of a model with that many: after a change of model the old
    frame shows until the new model's page is ready). `nth` picks one of several on a page."""
    if nth is None:
        page.wait_for_selector(LIVE_FRAME, timeout=timeout_ms)
        frame = page.frame_locator(LIVE_FRAME)
    else:
        page.locator(LIVE_FRAME).nth(nth).wait_for(timeout=timeout_ms)
        frame = page.locator(LIVE_FRAME).nth(nth).content_frame
    if sliders is not None:
        frame.locator(f'input[type="range"][data-dim="{sliders - 1}"]').wait_for(timeout=timeout_ms)
        frame.locator(f'input[type="range"][data-dim="{sliders}"]').wait_for(state="detached", timeout=timeout_ms)
    frame.locator("canvas[data-draws]").wait_for(timeout=timeout_ms)
    return frame


def canvas_state(frame) -> tuple[str, int]:
    """(the canvas's pixels as a data URL, how many frames it has drawn)."""
    canvas = frame.locator("canvas")
    return canvas.evaluate("c => c.toDataURL()"), int(canvas.get_attribute("data-draws"))


ORT_FOLDER = REPO / "ui" / "live" / "component" / "ort"
# JavaScript: decode each vector with an ONNX decoder graph in onnxruntime-web, as the live
# component does (WASM, one thread); resolves with the flat pixels of each decode and the
# milliseconds each run took.
ORT_DECODE_JS = """async ([graph, vectors, label]) => {
  ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href;
  ort.env.wasm.numThreads = 1;
  const bytes = new Uint8Array(await (await fetch(graph)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const pixels = [], times = [];
  for (const z of vectors) {
    const feeds = { z: new ort.Tensor("float32", Float32Array.from(z), [1, z.length]) };
    if (label !== null) feeds.label = new ort.Tensor("int64", BigInt64Array.from([BigInt(label)]), [1]);
    const started = performance.now();
    const output = await session.run(feeds);
    times.push(performance.now() - started);
    pixels.push(Array.from(output.image.data));
  }
  return [pixels, times];
}"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def ort_page(page, graphs: Path):
    """Open `page` on a local HTTP server holding the vendored onnxruntime-web (as ort/) and
    the files of `graphs` (as graphs/), with the runtime loaded; yields the server's URL."""
    site = graphs / "_site"
    site.mkdir(exist_ok=True)
    for name, target in (("ort", ORT_FOLDER), ("graphs", graphs)):
        if not (site / name).exists():
            (site / name).symlink_to(target, target_is_directory=True)
    (site / "index.html").write_text('<!doctype html><script src="ort/ort.wasm.min.js"></script>')
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        page.goto(url + "/index.html")
        page.wait_for_function("() => typeof ort === 'object'")
        yield url
    finally:
        server.shutdown()
        server.server_close()


def ort_decode(page, graph: str, vectors, label: int | None = None):
    """(decoded images as a (n, pixels) float32 array, milliseconds per run) in the browser."""
    import numpy as np

    pixels, times = page.evaluate(ORT_DECODE_JS, [graph, [list(map(float, z)) for z in vectors], label])
    return np.array(pixels, dtype=np.float32), times


def map_hover_frames(page, frame, steps: int = 30) -> int:
    """Distinct decoded pictures while the mouse crosses the map in `steps` moves."""
    plot = page.locator(".js-plotly-plot").first.bounding_box()
    pictures = set()
    for i in range(steps):
        x = plot["x"] + 90 + i * (plot["width"] - 180) / (steps - 1)
        page.mouse.move(x, plot["y"] + plot["height"] / 2 + 30 * ((i % 3) - 1))
        page.wait_for_timeout(50)
        pictures.add(frame.locator("canvas").evaluate("c => c.toDataURL()"))
    return len(pictures)
