"""A sentence VAE against a plain language model of the same size, on the same held-out sentences.

    python -m bench.text_report models/text-fortunes.pt [--also models/collapsed.pt ...] [--json FILE]

Trains the language model (`vae.analysis.language_model`: the VAE decoder's embedding and
state sizes, no z) on the checkpoint's training split with its vocabulary, epochs, batch size,
learning rate and seed, then prints one table: per model the held-out ELBO, the NLL per
sentence (IWAE bound for a VAE, exact for the language model), the per-word perplexity, the
KL, the active units and I(x; z). Then 10 greedy sentences from the prior and greedy
interpolations between held-out sentences. `--also` adds rows for other text checkpoints of
the same data (e.g. one trained without annealing and word dropout: posterior collapse)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from vae.analysis.language_model import evaluate_language_model, matching_language_model, train_language_model
from vae.analysis.metrics import evaluate_model
from vae.data.source import dataset_for_checkpoint
from vae.models.checkpoints import load_checkpoint
from vae.training.config import TrainConfig
from vae.training.text import checkpoint_ids

COLUMNS = ("ELBO", "NLL (nats/sentence)", "perplexity", "KL", "active units", "I(x; z)")


def vae_row(path: str, k: int, x_held: torch.Tensor | None = None) -> tuple[dict, object, dict]:
    """(figures, model, meta) of a text checkpoint: its recorded metrics when they used `k`
    importance samples, else measured again on its held-out sentences."""
    model, meta = load_checkpoint(path)
    metrics = meta.get("metrics") or {}
    if metrics.get("iwae_k") != k or "perplexity" not in metrics:
        if x_held is None:
            data, _, held_idx = dataset_for_checkpoint(meta)
            x_held = checkpoint_ids(data, meta).images[held_idx]
        metrics = evaluate_model(model, x_held, iwae_k=k, seed=0)
    row = {
        "model": f"VAE {Path(path).name}",
        "elbo": metrics["elbo"],
        "nll": metrics["iwae_nll"],
        "perplexity": metrics["perplexity"],
        "elbo_perplexity": metrics["elbo_perplexity"],
        "kl": metrics["kl"],
        "active_units": metrics["active_units"],
        "latent_dim": len(metrics["activity"]),
        "mutual_information": metrics["mutual_information"],
        "iwae_k": k,
        "training": {key: meta["training"][key] for key in ("epochs", "beta", "warmup_epochs", "free_bits")}
        | {"word_dropout": meta["training"].get("word_dropout", 0.0)},
    }
    return row, model, meta


def language_model_row(model, meta: dict, data, train_idx, held_idx) -> dict:
    """The matching language model trained with the VAE's budget; its held-out perplexity is
    measured after every epoch too, so the table can say how it would fare with early stopping
    (an optimistic figure: the epoch is picked on the held-out sentences themselves)."""
    cfg = TrainConfig.from_dict(meta["training"])
    lm = matching_language_model(model)
    x_held = data.images[held_idx]
    held_by_epoch: list[dict] = []

    def on_epoch(record: dict) -> None:
        held_by_epoch.append(evaluate_language_model(lm, x_held))
        print(
            f"  language model epoch {record['epoch']}: train NLL {record['train_nll']:.2f}, "
            f"held-out perplexity {held_by_epoch[-1]['perplexity']:.2f}",
            file=sys.stderr,
        )

    started = time.perf_counter()
    history = train_language_model(
        lm, data.images[train_idx], cfg.epochs, cfg.batch_size, cfg.lr, cfg.seed, on_epoch=on_epoch
    )
    seconds = time.perf_counter() - started
    held = held_by_epoch[-1]  # the trained model's, measured after its last epoch
    by_epoch = [h["perplexity"] for h in held_by_epoch]
    best = min(range(len(by_epoch)), key=by_epoch.__getitem__)
    return {
        "model": f"GRU language model ({model.config.arch}, same sizes, no z)",
        "elbo": None,
        "nll": held["nll"],
        "perplexity": held["perplexity"],
        "kl": None,
        "active_units": None,
        "mutual_information": None,
        "train_seconds": seconds,
        "final_train_nll": history[-1]["train_nll"],
        "perplexity_by_epoch": by_epoch,
        "best_epoch": best + 1,
    }


def _cell(value, digits: int = 2) -> str:
    if value is None:
        return "–"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def table(rows: list[dict]) -> str:
    lines = ["| model | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for r in rows:
        active = None if r["active_units"] is None else f"{r['active_units']}/{r['latent_dim']}"
        cells = [_cell(r["elbo"]), _cell(r["nll"]), _cell(r["perplexity"]), _cell(r["kl"]), active or "–"]
        lines.append(f"| {r['model']} | " + " | ".join([*cells, _cell(r["mutual_information"])]) + " |")
    return "\n".join(lines)


@torch.no_grad()
def prior_samples(model, n: int = 10, seed: int = 0) -> list[str]:
    return model.vocabulary.decode_batch(model.sample(n, generator=torch.Generator().manual_seed(seed)))


@torch.no_grad()
def interpolations(model, x_held: torch.Tensor, pairs: int = 3, steps: int = 5, seed: int = 0) -> list[list[str]]:
    """Greedy sentences along straight lines between the means of random held-out pairs."""
    pick = torch.randperm(len(x_held), generator=torch.Generator().manual_seed(seed))[: 2 * pairs]
    mu = model.encode(x_held[pick])[0]
    t = torch.linspace(0, 1, steps)[:, None]
    return [model.vocabulary.decode_batch(model.decode((1 - t) * mu[2 * i] + t * mu[2 * i + 1])) for i in range(pairs)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.text_report", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="a sentence VAE checkpoint, e.g. models/text-fortunes.pt")
    p.add_argument("--also", nargs="*", default=[], help="more text checkpoints of the same data (rows of the table)")
    p.add_argument("--k", type=int, default=100, help="importance samples for the VAEs' NLL (default 100)")
    p.add_argument("--json", help="also write the figures, samples and interpolations to this file")
    args = p.parse_args(argv)

    model, meta = load_checkpoint(args.checkpoint)
    data, train_idx, held_idx = dataset_for_checkpoint(meta)
    data = checkpoint_ids(data, meta)
    x_held = data.images[held_idx]
    rows = [vae_row(args.checkpoint, args.k, x_held)[0]]
    rows += [vae_row(path, args.k)[0] for path in args.also]
    rows.append(language_model_row(model, meta, data, train_idx, held_idx))
    samples = prior_samples(model)
    lines = interpolations(model, x_held)

    lm_ppl = rows[-1]["perplexity"]
    print(
        f"{meta['dataset']['spec']}: {len(train_idx)} training / {len(held_idx)} held-out sentences, "
        f"vocabulary {model.config.vocab_size}, IWAE k={args.k}; perplexity per word, <eos> counted"
    )
    print(table(rows))
    print(f"VAE perplexity / language model's: {rows[0]['perplexity'] / lm_ppl:.3f}")
    lm = rows[-1]
    best_ppl = lm["perplexity_by_epoch"][lm["best_epoch"] - 1]
    print(
        f"the language model's best held-out epoch: {lm['best_epoch']} of {len(lm['perplexity_by_epoch'])}, "
        f"perplexity {best_ppl:.2f} (VAE / that: {rows[0]['perplexity'] / best_ppl:.3f})"
    )
    print("\nprior samples (greedy, z ~ N(0, I)):")
    print("\n".join(f"  {s}" for s in samples))
    for i, path in enumerate(lines, 1):
        print(f"\ninterpolation {i}:")
        print("\n".join(f"  {s}" for s in path))
    if args.json:
        figures = {
            "checkpoint": args.checkpoint,
            "train_sentences": len(train_idx),
            "heldout_sentences": len(held_idx),
            "vocab_size": model.config.vocab_size,
            "rows": rows,
            "perplexity_ratio": rows[0]["perplexity"] / lm_ppl,
            "prior_samples": samples,
            "interpolations": lines,
            "torch_threads": torch.get_num_threads(),
        }
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
