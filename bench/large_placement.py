"""Maps of up to a million latent codes: PCA at once, and UMAP / t-SNE by subset-then-place
(vae/large_maps/placement.py), against a full fit of the same method.

    python -m bench.large_placement codes [--n 1000000]          (make the codes once, ~2 min)
    python -m bench.large_placement quality [--n 50000] [--subsets 5000 10000 20000]
    python -m bench.large_placement timing [--n 200000] [--subsets 20000] [--epochs 100]
    python -m bench.large_placement pca [--n 1000000]

Codes are the latent means (16-d) of the shipped MNIST model on the 10,000 MNIST test images,
each drawn again and again with a random shift (±2 px), rotation (±10°) and scale (±10%): a
million different images whose codes have the structure of real ones. They are stored once
(in random order, so the first N are a fair sample of all) as a .npy file under
VAE_CACHE_DIR or ~/.cache/vae-latent-explorer, and read memory-mapped, as the app reads its
stored codes. Run with OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 to measure one thread.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]


def codes_file(n_total: int = 1_000_000) -> Path:
    root = os.environ.get("VAE_CACHE_DIR") or Path.home() / ".cache" / "vae-latent-explorer"
    return Path(root) / "bench" / f"mnist-augmented-codes-n{n_total}.npy"


def make_codes(n_total: int = 1_000_000, batch: int = 10_000, seed: int = 0) -> Path:
    """Encode n_total randomly shifted, rotated and scaled MNIST test images into a .npy file."""
    import torch
    import torch.nn.functional as F

    from vae import load_checkpoint
    from vae.data.source import dataset_for_checkpoint

    path = codes_file(n_total)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    model, meta = load_checkpoint(REPO / "models" / "mnist.pt")
    images = dataset_for_checkpoint(meta)[0].images
    rng = np.random.default_rng(seed)
    partial = path.with_suffix(".partial.npy")
    out = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(n_total, model.latent_dim))
    started = time.perf_counter()
    for start in range(0, n_total, batch):
        n = min(batch, n_total - start)
        pick = torch.from_numpy(rng.integers(0, len(images), n))
        angle = torch.from_numpy(rng.uniform(-10, 10, n) * math.pi / 180).float()
        scale = torch.from_numpy(rng.uniform(0.9, 1.1, n)).float()
        shift = torch.from_numpy(rng.uniform(-2, 2, (n, 2)) * 2 / 28).float()
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
        x = images[pick]
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros").clamp(0, 1)
        with torch.no_grad():
            out[start : start + n] = model.encode(x)[0].numpy()
        if start // batch % 10 == 0:
            print(f"{start + n} codes, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    out.flush()
    del out
    os.replace(partial, path)
    return path


def codes(n: int) -> np.ndarray:
    """The first n of the stored codes, memory-mapped (float32, (n, 16))."""
    return np.load(codes_file(), mmap_mode="r")[:n]


def _trust(mu: np.ndarray, embedding: np.ndarray, sample: int = 5_000) -> float:
    from sklearn.manifold import trustworthiness

    picked = np.sort(np.random.default_rng(1).choice(len(mu), min(sample, len(mu)), replace=False))
    return float(trustworthiness(mu[picked], embedding[picked], n_neighbors=15))


def quality(n: int, methods: list[str], subsets: list[int], epochs: list[int]) -> None:
    """Full fit against subset-then-place at n codes: time, neighbour preservation, trustworthiness."""
    from vae.large_maps.faithfulness import neighbour_preservation
    from vae.large_maps.placement import PLACE_K, layout_curve, place, subset_indices
    from vae.latent.projection import LatentMap, ProjectionParams

    mu = np.array(codes(n))
    print(f"\n{n:,} codes ({mu.shape[1]}-d), threads: OMP {os.environ.get('OMP_NUM_THREADS', 'all')}")
    print("| method | map | seconds | neighbour preservation (k=15) | trustworthiness (k=15, 5k sample) |")
    print("|---|---|---|---|---|")

    def row(method: str, name: str, seconds: float, embedding: np.ndarray) -> None:
        np_score, trust = neighbour_preservation(mu, embedding), _trust(mu, embedding)
        print(f"| {method} | {name} | {seconds:.1f} | {np_score:.3f} | {trust:.3f} |", flush=True)

    for method in methods:
        params = ProjectionParams(method)
        started = time.perf_counter()
        embedding = LatentMap(params).fit(mu).embedding_
        row(method, "full fit", time.perf_counter() - started, embedding)
        for size in subsets:
            indices = subset_indices(n, size, params.seed)
            started = time.perf_counter()
            fitted = LatentMap(params).fit(mu[indices]).embedding_
            fit_seconds = time.perf_counter() - started
            for epoch_count in epochs:
                started = time.perf_counter()
                embedding = place(mu, mu[indices], fitted, layout_curve(params), PLACE_K, epoch_count, params.seed)
                embedding[indices] = fitted
                seconds = time.perf_counter() - started
                row(
                    method,
                    f"subset {size:,} + place, {epoch_count} epochs (fit {fit_seconds:.0f} s)",
                    fit_seconds + seconds,
                    embedding,
                )


def timing(n: int, methods: list[str], subset: int, epochs: int) -> None:
    """One whole `place_map` at n codes (memory-mapped), by stage, in a fresh folder."""
    from vae.large_maps.faithfulness import neighbour_preservation
    from vae.large_maps.placement import CHUNK, place_map
    from vae.latent.projection import ProjectionParams

    mu = codes(n)
    print(f"\n{n:,} codes, subset {subset:,}, {epochs} epochs, threads: OMP {os.environ.get('OMP_NUM_THREADS', 'all')}")
    print(
        "| method | subset fit (s) | placing (s) | total (s) | placing, per 100k codes (s) | neighbour preservation |"
    )
    print("|---|---|---|---|---|---|")
    for method in methods:
        placed: list[float] = []  # seconds from the start to each chunk placed
        started = time.perf_counter()

        def progress(stage: str, fraction: float | None) -> None:
            if stage.startswith("placing"):
                placed.append(time.perf_counter() - started)

        with tempfile.TemporaryDirectory() as folder:
            embedding = np.array(
                place_map(mu, ProjectionParams(method), folder, progress, subset=subset, epochs=epochs)
            )
        total = time.perf_counter() - started
        per_chunk = float(np.median(np.diff(placed))) if len(placed) > 1 else placed[0]
        fit = placed[0] - per_chunk  # the subset fit, the first chunk's time taken off
        per_100k = per_chunk * 100_000 / CHUNK
        print(
            f"| {method} | {fit:.0f} | {total - fit:.0f} | {total:.0f} | {per_100k:.1f} | "
            f"{neighbour_preservation(np.asarray(mu), embedding):.3f} |",
            flush=True,
        )


def pca_timing(n: int) -> None:
    from vae.large_maps.pca import pca_map

    mu = codes(n)
    started = time.perf_counter()
    pca_map(mu)
    print(f"PCA map of {n:,} memory-mapped codes: {time.perf_counter() - started:.2f} s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.large_placement", description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("codes", "quality", "timing", "pca"))
    p.add_argument(
        "--n", type=int, help="codes (default: 1,000,000 for codes and pca, 50,000 for quality, 200,000 for timing)"
    )
    p.add_argument("--methods", nargs="+", default=["umap", "tsne"], choices=("umap", "tsne"))
    p.add_argument("--subsets", type=int, nargs="+", default=[5_000, 10_000, 20_000])
    p.add_argument("--epochs", type=int, nargs="+", default=[0, 30, 100])
    args = p.parse_args(argv)
    if args.what == "codes":
        print(make_codes(args.n or 1_000_000))
    elif args.what == "pca":
        pca_timing(args.n or 1_000_000)
    elif args.what == "quality":
        quality(args.n or 50_000, args.methods, args.subsets, args.epochs)
    else:
        timing(args.n or 200_000, args.methods, args.subsets[-1], args.epochs[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
