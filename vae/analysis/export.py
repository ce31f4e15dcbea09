"""Latents out of the app: CSV, NumPy .npz, and the TensorBoard Embedding Projector's files."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import torch

from vae.data.datasets import label_name
from vae.pictures import make_grid, png_bytes, to_pil

PROJECTOR_SPRITE_LIMIT = 8192  # pixels per side of the sprite sheet the Projector accepts


def latents_csv(index: np.ndarray, mu: np.ndarray, sigma: np.ndarray, labels: np.ndarray | None) -> str:
    """One row per image: dataset index, label (if any), mu_0.., sigma_0.."""
    dims = mu.shape[1]
    header = ["index"] + (["label"] if labels is not None else []) + [f"mu_{d}" for d in range(dims)]
    header += [f"sigma_{d}" for d in range(dims)]
    lines = [",".join(header)]
    for row in range(len(mu)):
        values = [str(int(index[row]))] + ([str(int(labels[row]))] if labels is not None else [])
        values += [f"{v:.6g}" for v in mu[row]] + [f"{v:.6g}" for v in sigma[row]]
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"


def latents_npz(index: np.ndarray, mu: np.ndarray, sigma: np.ndarray, labels: np.ndarray | None) -> bytes:
    """The same arrays as one .npz (index, mu, sigma, and labels when there are labels)."""
    buffer = io.BytesIO()
    arrays = {"index": index, "mu": mu, "sigma": sigma, **({"labels": labels} if labels is not None else {})}
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def projector_files(
    mu: np.ndarray,
    labels: np.ndarray | None,
    label_names: list[str],
    images: torch.Tensor | None,
    index: np.ndarray,
    sentences: list[str] | None = None,
) -> dict[str, bytes]:
    """vectors.tsv, metadata.tsv, sprite.png and projector_config.json for
    https://projector.tensorflow.org ("Load": the two TSVs; the config links the sprite). A text
    model's `sentences` become a metadata column instead of a sprite."""
    vectors = "\n".join("\t".join(f"{v:.6g}" for v in row) for row in mu) + "\n"
    names = [label_name(label_names, v) for v in labels] if labels is not None else None
    metadata_rows = ["index\tlabel" + ("\tsentence" if sentences is not None else "")] + [
        f"{int(i)}\t{names[r] if names else ''}"
        + ("\t" + " ".join(sentences[r].split()) if sentences is not None else "")
        for r, i in enumerate(index)
    ]
    files = {
        "vectors.tsv": vectors.encode(),
        "metadata.tsv": ("\n".join(metadata_rows) + "\n").encode(),
    }
    if images is None:
        return files
    n, _, h, w = images.shape
    per_side = int(np.ceil(np.sqrt(n)))
    if per_side * max(h, w) <= PROJECTOR_SPRITE_LIMIT:
        sheet = np.zeros((per_side * per_side, *images.shape[1:]), np.float32)
        sheet[:n] = images.numpy()
        files["sprite.png"] = png_bytes(to_pil(make_grid(sheet, per_side, padding=0)))
        config = {
            "embeddings": [
                {
                    "tensorName": "VAE latent means",
                    "tensorPath": "vectors.tsv",
                    "metadataPath": "metadata.tsv",
                    "sprite": {"imagePath": "sprite.png", "singleImageDim": [w, h]},
                }
            ]
        }
        files["projector_config.json"] = json.dumps(config, indent=2).encode()
    return files


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """Files as one zip archive, in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
