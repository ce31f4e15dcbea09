"""The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), gz or raw."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from vae.errors import DatasetError

IDX_IMAGES_GLOB = "*images[-.]idx3-ubyte*"
_UBYTE = 0x08


def read_idx(path: Path, expected_dims: int) -> np.ndarray:
    """Read an unsigned-byte IDX file into an array of `expected_dims` dimensions."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise DatasetError(f"cannot read {path}: {err} (re-download the file)") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE or raw[3] != expected_dims:
        kind = "images (idx3)" if expected_dims == 3 else "labels (idx1)"
        raise DatasetError(
            f"{path} is not an IDX {kind} file: wrong magic number {raw[:4].hex() or 'none'} "
            f"(expected 000008{expected_dims:02x})"
        )
    header = 4 + 4 * expected_dims
    if len(raw) < header:
        raise DatasetError(f"{path} is truncated: its header is incomplete (re-download the file)")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(expected_dims)]
    expected = int(np.prod(dims))
    found = len(raw) - header
    if found < expected:
        raise DatasetError(
            f"{path} is truncated: its header promises {expected} bytes of data for shape "
            f"{tuple(dims)}, the file holds {found} (re-download the file)"
        )
    return np.frombuffer(raw, dtype=np.uint8, count=expected, offset=header).reshape(dims)


def idx_image_files(folder: Path) -> list[Path]:
    """The IDX image files of a folder (raw or .gz, not partial downloads), train before
    t10k; a raw file and its .gz copy count once (the raw one is read)."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob(IDX_IMAGES_GLOB)):
        if path.is_file() and (path.name.endswith("idx3-ubyte") or path.name.endswith("idx3-ubyte.gz")):
            found.setdefault(path.name.removesuffix(".gz"), path)
    return [found[name] for name in sorted(found, key=lambda n: ("t10k" in n, n))]


def labels_file_for(images_file: Path) -> Path | None:
    """The labels file that goes with an images file (`x-images-idx3-ubyte.gz` → `x-labels-idx1-ubyte.gz`)."""
    stem = images_file.name.replace("images", "labels").replace("idx3", "idx1")
    for name in (stem, stem.removesuffix(".gz"), stem if stem.endswith(".gz") else stem + ".gz"):
        candidate = images_file.with_name(name)
        if candidate.is_file():
            return candidate
    return None
