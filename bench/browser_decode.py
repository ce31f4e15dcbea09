"""Decoding in the browser, per frame: the model's ONNX decoder in onnxruntime-web (WASM, one
thread, what the live component runs) against the hand-written `decoder.js` it replaced, in
the same Chromium page; and the bytes the app sends on each live fragment rerun.

`decoder.js` and its exporter were removed once their figures were recorded: one run on
2026-12-02 measured both decoders in one Chromium page (mean ms per decode after 20 warm-up
decodes) and the component's arguments with the weights inside; the rows compare against
those figures (RECORDED), and measure them afresh when bench/legacy_decoder/ holds them again
(`git show b86cddf:ui/live_traverse/decoder.js` and
`git show b86cddf:vae/models/decoder_export.py`, saved there as decoder.js and decoder_spec.py).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.report import Comparison

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser_support import (  # noqa: E402
    browser_available,
    chromium_page,
    live_frame,
    ort_page,
    running_app,
    wait_for_app,
)

LEGACY = REPO / "bench" / "legacy_decoder"
# Both return the mean milliseconds per decode over the vectors after the warm-up: the
# browser's clock ticks in 0.1 ms steps, too coarse to time one small decode.
LEGACY_JS = """([spec, vectors, warmUp]) => {
  const model = VAEDecoder.prepare(spec);
  vectors.slice(0, warmUp).forEach(z => VAEDecoder.decode(model, z, 0));
  const started = performance.now();
  for (const z of vectors.slice(warmUp)) VAEDecoder.decode(model, z, 0);
  return (performance.now() - started) / (vectors.length - warmUp);
}"""
ORT_JS = """async ([graph, vectors, warmUp]) => {
  ort.env.wasm.wasmPaths = new URL("ort/", document.baseURI).href;
  ort.env.wasm.numThreads = 1;
  const bytes = new Uint8Array(await (await fetch(graph)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const feeds = vectors.map(z => ({ z: new ort.Tensor("float32", Float32Array.from(z), [1, z.length]) }));
  for (const feed of feeds.slice(0, warmUp)) await session.run(feed);
  const started = performance.now();
  for (const feed of feeds.slice(warmUp)) (await session.run(feed)).image.data;
  return (performance.now() - started) / (feeds.length - warmUp);
}"""
WARM_UP = 20  # the first decodes warm up the JIT and the WASM module
# decoder.js, measured beside onnxruntime-web on 2026-12-02 before its removal.
RECORDED = {
    "digits.pt": {"decode_ms": 0.317, "argument_bytes": 717_881},
    "mnist.pt": {"decode_ms": 3.279, "argument_bytes": 1_079_787},
    "sprites.pt": {"decode_ms": 18.212, "argument_bytes": 2_035_388},
}


def _legacy_ms(page, model, vectors) -> float | None:
    if not (LEGACY / "decoder.js").is_file():
        return None
    sys.path.insert(0, str(LEGACY))
    from decoder_spec import decoder_spec

    page.add_script_tag(path=str(LEGACY / "decoder.js"))
    return page.evaluate(LEGACY_JS, [decoder_spec(model), vectors.tolist(), WARM_UP])


def _argument_bytes(model, graph: Path) -> tuple[int, int]:
    """JSON bytes of the live component's arguments for one Traverse rerun: with the weights
    inside (the old spec) and with the graph's URL (now)."""
    d = model.latent_dim
    common = {
        "z": [0.123456] * d,
        "order": list(range(d)),
        "inactive": [],
        "labels": [f"z{i} · KL 0.00" for i in range(d)],
        "low": [-3.0] * d,
        "high": [3.0] * d,
        "step": [0.03] * d,
        "label": 0,
        "size": 256,
    }
    now = len(json.dumps({**common, "graph": f"../ui.live.decoder_graphs/{graph.name}", "conditional": False}))
    if not (LEGACY / "decoder_spec.py").is_file():
        return 0, now
    from decoder_spec import decoder_spec

    return len(json.dumps({**common, "spec_id": "0" * 16, "spec": decoder_spec(model)})), now


def _server_map(models_dir: Path, name: str, n_points: int):
    """The Map page's default map of a model (UMAP of the first n held-out codes), as the
    server computes it."""
    from vae import load_checkpoint
    from vae.data.datasets import map_subset
    from vae.data.source import dataset_for_checkpoint
    from vae.latent.encoding import encode_dataset
    from vae.latent.projection import ProjectionParams, cache_path, fit_or_load
    from vae.models.interface import is_conditional

    model, meta = load_checkpoint(models_dir / name)
    data, _, held_idx = dataset_for_checkpoint(meta)
    index = map_subset(held_idx, n_points)
    labels = data.labels[index] if is_conditional(model) else None
    mu = encode_dataset(model, data.images[index], labels)[0].numpy()
    params = ProjectionParams("umap")
    return fit_or_load(mu, params, cache_path(models_dir / name, params, n_points))[0]


def map_hover(quick: bool = False, models_dir: Path = REPO / "models") -> list[Comparison]:
    """Mouse move over the Map -> the decoded frame drawn beside it, in Chromium: from the mouse
    event's time stamp (which includes the browser's own wait before it dispatches the event,
    up to a display frame) and from our handler's start, to the end of the frame's drawing;
    and the browser's inverse of the map against the server's on 100 random locations."""
    name, moves = ("digits.pt", 60) if quick else ("mnist.pt", 300)
    latent_map = _server_map(models_dir, name, 2000)
    with running_app(models_dir) as url, chromium_page() as page:
        page.goto(f"{url}/Map?model={name}&method=umap&points=2000")
        wait_for_app(page, 300_000)
        page.wait_for_selector(".js-plotly-plot", timeout=120_000)
        frame = live_frame(page, 120_000)
        page.wait_for_timeout(1500)
        plot = page.locator(".js-plotly-plot").first.bounding_box()
        rng = np.random.default_rng(0)
        for i in range(moves):
            fraction = (i % 100) / 99
            page.mouse.move(
                plot["x"] + 90 + fraction * (plot["width"] - 180), plot["y"] + 80 + rng.uniform(0, plot["height"] - 200)
            )
            page.wait_for_timeout(16)
        page.wait_for_timeout(200)
        latencies = frame.locator("body").evaluate("() => window.__hoverLatencies.slice()")
        work = frame.locator("body").evaluate("() => window.__hoverWork.slice()")
        low, high = latent_map.embedding_.min(0), latent_map.embedding_.max(0)
        spots = rng.uniform(low, high, size=(100, 2))
        browser = np.array(
            frame.locator("body").evaluate(
                "(body, spots) => spots.map(([x, y]) => window.__inverse(x, y))", spots.tolist()
            )
        )
    difference = float(np.abs(browser - latent_map.inverse_transform(spots.astype(np.float32))).max())
    case = f"{name}, 2,000-point UMAP map, {len(latencies)} frames for {moves} mouse moves"
    timings = {
        "mouse move → frame drawn, median": float(np.median(latencies)),
        "mouse move → frame drawn, p95": float(np.percentile(latencies, 95)),
        "our handler → frame drawn, p95": float(np.percentile(work, 95)),
    }
    rows = [
        Comparison("browser", f"map hover: {what}, {case}", "ms", ms, 16.0, "one display frame", False, 1.0)
        for what, ms in timings.items()
    ]
    inverse_case = f"map hover: browser inverse vs the server's, {name}, 100 random spots"
    return rows + [Comparison("browser", inverse_case, "max |Δz|", difference, 1e-5, "the tolerance", False, 1.0)]


def run(quick: bool = False, models_dir: Path = REPO / "models") -> list[Comparison]:
    if not browser_available():
        return []
    return decode_per_frame(quick, models_dir) + map_hover(quick, models_dir)


def decode_per_frame(quick: bool = False, models_dir: Path = REPO / "models") -> list[Comparison]:
    from vae import load_checkpoint
    from vae.models.onnx_graphs import cached_graph

    names, frames = (["digits.pt"], 60) if quick else (["digits.pt", "mnist.pt", "sprites.pt"], 220)
    results = []
    with tempfile.TemporaryDirectory() as folder, chromium_page() as page, ort_page(page, Path(folder)):
        for name in names:
            model, _ = load_checkpoint(models_dir / name)
            graph = cached_graph(Path(folder), models_dir / name, model)
            vectors = np.random.default_rng(0).normal(size=(frames, model.latent_dim)).astype(np.float32)
            ort_ms = page.evaluate(ORT_JS, ["graphs/" + graph.name, vectors.tolist(), WARM_UP])
            legacy = _legacy_ms(page, model, vectors)
            note = "" if legacy is not None else "decoder.js figure recorded on 2026-12-02 before its removal"
            if legacy is None:
                legacy = RECORDED.get(name, {}).get("decode_ms")
            if legacy is not None:
                results.append(
                    Comparison(
                        area="browser",
                        case=f"{name}, decode one frame in Chromium",
                        measure=f"ms (mean of {frames - WARM_UP})",
                        ours=ort_ms,
                        reference=legacy,
                        reference_name="decoder.js (the hand-written decoder it replaced)",
                        higher_is_better=False,
                        goal=0.2 if name != "digits.pt" else None,  # the goal is set for mnist and sprites
                        note=note,
                    )
                )
            before, after = _argument_bytes(model, graph)
            before = before or RECORDED.get(name, {}).get("argument_bytes", 0)
            if before:
                results.append(
                    Comparison(
                        area="browser",
                        case=f"{name}, live component arguments per fragment rerun",
                        measure="bytes",
                        ours=after,
                        reference=before,
                        reference_name="the decoder's weights as arguments (before)",
                        higher_is_better=False,
                    )
                )
    return results
