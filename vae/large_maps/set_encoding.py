"""Encoding a large image set into its store, in batches, resumably, on one or many processes.

A million images take minutes on a CPU, long enough to be interrupted: rows are written in
chunks straight into the store's memory-mapped arrays, and each finished chunk is marked on
disk, so the same call again encodes only the chunks that are missing. The computation of a
row does not depend on which run (or rank) did it, so a resumed store equals an uninterrupted
one bit for bit. Under torchrun each rank encodes chunks i with i % world == rank into the same
files; rank 0 creates them before the first barrier and marks the store complete after the last.

Memory stays bounded by one batch (its images, activations and decoded means) plus what the
image set holds (a sprite set: 40 bytes a row); the arrays themselves live in the page cache."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from vae.errors import DatasetError
from vae.large_maps.image_sets import ImageSet, check_shape
from vae.large_maps.store import (
    StoredEncodings,
    StoreMeta,
    done_chunks,
    finish_store,
    mark_done,
    open_for_writing,
    open_stored,
    prepare_store,
    read_meta,
)
from vae.latent.encoding import batches
from vae.models.interface import LatentModel, is_conditional

Progress = Callable[[int, int], None]
# On a CPU a batch's buffers above glibc's mmap threshold go back to the kernel when freed and
# are page-faulted in again for the next batch: 64×64 sprites at 1024 a batch spent as much time
# in the kernel as in the model (436 images/s, 890 MiB); at 128, 830 images/s and 330 MiB.
CPU_BATCH, ACCELERATOR_BATCH = 128, 1024


MAX_CHUNK = 16384  # rows per resumable chunk: at most this much work is lost to an interruption


def default_batch_size(device: torch.device) -> int:
    return CPU_BATCH if device.type == "cpu" else ACCELERATOR_BATCH


def default_chunk(count: int, world: int) -> int:
    """MAX_CHUNK, or less so that every process gets about four chunks."""
    return max(1, min(MAX_CHUNK, -(-count // (4 * world))))


@torch.no_grad()
def encode_image_set(
    model: LatentModel,
    image_set: ImageSet,
    folder: str | Path,
    batch_size: int | None = None,
    chunk: int | None = None,
    progress: Progress | None = None,
    rank: int = 0,
    world: int = 1,
    model_name: str | None = None,
) -> StoredEncodings:
    """Encode every image of `image_set` into the store at `folder` (see vae.large_maps.store):
    μ and -log p(x | z = μ) per image, as `encode_codes` computes them. A complete store of
    the same images is returned as it is; an unfinished one is finished. `progress(done,
    total)` is called after every batch (rows on disk, from any rank, plus this rank's current
    chunk). `batch_size` and `chunk` default to `default_batch_size(model.device)` and
    `default_chunk(len(image_set), world)`; a resumed store keeps its chunks. With world > 1
    every rank calls this with its rank, inside a joined process group
    (vae.training.distributed.join)."""
    batch_size = batch_size or default_batch_size(model.device)
    chunk = chunk or default_chunk(len(image_set), world)
    if batch_size < 1 or chunk < 1:
        raise ValueError(f"batch_size and chunk must be positive, got {batch_size} and {chunk}")
    started = time.perf_counter()
    folder = Path(folder)
    check_shape(image_set.image_shape, model.image_shape, image_set.description)
    y_all = _conditioning(model, image_set)
    wanted = StoreMeta(
        model=model_name or folder.name,
        key=image_set.key,
        description=image_set.description,
        source=dict(image_set.source),
        count=len(image_set),
        latent_dim=model.latent_dim,
        image_shape=tuple(image_set.image_shape),
        label_names=tuple(image_set.label_names),
        chunk=chunk,
        batch_size=batch_size,
        world_size=world,
    )
    if rank == 0:
        prepare_store(folder, wanted, image_set.labels)
    _barrier(world)
    found = read_meta(folder)
    if found is None:
        raise DatasetError(f"the large map in {folder} disappeared while it was being encoded")
    if found.complete:
        return open_stored(folder)
    layout = replace(wanted, chunk=found.chunk)  # a resumed store keeps its chunks
    reused = done_chunks(folder)
    mine = [i for i in range(layout.n_chunks) if i % world == rank and i not in reused]
    encoded = _encode_chunks(model, image_set, y_all, folder, layout, mine, batch_size, progress)
    _barrier(world)
    peaks, rows = _gathered(world, rank, _peak_rss_mib(), encoded)
    if rank == 0:
        missing = set(range(layout.n_chunks)) - done_chunks(folder)
        if missing:
            raise DatasetError(f"{len(missing)} chunks of the large map in {folder} were not written: run it again")
        seconds = time.perf_counter() - started
        finish_store(
            folder,
            replace(
                layout,
                encode_seconds=round(seconds, 3),
                images_per_second=round(rows / seconds, 1) if seconds > 0 else None,
                peak_rss_mib=round(max(peaks), 1),
                peak_rss_mib_per_rank=tuple(round(p, 1) for p in peaks),
                chunks_reused=len(reused),
            ),
        )
        if progress is not None:
            progress(layout.count, layout.count)
    _barrier(world)
    return open_stored(folder)


def _encode_chunks(
    model: LatentModel,
    image_set: ImageSet,
    y_all: torch.Tensor | None,
    folder: Path,
    layout: StoreMeta,
    chunks: list[int],
    batch_size: int,
    progress: Progress | None,
) -> int:
    """Encode the given chunks into the store; returns how many rows this process encoded."""
    mu_out, error_out = open_for_writing(folder)
    device, encoded = model.device, 0
    on_disk = _rows_done(folder, layout)
    for chunk in chunks:
        rows = layout.rows(chunk)
        for part in batches(rows.stop - rows.start, batch_size):
            start, stop = rows.start + part.start, rows.start + part.stop
            x = image_set.images(np.arange(start, stop)).to(device)
            y = None if y_all is None else y_all[start:stop].to(device)
            mu, _ = model.encode(x, y)
            recon_error = -model.log_px_given_z(x, mu, y)
            mu_out[start:stop] = mu.float().cpu().numpy()
            error_out[start:stop] = recon_error.float().cpu().numpy()
            encoded += stop - start
            if progress is not None:
                progress(min(on_disk + stop - rows.start, layout.count), layout.count)
        mu_out.flush()
        error_out.flush()
        mark_done(folder, chunk)  # only once its rows are on disk
        on_disk = _rows_done(folder, layout)
    del mu_out, error_out
    return encoded


def _conditioning(model: LatentModel, image_set: ImageSet) -> torch.Tensor | None:
    """The labels a conditional model encodes with (None for other models)."""
    if not is_conditional(model):
        return None
    labels = image_set.labels
    if labels is None:
        raise DatasetError(f"the model is conditioned on labels and {image_set.description} have none")
    if len(labels) and (labels.min() < 0 or labels.max() >= model.num_classes):
        raise DatasetError(
            f"the model is conditioned on {model.num_classes} classes and {image_set.description} "
            f"have labels up to {int(labels.max())}"
        )
    return torch.from_numpy(np.asarray(labels, dtype=np.int64))


def _rows_done(folder: Path, layout: StoreMeta) -> int:
    return sum(layout.rows(i).stop - layout.rows(i).start for i in done_chunks(folder) if i < layout.n_chunks)


def _peak_rss_mib() -> float:
    """This process's peak resident memory (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _gathered(world: int, rank: int, peak: float, rows: int) -> tuple[list[float], int]:
    """Every rank's peak memory, and the rows all ranks encoded."""
    if world <= 1:
        return [peak], rows
    values = torch.zeros(world, 2, dtype=torch.float64)
    values[rank] = torch.tensor([peak, rows], dtype=torch.float64)
    if dist.get_backend() == "nccl":  # NCCL reduces GPU tensors only
        values = values.cuda()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    values = values.cpu()
    return values[:, 0].tolist(), int(values[:, 1].sum())


def _barrier(world: int) -> None:
    if world > 1:
        if not dist.is_initialized():
            raise RuntimeError("encoding on several processes needs their group: vae.training.distributed.join()")
        dist.barrier()
