"""Precompute a checkpoint's latent maps so the app opens them without a fit:

    python -m vae.project models/mine.pt [--method umap tsne pca] [--dims 2 3] [--points 2000]
    python -m vae.project models/mine.pt --images sprites --count 1000000 [--seed S] [--batch-size B]

Each map is stored where the app looks for it (models/.cache/), keyed by the checkpoint's
content hash and the parameters; the app's defaults are UMAP, 2-D, seed 0, 2000 points.
The held-out encodings and, for a checkpoint, the decoder's ONNX graph for the browser are
stored there too, so a page's first open on a fresh server has nothing to compute.

With --images, it instead encodes a large image set (held-out, sprites, digits, mnist,
fashion-mnist or a folder; up to 1,000,000 images) into models/.cache/large/ for the large Map
(vae.large_maps): resumable when interrupted, and on every process under
`torchrun --nproc_per_node N -m vae.project ...`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from vae.errors import VAEError
from vae.latent.projection import METHODS, ProjectionParams, cache_path, fit_or_load
from vae.models.levels import is_hierarchical
from vae.models.onnx_graphs import cached_graph
from vae.opened import open_model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vae.project", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--method", nargs="+", choices=METHODS, default=["umap"])
    p.add_argument("--dims", nargs="+", type=int, choices=(2, 3), default=[2])
    p.add_argument("--points", type=int, default=2000, help="held-out points on the map (default 2000)")
    p.add_argument(
        "--seed",
        type=int,
        help="the projection's seed (default 0); with --images sprites, the sprites' seed "
        "(default: one past the model's training sprites' seed)",
    )
    p.add_argument("--data-dir")
    large = p.add_argument_group("large maps")
    large.add_argument(
        "--images",
        metavar="SPEC",
        help="encode this image set instead: held-out, sprites, digits, mnist, fashion-mnist or a folder",
    )
    large.add_argument("--count", type=int, help="how many images (sprites: required; a dataset: default all)")
    large.add_argument("--batch-size", type=int, help="images per encoding batch (default 128 on a CPU, 1024 on a GPU)")
    large.add_argument(
        "--chunk", type=int, help="images per resumable chunk (default 16384, less so each process has about four)"
    )
    large.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    args = p.parse_args(argv)
    if args.images is not None:
        from vae.large_maps.command import encode_command

        return encode_command(
            args.checkpoint, args.images, args.count, args.seed, args.batch_size, args.chunk, args.device,
            args.data_dir, tuple(args.method),
        )  # fmt: skip
    if args.count is not None:
        print("error: --count counts the images of --images SPEC (the map's points are --points)", file=sys.stderr)
        return 1
    try:
        opened = open_model(args.checkpoint)
        held_idx = opened.data(args.data_dir).held_idx
    except VAEError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    n_points = min(args.points, len(held_idx))
    mu = opened.held_out(n_points).mu  # the Map's points: the same codes in the same order
    for method in args.method:
        for dims in args.dims:
            params = ProjectionParams(method, dims, args.seed or 0)
            path = cache_path(args.checkpoint, params, n_points)
            started = time.perf_counter()
            _, loaded = fit_or_load(mu, params, path)
            state = "already there" if loaded else f"fitted in {time.perf_counter() - started:.1f} s"
            print(f"{params.key()} on {n_points} points: {state} -> {path}")
    if opened.info.is_native:  # a bundle brings its own decoder graph
        parts = ["decoder", "decoder-absolute"] if is_hierarchical(opened.model) else ["decoder"]
        for part in parts:  # a hierarchical model's Traverse may also decode the levels' values
            graph = cached_graph(Path(args.checkpoint).parent / ".cache" / "onnx", args.checkpoint, opened.model, part)
            print(f"{part} graph for the browser -> {graph}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
