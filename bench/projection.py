"""Our cached map path against calling scikit-learn / umap-learn / openTSNE directly, cold
and warm, at 1k, 10k and 50k points.

Points are the latent means (16-d) of the shipped sprites model on freshly generated sprites,
so 50k are available. Each measurement runs in a fresh Python process:
- direct, cold: import the library and fit once (umap compiles its numba code then);
- direct, warm: a second fit in that same process;
- ours, cold: `vae.latent.projection.fit_or_load` with no cache file: import, fit, save, and build
  the neighbour indexes that place uploads and decode clicks;
- ours, warm: `fit_or_load` again in that process, which reads the file the cold call wrote:
  what every later session, restart or page visit pays (the app also keeps the map in memory).

    python -m bench.projection worker direct|ours METHOD MU.npy CACHE.npz   (one measurement)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.report import Comparison

REPO = Path(__file__).resolve().parents[1]
LIBRARY = {"pca": "scikit-learn PCA", "umap": "umap-learn UMAP", "tsne": "openTSNE TSNE"}


def _direct_fit(method: str, mu: np.ndarray) -> np.ndarray:
    """What a user writes with the library alone, with the parameters our map uses."""
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=0).fit_transform(mu)
    if method == "umap":
        import umap

        return umap.UMAP(n_components=2, n_neighbors=15, min_dist=0.1, random_state=0).fit_transform(mu)
    from openTSNE import TSNE

    return np.asarray(TSNE(n_components=2, perplexity=30, random_state=0, n_jobs=-1).fit(mu))


def _worker(kind: str, method: str, mu_file: str, cache_file: str) -> dict:
    started = time.perf_counter()
    mu = np.load(mu_file)
    if kind == "direct":
        _direct_fit(method, mu)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        _direct_fit(method, mu)
        return {"cold": cold, "warm": time.perf_counter() - started}
    from vae.latent.projection import ProjectionParams, fit_or_load

    params = ProjectionParams(method)
    _, loaded = fit_or_load(mu, params, Path(cache_file))
    cold = time.perf_counter() - started
    started = time.perf_counter()
    _, loaded_again = fit_or_load(mu, params, Path(cache_file))
    warm = time.perf_counter() - started
    if loaded or not loaded_again:
        raise RuntimeError("the cache file was not written or not read back")
    return {"cold": cold, "warm": warm}


def _measure(kind: str, method: str, mu_file: Path, cache_file: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.projection", "worker", kind, method, str(mu_file), str(cache_file)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{kind} {method} failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def latent_means(n: int, models_dir: Path = REPO / "models") -> np.ndarray:
    """(n, 16) latent means of the shipped sprites model on n generated sprites."""
    import torch

    from vae import load_checkpoint
    from vae.data.sprites import make_sprites
    from vae.latent.encoding import encode_dataset

    model, meta = load_checkpoint(models_dir / "sprites.pt")
    size = meta["image_shape"][-1]
    with torch.no_grad():
        return encode_dataset(model, make_sprites(n, size, seed=1).images, batch_size=512)[0].numpy()


def run(
    quick: bool = False,
    sizes: tuple[int, ...] = (1_000, 10_000, 50_000),
    methods: tuple[str, ...] = ("pca", "umap", "tsne"),
) -> list[Comparison]:
    if quick:
        sizes, methods = (1_000,), ("pca",)
    mu_all = latent_means(max(sizes))
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            mu_file = Path(folder) / f"mu{n}.npy"
            np.save(mu_file, mu_all[:n])
            for method in methods:
                cache_file = Path(folder) / f"map-{method}-{n}.npz"
                direct = _measure("direct", method, mu_file, cache_file)
                ours = _measure("ours", method, mu_file, cache_file)
                for phase in ("cold", "warm"):
                    results.append(
                        Comparison(
                            area="projection",
                            case=f"{method.upper() if method != 'tsne' else 't-SNE'}, {n:,} points, {phase}",
                            measure="seconds",
                            ours=ours[phase],
                            reference=direct[phase],
                            reference_name=f"{LIBRARY[method]} directly",
                            higher_is_better=False,
                            note=(
                                "ours warm = the map read back from its cache file"
                                if phase == "warm" and n == sizes[0] and method == methods[0]
                                else ""
                            ),
                        )
                    )
    return results


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    print(json.dumps(_worker(*sys.argv[2:6])))
