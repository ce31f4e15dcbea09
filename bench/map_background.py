"""The Map's first visit to a model with no saved UMAP map: how soon the page is back (with
its PCA map and the fit's status), how long the background fit takes, and how long a Map
click and a Traverse slider move take while that fit runs in the same process, against the
same interactions once it has finished.

    python bench/map_background.py [--model mnist.pt] [--repeats 40] [--gap 1]

The model is copied into a temporary models folder, so no map saved beside the shipped one
is used. AppTest reruns whole pages (in the browser a click reruns only the map fragment).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

from streamlit.testing.v1 import AppTest  # noqa: E402

from bench.app_reruns import _traverse, map_point_clicked  # noqa: E402
from ui.map.chart import chart_key  # noqa: E402
from ui.shell.page import MODEL_KEY  # noqa: E402
from vae.latent.background import MAP_FITS, map_key  # noqa: E402
from vae.latent.projection import ProjectionParams  # noqa: E402


def _map_page(name: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "pages" / "1_Map.py"), default_timeout=600)
    at.session_state[MODEL_KEY] = name
    return at


def _clicker(at: AppTest, key):
    """A click on map point 3 or 4 of the chart `key()` names (PCA while the fit runs, then UMAP)."""
    state = {"i": 0}

    def click():
        state["i"] += 1
        row = 3 + state["i"] % 2
        at.session_state[key()] = map_point_clicked(row)
        at.run()

    return click


def _times_ms(interactions, repeats: int, gap: float, until=None) -> list[list[float]]:
    """Wall times of the interactions, in turn, `repeats` times `gap` seconds apart (spread
    over the fit's stages: imports, numba compiling, neighbours, layout), or until `until()`."""
    times = [[] for _ in interactions]
    for _ in range(repeats):
        if until is not None and until():
            break
        for interaction, bucket in zip(interactions, times):
            started = time.perf_counter()
            interaction()
            bucket.append(1000 * (time.perf_counter() - started))
        time.sleep(gap)
    return times


def _summary(times: list[float]) -> str:
    if not times:
        return "none (the fit ended first)"
    return f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms ({len(times)} reruns)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mnist.pt")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between rounds of interactions")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="map-background-"))
    try:
        model = folder / args.model
        shutil.copy(REPO / "models" / args.model, model)
        os.environ["VAE_MODELS_DIR"] = str(folder)
        traverse, move = _traverse(args.model)  # opened first: its encoding is not part of the Map's time
        at = _map_page(args.model)
        started = time.perf_counter()
        at.run()
        first = time.perf_counter() - started
        n_points = int(at.number_input(key=f"map_points_{args.model}").value)
        job = MAP_FITS.job(map_key(model, model.stat().st_mtime, n_points, ProjectionParams()))
        status = [c.value for c in at.caption if "PCA shown" in c.value]
        print(
            f"{args.model}, {n_points} points: first Map run {first:.2f} s; status: {status[0][:60] if status else None}"
        )
        key = lambda: chart_key(ProjectionParams("umap" if job.done else "pca"), n_points)  # noqa: E731
        click = _clicker(at, key)
        during = _times_ms([click, move], args.repeats, args.gap, until=lambda: job.done)
        job.result()
        after = _times_ms([click, move], len(during[0]) or 1, args.gap)
        print(f"background UMAP fit: {job.elapsed:.1f} s (a fresh process: numba compiles UMAP's code)")
        for name, busy, idle in zip(("Map click", "Traverse slider move"), during, after):
            print(f"{name}: during the fit {_summary(busy)}; after it {_summary(idle)}")
        assert not (at.exception or traverse.exception)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
