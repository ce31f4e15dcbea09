"""Many users at once: N real Chromium sessions against one app server for S seconds.

Each session clicks its own point on the Map (so the app keeps that code for it), then opens
Traverse, which starts from the kept code, and presses slider keys, timing each key press to
the new decoded image. At the end every session checks that Traverse still starts from its
own point: no state leaks between sessions. Reports p50 / p95 latency under load beside one
session alone, exceptions and the server's peak memory.

    python bench/load.py [--sessions 8] [--seconds 60]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from browser_support import (  # noqa: E402
    POINT_POSITION_JS,
    chromium_page,
    exceptions_on,
    running_app,
    server_rss_mb,
    use_server_sliders,
)

from bench.browser import DECODED_SRC_JS, NEW_IMAGE_JS  # noqa: E402


def session(url: str, number: int, seconds: float, results) -> None:
    """One user: click map point `number` (of the first class trace), then drive a slider."""
    report = {"number": number, "latencies": [], "exceptions": [], "errors": [], "own_point": False}
    try:
        with chromium_page(height=1400) as page:
            page.goto(url + "/Map")
            page.wait_for_selector(".js-plotly-plot", timeout=120_000)
            time.sleep(1.5)
            x, y = page.evaluate(POINT_POSITION_JS, [False, number, 0])
            page.mouse.move(x, y)
            time.sleep(0.5)
            page.mouse.click(x, y)
            page.get_by_text("Nearest neighbours in latent space").wait_for(timeout=60_000)
            image_number = page.evaluate("() => (document.body.innerText.match(/Image (\\d+) ·/) || [])[1]")
            report["image"] = image_number
            page.locator('[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"][href$="Traverse"]').click()
            page.get_by_text("Decode in the browser while dragging").wait_for(timeout=60_000)
            use_server_sliders(page)  # the server path is what load tests
            thumb = page.locator('[data-testid="stSlider"] input[type="range"]').first
            deadline = time.monotonic() + seconds
            presses = 0
            while time.monotonic() < deadline:
                thumb.focus()
                before = page.evaluate(DECODED_SRC_JS)
                started = page.evaluate("performance.now()")
                page.keyboard.press("ArrowRight" if (presses // 5) % 2 == 0 else "ArrowLeft")
                report["latencies"].append(page.evaluate(NEW_IMAGE_JS, before) - started)
                presses += 1
                time.sleep(0.1)
            text = page.locator('[data-testid="stMain"]').inner_text()
            report["own_point"] = f"map point: image {image_number} " in text
            report["exceptions"] = exceptions_on(page)
            report["errors"] = page.app_errors
    except Exception as err:  # noqa: BLE001 - a benchmark reports every failure instead of stopping
        report["errors"].append(f"{type(err).__name__}: {err}")
    results.put(report)


def run_load(url: str, sessions: int, seconds: float) -> dict:
    """Run `sessions` users in parallel processes; their reports and the server's peak RSS."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    peak = {"rss": server_rss_mb(url)}
    done = threading.Event()

    def watch_memory() -> None:
        while not done.is_set():
            peak["rss"] = max(peak["rss"], server_rss_mb(url))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch_memory, daemon=True)
    watcher.start()
    workers = [context.Process(target=session, args=(url, i, seconds, results)) for i in range(sessions)]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=seconds + 300) for _ in workers]
    for worker in workers:
        worker.join(30)
    done.set()
    latencies = [v for r in reports for v in r["latencies"]]
    return {
        "reports": sorted(reports, key=lambda r: r["number"]),
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": statistics.quantiles(latencies, n=20)[18] if len(latencies) >= 20 else float("nan"),
        "presses": len(latencies),
        "peak_rss_mb": peak["rss"],
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--seconds", type=float, default=60)
    args = p.parse_args()
    with running_app(REPO / "models") as url:
        alone = run_load(url, 1, min(args.seconds, 20))
        loaded = run_load(url, args.sessions, args.seconds)
    print("| sessions | slider presses | p50 (ms) | p95 (ms) | server peak RSS (MiB) | exceptions | own point kept |")
    print("|---|---|---|---|---|---|---|")
    for label, result in ((1, alone), (args.sessions, loaded)):
        reports = result["reports"]
        exceptions = sum(len(r["exceptions"]) + len(r["errors"]) for r in reports)
        kept = sum(r["own_point"] for r in reports)
        print(
            f"| {label} | {result['presses']} | {result['p50']:.0f} | {result['p95']:.0f} | "
            f"{result['peak_rss_mb']:.0f} | {exceptions} | {kept}/{len(reports)} |"
        )
    for report in loaded["reports"]:
        for problem in report["exceptions"] + report["errors"]:
            print(f"session {report['number']}: {problem}")


if __name__ == "__main__":
    main()
