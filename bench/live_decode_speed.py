"""Browser decoding in Chromium: decode time per frame of each model's ONNX decoder in
onnxruntime-web (median of 200 decodes of random vectors, one WASM thread, as the live
component runs it) and, on the Traverse page, frames drawn per second while a scripted mouse
drag moves a slider.

    python bench/live_decode_speed.py [--models digits.pt mnist.pt sprites.pt]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from browser_support import (  # noqa: E402
    choose_model,
    chromium_page,
    live_frame,
    ort_decode,
    ort_page,
    running_app,
    wait_for_app,
)

from vae import load_checkpoint  # noqa: E402
from vae.models.onnx_graphs import cached_graph  # noqa: E402


def decode_times(models: list[str]) -> None:
    print("| model | decode per frame in Chromium (median of 200, ms) | p95 (ms) |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as folder, chromium_page() as page, ort_page(page, Path(folder)):
        for name in models:
            model, _ = load_checkpoint(REPO / "models" / name)
            graph = cached_graph(Path(folder), REPO / "models" / name, model)
            vectors = np.random.default_rng(0).normal(size=(220, model.latent_dim))
            _, times = ort_decode(page, "graphs/" + graph.name, vectors)
            times = times[20:]  # the first warm up the WASM module
            print(f"| {name} | {statistics.median(times):.2f} | {np.percentile(times, 95):.2f} |")


def drag_fps(models: list[str], moves: int = 120) -> None:
    print("\n| model | mouse moves (rate) | frames drawn | frames per second during the drag | longest gap (ms) |")
    print("|---|---|---|---|---|")
    with running_app(REPO / "models") as url, chromium_page() as page:
        for name in models:
            page.goto(url + "/Traverse")
            wait_for_app(page, 120_000)
            choose_model(page, name)
            frame = live_frame(page, 120_000, sliders=load_checkpoint(REPO / "models" / name)[0].latent_dim)
            wait_for_app(page, 120_000)
            page.wait_for_timeout(1500)  # the frame settles at its final height
            box = frame.locator('input[type="range"]').first.bounding_box()
            y = box["y"] + box["height"] / 2
            page.mouse.move(box["x"] + 3, y)
            page.mouse.down()
            inner = frame.locator("body")
            inner.evaluate("() => { window.__frames = []; }")
            started = time.perf_counter()
            for step in range(moves):
                fraction = (step % 60) / 59 if (step // 60) % 2 == 0 else 1 - (step % 60) / 59
                page.mouse.move(box["x"] + 3 + fraction * (box["width"] - 6), y)
                page.wait_for_timeout(16)
            elapsed = time.perf_counter() - started
            frames = inner.evaluate("() => window.__frames.slice()")
            page.mouse.up()
            wait_for_app(page)
            span = (frames[-1] - frames[0]) / 1000 if len(frames) > 1 else float("nan")
            gaps = np.diff(frames) if len(frames) > 1 else [float("nan")]
            print(
                f"| {name} | {moves} ({moves / elapsed:.0f}/s) | {len(frames)} | {(len(frames) - 1) / span:.0f} "
                f"| {max(gaps):.0f} |"
            )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--models", nargs="+", default=["digits.pt", "mnist.pt", "sprites.pt"])
    args = p.parse_args()
    decode_times(args.models)
    drag_fps(args.models)


if __name__ == "__main__":
    main()
