"""Held-out encodings kept on disk beside the model (its .cache folder, like the maps), keyed
by the model's content: encoding 2,000 sprites takes seconds, reading them back milliseconds,
which is most of a cold server's first page."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from vae.files import file_digest, write_atomically

FIELDS = ("index", "mu", "sigma", "recon_error")


def codes_file(model_path: Path, n_points: int) -> Path:
    model_path = Path(model_path)
    return model_path.parent / ".cache" / f"{model_path.stem}-{file_digest(model_path)}-heldout-n{n_points}.npz"


def load_codes(path: Path, index: np.ndarray) -> dict[str, np.ndarray] | None:
    """The stored arrays, if the file is there, whole, and encodes exactly these images."""
    try:
        with np.load(path) as stored:
            found = {name: stored[name] for name in (*FIELDS, "labels") if name in stored}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    if any(name not in found for name in FIELDS) or not np.array_equal(found["index"], index):
        return None  # another split or other data under the same name: encode again
    return found


def save_codes(path: Path, arrays: dict[str, np.ndarray | None]) -> None:
    """Store the arrays; a read-only models folder only costs encoding again next time."""
    kept = {name: value for name, value in arrays.items() if value is not None}
    try:
        write_atomically(path, lambda handle: np.savez(handle, **kept))
    except OSError:
        pass
