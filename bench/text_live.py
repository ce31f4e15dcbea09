"""A text model decoded live, in Chromium: one greedy sentence from onnxruntime-web (the live
component's graph: the decoder's loop unrolled to the longest sentence), against one frame of
the MNIST model's image decoder, which the app already decodes live. Both graphs run as the
component runs them (WASM, one thread)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from bench.browser_decode import WARM_UP
from bench.report import Comparison

REPO = Path(__file__).resolve().parents[1]
TEXT = "text-fortunes.pt"
IMAGE = "mnist.pt"
GOAL_MS = 16.0  # one frame at 60 frames per second: a drag stays live

# As bench.browser_decode's, but reads whatever the graph's first output is (ids or an image).
DECODE_JS = """async ([graph, vectors, warmUp]) => {
  ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href;
  ort.env.wasm.numThreads = 1;
  const bytes = new Uint8Array(await (await fetch(graph)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const feeds = vectors.map(z => ({ z: new ort.Tensor("float32", Float32Array.from(z), [1, z.length]) }));
  for (const feed of feeds.slice(0, warmUp)) await session.run(feed);
  const started = performance.now();
  for (const feed of feeds.slice(warmUp)) (await session.run(feed))[session.outputNames[0]].data;
  return (performance.now() - started) / (feeds.length - warmUp);
}"""


def run(quick: bool = False, models_dir: Path = REPO / "models") -> list[Comparison]:
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    from browser_support import browser_available, chromium_page, ort_page

    from vae import load_checkpoint
    from vae.models.onnx_graphs import cached_graph

    if quick or not browser_available() or not (models_dir / TEXT).is_file() or not (models_dir / IMAGE).is_file():
        return []  # the smoke run leaves it out: a graph export and a browser
    frames = 220
    timings, sizes = {}, {}
    with tempfile.TemporaryDirectory() as folder, chromium_page() as page, ort_page(page, Path(folder)):
        for name in (TEXT, IMAGE):
            model, _ = load_checkpoint(models_dir / name)
            graph = cached_graph(Path(folder), models_dir / name, model)
            vectors = np.random.default_rng(0).normal(size=(frames, model.latent_dim)).astype(np.float32)
            timings[name] = page.evaluate(DECODE_JS, ["graphs/" + graph.name, vectors.tolist(), WARM_UP])
            sizes[name] = graph.stat().st_size
    return [
        Comparison(
            "browser",
            f"{TEXT}: one greedy sentence decoded in Chromium (onnxruntime-web)",
            f"ms (mean of {frames - WARM_UP})",
            timings[TEXT],
            timings[IMAGE],
            f"one image of {IMAGE}, decoded live the same way",
            False,
            note=f"graphs {sizes[TEXT] / 1e6:.1f} MB and {sizes[IMAGE] / 1e6:.1f} MB; a frame at 60 fps is "
            f"{GOAL_MS:.0f} ms: {'within' if timings[TEXT] <= GOAL_MS else 'over'}",
        )
    ]
