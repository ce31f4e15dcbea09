"""A hierarchical model against a flat one of the same size, in Chromium: one frame decoded by
onnxruntime-web (the live component's decoder, standardised codes through every level's
conditional prior), and a Traverse slider key
press until the new image shows (decoded on the server).

The flat reference for the per-frame decode is a conv VAE with the hierarchical model's latent
size, convolutions and width (weights as initialised: decoding time does not depend on
training); the slider round trip compares with the shipped flat `mnist.pt`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from bench.browser import slider_round_trips
from bench.browser_decode import ORT_JS, WARM_UP
from bench.report import Comparison

REPO = Path(__file__).resolve().parents[1]
HIERARCHICAL = "mnist-hierarchical.pt"


def _flat_twin(model):
    """A flat conv VAE with the same latent size, convolutions and dense width."""
    from vae.models.native import VAE, VAEConfig

    c = model.config
    torch.manual_seed(0)
    config = VAEConfig(c.image_shape, c.latent_dim, "conv", (c.hidden_dim,), c.conv_channels, c.likelihood)
    return VAE(config).eval()


def run(quick: bool = False, models_dir: Path = REPO / "models") -> list[Comparison]:
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    from browser_support import browser_available, chromium_page, ort_page

    from vae import load_checkpoint
    from vae.models.onnx_graphs import cached_graph, decoder_onnx

    if quick or not browser_available() or not (models_dir / HIERARCHICAL).is_file():
        return []  # the smoke run (--quick) leaves it out: two graph exports and a browser, 10 s
    frames = 220
    model, _ = load_checkpoint(models_dir / HIERARCHICAL)
    flat = _flat_twin(model)
    vectors = np.random.default_rng(0).normal(size=(frames, model.latent_dim)).astype(np.float32)
    timings = {}
    with tempfile.TemporaryDirectory() as folder, chromium_page() as page, ort_page(page, Path(folder)):
        graphs = {
            "standardised": cached_graph(Path(folder), models_dir / HIERARCHICAL, model),
            "flat": Path(folder) / "flat-twin.onnx",
        }
        graphs["flat"].write_bytes(decoder_onnx(flat))
        for name, graph in graphs.items():
            timings[name] = page.evaluate(ORT_JS, ["graphs/" + graph.name, vectors.tolist(), WARM_UP])
    case = f"{HIERARCHICAL} (levels {list(model.config.level_dims)}), decode one frame in Chromium"
    rows = [
        Comparison(
            "browser",
            case,
            f"ms (mean of {frames - WARM_UP})",
            timings["standardised"],
            timings["flat"],
            f"a flat conv VAE of the same size ({model.latent_dim}-d, same convolutions and width)",
            False,
        )
    ]
    with tempfile.TemporaryDirectory() as folder:
        trips = slider_round_trips(["mnist.pt", HIERARCHICAL], 20, 2, models_dir, Path(folder))
    flat_trip, deep_trip = trips
    rows.append(
        Comparison(
            "browser",
            f"Traverse slider key press → new image (server decoding), {HIERARCHICAL}",
            "ms (median)",
            deep_trip.ours,
            flat_trip.ours,
            "the same on mnist.pt (flat, 16-d, same convolutions)",
            False,
            note=f"{deep_trip.note}; one-slider app: {deep_trip.reference:.0f} ms",
        )
    )
    return rows
