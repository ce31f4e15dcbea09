"""The browser's decoder for a bundle: its decoder.onnx as it is for a flat bundle; for a
hierarchical one, a single ONNX graph of *standardised* codes composed from the prior graphs and
the decoder, so the browser decodes the same codes as the server:

    z (N, D) ─Slice─► ε_0 … ε_{L-1};  z_0 = ε_0;
    z_l = μ_p + exp(½ log σ_p²) ⊙ ε_l with (μ_p, log σ_p²) = prior_l(concat z_<l);
    image = decoder(concat z_0 … z_{L-1})

Each graph's names are prefixed (onnx.compose.add_prefix) and its nodes inlined; only standard
operators are added, so the composed graph passes the same checks as the parts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vae.bundle.format import DECODER
from vae.bundle.module_checks import CHECK_TOLERANCE
from vae.errors import BundleError
from vae.files import file_digest, write_bytes_atomically
from vae.models.levels import Level

MIN_OPSET = 13  # Slice with tensor inputs; every graph is brought to the newest opset among them


def standardised_decoder(decoder: bytes, priors: list[bytes], levels: tuple[Level, ...]) -> bytes:
    """The composed graph: input `z` (N, D) standardised, output `image` (the decoder's)."""
    import onnx
    from onnx import TensorProto, compose, helper, numpy_helper, version_converter

    parts = [onnx.load_from_string(graph) for graph in [*priors, decoder]]
    opset = max(MIN_OPSET, *(_opset(part) for part in parts))
    parts = [part if _opset(part) == opset else version_converter.convert_version(part, opset) for part in parts]
    parts = [compose.add_prefix(part, f"{name}/") for part, name in zip(parts, [*_prior_names(len(priors)), "decoder"])]
    nodes, initializers = [], [numpy_helper.from_array(np.array([1], np.int64), "levels/axis")]
    values: list[str] = []

    def constant(name: str, value: int) -> str:
        initializers.append(numpy_helper.from_array(np.array([value], np.int64), name))
        return name

    def inline(part, feeds: dict[str, str]) -> None:
        nodes.extend(helper.make_node("Identity", [source], [target]) for target, source in feeds.items())
        nodes.extend(part.graph.node)
        initializers.extend(part.graph.initializer)

    half = numpy_helper.from_array(np.array(0.5, np.float32), "levels/half")
    initializers.append(half)
    for i, level in enumerate(levels):
        start = constant(f"levels/start_{i}", level.start)
        end = constant(f"levels/end_{i}", level.start + level.size)
        eps = f"levels/eps_{i}"
        nodes.append(helper.make_node("Slice", ["z", start, end, "levels/axis"], [eps]))
        if i == 0:
            values.append(eps)
            continue
        upper = values[0] if i == 1 else f"levels/upper_{i}"
        if i > 1:
            nodes.append(helper.make_node("Concat", values, [upper], axis=1))
        prior = parts[i - 1]
        inline(prior, {prior.graph.input[0].name: upper})
        mu, logvar = (output.name for output in prior.graph.output)
        nodes += [
            helper.make_node("Mul", [logvar, "levels/half"], [f"levels/half_logvar_{i}"]),
            helper.make_node("Exp", [f"levels/half_logvar_{i}"], [f"levels/sigma_{i}"]),
            helper.make_node("Mul", [f"levels/sigma_{i}", eps], [f"levels/scaled_{i}"]),
            helper.make_node("Add", [mu, f"levels/scaled_{i}"], [f"levels/value_{i}"]),
        ]
        values.append(f"levels/value_{i}")
    nodes.append(helper.make_node("Concat", values, ["levels/values"], axis=1))
    decoder_part = parts[-1]
    inline(decoder_part, {decoder_part.graph.input[0].name: "levels/values"})
    nodes.append(helper.make_node("Identity", [decoder_part.graph.output[0].name], ["image"]))
    image_dims = [d.dim_value for d in decoder_part.graph.output[0].type.tensor_type.shape.dim][1:]
    graph = helper.make_graph(
        nodes,
        "standardised_decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", sum(lv.size for lv in levels)])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", *image_dims])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=max(p.ir_version for p in parts)
    )
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _opset(model) -> int:
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=1)


def _prior_names(count: int) -> list[str]:
    return [f"prior_{i}" for i in range(1, count + 1)]


def checked_standardised_decoder(model) -> bytes:
    """`model`'s composed browser graph (a LevelledBundleModel), once it decodes a few
    standardised codes as the model does on the server, within CHECK_TOLERANCE in [0, 1] units."""
    import onnxruntime

    graph = standardised_decoder(model.graphs["decoder"], model.graphs["priors"], model.levels)
    z = torch.randn(5, model.latent_dim, generator=torch.Generator().manual_seed(0))
    session = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"])
    (image,) = session.run(None, {"z": z.numpy()})
    image = ((torch.from_numpy(image) - model.low) / (model.high - model.low)).clamp(0.0, 1.0)
    difference = float((image - model.decode(z)).abs().max())
    if not difference <= CHECK_TOLERANCE:
        raise BundleError(
            f"{model.folder.name}: the composed browser decoder differs from the server's by {difference:.3g}"
        )
    return graph


def browser_decoder(model, folder: str | Path) -> Path:
    """The bundle's decoder for the browser, as a file in `folder` named by the bundle's
    content: a copy of decoder.onnx, or for a hierarchical bundle the composed graph of
    standardised codes. Its output is in the networks' pixel range, like decoder.onnx."""
    from vae.models.onnx_graphs import served_copy

    if not getattr(model, "graphs", None):
        return served_copy(Path(folder), model.folder / DECODER)
    path = Path(folder) / f"{model.folder.name}-{file_digest(model.folder)}-standardised-decoder.onnx"
    if not path.is_file():
        write_bytes_atomically(path, checked_standardised_decoder(model))
    return path
