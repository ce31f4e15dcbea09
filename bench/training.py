"""Training throughput of `vae.train` against our previous fp32 loop, a pytorch/examples-style
loop and the machine's own peak.

`vae.train` runs with its defaults (on a CPU with native bf16, conv models train in bf16
autocast with channels-last weights and data: `vae.training.precision`). The first reference is the same
`vae.train` with `--precision fp32 --layout contiguous`, what it did before. The second is how
pytorch/examples `vae/main.py` trains: a `DataLoader` over a
`TensorDataset` with `shuffle=True`, each batch moved to the device, `loss.item()` every
step, the default Adam. It trains the same model (same config, same initial weights) on the
same training split with the same batch size and loss. Both figures count only the
optimisation steps: `vae.train`'s held-out pass and checkpoint write are left out (its
epoch record has `train_seconds` for that), and the first epoch of each run is a warm-up.
Runs alternate (ours, fp32, DataLoader, ours, ...) so a slow spell of the machine hits all.

Against the hardware: the model's forward + backward FLOPs per image come from
`torch.utils.flop_counter`, the peak from a 2048×2048 matmul in fp32 and in bf16; achieved
GFLOP/s over the peak of the precision used is the fraction of peak.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from bench.report import Comparison
from vae.data.datasets import load_dataset, split_indices
from vae.devices import pick_device
from vae.models.native import VAE, VAEConfig
from vae.training.config import TrainConfig
from vae.training.loop import train
from vae.training.precision import use_bf16

REFERENCE_NAME = "DataLoader(TensorDataset) loop, fp32"
PREVIOUS_NAME = "our previous loop: vae.train --precision fp32 --layout contiguous"
SPEEDUP_GOAL = 2.0  # over our previous fp32 loop, on mnist and sprites
PEAK_GOAL = 0.4  # of the matmul peak in the precision used


@dataclass(frozen=True)
class Case:
    name: str
    dataset: dict  # TrainConfig fields that choose the data
    model: dict = field(default_factory=lambda: {"arch": "conv", "latent_dim": 16, "hidden_dims": (256,)})
    speed_goal: bool = True  # whether the 2× goal applies (mnist and sprites)


def cases(quick: bool, data_dir: str | None) -> list[Case]:
    if quick:
        return [Case("digits conv (quick)", {"dataset": "digits"}, speed_goal=False)]
    found = [Case("digits 8×8 conv", {"dataset": "digits"}, speed_goal=False)]
    if data_dir is not None:
        found.append(Case("mnist 28×28 conv", {"dataset": "mnist", "data_dir": data_dir}))
    found.append(Case("sprites 64×64 conv", {"dataset": "sprites", "image_size": 64, "n": 5000}))
    return found


def matmul_peak_gflops(dtype: torch.dtype, device: str = "cpu", size: int = 2048, repeats: int = 5) -> float:
    """The best of `repeats` timed size×size matmuls, in GFLOP/s (2·n³ FLOPs each)."""
    target = pick_device(device)
    a = torch.randn(size, size, device=target, dtype=dtype)
    b = torch.randn(size, size, device=target, dtype=dtype)
    best = math.inf
    for _ in range(repeats + 1):  # the first call warms up
        started = time.perf_counter()
        torch.mm(a, b)
        if target.type == "cuda":
            torch.cuda.synchronize(target)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def flops_per_image(case: Case, batch_size: int = 128) -> tuple[float, int]:
    """Forward + backward FLOPs of one training step per image (matmuls and convolutions), and
    the images' smaller side."""
    cfg = TrainConfig(**case.dataset)
    data = load_dataset(cfg.dataset, cfg.data_dir, cfg.image_size, cfg.channels, min(cfg.n or 256, 256))
    model = VAE(VAEConfig(image_shape=data.image_shape, num_classes=data.num_classes, **case.model))
    x = data.images[:batch_size]
    with FlopCounterMode(display=False) as counter:
        model.elbo_terms(x, None, beta=1.0).loss.backward()
    return counter.get_total_flops() / len(x), min(data.image_shape[1:])


