"""Writing files so that a reader never sees half of one: a crash, a kill -9 or a full disk
leaves either the old file or the new one."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None], suffix: str = ".tmp") -> Path:
    """Call `write(handle)` on a hidden temporary file beside `path` (".NAME.PID<suffix>", which
    the model picker never lists), flush it to disk, then rename it over `path`. On any error
    the temporary file is removed, any previous file at `path` is unchanged, and the error is
    raised again."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}{suffix}")
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> Path:
    return write_atomically(path, lambda handle: handle.write(data))


def file_digest(path: str | os.PathLike) -> str:
    """Short content hash of a file, or of a folder's files (a model bundle): the cache key of
    everything derived from a model. Remembered per (path, size, modification time), so
    reruns do not re-read the files."""
    path = Path(path)
    files = sorted(f for f in path.iterdir() if f.is_file()) if path.is_dir() else [path]
    stats = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    return _digest(stats)


@functools.lru_cache(maxsize=64)
def _digest(stats: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha1()
    for name, _, _ in stats:
        if len(stats) > 1:
            digest.update(Path(name).name.encode() + b"\0")
        with open(name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]
