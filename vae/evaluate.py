"""Held-out metrics of a model: `python -m vae.evaluate CKPT|BUNDLE [--json] [--k K]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from vae.analysis.clusters import agreement, cluster, linear_probe
from vae.analysis.disentanglement import mig
from vae.analysis.metrics import evaluate_model
from vae.devices import pick_device
from vae.errors import VAEError
from vae.latent.encoding import encode_dataset
from vae.models.interface import is_conditional, is_text
from vae.opened import open_model
from vae.training.text import with_ids

PROBE_TRAIN = 5000  # training images for the linear probe


def latent_space_metrics(model, data, train_idx, held_idx, seed: int = 0) -> dict:
    """What the latent means say about known structure: `mig` (data with factors), `nmi` and
    `ari` of k-means with one cluster per class, and `probe_accuracy` of a logistic regression
    trained on training-image means and scored on held-out ones (data with labels)."""
    conditional = is_conditional(model) and data.labels is not None
    held_mu = encode_dataset(model, data.images[held_idx], data.labels[held_idx] if conditional else None)[0].numpy()
    found: dict = {}
    if data.factors is not None and held_mu.shape[1] >= 2:
        found["mig"] = mig(held_mu, data.factors[held_idx].numpy()).mig
    if data.labels is not None and len(torch.unique(data.labels[held_idx])) >= 2 and len(held_idx) >= 3:
        held_labels = data.labels[held_idx].numpy()
        k = min(len(np.unique(held_labels)), len(held_mu))
        result = agreement(held_labels, cluster(held_mu, k, "kmeans", seed))
        found.update(nmi=result.nmi, ari=result.ari)
        train_index = train_idx[:PROBE_TRAIN]
        train_labels = data.labels[train_index]
        # a bundle's data sample is all held out: no separate images to train a probe on
        if len(torch.unique(train_labels)) >= 2 and not torch.isin(train_index, held_idx).any():
            train_mu = encode_dataset(model, data.images[train_index], train_labels if conditional else None)[0]
            found["probe_accuracy"] = linear_probe(train_mu.numpy(), train_labels.numpy(), held_mu, held_labels, seed)
    return found


def evaluate_checkpoint(
    path: str, iwae_k: int = 100, data_dir: str | None = None, device: str = "auto", seed: int = 0
) -> dict:
    """Load the model (checkpoint or bundle) and its data, and compute the metrics on its
    held-out split (a bundle: its data sample, or the named dataset's held-out fifth)."""
    opened = open_model(path, "cpu" if Path(path).is_dir() else pick_device(device))  # a bundle: onnxruntime, CPU
    model, info = opened.model, opened.info
    data, train_idx, held_idx = opened.data(data_dir)
    if is_text(model):  # the sentences as the model's own ids
        data = with_ids(data, model.vocabulary, model.sequence_length)
    labels = data.labels[held_idx] if (data.labels is not None and is_conditional(model)) else None
    metrics = evaluate_model(model, data.images[held_idx], labels, iwae_k=iwae_k, seed=seed)
    if hasattr(model, "cpu"):
        model.cpu()
    structure = latent_space_metrics(model, data, train_idx, held_idx, seed)
    return {
        "checkpoint": str(path),
        "dataset": info.data.spec,
        "epochs": info.epochs_done if info.is_native else None,
        **metrics,
        **structure,
    }


def format_report(m: dict) -> str:
    active = ", ".join(str(d) for d in m["active_dims"]) or "none"
    kl = "  ".join(f"{v:.2f}" for v in m["kl_per_dim"])
    text = "perplexity" in m
    unit = "sentences" if text else "images"
    nll_line = (
        f"NLL (IWAE k={m['iwae_k']})  {m['iwae_nll']:.2f} nats per sentence  = perplexity {m['perplexity']:.2f} "
        f"per word ({m['tokens']} words and <eos>; the ELBO's: {m['elbo_perplexity']:.2f})"
        if text
        else f"NLL (IWAE k={m['iwae_k']})  {m['iwae_nll']:.2f} nats  = {m['bits_per_dim']:.4f} bits/dim"
    )
    return "\n".join(
        [
            f"model            {m['checkpoint']}  ({m['dataset']}, "
            + (f"{m['epochs']} epochs, " if m["epochs"] is not None else "a bundle, ")
            + f"{m['n']} held-out {unit})",
            f"ELBO             {m['elbo']:.2f} nats  (reconstruction {m['recon_ll']:.2f}, KL {m['kl']:.2f})",
            nll_line,
            f"active units     {m['active_units']}/{len(m['activity'])}  (dims {active})",
            f"KL per dim       {kl}",
        ]
        + (
            [
                "KL per level     "
                + ", ".join(
                    f"{lv['name']} {lv['kl']:.2f} ({lv['active_units']}/{lv['size']} active)" for lv in m["levels"]
                )
            ]
            if len(m.get("levels", [])) > 1
            else []
        )
        + ([f"I(x; z)          {m['mutual_information']:.2f} nats"] if "mutual_information" in m else [])
        + ([f"MIG              {m['mig']:.3f}"] if "mig" in m else [])
        + ([f"k-means vs labels NMI {m['nmi']:.3f}, ARI {m['ari']:.3f}"] if "nmi" in m else [])
        + ([f"linear probe     {100 * m['probe_accuracy']:.1f} % held-out accuracy"] if "probe_accuracy" in m else [])
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m vae.evaluate", description="Evaluate a checkpoint or a bundle on its held-out split."
    )
    p.add_argument("checkpoint", help="a .pt checkpoint or a bundle folder")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--k", type=int, default=100, help="importance samples for the IWAE bound (default 100)")
    p.add_argument("--data-dir", help="folder with the model's IDX data (default: $VAE_DATA_DIR or as recorded)")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.k < 1:
        print("error: --k must be at least 1", file=sys.stderr)
        return 2
    try:
        metrics = evaluate_checkpoint(args.checkpoint, args.k, args.data_dir, args.device, args.seed)
    except VAEError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(metrics, indent=2) if args.json else format_report(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
