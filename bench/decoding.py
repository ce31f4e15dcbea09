"""Decode through our API (`vae.latent.codes.decode_codes`: numpy in, CPU tensor out) against the
bare module forward (`model.decode` on a ready tensor under `torch.no_grad`), batch 1 and 64,
on the shipped models; and the same decode through the model's ONNX graph in onnxruntime
against `decode_codes`. One thread each, as in the app (`VAE_APP_TORCH_THREADS`). Calls
alternate, ours then the reference, so both see the same machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from bench.report import Comparison
from bench.timing import alternating_medians_ms
from vae import load_checkpoint
from vae.latent.codes import decode_codes
from vae.models.onnx_graphs import decoder_onnx

REPO = Path(__file__).resolve().parents[1]


def run(quick: bool = False, models_dir: Path = REPO / "models") -> list[Comparison]:
    names, repeats = (["digits.pt"], 100) if quick else (["digits.pt", "mnist.pt", "sprites.pt"], 400)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    results = []
    try:
        for name in names:
            model, _ = load_checkpoint(models_dir / name)
            session = _session(decoder_onnx(model))
            for batch in (1, 64):
                z = np.random.default_rng(0).standard_normal((batch, model.latent_dim)).astype(np.float32)
                z_tensor = torch.from_numpy(z)

                def bare():
                    with torch.no_grad():
                        model.decode(z_tensor)

                ours, reference = alternating_medians_ms(lambda: decode_codes(model, z), bare, repeats)
                results.append(
                    Comparison(
                        area="decode",
                        case=f"{name}, batch {batch}",
                        measure="ms per call",
                        ours=ours,
                        reference=reference,
                        reference_name="bare model.decode",
                        higher_is_better=False,
                        goal=1.10,
                    )
                )
                on_onnxruntime, on_torch = alternating_medians_ms(
                    lambda: session.run(None, {"z": z}), lambda: decode_codes(model, z), repeats
                )
                results.append(
                    Comparison(
                        area="decode",
                        case=f"{name}, batch {batch}, onnxruntime",
                        measure="ms per call",
                        ours=on_onnxruntime,
                        reference=on_torch,
                        reference_name="decode_codes in torch (what the pages use)",
                        higher_is_better=False,
                    )
                )
    finally:
        torch.set_num_threads(threads)
    return results


def _session(graph: bytes):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
