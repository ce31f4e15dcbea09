"""Which device runs a model: `auto` is the machine's accelerator (CUDA, MPS, …) or the CPU."""

from __future__ import annotations

import torch

from vae.errors import TrainingError

KNOWN = ("cpu", "cuda", "mps")


def pick_device(name: str = "auto") -> torch.device:
    """`auto`: the current accelerator (torch.accelerator: CUDA, MPS, …), else the CPU. An
    explicit device that is missing is an error with a one-line message."""
    if name == "auto":
        accelerator = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else None
        return accelerator or torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: no CUDA GPU is visible to PyTorch (use --device cpu or auto)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise TrainingError("--device mps: Apple's Metal backend is not available here (use --device cpu or auto)")
    if name not in KNOWN and not name.startswith("cuda:"):
        raise TrainingError(f"unknown device {name!r}: use auto, cpu, cuda or mps")
    return torch.device(name)


def training_devices() -> list[str]:
    """The devices a model can be trained on here, for a picker: the CPU, and CUDA when visible."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
