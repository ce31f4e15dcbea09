"""How fast the map is: projection fits (cold, warm, from the disk cache), placing a new
point, decoding a map location, and in Chromium the time from a click on a point to its
decoded image.

    python bench/map_speed.py [--sizes 1000 5000 10000] [--clicks 10] [--no-browser]

Latent codes come from the shipped MNIST model on the available MNIST images.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from timing import median_ms  # noqa: E402

from vae import load_checkpoint  # noqa: E402
from vae.data.source import dataset_for_checkpoint  # noqa: E402
from vae.latent.codes import decode_codes  # noqa: E402
from vae.latent.encoding import encode_dataset  # noqa: E402
from vae.latent.projection import METHOD_LABELS, ProjectionParams, fit_or_load  # noqa: E402


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def cold_fit_seconds(mu_file: Path, method: str) -> float:
    """Seconds for one fit in a fresh interpreter, the import of the method included."""
    code = (
        "import time; t = time.perf_counter(); import numpy as np; "
        "from vae.latent.projection import LatentMap, ProjectionParams; "
        f"LatentMap(ProjectionParams('{method}')).fit(np.load(r'{mu_file}')); print(time.perf_counter() - t)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def projection_table(sizes: list[int]) -> None:
    model, meta = load_checkpoint(REPO / "models" / "mnist.pt")
    data, _, _ = dataset_for_checkpoint(meta)
    mu_all = encode_dataset(model, data.images)[0].numpy()
    print(f"latent codes: {mu_all.shape[0]} MNIST images, {mu_all.shape[1]}-d, torch threads {torch.get_num_threads()}")
    print(
        "\n| method | points | cold fit (s) | warm fit (s) | from disk cache (ms) | place 1 new point (ms) | decode a map location (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for method in ("pca", "umap", "tsne"):
        for n in sizes:
            mu = mu_all[:n]
            params = ProjectionParams(method)
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "map.npz"
                np.save(Path(tmp) / "mu.npy", mu)
                cold = cold_fit_seconds(Path(tmp) / "mu.npy", method)
                if method == "umap":  # numba compiles per code path (small n: exact k-NN, large: NN-descent)
                    fit_or_load(mu, params, None)
                (latent_map, _), warm = timed(fit_or_load, mu, params, path)
                _, cached = timed(fit_or_load, mu, params, path)
            new_point = mu_all[-1:] + 0.05
            place = median_ms(lambda: latent_map.transform(new_point))
            spot = latent_map.embedding_.mean(0, keepdims=True)
            decode = median_ms(lambda: decode_codes(model, latent_map.inverse_transform(spot)))
            print(
                f"| {METHOD_LABELS[method]} | {n} | {cold:.2f} | {warm:.2f} | {1000 * cached:.1f} | {place:.2f} | {decode:.2f} |"
            )
    print(
        "\ncold = the fit in a fresh Python process, imports included (UMAP compiles its numba code then); "
        "warm = the same fit in a process that has fitted before; from disk cache = how the app opens a known map."
    )


def browser_clicks(clicks: int) -> None:
    from browser_support import POINT_POSITION_JS, browser_available, chromium_page, running_app, wait_for_app

    if not browser_available():
        print("\nbrowser: skipped (needs playwright and Debian's chromium)")
        return
    with running_app(REPO / "models") as url, chromium_page() as page:
        page.goto(url + "/Map")
        page.wait_for_selector(".js-plotly-plot", timeout=120_000)
        wait_for_app(page, 120_000)
        time.sleep(1)
        times, shown = [], ""
        read_shown = "() => (document.body.innerText.match(/Image \\d+ ·/) || [''])[0]"
        for i in range(clicks):
            # a point of another class each time: a second click on a selected point would unselect it
            x, y = page.evaluate(POINT_POSITION_JS, [False, i // 10, i % 10])
            # Point at it first: Plotly updates its hover target at most every 50 ms, and a click goes to
            # the hovered point. Also keep clear of the double-click delay (300 ms), which unselects.
            page.mouse.move(x, y)
            time.sleep(0.5)
            started = time.perf_counter()
            page.mouse.click(x, y)
            # the details panel names a new image, and its pictures have loaded
            deadline = started + 30
            while page.evaluate(read_shown) in ("", shown) and time.perf_counter() < deadline:
                time.sleep(0.005)
            count_images = "document.querySelectorAll('[data-testid=\"stImage\"] img').length"
            while page.evaluate(count_images) < 6 and time.perf_counter() < deadline:
                time.sleep(0.005)
            if time.perf_counter() >= deadline:
                page.screenshot(path="/tmp/bench_fail.png")
                raise RuntimeError(
                    f"click {i}: no decoded image within 30 s ({page.evaluate(read_shown)!r}, "
                    f"{page.evaluate(count_images)} images)"
                )
            times.append(time.perf_counter() - started)
            shown = page.evaluate(read_shown)
            wait_for_app(page)
        print(
            f"\nbrowser: click on a map point -> its decoded image and neighbours shown: median {1000 * statistics.median(times):.0f} ms"
            f" over {clicks} clicks (min {1000 * min(times):.0f}, max {1000 * max(times):.0f})"
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    p.add_argument("--clicks", type=int, default=10)
    p.add_argument("--no-browser", action="store_true")
    args = p.parse_args()
    projection_table(args.sizes)
    if not args.no_browser:
        browser_clicks(args.clicks)


if __name__ == "__main__":
    main()
