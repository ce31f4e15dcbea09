"""A model's Compare column (`vae.analysis.compare.ModelComparison`) kept on disk beside the
model, keyed by its content, the images it was measured on and the IWAE budget: measuring two
MNIST models on 1,000 images takes seconds to tens of seconds, reading them back
milliseconds, so Compare's first open on a fresh server has nothing to measure for the
shipped models (their comparisons are in git)."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from vae.analysis.compare import ModelComparison, RateDistortion
from vae.files import file_digest, write_atomically

VERSION = 1  # bump when ModelComparison or how it is measured changes
ARRAYS = ("kl_per_dim", "active", "reconstructions", "prior_samples", "traversed_dims", "traversals")


def comparison_file(model_path: Path, images: np.ndarray, iwae_k: int) -> Path:
    model_path = Path(model_path)
    measured_on = hashlib.sha1(np.asarray(images, dtype=np.int64).tobytes() + f"k{iwae_k}v{VERSION}".encode())
    name = f"{model_path.stem}-{file_digest(model_path)}-compare-{measured_on.hexdigest()[:16]}.npz"
    return model_path.parent / ".cache" / name


def save_comparison(path: Path, c: ModelComparison) -> None:
    """Store it; a read-only models folder only costs measuring again next time."""
    arrays = {
        "rate_distortion": np.array([c.rate_distortion.rate, c.rate_distortion.distortion, c.rate_distortion.elbo]),
        "iwae": np.array([c.iwae_nll, c.iwae_k]),
        "level_names": np.array(list(c.rate_by_level), dtype=str),
        "level_rates": np.array(list(c.rate_by_level.values()), dtype=np.float64),
        "kl_per_dim": np.asarray(c.kl_per_dim),
        "active": np.asarray(c.active, dtype=np.int64),
        "reconstructions": c.reconstructions.numpy(),
        "prior_samples": c.prior_samples.numpy(),
        "traversed_dims": np.asarray(c.traversed_dims, dtype=np.int64),
        "traversals": c.traversals.numpy(),
    }
    try:
        write_atomically(path, lambda handle: np.savez(handle, **arrays))
    except OSError:
        pass


def load_comparison(path: Path) -> ModelComparison | None:
    """The stored comparison, or None when the file is missing or unreadable (no pickles)."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            found = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    needed = {"rate_distortion", "iwae", "level_names", "level_rates", *ARRAYS}
    if not needed <= set(found):
        return None
    rate, distortion, elbo = (float(v) for v in found["rate_distortion"])
    return ModelComparison(
        rate_distortion=RateDistortion(rate, distortion, elbo),
        iwae_nll=float(found["iwae"][0]),
        iwae_k=int(found["iwae"][1]),
        kl_per_dim=found["kl_per_dim"],
        rate_by_level={str(n): float(v) for n, v in zip(found["level_names"], found["level_rates"])},
        active=[int(d) for d in found["active"]],
        reconstructions=torch.from_numpy(found["reconstructions"]),
        prior_samples=torch.from_numpy(found["prior_samples"]),
        traversed_dims=[int(d) for d in found["traversed_dims"]],
        traversals=torch.from_numpy(found["traversals"]),
    )


def stored_comparison(
    model_path: Path, images: np.ndarray, iwae_k: int, measure: Callable[[], ModelComparison]
) -> ModelComparison:
    """The comparison measured on `images` (the model's own dataset indices), read from disk
    when it was stored before, else measured and stored."""
    path = comparison_file(model_path, images, iwae_k)
    found = load_comparison(path)
    if found is None:
        found = measure()
        save_comparison(path, found)
    return found
