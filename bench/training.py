"""Training throughput of `vae.train` against a pytorch/examples-style loop.

The reference is how pytorch/examples `vae/main.py` trains: a `DataLoader` over a
`TensorDataset` with `shuffle=True`, each batch moved to the device, `loss.item()` every
step, the default Adam. It trains the same model (same config, same initial weights) on the
same training split with the same batch size and loss. Both figures count only the
optimisation steps: `vae.train`'s held-out pass and checkpoint write are left out (its
epoch record has `train_seconds` for that), and the first epoch of each run is a warm-up.
Runs alternate (ours, reference, ours, ...) so a slow spell of the machine hits both.
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

from bench.report import Comparison
from vae.data import load_dataset, split_indices
from vae.model import VAE, VAEConfig
from vae.train import TrainConfig, pick_device, train

REFERENCE_NAME = "DataLoader(TensorDataset) loop"


@dataclass(frozen=True)
class Case:
    name: str
    dataset: dict  # TrainConfig fields that choose the data
    model: dict = field(default_factory=lambda: {"arch": "conv", "latent_dim": 16, "hidden_dims": (256,)})
    precision: str = "auto"


def cases(quick: bool, data_dir: str | None) -> list[Case]:
    if quick:
        return [Case("digits conv (quick)", {"dataset": "digits"})]
    found = []
    found.append(Case("digits 8×8 conv", {"dataset": "digits"}))
    if data_dir is not None:
        found.append(Case("mnist 28×28 conv", {"dataset": "mnist", "data_dir": data_dir}))
    sprites = {"dataset": "sprites", "image_size": 64, "n": 5000}
    found.append(Case("sprites 64×64 conv", sprites))
    found.append(Case("sprites 64×64 conv, bf16 autocast", sprites, precision="bf16"))
    return found


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


def _ours(case: Case, epochs: int, batch_size: int, device: str, folder: Path) -> list[float]:
    cfg = TrainConfig(
        **case.dataset, epochs=epochs, batch_size=batch_size, device=device, iwae_k=0, precision=case.precision
    )
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
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for case in cases(quick, data_dir):
            epochs = _epochs(case, batch_size, steps)
            ours, reference = [], []
            for _ in range(rounds):
                ours += _ours(case, epochs, batch_size, device, Path(folder))
                reference += _reference(case, epochs, batch_size, device)
            results.append(
                Comparison(
                    area="training",
                    case=f"{case.name}, batch {batch_size}, {device}",
                    measure="images/s",
                    ours=statistics.median(ours),
                    reference=statistics.median(reference),
                    reference_name=REFERENCE_NAME + (", fp32" if case.precision == "bf16" else ""),
                    higher_is_better=True,
                    goal=2.0,
                    note=f"median of {len(ours)} epochs each (after a warm-up epoch), {rounds} alternating run(s)",
                )
            )
    return results
