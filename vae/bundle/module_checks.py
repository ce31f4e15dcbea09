"""What `export_bundle` checks of the user's own modules and their exported graphs: the
signatures, that outputs are deterministic, and that each graph computes what its module does.
Needs only torch and onnx (onnxruntime when installed)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vae.errors import BundleError

CHECK_TOLERANCE = 1e-4  # largest difference between a graph and its module, in pixel / latent units


def image_batch(image_shape, low: float, high: float, n: int, seed: int = 0) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, *image_shape, generator=torch.Generator().manual_seed(seed))


def labels_for(n: int, num_classes: int) -> torch.Tensor:
    return torch.arange(n) % max(num_classes, 1)


def _call(module: nn.Module, first: torch.Tensor, num_classes: int):
    with torch.no_grad():
        return module(first, labels_for(len(first), num_classes)) if num_classes else module(first)


def probe_modules(encoder, decoder, image_shape, low, high, num_classes) -> int:
    """Check the modules' signatures and that they are deterministic; the latent size."""
    x = image_batch(image_shape, low, high, 3)
    try:
        encoded = _call(encoder, x, num_classes)
    except Exception as err:
        raise BundleError(f"the encoder failed on images of shape {tuple(x.shape)}: {err}") from None
    if not (isinstance(encoded, (tuple, list)) and len(encoded) == 2 and encoded[0].shape == encoded[1].shape):
        raise BundleError("the encoder must return (mu, logvar), two tensors of shape (N, latent size)")
    mu = encoded[0]
    if mu.dim() != 2 or mu.shape[0] != len(x):
        raise BundleError(f"the encoder's mu has shape {tuple(mu.shape)}; expected (N, latent size)")
    if not torch.equal(_call(encoder, x, num_classes)[0], mu):
        raise BundleError(
            "the encoder gives different outputs for the same images: it samples inside; return (mu, logvar)"
        )
    z = torch.randn(3, mu.shape[1], generator=torch.Generator().manual_seed(0))
    try:
        image = _call(decoder, z, num_classes)
    except Exception as err:
        raise BundleError(f"the decoder failed on codes of shape {tuple(z.shape)}: {err}") from None
    if not isinstance(image, torch.Tensor) or tuple(image.shape) != (3, *image_shape):
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise BundleError(f"the decoder returns {shape} for 3 codes; expected (3, {', '.join(map(str, image_shape))})")
    if not torch.equal(_call(decoder, z, num_classes), image):
        raise BundleError("the decoder gives different outputs for the same codes: it must be deterministic")
    return int(mu.shape[1])


def probe_priors(priors: list[nn.Module], levels: list[tuple[str, int]]) -> None:
    """Each level's prior module takes the values of the levels above it, (N, sum of their
    sizes), and returns (mu, logvar), each (N, the level's size), the same for the same input."""
    above = levels[0][1] if levels else 0
    for module, (name, size) in zip(priors, levels[1:]):
        upper = torch.randn(3, above, generator=torch.Generator().manual_seed(2))
        try:
            out = _call(module, upper, 0)
        except Exception as err:
            raise BundleError(
                f"the prior of level {name!r} failed on the levels above it, shape {tuple(upper.shape)}: {err}"
            ) from None
        shapes = [tuple(t.shape) for t in out] if isinstance(out, (tuple, list)) else None
        if shapes != [(3, size), (3, size)]:
            raise BundleError(
                f"the prior of level {name!r} returns {shapes or type(out).__name__} for the levels above it "
                f"(3, {above}); expected (mu, logvar), each (3, {size})"
            )
        if not torch.equal(_call(module, upper, 0)[0], out[0]):
            raise BundleError(
                f"the prior of level {name!r} gives different outputs for the same input: return (mu, logvar)"
            )
        above += size


def _run_graph(graph: bytes, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    try:
        import onnxruntime
    except ImportError:  # the exporter's own environment may lack it: ONNX's reference runtime
        import onnx
        from onnx.reference import ReferenceEvaluator

        return ReferenceEvaluator(onnx.load_from_string(graph)).run(None, feeds)
    return onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"]).run(None, feeds)


def check_graph(
    name: str, graph: bytes, module: nn.Module, first: torch.Tensor, num_classes: int, first_name: str = ""
) -> None:
    """The graph computes what the module does, on inputs it was not exported with. `name`:
    "encoder", "decoder" or a prior's description (its input then `first_name`, "upper")."""
    expected = _call(module, first, num_classes)
    expected = [expected] if isinstance(expected, torch.Tensor) else list(expected)
    first_name = first_name or ("image" if name == "encoder" else "z")
    feeds = {first_name: first.numpy()}
    if num_classes:
        feeds["label"] = labels_for(len(first), num_classes).numpy()
    got = _run_graph(graph, feeds)
    output_names = ["image"] if name == "decoder" else ["mu", "logvar"]
    for output, want, have in zip(output_names, expected, got):
        difference = float(np.abs(want.numpy() - have).max()) if want.shape == have.shape else float("inf")
        if not difference <= CHECK_TOLERANCE:
            raise BundleError(
                f"the exported {name}'s output {output!r} differs from the module by {difference:.3g} "
                "(a layer ONNX export does not reproduce?)"
            )
