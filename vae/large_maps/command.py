"""`python -m vae.project CKPT --images SPEC [--count N] [--seed S] [--batch-size B] [--chunk C]`: encode a
large image set into the model's large-map store, with a progress bar, on one process or on
every process torchrun starts. Errors are one line on stderr and exit code 1."""

from __future__ import annotations

import os
import sys
import time

from tqdm import tqdm

from vae.devices import pick_device
from vae.errors import VAEError
from vae.large_maps.image_sets import image_set_from_spec
from vae.large_maps.placement import load_placed, place_map, placed_key
from vae.large_maps.set_encoding import encode_image_set
from vae.large_maps.store import StoredEncodings, read_meta, store_folder
from vae.latent.projection import METHOD_LABELS, ProjectionParams
from vae.opened import open_model
from vae.training.distributed import join, leave


def encode_command(
    checkpoint: str,
    images: str,
    count: int | None = None,
    seed: int | None = None,
    batch_size: int | None = None,
    chunk: int | None = None,
    device: str = "auto",
    data_dir: str | None = None,
    methods: tuple[str, ...] = ("pca",),
) -> int:
    """Encode, then map it with each of `methods` (PCA always: the Map's first view), report on
    rank 0, return the exit code."""
    group = None
    try:
        if any(value is not None and value < 1 for value in (batch_size, chunk)):
            raise VAEError(f"--batch-size and --chunk must be at least 1, got {batch_size} and {chunk}")
        group, device_name = join(device)
        opened = open_model(checkpoint, pick_device(device_name))
        image_set = image_set_from_spec(images, count, opened, seed=seed, data_dir=data_dir)
        folder = store_folder(opened.path, image_set.key)
        was_complete = group.is_main and _complete(folder)
        with tqdm(
            total=len(image_set),
            desc="encoding",
            unit="img",
            unit_scale=True,
            dynamic_ncols=True,
            file=sys.stderr,
            disable=not group.is_main or was_complete,
        ) as bar:
            stored = encode_image_set(
                opened.model,
                image_set,
                folder,
                batch_size=batch_size,
                chunk=chunk,
                progress=lambda done, total: bar.update(done - bar.n),
                rank=group.rank,
                world=group.world_size,
                model_name=opened.name,
            )
    except VAEError as err:  # the same on every rank: said once
        return _error(str(err), every_rank=False)
    except OSError as err:  # a read-only models folder, a full disk: maybe on one rank only
        where = f" ({err.filename})" if err.filename else ""
        return _error(f"cannot write the large map: {err.strerror or err}{where}", every_rank=True)
    except KeyboardInterrupt:
        print("interrupted: the finished chunks are kept; run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        if group is not None:
            leave(group)
    if group.is_main:
        print(_report(stored, was_complete))
        try:
            for method in dict.fromkeys(("pca", *methods)):
                _map(stored, ProjectionParams(method))
        except KeyboardInterrupt:
            print("interrupted: the placed chunks are kept; run the same command again to resume", file=sys.stderr)
            return 130
        except OSError as err:
            return _error(f"cannot write the map: {err.strerror or err}", every_rank=True)
    return 0


def _map(stored: StoredEncodings, params: ProjectionParams) -> None:
    """The set's map with `params`, made (or resumed) beside it with a progress bar."""
    key = placed_key(params)
    if load_placed(stored.folder, key, stored.count) is not None:
        print(f"{METHOD_LABELS[params.method]} map: already there -> {stored.folder / (key + '.npy')}")
        return
    started = time.perf_counter()
    with tqdm(total=100, desc=METHOD_LABELS[params.method], unit="%", dynamic_ncols=True, file=sys.stderr) as bar:

        def report(stage: str, fraction: float | None) -> None:
            bar.set_postfix_str(stage.split(":")[0], refresh=False)
            if fraction is not None:
                bar.update(round(100 * fraction) - bar.n)

        place_map(stored.mu, params, stored.folder, report)
    print(
        f"{METHOD_LABELS[params.method]} map of {stored.count:,} points in {time.perf_counter() - started:.1f} s "
        f"-> {stored.folder / (key + '.npy')}"
    )


def _complete(folder) -> bool:
    meta = read_meta(folder)
    return meta is not None and meta.complete


def _report(stored: StoredEncodings, was_complete: bool) -> str:
    meta, where = stored.meta, stored.folder
    if was_complete:
        return f"{meta.description}: already encoded -> {where}"
    processes = f" on {meta.world_size} processes" if meta.world_size > 1 else ""
    resumed = f", {meta.chunks_reused} chunks kept from an interrupted run" if meta.chunks_reused else ""
    return (
        f"encoded {meta.description} in {meta.encode_seconds:.1f} s{processes} "
        f"({meta.images_per_second:,.0f} images/s{resumed}), peak memory {meta.peak_rss_mib:,.0f} MiB "
        f"per process -> {where}"
    )


def _error(message: str, every_rank: bool) -> int:
    if every_rank or int(os.environ.get("RANK", "0")) == 0:
        print(f"error: {message}", file=sys.stderr)
    return 1
