"""MIG of one training recipe over several seeds, and their median.

    python -m bench.mig_seeds [--seeds 0 1 2] [--out-dir DIR] -- TRAIN_ARGS...

TRAIN_ARGS are `python -m vae.train` options for data with known factors (sprites), e.g.
`--dataset sprites --n 60000 --arch mlp --hidden 512 512 --latent-dim 6 --tc-beta 6
--epochs 20`. Each seed trains its own checkpoint (`DIR/seed-N.pt`, default
bench/results/mig/) with `--seed N`; the data and its split stay the same, so only the
weight initialisation, the batch order and the sampling noise differ. MIG is computed on
the held-out split as the Analyze page and `python -m vae.evaluate` compute it.
Published disentanglement results vary more with the seed than with the method (Locatello
et al. 2019), hence the median rather than the best run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from vae.analysis.disentanglement import mig
from vae.data.source import dataset_for_checkpoint
from vae.latent.encoding import encode_dataset
from vae.models.checkpoints import load_checkpoint
from vae.training.cli import main as train_main

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "mig"
# Options this script sets per seed; given in TRAIN_ARGS they would be silently overridden.
RESERVED = ("--seed", "--out", "--resume")


def seed_result(checkpoint: Path) -> dict:
    """MIG and its parts for one trained checkpoint, on its held-out split."""
    model, meta = load_checkpoint(checkpoint, device="cpu")
    data, _, held_idx = dataset_for_checkpoint(meta)
    if data.factors is None:
        raise SystemExit(f"error: {meta['dataset']['spec']} has no known factors: MIG needs data like sprites")
    mu = encode_dataset(model, data.images[held_idx])[0].numpy()
    result = mig(mu, data.factors[held_idx].numpy())
    metrics = meta.get("metrics") or {}
    return {
        "checkpoint": str(checkpoint),
        "mig": result.mig,
        "gaps": dict(zip(data.factor_names, result.gaps.round(4).tolist())),
        "top_dims": dict(zip(data.factor_names, result.top_dims.tolist())),
        "heldout_elbo": metrics.get("elbo"),
        "active_units": metrics.get("active_units"),
        "epochs": meta.get("epochs_done"),
    }


def run(seeds: list[int], train_args: list[str], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for seed in seeds:
        checkpoint = out_dir / f"seed-{seed}.pt"
        started = time.perf_counter()
        code = train_main([*train_args, "--seed", str(seed), "--out", str(checkpoint), "--iwae-k", "0", "--quiet"])
        if code != 0:
            raise SystemExit(f"error: training seed {seed} failed (exit {code}); the seeds before it are in {out_dir}")
        found = {"seed": seed, "train_seconds": time.perf_counter() - started, **seed_result(checkpoint)}
        runs.append(found)
        gaps = "  ".join(f"{name} {gap:.2f}" for name, gap in found["gaps"].items())
        print(f"seed {seed}: MIG {found['mig']:.3f}  ({gaps})  {found['train_seconds']:.0f} s", flush=True)
    summary = {
        "train_args": train_args,
        "seeds": seeds,
        "runs": runs,
        "median_mig": float(np.median([r["mig"] for r in runs])),
    }
    (out_dir / "mig_seeds.json").write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, train_args = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(prog="python -m bench.mig_seeds", description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(ours)
    if not train_args:
        p.error("give the training options after `--`, e.g. -- --dataset sprites --epochs 20")
    clash = [a for a in train_args if a.split("=")[0] in RESERVED]
    if clash:
        p.error(f"{', '.join(clash)}: set per seed by this script (use --seeds and --out-dir)")
    summary = run(args.seeds, train_args, args.out_dir)
    print(f"median MIG over {len(args.seeds)} seeds: {summary['median_mig']:.3f}  ({args.out_dir / 'mig_seeds.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
