"""How training runs on this machine: the precision of matmuls and convolutions (bf16
autocast or fp32) and the memory layout of conv models (channels-last or contiguous).

Weights, optimizer state and the loss always stay float32, and checkpoints are written in the
standard contiguous layout, so a model trained either way loads and decodes the same in fp32
anywhere. Measured on a 2-core CPU with AVX512-BF16 (`python -m bench --only training`, README
Performance), bf16 autocast with channels-last conv weights and data, against fp32: 64 px
sprites 2.2× faster, 32 px images 1.1-1.6×, but MNIST (28 px, three small convolutions) 0.87×
and 8×8 digits 1.03×. Hence `auto` uses them on the CPU only for images of 32 px and more.
Held-out ELBO at the same epochs and seed: digits and MNIST within 0.3 nats, sprites 0.8 nats
better.
"""

from __future__ import annotations

import torch

from vae.errors import TrainingError

PRECISIONS = ("auto", "fp32", "bf16")
LAYOUTS = ("auto", "contiguous", "channels-last")
CPU_BF16_MIN_SIDE = 32  # below it (MNIST, digits) bf16 convolutions were no faster on the CPU


class PrecisionError(TrainingError):
    """An unknown --precision or --layout."""


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX). Without it oneDNN
    emulates bf16, which is slower than fp32."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    except RuntimeError:
        return False


def use_bf16(precision: str, device: torch.device, arch: str = "conv", image_side: int = CPU_BF16_MIN_SIDE) -> bool:
    """Whether training autocasts matmuls and convolutions to bfloat16. `auto`: on CUDA, and on
    a CPU with native bf16 for conv models whose images are at least CPU_BF16_MIN_SIDE pixels."""
    if precision not in PRECISIONS:
        raise PrecisionError(f"unknown precision {precision!r}: use auto, fp32 or bf16")
    if precision == "auto":
        if device.type == "cuda":
            return True
        return device.type == "cpu" and arch == "conv" and image_side >= CPU_BF16_MIN_SIDE and cpu_has_native_bf16()
    return precision == "bf16"


def use_channels_last(layout: str, device: torch.device, arch: str, bf16: bool) -> bool:
    """Whether a conv model and its data are stored channels-last. `auto`: with bf16 on the
    CPU, where the two together paid most (64 px sprites: 2.2× with both; bf16 alone 1.4×)."""
    if layout not in LAYOUTS:
        raise PrecisionError(f"unknown layout {layout!r}: use auto, contiguous or channels-last")
    if arch != "conv":
        return False
    if layout == "auto":
        return bf16 and device.type == "cpu"
    return layout == "channels-last"


def memory_format(channels_last: bool) -> torch.memory_format:
    return torch.channels_last if channels_last else torch.contiguous_format


def match_optimizer_layout(optimizer: torch.optim.Optimizer) -> None:
    """Give each parameter's optimizer state (Adam's moments) the parameter's own layout: a
    state resumed from a run with the other layout would otherwise slow or upset the fused
    kernel."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            state = optimizer.state.get(param, {})
            for key, value in state.items():
                if torch.is_tensor(value) and value.shape == param.shape and value.stride() != param.stride():
                    state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)
