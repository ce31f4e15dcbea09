"""The command line of training: `python -m vae.train --dataset SPEC --out models/NAME.pt [options]`."""

from __future__ import annotations

import argparse
import sys

from vae.errors import VAEError
from vae.models.architecture import DEFAULT_LEVELS, TEXT_ARCHS
from vae.models.checkpoints import read_checkpoint
from vae.training.config import TrainConfig
from vae.training.distributed import is_main_process
from vae.training.loop import train
from vae.training.precision import LAYOUTS, PRECISIONS


def build_parser(sweep: bool = False) -> argparse.ArgumentParser:
    """`vae.train`'s options; with `sweep`, `vae.sweep`'s: a name, a folder and the swept values
    instead of --out and --resume."""
    if sweep:
        p = argparse.ArgumentParser(
            prog="python -m vae.sweep",
            description="Train one model per β (or per free-bits value), one after another, as NAME-VALUE.pt.",
        )
        p.add_argument("--name", required=True, help="the sweep's name: models are written as NAME-VALUE.pt")
        p.add_argument("--out-dir", default="models", help="folder for the models (default: models)")
        swept = p.add_mutually_exclusive_group(required=True)
        swept.add_argument("--betas", type=float, nargs="+", help="one model per β, e.g. 0.5 1 2 4 8")
        swept.add_argument("--free-bits-values", type=float, nargs="+", help="one model per free-bits value")
    else:
        p = argparse.ArgumentParser(prog="python -m vae.train", description="Train a VAE and write a checkpoint.")
    p.add_argument(
        "--dataset",
        default="digits",
        help="digits | sprites | mnist | fashion-mnist | a folder; text: fortunes (default: digits)",
    )
    if not sweep:
        p.add_argument("--out", required=True, help="checkpoint file to write, e.g. models/mine.pt")
    p.add_argument(
        "--data-dir", help="folder with IDX files for mnist / fashion-mnist (default: $VAE_DATA_DIR or data/)"
    )
    p.add_argument("--image-size", type=int, help="image side for sprites and image folders")
    p.add_argument("--channels", type=int, choices=(1, 3), help="1 (grey) or 3 (RGB) for image folders")
    p.add_argument(
        "--n",
        "--num-images",
        dest="n",
        type=int,
        help="how many sprites to generate (default 10000; under torchrun write --num-images: it reads --n as its own)",
    )
    p.add_argument(
        "--arch",
        choices=("mlp", "conv", "hierarchical", *TEXT_ARCHS),
        default="conv",
        help="conv or mlp: one latent vector; hierarchical: a top-down VAE with several levels (see --levels); "
        "gru or lstm: a sentence VAE for text datasets",
    )
    p.add_argument("--latent-dim", type=int, default=16, help="size of the latent vector (flat archs)")
    p.add_argument(
        "--levels",
        type=int,
        nargs="+",
        default=list(DEFAULT_LEVELS),
        help="hierarchical: the size of each level, the top one first (2 to 5 levels; default: 8 16)",
    )
    p.add_argument(
        "--hidden",
        "--hidden-dim",
        dest="hidden",
        type=int,
        nargs="+",
        default=[256],
        help="dense layer sizes (default: 256); hierarchical: the width of its states; gru/lstm: the recurrent "
        "state size (the first size)",
    )
    p.add_argument("--embed-dim", type=int, default=128, help="gru/lstm: size of the word embeddings (default 128)")
    p.add_argument(
        "--word-dropout",
        type=float,
        default=0.0,
        help="gru/lstm: probability that a decoder input word becomes <unk> in training (Bowman et al. 2016)",
    )
    p.add_argument(
        "--min-count",
        type=int,
        default=2,
        help="text: a word enters the vocabulary when seen this often in the training split (default 2)",
    )
    p.add_argument("--conv-channels", type=int, nargs="+", help="conv widths (default: derived from image size)")
    p.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli")
    p.add_argument("--conditional", action="store_true", help="condition encoder and decoder on the label")
    p.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (β-VAE)")
    p.add_argument("--warmup-epochs", type=float, default=0.0, help="KL warm-up: β rises linearly over these epochs")
    p.add_argument(
        "--tc-beta",
        type=float,
        default=1.0,
        help="weight of the total correlation within the KL (β-TCVAE; 1 = plain VAE, e.g. 6 for disentangling)",
    )
    p.add_argument("--free-bits", type=float, default=0.0, help="minimum KL per latent dimension, in nats")
    p.add_argument("--epochs", type=int, default=20, help="total epochs (with --resume: the new total)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--held-out", type=float, default=0.2, help="fraction of the data held out (default 0.2)")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="bf16 autocast or fp32 (auto: bf16 on CUDA, and for conv models on CPUs with native bf16)",
    )
    p.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="auto",
        help="memory layout of conv weights and data (auto: channels-last with bf16 on the CPU)",
    )
    p.add_argument("--iwae-k", type=int, default=100, help="importance samples for the final NLL (0: skip)")
    if not sweep:
        p.add_argument("--resume", action="store_true", help="continue training the checkpoint at --out")
    p.add_argument("--slim", action="store_true", help="leave the optimizer state out of the final file")
    p.add_argument(
        "--half-weights",
        action="store_true",
        help="round the final weights to float16 and store them so (half the file; the final metrics "
        "are measured on the rounded weights)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def _saved_state(path: str) -> str:
    try:
        epochs = read_checkpoint(path)["meta"].get("epochs_done", 0)
    except VAEError:
        return f"nothing was saved at {path}"
    return f"{path} holds epoch {epochs}; continue with --resume"


def configs_from_args(args: argparse.Namespace) -> tuple[TrainConfig, dict]:
    """(training options, model options) from parsed `vae.train` arguments."""
    cfg = TrainConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        image_size=args.image_size,
        channels=args.channels,
        n=args.n,
        held_out=args.held_out,
        split_seed=args.split_seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        beta=args.beta,
        warmup_epochs=args.warmup_epochs,
        free_bits=args.free_bits,
        tc_beta=args.tc_beta,
        word_dropout=args.word_dropout,
        min_count=args.min_count,
        seed=args.seed,
        device=args.device,
        precision=args.precision,
        layout=args.layout,
        iwae_k=args.iwae_k,
        slim=args.slim,
        half_weights=args.half_weights,
    )
    if args.arch == "hierarchical":
        model_config = {
            "arch": args.arch,
            "level_dims": tuple(args.levels),
            "hidden_dim": args.hidden[0],
            "likelihood": args.likelihood,
            "conditional": args.conditional,
        }
    elif args.arch in TEXT_ARCHS:
        model_config = {
            "arch": args.arch,
            "latent_dim": args.latent_dim,
            "embed_dim": args.embed_dim,
            "hidden_dim": args.hidden[0],
            "conditional": args.conditional,
        }
    else:
        model_config = {
            "arch": args.arch,
            "latent_dim": args.latent_dim,
            "hidden_dims": tuple(args.hidden),
            "likelihood": args.likelihood,
            "conditional": args.conditional,
        }
    if args.conv_channels and args.arch not in TEXT_ARCHS:
        model_config["conv_channels"] = tuple(args.conv_channels)
    return cfg, model_config


