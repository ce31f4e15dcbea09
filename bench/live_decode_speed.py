"""The browser decoder in Chromium: decode time per frame (median of 200 decodes of random
vectors) and, on the Traverse page, frames drawn per second while a scripted mouse drag
moves a slider.

    python bench/live_decode_speed.py [--models digits.pt mnist.pt sprites.pt]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from browser_support import choose_model, chromium_page, live_frame, running_app, wait_for_app  # noqa: E402

from vae import load_checkpoint  # noqa: E402
from vae.models.decoder_export import decoder_spec  # noqa: E402

DECODE_TIMES_JS = """([spec, vectors]) => {
  const model = VAEDecoder.prepare(spec), times = [];
  for (const z of vectors) { const t = performance.now(); VAEDecoder.decode(model, z, 0); times.push(performance.now() - t); }
  return times;
}"""


def decode_times(models: list[str]) -> None:
    print("| model | decoder ops | decode per frame in Chromium (median of 200, ms) | p95 (ms) |")
    print("|---|---|---|---|")
    with chromium_page() as page:
        page.goto("about:blank")
        page.add_script_tag(path=str(REPO / "ui" / "live_traverse" / "decoder.js"))
        for name in models:
            model, _ = load_checkpoint(REPO / "models" / name)
            vectors = np.random.default_rng(0).normal(size=(220, model.config.latent_dim)).tolist()
            times = page.evaluate(DECODE_TIMES_JS, [decoder_spec(model), vectors])[20:]  # the first warm up the JIT
            ops = "-".join(op["op"][0] for op in decoder_spec(model)["ops"])
            print(f"| {name} | {ops} | {statistics.median(times):.2f} | {np.percentile(times, 95):.2f} |")


def drag_fps(models: list[str], moves: int = 120) -> None:
    print("\n| model | mouse moves (rate) | frames drawn | frames per second during the drag | longest gap (ms) |")
    print("|---|---|---|---|---|")
    with running_app(REPO / "models") as url, chromium_page() as page:
        for name in models:
            page.goto(url + "/Traverse")
            wait_for_app(page, 120_000)
            choose_model(page, name)
            frame = live_frame(page, 120_000)
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
