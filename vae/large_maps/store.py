"""A large map on disk: a model's encodings of one image set, beside the model.

    MODELS/.cache/large/STEM-DIGEST-KEY/
        mu.npy            float32 (N, D)  latent means, the Map's points
        recon_error.npy   float32 (N,)    -log p(x | z = mu), nats
        labels.npy        int32 (N,)      when the set has labels
        meta.json         what was encoded, how, and whether it is complete
        chunks-done/      one empty file per finished chunk, while encoding

The folder name holds the model's content digest (as the held-out codes' file does), so a
retrained model never reads another's encodings. The arrays are .npy files written through
memory maps: a million rows never sit in memory twice, and readers map them read-only
(`open_stored`), touching only the pages they use."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from vae.errors import DatasetError
from vae.files import file_digest, write_bytes_atomically

FORMAT = 1
MU, RECON_ERROR, LABELS, META, CHUNKS_DONE = "mu.npy", "recon_error.npy", "labels.npy", "meta.json", "chunks-done"


@dataclass(frozen=True)
class StoreMeta:
    """meta.json as fields. `source` says how to make the same images again; `chunk` is the
    unit of resuming (rows [i·chunk, (i+1)·chunk) are chunk i)."""

    model: str
    key: str
    description: str
    source: dict
    count: int
    latent_dim: int
    image_shape: tuple[int, int, int]
    label_names: tuple[str, ...] = ()
    chunk: int = 16384
    batch_size: int = 1024
    world_size: int = 1
    complete: bool = False
    encode_seconds: float | None = None  # the run that finished it
    images_per_second: float | None = None  # rows that run encoded, per second
    peak_rss_mib: float | None = None  # the largest peak resident memory of its processes
    peak_rss_mib_per_rank: tuple[float, ...] = ()
    chunks_reused: int = 0  # chunks an interrupted run had finished
    format: int = FORMAT

    @property
    def n_chunks(self) -> int:
        return -(-self.count // self.chunk)

    def rows(self, chunk: int) -> slice:
        return slice(chunk * self.chunk, min((chunk + 1) * self.chunk, self.count))

    def same_images(self, other: StoreMeta) -> bool:
        """Whether two runs encode the same images into the same arrays."""
        return (self.key, self.source, self.count, self.latent_dim) == (
            other.key,
            other.source,
            other.count,
            other.latent_dim,
        )

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1).encode()

    @classmethod
    def from_dict(cls, values: dict) -> StoreMeta:
        values = dict(values)
        values["image_shape"] = tuple(int(s) for s in values["image_shape"])
        values["label_names"] = tuple(str(n) for n in values.get("label_names") or ())
        values["peak_rss_mib_per_rank"] = tuple(float(v) for v in values.get("peak_rss_mib_per_rank") or ())
        known = cls.__dataclass_fields__
        return cls(**{name: value for name, value in values.items() if name in known})


@dataclass(frozen=True, eq=False)  # array fields: compared by identity
class StoredEncodings:
    """A large map read back. `mu`, `recon_error` and `labels` are read-only memory maps."""

    folder: Path
    meta: StoreMeta
    mu: np.ndarray  # (N, D) float32
    recon_error: np.ndarray  # (N,) float32
    labels: np.ndarray | None  # (N,) int32

    @property
    def count(self) -> int:
        return self.meta.count

    @property
    def key(self) -> str:
        return self.meta.key

    @property
    def description(self) -> str:
        return self.meta.description

    @property
    def label_names(self) -> list[str]:
        return list(self.meta.label_names)


def large_folder(model_path: str | os.PathLike) -> Path:
    return Path(model_path).parent / ".cache" / "large"


def store_folder(model_path: str | os.PathLike, key: str) -> Path:
    """Where a model's (checkpoint file or bundle folder) encodings of image set `key` live."""
    model_path = Path(model_path)
    return large_folder(model_path) / f"{model_path.stem}-{file_digest(model_path)}-{key}"


