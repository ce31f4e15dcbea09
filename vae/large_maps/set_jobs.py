"""Background work on large sets: encoding an image set and placing its codes on a UMAP or
t-SNE map. One worker thread runs them one at a time, and a job is shared by every caller
asking for the same set (`vae.latent.background.FitRegistry`). Both kinds of work keep their
state in the set's folder, so a job started again after a restart continues where it stopped."""

from __future__ import annotations

from pathlib import Path

from vae.large_maps.image_sets import ImageSet
from vae.large_maps.placement import place_map, placed_key
from vae.large_maps.set_encoding import encode_image_set
from vae.large_maps.store import StoredEncodings
from vae.latent.background import FitJob, FitProgress, FitRegistry
from vae.latent.projection import ProjectionParams
from vae.opened import OpenedModel

LARGE_JOBS = FitRegistry(keep=8)  # the process's registry: every session of a server shares it


def encode_job(opened: OpenedModel, image_set: ImageSet, folder: Path) -> FitJob:
    """Encode `image_set` into `folder` in the background; the job's result is the store."""

    def work(progress: FitProgress) -> StoredEncodings:
        def report(done: int, total: int) -> None:
            progress(f"encoding {image_set.description}: {done:,} of {total:,} images", done / max(total, 1))

        return encode_image_set(opened.model, image_set, folder, progress=report, model_name=opened.name)

    return LARGE_JOBS.submit(("encode", str(folder)), work)


def place_job(stored: StoredEncodings, params: ProjectionParams) -> FitJob:
    """Place every code of `stored` on a map with `params` in the background; the result is
    the (N, 2) positions, saved in the set's folder."""
    return LARGE_JOBS.submit(
        ("place", str(stored.folder), placed_key(params)),
        lambda progress: place_map(stored.mu, params, stored.folder, progress),
    )
