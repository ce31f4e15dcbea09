"""How live the Traverse page is: decode time for batch 1 and 64 (our API vs the bare decoder
module), the server time of a traversal-slider rerun (AppTest), and in Chromium the time from
a slider key press to the new decoded image.

    python bench/traverse_speed.py [--models digits.pt mnist.pt sprites.pt] [--reruns 50] [--presses 20] [--no-browser]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from timing import median_ms  # noqa: E402

from vae import load_checkpoint  # noqa: E402
from vae.latent import decode_codes  # noqa: E402

# Resolves with performance.now() once the image captioned "decoded" shows a new, loaded picture.
WAIT_FOR_NEW_IMAGE_JS = """(before) => new Promise(resolve => {
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


def decode_table(models: list[str]) -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("\n| model | decoder | batch | `decode_codes` (ms) | bare `model.decode` (ms) | overhead |")
    print("|---|---|---|---|---|---|")
    for name in models:
        model, _ = load_checkpoint(REPO / "models" / name)
        for batch in (1, 64):
            z = np.random.default_rng(0).standard_normal((batch, model.config.latent_dim)).astype(np.float32)
            z_tensor = torch.from_numpy(z)
            ours = median_ms(lambda: decode_codes(model, z), 200)

            def bare():
                with torch.no_grad():
                    model.decode(z_tensor)

            reference = median_ms(bare, 200)
            print(
                f"| {name} | {model.config.arch} | {batch} | {ours:.3f} | {reference:.3f} | {100 * (ours / reference - 1):+.0f} % |"
            )


def apptest_reruns(models: list[str], reruns: int) -> None:
    from streamlit.testing.v1 import AppTest

    os.environ["VAE_MODELS_DIR"] = str(REPO / "models")
    print("\n| model | Traverse page rerun after a slider move, AppTest (median ms) |")
    print("|---|---|")
    for name in models:
        at = AppTest.from_file(str(REPO / "pages" / "3_Traverse.py"), default_timeout=300)
        at.session_state["model_name"] = name
        at.run()
        slider = at.slider[0]
        values = [slider.min + (slider.max - slider.min) * f for f in (0.25, 0.75)]
        times = []
        for i in range(reruns):
            at.slider[0].set_value(values[i % 2])
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
            assert not at.exception, at.exception
        print(f"| {name} | {1000 * statistics.median(times):.1f} |")
    print("AppTest reruns the whole page; in the browser only the sliders-and-image fragment reruns.")


def browser_presses(models: list[str], presses: int) -> None:
    from browser_support import (
        browser_available,
        choose_model,
        chromium_page,
        running_app,
        use_server_sliders,
        wait_for_app,
    )

    if not browser_available():
        print("\nbrowser: skipped (needs playwright and Debian's chromium)")
        return
    print("\n| model | slider key press -> new decoded image in Chromium (median ms) | min | max |")
    print("|---|---|---|---|")
    with running_app(REPO / "models") as url, chromium_page() as page:
        for name in models:
            page.goto(url + "/Traverse")
            wait_for_app(page, 120_000)
            choose_model(page, name)
            page.get_by_text("Decode in the browser while dragging").wait_for(timeout=120_000)
            wait_for_app(page, 120_000)
            use_server_sliders(page)
            wait_for_app(page, 120_000)
            thumb = page.locator('[data-testid="stSlider"] input[type="range"]').first
            times = []
            for i in range(presses + 2):
                thumb.focus()
                before = page.evaluate(DECODED_SRC_JS)
                started = page.evaluate("performance.now()")
                page.keyboard.press("ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft")
                elapsed = page.evaluate(WAIT_FOR_NEW_IMAGE_JS, before) - started
                if i >= 2:  # the first presses warm the page up
                    times.append(elapsed)
                wait_for_app(page)
                time.sleep(0.2)
            print(f"| {name} | {statistics.median(times):.0f} | {min(times):.0f} | {max(times):.0f} |")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--models", nargs="+", default=["digits.pt", "mnist.pt", "sprites.pt"])
    p.add_argument("--reruns", type=int, default=50)
    p.add_argument("--presses", type=int, default=20)
    p.add_argument("--no-browser", action="store_true")
    args = p.parse_args()
    decode_table(args.models)
    apptest_reruns(args.models, args.reruns)
    if not args.no_browser:
        browser_presses(args.models, args.presses)


if __name__ == "__main__":
    main()
