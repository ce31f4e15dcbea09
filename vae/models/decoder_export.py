"""The decoder as a list of plain operations with float32 weights, for decoding in a browser.

Operations, applied in order to z (with the one-hot label appended for a conditional model):
`linear` (weight (out, in), bias), `silu`, `reshape` (to C, H, W), `deconv` (ConvTranspose2d:
weight (C_in, C_out, k, k), bias, stride, padding, output padding) and a final `sigmoid`."""

from __future__ import annotations

import base64

import numpy as np
from torch import nn

from vae.models.native import VAE


class UnsupportedDecoder(ValueError):
    """The decoder holds a layer the browser decoder does not implement."""


def _array(tensor) -> np.ndarray:
    return tensor.detach().cpu().float().numpy().astype(np.float32)


def decoder_ops(model: VAE) -> list[dict]:
    """The decoder of `model` as operations with NumPy weights (see the module docstring)."""
    ops: list[dict] = []

    def walk(module: nn.Module) -> None:
        for layer in module.children() if isinstance(module, nn.Sequential) else [module]:
            if isinstance(layer, nn.Sequential):
                walk(layer)
            elif isinstance(layer, nn.Linear):
                ops.append({"op": "linear", "weight": _array(layer.weight), "bias": _array(layer.bias)})
            elif isinstance(layer, nn.SiLU):
                ops.append({"op": "silu"})
            elif isinstance(layer, nn.ConvTranspose2d):
                if layer.groups != 1 or layer.dilation != (1, 1) or layer.kernel_size[0] != layer.kernel_size[1]:
                    raise UnsupportedDecoder(f"{layer} is not supported in the browser")
                ops.append(
                    {
                        "op": "deconv",
                        "weight": _array(layer.weight),
                        "bias": _array(layer.bias),
                        "stride": layer.stride[0],
                        "padding": layer.padding[0],
                        "output_padding": list(layer.output_padding),
                    }
                )
            else:
                raise UnsupportedDecoder(f"{type(layer).__name__} is not supported in the browser")

    walk(model.decoder_body)
    ops.append({"op": "reshape", "shape": list(model._unflatten)})
    if model.config.arch == "conv":
        walk(model.decoder_deconvs)
    ops.append({"op": "sigmoid"})
    return ops


def decoder_spec(model: VAE) -> dict:
    """JSON-ready decoder: arrays as base64 float32 (little-endian) with their shapes."""

    def encode(value):
        if isinstance(value, np.ndarray):
            return {"shape": list(value.shape), "data": base64.b64encode(value.astype("<f4").tobytes()).decode()}
        return value

    return {
        "latent_dim": model.config.latent_dim,
        "num_classes": model.config.num_classes if model.config.conditional else 0,
        "image_shape": list(model.config.image_shape),
        "ops": [{key: encode(value) for key, value in op.items()} for op in decoder_ops(model)],
    }
