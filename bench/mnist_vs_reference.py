"""Our conv VAE against a pytorch/examples-style MLP VAE (784-400-20) on the same MNIST split.

    python bench/mnist_vs_reference.py [--data-dir ../shared/datasets] [--epochs 30] [--k 200]

Both train on the training part of the same deterministic split of the available MNIST
files, for the same epochs, and are scored by the held-out importance-weighted NLL (nats).
The reference is trained the pytorch/examples way: a DataLoader over a TensorDataset.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vae.analysis.metrics import iwae_log_likelihood  # noqa: E402
from vae.data.datasets import load_dataset, split_indices  # noqa: E402
from vae.training.config import TrainConfig
from vae.training.loop import train  # noqa: E402


class ExamplesVAE(nn.Module):
    """The model of pytorch/examples vae/main.py: 784-400-20, ReLU, Bernoulli decoder."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def encode(self, x, y=None):
        h = F.relu(self.fc1(x.reshape(-1, 784)))
        return self.fc21(h), self.fc22(h)

    def decode_logits(self, z, y=None):
        return self.fc4(F.relu(self.fc3(z))).view(-1, 1, 28, 28)

    def log_likelihood(self, x_logits, x):
        return -F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").flatten(1).sum(1)

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.decode_logits(z)), mu, logvar


def train_reference(x_train: torch.Tensor, epochs: int, seed: int) -> tuple[ExamplesVAE, float]:
    torch.manual_seed(seed)
    model = ExamplesVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x_train), batch_size=128, shuffle=True)
    started = time.perf_counter()
    for _ in range(epochs):
        for (x,) in loader:
            recon, mu, logvar = model(x)
            bce = F.binary_cross_entropy(recon, x, reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            optimizer.zero_grad()
            ((bce + kld) / len(x)).backward()
            optimizer.step()
    return model.eval(), time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", default="../shared/datasets")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--k", type=int, default=200)
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()

    data = load_dataset("mnist", data_dir=args.data_dir)
    train_idx, held_idx = split_indices(len(data), 0.2, 0)
    x_train, x_held = data.images[train_idx], data.images[held_idx]

    reference, ref_seconds = train_reference(x_train, args.epochs, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        ours, _ = train(
            TrainConfig(dataset="mnist", data_dir=args.data_dir, epochs=args.epochs, seed=args.seed, iwae_k=0),
            Path(tmp) / "ours.pt",
            {"arch": "conv", "latent_dim": args.latent_dim},
            progress=False,
        )
        our_seconds = time.perf_counter() - started
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        ref_nll = float(-iwae_log_likelihood(reference, x_held, k=args.k, generator=gen).mean())
        our_nll = float(-iwae_log_likelihood(ours.eval(), x_held, k=args.k, generator=gen).mean())
    figures = {
        "train_images": len(x_train),
        "heldout_images": len(x_held),
        "epochs": args.epochs,
        "iwae_k": args.k,
        "reference_nll": round(ref_nll, 2),
        "ours_nll": round(our_nll, 2),
        "gain_nats": round(ref_nll - our_nll, 2),
        "reference_seconds": round(ref_seconds, 1),
        "ours_seconds": round(our_seconds, 1),
        "torch_threads": torch.get_num_threads(),
    }
    print(f"MNIST split: {len(x_train)} train / {len(x_held)} held-out images, {args.epochs} epochs, IWAE k={args.k}")
    print("| model | held-out NLL (nats) | train time (s) |")
    print("|---|---|---|")
    print(f"| pytorch/examples MLP 784-400-20 | {ref_nll:.2f} | {ref_seconds:.1f} |")
    print(f"| ours: conv, {args.latent_dim}-d latent | {our_nll:.2f} | {our_seconds:.1f} |")
    print(f"ours is better by {ref_nll - our_nll:.2f} nats")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