def _epochs(case: Case, batch_size: int, steps: int) -> int:
    """A warm-up epoch, then enough epochs for at least `steps` measured steps (8×8 digits
    has 12 steps an epoch, about 50 ms: a single epoch is all noise)."""
    cfg = TrainConfig(**case.dataset)
    n = (
        cfg.n
        if cfg.dataset == "sprites"
        else len(load_dataset(cfg.dataset, cfg.data_dir, cfg.image_size, cfg.channels))
    )
    steps_per_epoch = math.ceil(round(n * (1 - cfg.held_out)) / batch_size)
    return 1 + max(2, math.ceil(steps / steps_per_epoch))


def _ours(case: Case, epochs: int, batch_size: int, device: str, folder: Path, **speed) -> list[float]:
    """images/s of vae.train's epochs after the first; `speed` sets precision and layout."""
    cfg = TrainConfig(**case.dataset, epochs=epochs, batch_size=batch_size, device=device, iwae_k=0, **speed)
    _, meta = train(cfg, folder / "bench.pt", case.model, progress=False)
    return [record["images_per_second"] for record in meta["history"][1:]]


def _reference(case: Case, epochs: int, batch_size: int, device: str) -> list[float]:
    cfg = TrainConfig(**case.dataset)
    data = load_dataset(cfg.dataset, cfg.data_dir, cfg.image_size, cfg.channels, cfg.n)
    train_idx, _ = split_indices(len(data), cfg.held_out, cfg.split_seed)
    torch.manual_seed(cfg.seed)
    target = pick_device(device)
    model = VAE(VAEConfig(image_shape=data.image_shape, num_classes=data.num_classes, **case.model)).to(target)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loader = DataLoader(TensorDataset(data.images[train_idx]), batch_size=batch_size, shuffle=True)
    rates = []
    for epoch in range(epochs):
        started, seen, train_loss = time.perf_counter(), 0, 0.0
        for (x,) in loader:
            x = x.to(target)
            optimizer.zero_grad()
            loss = model.elbo_terms(x, None, beta=cfg.beta).loss
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            seen += len(x)
        if epoch:  # the first epoch warms up, as for ours
            rates.append(seen / (time.perf_counter() - started))
    return rates


def run(quick: bool = False, device: str = "cpu", data_dir: str | None = None) -> list[Comparison]:
    rounds, steps, batch_size = (1, 30, 128) if quick else (2, 80, 128)
    peaks = {"fp32": matmul_peak_gflops(torch.float32, device), "bf16": matmul_peak_gflops(torch.bfloat16, device)}
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for case in cases(quick, data_dir):
            epochs = _epochs(case, batch_size, steps)
            ours, previous, reference = [], [], []
            for _ in range(rounds):
                ours += _ours(case, epochs, batch_size, device, Path(folder))
                previous += _ours(case, epochs, batch_size, device, Path(folder), precision="fp32", layout="contiguous")
                reference += _reference(case, epochs, batch_size, device)
            ours, previous, reference = (statistics.median(v) for v in (ours, previous, reference))
            flops, side = flops_per_image(case, batch_size)
            precision = "bf16" if use_bf16("auto", pick_device(device), case.model["arch"], side) else "fp32"
            label = f"{case.name}, batch {batch_size}, {device}"
            note = f"median of {epochs - 1} epochs × {rounds} alternating run(s) each, after a warm-up epoch"
            results += [
                Comparison(
                    "training",
                    f"{label}, defaults ({precision})",
                    "images/s",
                    ours,
                    previous,
                    PREVIOUS_NAME,
                    True,
                    SPEEDUP_GOAL if case.speed_goal else None,
                    note,
                ),
                Comparison("training", label, "images/s", ours, reference, REFERENCE_NAME, True, None, note),
                Comparison(
                    "training",
                    f"{label}, defaults ({precision})",
                    "GFLOP/s vs matmul peak",
                    ours * flops / 1e9,
                    peaks[precision],
                    f"{precision} 2048² matmul peak",
                    True,
                    PEAK_GOAL,
                    f"{flops / 1e6:.1f} MFLOP per image (forward + backward, torch.utils.flop_counter)",
                ),
                Comparison(
                    "training",
                    f"{label}, DataLoader loop (fp32)",
                    "GFLOP/s vs matmul peak",
                    reference * flops / 1e9,
                    peaks["fp32"],
                    "fp32 2048² matmul peak",
                    True,
                    None,
                ),
            ]
    return results
