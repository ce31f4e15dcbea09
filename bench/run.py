"""Every hot path measured against a reference in the same run.

    python -m bench [--quick] [--only AREA ...] [--out DIR] [--device cpu|cuda] [--data-dir DIR]

Writes DIR/results.json and DIR/results.md (default bench/results/) and prints the table.
Areas: decode, app, bundles, projection, training, browser, large. `--quick` is the smoke run CI makes: the
smallest case of every area, in about a minute. Goals the issue sets are marked ✔ / ✘; a
missed goal is a figure, not a failure; the exit status is 1 only if an area could not run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from bench.report import Comparison, machine, markdown, write

REPO = Path(__file__).resolve().parents[1]
AREAS = ("decode", "app", "bundles", "projection", "training", "browser", "large")


def _default_data_dir() -> str | None:
    """Where MNIST is, for the MNIST training case: $VAE_DATA_DIR, data/, or ../shared/datasets."""
    for folder in (os.environ.get("VAE_DATA_DIR"), REPO / "data", REPO.parent / "shared" / "datasets"):
        if folder and (Path(folder) / "mnist").is_dir():
            return str(folder)
    return None


def run_area(area: str, args: argparse.Namespace) -> list[Comparison]:
    if area == "decode":
        from bench import decoding

        return decoding.run(args.quick)
    if area == "app":
        from bench import app_reruns

        return app_reruns.run(args.quick)
    if area == "bundles":
        from bench import bundles

        return bundles.run(args.quick)
    if area == "projection":
        from bench import projection

        return projection.run(args.quick, tuple(args.sizes))
    if area == "training":
        from bench import training

        return training.run(args.quick, args.device, args.data_dir)
    if area == "large":
        from bench import large_maps

        return large_maps.run(args.quick)
    from bench import browser, browser_decode, cold_start, levels, text_live

    return (
        browser_decode.run(args.quick)
        + levels.run(args.quick)
        + text_live.run(args.quick)
        + browser.run(args.quick)
        + cold_start.run(args.quick)
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smallest case of each area (the CI smoke run)")
    p.add_argument("--only", nargs="+", choices=AREAS, default=list(AREAS), help="areas to run (default: all)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder for results.json and .md")
    p.add_argument("--device", default="cpu", help="training device: cpu or cuda (default cpu)")
    p.add_argument("--data-dir", default=_default_data_dir(), help="folder with mnist/ for the MNIST training case")
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000], help="projection sizes")
    args = p.parse_args(argv)

    info = {**machine(), "quick": args.quick}
    results: list[Comparison] = []
    errors: dict[str, str] = {}
    for area in args.only:
        started = time.perf_counter()
        print(f"{area}…", file=sys.stderr, flush=True)
        try:
            results += run_area(area, args)
        except Exception as err:  # one area failing must not lose the others' figures
            traceback.print_exc()
            errors[area] = f"{type(err).__name__}: {err}"
        print(f"{area}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    json_path, md_path = write(args.out, results, info, errors)
    print(markdown(results, info, errors))
    print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    return 1 if errors else 0
