"""The Train page's choices and what a submitted form starts: one training job, or a sweep
(one job per value, each finished member starting the next)."""

from __future__ import annotations

from pathlib import Path

from vae.data.datasets import TEXT_DATASETS
from vae.data.image_folder import extract_image_zip
from vae.errors import VAEError
from vae.models.architecture import TEXT_ARCHS
from vae.training import (
    jobs,  # by module: the page test swaps in a fake job runner
    sweep_plan,
)

BUILT_IN = {
    "digits": "digits (scikit-learn's 8×8, offline)",
    "sprites": "sprites (generated shapes with known factors)",
    "mnist": "mnist (IDX files in the data folder)",
    "fashion-mnist": "fashion-mnist (IDX files in the data folder)",
    "fortunes": "fortunes (English sentences from the BSD fortune files, offline; text)",
    "ptb": "ptb (Penn Treebank sentences in the data folder; text)",
    "yelp": "yelp (Yelp review sentences in the data folder; text)",
    "folder": "a folder or .txt file inside the data folder (images or sentences)",
    "zip": "upload a zip of an image folder",
}
IMAGE_DATASETS = ("digits", "sprites", "mnist", "fashion-mnist", "zip")
SWEEPS = {"one": "one model", "beta": "a sweep: one model per β", "free_bits": "a sweep: one per free-bits value"}
SWEEP_HELP = (
    "A sweep trains NAME-VALUE.pt for each value, one after another, with everything else the same; "
    "the Compare page then shows them side by side."
)


def dataset_spec(
    choice: str, subfolder: str, upload, data_root: Path, folder: Path, file_name: str, replace: bool
) -> str:
    """The SPEC the form's dataset choice stands for; an uploaded zip is unpacked under the models
    folder (only once a job may start, so a refused job replaces no data). Raises VAEError."""
    if choice == "folder":
        chosen = (data_root / subfolder.strip()).resolve()
        if not subfolder.strip() or not chosen.is_relative_to(data_root):
            raise VAEError(f"give a folder inside {data_root} (no absolute paths or '..')")
        return str(chosen)
    if choice == "zip":
        if upload is None:
            raise VAEError("choose a zip file to upload")
        jobs.check_can_start(folder, file_name, replace)  # before the upload replaces any data
        return str(extract_image_zip(upload.getvalue(), folder / ".data" / file_name.removesuffix(".pt")))
    return choice


def level_sizes(text: str) -> list[int]:
    """ "8, 16" -> [8, 16]: a hierarchical model's level sizes, the top one first."""
    try:
        sizes = [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        sizes = []
    if not 2 <= len(sizes) <= 5 or min(sizes) < 1:
        raise VAEError(f"level sizes: write 2 to 5 positive whole numbers, top first (e.g. 8, 16), not {text!r}")
    return sizes


def model_options(form: dict) -> dict:
    """The model config the form's architecture choices stand for. Raises VAEError."""
    arch = form["arch"]
    if arch in TEXT_ARCHS:
        if form["dataset"] in IMAGE_DATASETS:
            raise VAEError(f"{arch} is a sentence VAE: choose a text dataset (fortunes, ptb, yelp or a .txt file)")
        if float(form.get("tc_beta", 1.0)) != 1.0:
            raise VAEError("β-TC (total correlation) is for image VAEs: leave it at 1 for a sentence VAE")
        return {
            "arch": arch,
            "latent_dim": int(form["latent_dim"]),
            "embed_dim": int(form["embed_dim"]),
            "hidden_dim": int(form["hidden_dim"]),
            "conditional": False,
        }
    if form["dataset"] in TEXT_DATASETS:
        raise VAEError(f"{form['dataset']} holds sentences: choose the gru or lstm architecture for it")
    options = {"arch": arch, "likelihood": form["likelihood"], "conditional": bool(form["conditional"])}
    if arch == "hierarchical":
        options["level_dims"] = level_sizes(form.get("levels", ""))
    else:
        options["latent_dim"] = int(form["latent_dim"])
    return options


def start_training(folder: Path, data_root: Path, form: dict, upload) -> None:
    """Start what the form asks for; `form` holds the widgets' values by option name (sweep_over,
    sweep_values and replace among them). Raises VAEError."""
    file_name = jobs.checkpoint_name(form["name"])
    choice = form["dataset"]
    sweep_over, replace = form.get("sweep_over", "one"), bool(form.get("replace"))
    model_config = model_options(form)
    spec = dataset_spec(choice, form["subfolder"], upload, data_root, folder, file_name, replace)
    train_config = {
        "dataset": spec,
        "data_dir": str(data_root) if choice in ("mnist", "fashion-mnist", "ptb", "yelp") else None,
        "image_size": int(form["image_size"]) if choice in ("sprites", "folder", "zip") else None,
        "n": int(form["n_sprites"]) if choice == "sprites" else None,
        "epochs": int(form["epochs"]),
        "batch_size": int(form["batch_size"]),
        "lr": float(form["lr"]),
        "beta": float(form["beta"]),
        "tc_beta": float(form["tc_beta"]),
        "warmup_epochs": float(form["warmup"]),
        "free_bits": float(form["free_bits"]),
        "word_dropout": float(form.get("word_dropout", 0.0)) if model_config["arch"] in TEXT_ARCHS else 0.0,
        "min_count": int(form.get("min_count", 2)),
        "device": form["device"],
        "precision": form["precision"],
        "layout": form["layout"],
        "iwae_k": 100,
        "slim": True,
    }
    if sweep_over == "one":
        jobs.start_job(folder, file_name, train_config, model_config, overwrite=replace)
    else:
        sweep_plan.start_sweep(
            folder,
            form["name"],
            sweep_over,
            sweep_plan.parse_values(form.get("sweep_values", "")),
            train_config,
            model_config,
            overwrite=replace,
        )
