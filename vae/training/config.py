"""What a training run is asked to do (`TrainConfig`) and the data and metadata it starts from."""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from vae.data.datasets import Dataset, load_dataset


@dataclass(frozen=True)
class TrainConfig:
    dataset: str = "digits"
    data_dir: str | None = None
    image_size: int | None = None
    channels: int | None = None
    n: int | None = None  # number of generated sprites
    held_out: float = 0.2
    split_seed: int = 0
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    warmup_epochs: float = 0.0  # KL weight rises linearly from 0 to beta over these epochs
    free_bits: float = 0.0  # nats per latent dimension (Kingma et al. 2016)
    tc_beta: float = 1.0  # weight of the total-correlation part of the KL (β-TCVAE, Chen et al. 2018)
    word_dropout: float = 0.0  # text: decoder input words replaced by <unk> (Bowman et al. 2016)
    min_count: int = 2  # text: a word enters the vocabulary when seen this often in the training split
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16: the dtype of matmuls and convolutions (autocast)
    layout: str = "auto"  # auto | contiguous | channels-last: conv weights and data in memory
    iwae_k: int = 100  # importance samples for the final held-out NLL; 0 skips it
    slim: bool = False  # drop the optimizer state from the final file (smaller, resume restarts Adam)
    half_weights: bool = False  # final weights rounded to float16 and stored so: half the file
    sweep: str | None = None  # the sweep this run belongs to (its members are compared together)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def dataset_meta(data: Dataset, cfg: TrainConfig, held_idx: torch.Tensor) -> dict:
    options = dict(data.options)
    if cfg.data_dir and "data_dir" not in options and not Path(cfg.dataset).exists():
        options["data_dir"] = cfg.data_dir
    return {
        "dataset": {
            "spec": data.spec,
            "options": options,
            "num_examples": len(data),
            "label_names": list(data.label_names),
            "factor_names": list(data.factor_names),
        },
        "split": {
            "held_out_fraction": cfg.held_out,
            "seed": cfg.split_seed,
            "held_out_indices": held_idx.to(torch.int32),
        },
        "image_shape": list(data.image_shape),
        "label_names": list(data.label_names),
        "upload_style": dict(data.upload_style),
    }


def load_training_data(cfg: TrainConfig) -> Dataset:
    data = load_dataset(cfg.dataset, cfg.data_dir, cfg.image_size, cfg.channels, cfg.n)
    if data.skipped_files:
        print(f"note: skipped {data.skipped_files} unreadable image file(s) in {cfg.dataset}", file=sys.stderr)
    return data