def options_error(args: argparse.Namespace) -> str | None:
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0 or args.beta < 0 or args.tc_beta < 0:
        return "error: --epochs and --batch-size must be positive, --lr > 0, --beta and --tc-beta >= 0"
    if not 0.0 <= args.word_dropout < 1.0 or args.min_count < 1 or args.embed_dim < 1:
        return "error: --word-dropout must be in [0, 1), --min-count and --embed-dim at least 1"
    if args.arch in TEXT_ARCHS and args.conditional:
        return "error: --conditional is for image VAEs: a sentence VAE (--arch gru|lstm) is unconditional"
    if args.arch in TEXT_ARCHS and args.tc_beta != 1.0:
        return "error: --tc-beta (β-TCVAE) is for image VAEs: a sentence VAE takes --beta, --warmup-epochs, --free-bits"
    return None


def summary(out, meta: dict) -> str:
    m = meta["metrics"]
    if "perplexity" in m:
        return (
            f"saved {out}: held-out ELBO {m['elbo']:.2f} nats per sentence, NLL (IWAE k={m['iwae_k']}) "
            f"{m['iwae_nll']:.2f} nats = perplexity {m['perplexity']:.1f} per word, KL {m['kl']:.2f}, "
            f"active units {m['active_units']}/{len(m['activity'])}"
        )
    return (
        f"saved {out}: held-out ELBO {m['elbo']:.2f} nats, NLL (IWAE k={m['iwae_k']}) {m['iwae_nll']:.2f} nats "
        f"({m['bits_per_dim']:.3f} bits/dim), active units {m['active_units']}/{len(m['activity'])}"
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg, model_config = configs_from_args(args)
    if error := options_error(args):
        print(error, file=sys.stderr)
        return 2
    try:
        _, meta = train(cfg, args.out, model_config, resume=args.resume, progress=not args.quiet)
    except (VAEError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: " + _saved_state(args.out), file=sys.stderr)
        return 130
    if not args.quiet and is_main_process():  # only rank 0 measures the final metrics
        print(summary(args.out, meta), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
