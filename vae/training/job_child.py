"""The Train page's job itself, in its own process (`python -m vae.training.job_child run
FOLDER`, started by `vae.training.jobs.start_job`): train, after each epoch write the record
and a picture of held-out reconstructions, then move the checkpoint into place."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

from vae.data.source import dataset_for_checkpoint
from vae.errors import VAEError
from vae.files import write_bytes_atomically
from vae.latent.codes import reconstruct
from vae.models.checkpoints import read_checkpoint
from vae.models.interface import is_conditional, is_text
from vae.pictures import make_grid, png_bytes, to_pil
from vae.training.config import TrainConfig
from vae.training.jobs import job_folder, write_json
from vae.training.loop import train
from vae.training.sweep_plan import continue_sweep
from vae.training.text import checkpoint_ids


def _reconstruction_png(model, images: torch.Tensor, labels: torch.Tensor | None) -> bytes:

    was_training = model.training
    model.eval()
    decoded = reconstruct(model, images, labels)
    model.train(was_training)
    return png_bytes(to_pil(make_grid(torch.cat([images, decoded]), ncols=len(images)), max(1, 48 // images.shape[-2])))


def _reconstruction_text(model, ids: torch.Tensor) -> str:
    """A text model's preview: each held-out sentence, then its greedy reconstruction from μ."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        decoded = model.decode(model.encode(ids)[0])
    model.train(was_training)
    words = model.vocabulary
    return "".join(f"{words.decode(a.tolist())}\n→ {words.decode(b.tolist())}\n" for a, b in zip(ids, decoded))


def run(models_dir: Path) -> int:
    """The job itself (in the child): train, report each epoch, then move the file into place."""
    folder = job_folder(models_dir)
    spec = json.loads((folder / "spec.json").read_text())
    partial = folder / "partial.pt"
    cfg = TrainConfig.from_dict(spec["train"])
    model_config = dict(spec["model"])
    for key in ("hidden_dims", "conv_channels"):
        if model_config.get(key) is not None:
            model_config[key] = tuple(model_config[key])
    preview: dict = {}

    def on_epoch(record: dict, model) -> None:
        if "images" not in preview:  # the same 8 held-out images every epoch
            meta = read_checkpoint(partial)["meta"]
            data, _, held_idx = dataset_for_checkpoint(meta, cfg.data_dir)
            data = checkpoint_ids(data, meta)
            index = held_idx[:8]
            preview["images"] = data.images[index]
            preview["labels"] = data.labels[index] if is_conditional(model) else None
        if is_text(model):  # sentences, not pictures: recon.txt instead of recon.png
            write_bytes_atomically(folder / "recon.txt", _reconstruction_text(model, preview["images"]).encode())
        else:
            png = _reconstruction_png(model, preview["images"], preview["labels"])
            write_bytes_atomically(folder / "recon.png", png)
        with open(folder / "progress.jsonl", "a") as progress:
            progress.write(json.dumps(record) + "\n")

    try:
        train(cfg, partial, model_config, progress=False, on_epoch=on_epoch)
        os.replace(partial, Path(models_dir) / spec["name"])
    except (VAEError, ValueError, OSError, RuntimeError) as err:
        write_json(folder / "status.json", {"state": "failed", "message": str(err)})
        return 1
    try:
        if continue_sweep(models_dir, spec["name"]) is not None:
            return 0  # the next member's job owns the job files now
    except VAEError as err:
        message = f"saved {spec['name']}, but the sweep stopped before its next model: {err}"
        write_json(folder / "status.json", {"state": "failed", "message": message})
        return 1
    write_json(folder / "status.json", {"state": "done", "message": f"saved {spec['name']}"})
    return 0


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "run":  # the optional token only marks the process
        sys.exit(run(Path(sys.argv[2])))
    print(
        "usage: python -m vae.training.job_child run MODELS_DIR [TOKEN]  (started by the app's Train page)",
        file=sys.stderr,
    )
    sys.exit(2)
