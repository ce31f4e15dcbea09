"""Train a VAE: `python -m vae.train --dataset SPEC --out models/NAME.pt [options]`.

The whole training split lives in one tensor on the device and is shuffled by index each
epoch (no DataLoader, no per-sample Python). Every epoch ends with the held-out ELBO and an
atomic checkpoint, so a crash or a NaN never costs more than the current epoch.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from vae.checkpoints import model_from_payload, read_checkpoint, save_checkpoint
from vae.data import Dataset, dataset_for_checkpoint, load_dataset, split_indices
from vae.devices import pick_device
from vae.distributed import Group, Objective, is_main_process, join, leave
from vae.errors import TrainingError, VAEError
from vae.metrics import elbo_per_example, evaluate_model
from vae.model import VAE, VAEConfig
from vae.precision import (
    LAYOUTS,
    PRECISIONS,
    match_optimizer_layout,
    memory_format,
    use_bf16,
    use_channels_last,
)


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
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16: the dtype of matmuls and convolutions (autocast)
    layout: str = "auto"  # auto | contiguous | channels-last: conv weights and data in memory
    iwae_k: int = 100  # importance samples for the final held-out NLL; 0 skips it
    slim: bool = False  # drop the optimizer state from the final file (smaller, resume restarts Adam)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def _dataset_meta(data: Dataset, cfg: TrainConfig, held_idx: torch.Tensor) -> dict:
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


def _load_data(cfg: TrainConfig) -> Dataset:
    data = load_dataset(cfg.dataset, cfg.data_dir, cfg.image_size, cfg.channels, cfg.n)
    if data.skipped_files:
        print(f"note: skipped {data.skipped_files} unreadable image file(s) in {cfg.dataset}", file=sys.stderr)
    return data


def train(
    cfg: TrainConfig,
    out: str | Path,
    model_config: dict | None = None,
    resume: bool = False,
    progress: bool = True,
    on_epoch: Callable[[dict, VAE], None] | None = None,
) -> tuple[VAE, dict]:
    """Train (or with `resume`, continue the file at `out` up to `cfg.epochs`). Returns the
    model and the metadata written with it. `model_config` holds VAEConfig fields other than
    those the data fixes (image_shape, num_classes). `on_epoch(record, model)` is called after
    each epoch's checkpoint is written."""
    out = Path(out)
    group, device_name = join(cfg.device)
    device = pick_device(device_name)
    progress = progress and group.is_main
    optimizer_state = None
    if resume:
        payload = read_checkpoint(out)
        meta = payload["meta"]
        data_dir = cfg.data_dir  # a new --data-dir wins over the recorded folder (data may have moved)
        # The rest of the recorded training setup is kept, so the run continues as it began.
        cfg = TrainConfig.from_dict(
            {
                **meta["training"],
                "epochs": cfg.epochs,
                "device": cfg.device,
                "precision": cfg.precision,  # like the device, choices of this machine
                "layout": cfg.layout,
                "iwae_k": cfg.iwae_k,
                "slim": cfg.slim,
                "data_dir": data_dir or meta["training"].get("data_dir"),
            }
        )
        model = model_from_payload(payload, out)
        optimizer_state = payload.get("optimizer")
        data, train_idx, held_idx = dataset_for_checkpoint(meta, data_dir)
        if meta.get("epochs_done", 0) >= cfg.epochs and meta.get("metrics") is not None:
            raise TrainingError(
                f"{out} already has {meta['epochs_done']} epochs: pass a larger --epochs to train further"
            )
        meta["metrics"] = None  # the final metrics belong to the model as it was: measured again at the end
    else:
        data = _load_data(cfg)
        options = dict(model_config or {})
        if options.get("conditional") and data.labels is None:
            raise TrainingError(f"--conditional needs labels, and {cfg.dataset} has none")
        config = VAEConfig(image_shape=data.image_shape, num_classes=data.num_classes, **options)
        torch.manual_seed(cfg.seed)  # weight initialisation
        model = VAE(config)
        train_idx, held_idx = split_indices(len(data), cfg.held_out, cfg.split_seed)
        meta = {
            **_dataset_meta(data, cfg, held_idx),
            "training": asdict(cfg),
            "epochs_done": 0,
            "history": [],
            "metrics": None,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    bf16 = use_bf16(cfg.precision, device, model.config.arch, min(model.config.image_shape[1:]))
    channels_last = use_channels_last(cfg.layout, device, model.config.arch, bf16)
    layout = memory_format(channels_last)
    model.to(device, memory_format=layout).train()
    labels = data.labels if model.config.conditional else None
    x_train = data.images[train_idx].to(device, memory_format=layout)
    y_train = labels[train_idx].to(device) if labels is not None else None
    x_held = data.images[held_idx]
    y_held = labels[held_idx] if labels is not None else None
    objective = Objective(model)
    if group.active:
        objective = DistributedDataParallel(objective, device_ids=[device.index] if device.type == "cuda" else None)
    # One fused kernel per step instead of ~10 ops per parameter tensor (+3-12 % in a bare CPU loop).
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=device.type in ("cpu", "cuda"))
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
        match_optimizer_layout(optimizer)  # the saved run may have used the other layout
    meta["training"] = asdict(cfg)
    meta["device"] = str(device)
    steps_per_epoch = math.ceil(len(x_train) / cfg.batch_size)
    meta["precision"] = "bf16" if bf16 else "fp32"
    meta["layout"] = "channels-last" if channels_last else "contiguous"

    for epoch in range(meta["epochs_done"], cfg.epochs):
        started = time.perf_counter()
        # Shuffles and noise come from generators seeded by (seed, epoch): resuming repeats them.
        order_gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        noise_gen = torch.Generator(device=device).manual_seed(cfg.seed * 100_003 + epoch + 1)
        order = torch.randperm(len(x_train), generator=order_gen).to(device)
        sums = torch.zeros(4, device=device)  # loss, elbo, recon_ll, kl (summed over batches × size)
        seen = 0  # images this rank trained on this epoch
        bar = tqdm(
            range(steps_per_epoch),
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not progress,
            leave=False,
            dynamic_ncols=True,
            file=sys.stderr,
        )
        step_started = time.perf_counter()  # the optimisation steps alone (images/s), not the held-out pass
        for step in bar:
            batch = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            if group.active:  # equal shards, so DDP's average of rank means is the batch mean
                batch = batch[: len(batch) - len(batch) % group.world_size]
                if len(batch) == 0:
                    continue
            # the noise of the whole global batch, so every rank slices the same draws a single process makes
            noise = torch.randn((len(batch), model.config.latent_dim), generator=noise_gen, device=device)
            index, noise = group.shard(batch), group.shard(noise)
            xb = x_train[index]
            yb = y_train[index] if y_train is not None else None
            beta = cfg.beta
            if cfg.warmup_epochs > 0:
                beta *= min(1.0, (epoch * steps_per_epoch + step + 1) / (cfg.warmup_epochs * steps_per_epoch))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                terms = objective(
                    xb,
                    yb,
                    beta=beta,
                    free_bits=cfg.free_bits,
                    tc_penalty=(cfg.tc_beta - 1.0) * beta / max(cfg.beta, 1e-12),  # warm-up scales it too
                    dataset_size=len(x_train),
                    noise=noise,
                )
            optimizer.zero_grad(set_to_none=True)
            terms.loss.backward()
            optimizer.step()
            sums += torch.stack([terms.loss, terms.elbo, terms.recon_ll, terms.kl]).detach() * len(index)
            seen += len(index)
            if step % 20 == 0 or step == steps_per_epoch - 1:
                # one sync per 20 steps, also where NaN is caught; averaged over ranks so all stop together
                loss_now = float(group.sum(terms.loss.detach().reshape(1))) / group.world_size
                if not math.isfinite(loss_now):
                    bar.close()
                    raise TrainingError(
                        f"the loss became {loss_now} in epoch {epoch + 1}, step {step + 1}: training stopped; "
                        + (
                            f"{out} still holds the last good model (epoch {meta['epochs_done']}). "
                            if meta["epochs_done"]
                            else "nothing was saved. "
                        )
                        + "Try a lower --lr or a smaller --beta"
                    )
                bar.set_postfix(loss=f"{loss_now:.2f}", beta=f"{beta:.2f}")
        bar.close()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        train_seconds = time.perf_counter() - step_started
        sums = group.sum(sums)
        seen = int(group.sum(torch.tensor([float(seen)], device=device)).item())
        if not torch.isfinite(sums).all():
            raise TrainingError(
                f"the loss became non-finite in epoch {epoch + 1}: training stopped; "
                f"{out} keeps the last good model. Try a lower --lr"
            )
        train_loss, train_elbo, train_recon, train_kl = (sums / max(seen, 1)).tolist()
        model.eval()
        held = _heldout_means(model, x_held, y_held, group, device)
        model.train()
        record = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "train_elbo": train_elbo,
            "train_recon_ll": train_recon,
            "train_kl": train_kl,
            "heldout_elbo": held["elbo"],
            "heldout_recon_ll": held["recon_ll"],
            "heldout_kl": held["kl"],
            "kl_per_dim": held["kl_per_dim"],
            "beta": beta,
            "seconds": time.perf_counter() - started,
            "train_seconds": train_seconds,
            "images_per_second": seen / max(train_seconds, 1e-9),
        }
        if not math.isfinite(record["heldout_elbo"]):
            raise TrainingError(
                f"the held-out ELBO became non-finite after epoch {epoch + 1}: training stopped; "
                f"{out} keeps the last good model. Try a lower --lr"
            )
        meta["history"].append(record)
        meta["epochs_done"] = epoch + 1
        if group.is_main:  # one writer; the others wait so no rank runs ahead of the file
            save_checkpoint(out, model, meta, optimizer.state_dict())
        group.barrier()
        if progress:
            print(
                f"epoch {epoch + 1}/{cfg.epochs}  train loss {train_loss:.2f}  held-out ELBO {record['heldout_elbo']:.2f} "
                f"(recon {record['heldout_recon_ll']:.2f}, KL {record['heldout_kl']:.2f})  {record['seconds']:.1f} s  ({record['images_per_second']:,.0f} images/s)",
                file=sys.stderr,
            )
        if on_epoch is not None and group.is_main:
            on_epoch(record, model)  # the model in train mode: callers switch to eval and back

    model.eval().to(memory_format=torch.contiguous_format)  # callers get the standard layout
    if group.is_main:
        meta["metrics"] = evaluate_model(model, x_held, y_held, iwae_k=cfg.iwae_k, seed=cfg.seed)
        save_checkpoint(out, model, meta, None if cfg.slim else optimizer.state_dict())
    group.barrier()
    leave(group)
    return model, meta