def read_meta(folder: Path) -> StoreMeta | None:
    """The folder's meta.json, or None when it is missing or unreadable."""
    try:
        return StoreMeta.from_dict(json.loads((Path(folder) / META).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_meta(folder: Path, meta: StoreMeta) -> None:
    write_bytes_atomically(Path(folder) / META, meta.to_json())


def open_stored(folder: str | os.PathLike, complete: bool = True) -> StoredEncodings:
    """The encodings in `folder`, memory-mapped read-only. Raises DatasetError when the folder
    holds no large map, a damaged one, or (with `complete`) one still being encoded."""
    folder = Path(folder)
    meta = read_meta(folder)
    if meta is None:
        raise DatasetError(f"{folder} holds no large map (no readable {META})")
    if complete and not meta.complete:
        raise DatasetError(f"the large map in {folder} is not complete: run the same encode again to finish it")
    try:
        mu = np.load(folder / MU, mmap_mode="r")
        recon_error = np.load(folder / RECON_ERROR, mmap_mode="r")
        labels = np.load(folder / LABELS, mmap_mode="r") if (folder / LABELS).exists() else None
    except (OSError, ValueError) as err:
        raise DatasetError(f"the large map in {folder} cannot be read ({err})") from None
    shapes = [mu.shape, recon_error.shape] + ([labels.shape] if labels is not None else [])
    if shapes[0] != (meta.count, meta.latent_dim) or any(s != (meta.count,) for s in shapes[1:]):
        raise DatasetError(f"the large map in {folder} is damaged: its arrays do not match {META}")
    return StoredEncodings(folder, meta, mu, recon_error, labels)


def stored_maps(model_path: str | os.PathLike) -> list[StoredEncodings]:
    """The model's complete large maps, smallest first. Those of an older version of the
    model (another digest), unfinished ones and damaged ones are left out."""
    prefix = store_folder(Path(model_path), "").name
    found = []
    root = large_folder(model_path)
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and folder.name.startswith(prefix):
            try:
                found.append(open_stored(folder))
            except DatasetError:
                continue
    return sorted(found, key=lambda stored: (stored.count, stored.key))


def unfinished_maps(model_path: str | os.PathLike) -> list[tuple[StoreMeta, int]]:
    """The model's large maps whose encoding stopped before the end (a stopped server, a
    Ctrl-C): (meta, rows on disk) each, to be continued."""
    prefix = store_folder(Path(model_path), "").name
    root = large_folder(model_path)
    found = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        meta = read_meta(folder) if folder.is_dir() and folder.name.startswith(prefix) else None
        if meta is not None and not meta.complete:
            found.append((meta, sum(meta.rows(c).stop - meta.rows(c).start for c in done_chunks(folder))))
    return found


# -- writing (vae.large_maps.set_encoding) ---------------------------------------------------


def prepare_store(folder: Path, meta: StoreMeta, labels: np.ndarray | None) -> StoreMeta:
    """Make `folder` ready to encode into, keeping whatever a run of the same images there
    finished (same key, image source, count and latent size). Returns the meta in the folder:
    complete when there is nothing left to do; an unfinished one keeps its chunk size, which
    chunks-done/ counts in. One process calls this (rank 0)."""
    folder = Path(folder)
    found = read_meta(folder)
    if found is not None and found.same_images(meta) and _arrays_fit(folder, meta):
        return found
    for name in (META, MU, RECON_ERROR, LABELS):  # another run's leftovers: other images, or damaged
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / CHUNKS_DONE, ignore_errors=True)
    if folder.is_dir():  # and whatever was made from them: maps placed, fits, the browser's buffers
        for made in [*folder.glob("*.npy"), *folder.glob("*.npz")]:
            made.unlink(missing_ok=True)
        shutil.rmtree(folder / "buffers", ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    np.lib.format.open_memmap(folder / MU, mode="w+", dtype=np.float32, shape=(meta.count, meta.latent_dim)).flush()
    np.lib.format.open_memmap(folder / RECON_ERROR, mode="w+", dtype=np.float32, shape=(meta.count,)).flush()
    if labels is not None:
        np.save(folder / LABELS, np.asarray(labels, dtype=np.int32))
    (folder / CHUNKS_DONE).mkdir()
    write_meta(folder, meta)
    return meta


def open_for_writing(folder: Path) -> tuple[np.memmap, np.memmap]:
    """(mu, recon_error) memory-mapped for writing, as prepare_store made them."""
    return np.load(folder / MU, mmap_mode="r+"), np.load(folder / RECON_ERROR, mmap_mode="r+")


def done_chunks(folder: Path) -> set[int]:
    """The chunks whose rows are on disk."""
    try:
        return {int(marker.name) for marker in (Path(folder) / CHUNKS_DONE).iterdir() if marker.name.isdigit()}
    except FileNotFoundError:
        return set()


def mark_done(folder: Path, chunk: int) -> None:
    """Record chunk `chunk` as written: call after its rows are flushed to disk."""
    (Path(folder) / CHUNKS_DONE / str(chunk)).touch()


def finish_store(folder: Path, meta: StoreMeta) -> StoreMeta:
    """Write meta.json as complete and drop the chunk markers."""
    finished = replace(meta, complete=True)
    write_meta(folder, finished)
    shutil.rmtree(Path(folder) / CHUNKS_DONE, ignore_errors=True)
    return finished


def _arrays_fit(folder: Path, meta: StoreMeta) -> bool:
    try:
        mu = np.load(folder / MU, mmap_mode="r")
        recon_error = np.load(folder / RECON_ERROR, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return mu.shape == (meta.count, meta.latent_dim) and mu.dtype == np.float32 and recon_error.shape == (meta.count,)