def _heldout_means(model: VAE, x: torch.Tensor, y: torch.Tensor | None, group: Group, device) -> dict:
    """Held-out ELBO, reconstruction, KL and KL per dimension, averaged over the held-out
    images: each rank scores its share and the sums are all-reduced."""
    share = group.shard(torch.arange(len(x)))
    if len(share):
        parts = elbo_per_example(
            model, x[share], None if y is None else y[share], generator=torch.Generator(device=device).manual_seed(0)
        )
        local = torch.cat(
            [
                torch.stack([parts[k].sum() for k in ("elbo", "recon_ll", "kl")]),
                parts["kl_per_dim"].sum(0),
                torch.tensor([float(len(share))]),
            ]
        )
    else:  # fewer held-out images than ranks: this one adds nothing
        local = torch.zeros(4 + model.config.latent_dim)
    totals = group.sum(local.to(device)).cpu()
    count = float(totals[-1])
    return {
        "elbo": float(totals[0]) / count,
        "recon_ll": float(totals[1]) / count,
        "kl": float(totals[2]) / count,
        "kl_per_dim": [float(v) / count for v in totals[3:-1]],
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vae.train", description="Train a VAE and write a checkpoint.")
    p.add_argument(
        "--dataset", default="digits", help="digits | sprites | mnist | fashion-mnist | a folder (default: digits)"
    )
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
    p.add_argument("--arch", choices=("mlp", "conv"), default="conv")
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--hidden", type=int, nargs="+", default=[256], help="dense layer sizes (default: 256)")
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
    p.add_argument("--resume", action="store_true", help="continue training the checkpoint at --out")
    p.add_argument("--slim", action="store_true", help="leave the optimizer state out of the final file")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def _saved_state(path: str) -> str:
    try:
        epochs = read_checkpoint(path)["meta"].get("epochs_done", 0)
    except VAEError:
        return f"nothing was saved at {path}"
    return f"{path} holds epoch {epochs}; continue with --resume"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
        seed=args.seed,
        device=args.device,
        precision=args.precision,
        layout=args.layout,
        iwae_k=args.iwae_k,
        slim=args.slim,
    )
    model_config = {
        "arch": args.arch,
        "latent_dim": args.latent_dim,
        "hidden_dims": tuple(args.hidden),
        "likelihood": args.likelihood,
        "conditional": args.conditional,
    }
    if args.conv_channels:
        model_config["conv_channels"] = tuple(args.conv_channels)
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0 or args.beta < 0 or args.tc_beta < 0:
        print("error: --epochs and --batch-size must be positive, --lr > 0, --beta and --tc-beta >= 0", file=sys.stderr)
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
        m = meta["metrics"]
        print(
            f"saved {args.out}: held-out ELBO {m['elbo']:.2f} nats, NLL (IWAE k={m['iwae_k']}) {m['iwae_nll']:.2f} nats "
            f"({m['bits_per_dim']:.3f} bits/dim), active units {m['active_units']}/{len(m['activity'])}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
