"""A large map's binary buffers for the browser: positions, colour indices and codes as raw
little-endian arrays in content-named files, fetched once by URL (as the decoder graphs are)
and never sent as JSON through the websocket: a million points are 8 MB of positions, 1 MB of
colours and 32 MB of codes, against 1.3 MB of JSON for 50,000 points in a Plotly figure.

Codes travel as uint16 per dimension (value = offset + q · scale): hover decodes a weighted
mean of nearby codes, and a step of 1/65,535 of a dimension's range is far below what a
decoder shows, at half the bytes of float32."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae.files import write_bytes_atomically

_CHUNK = 1 << 18  # rows handled at a time: a memory-mapped million is never copied whole


@dataclass(frozen=True)
class QuantisedCodes:
    """Codes as uint16 with a per-dimension offset and step."""

    values: np.ndarray  # (N, D) uint16
    offset: np.ndarray  # (D,) float32
    scale: np.ndarray  # (D,) float32

    def decoded(self) -> np.ndarray:
        return (self.offset + self.values.astype(np.float32) * self.scale).astype(np.float32)


def quantise_codes(mu: np.ndarray) -> QuantisedCodes:
    """uint16 codes of `mu` (N, D), in chunks; the error per value is at most scale / 2."""
    low = np.full(mu.shape[1], np.inf, np.float32)
    high = np.full(mu.shape[1], -np.inf, np.float32)
    for start in range(0, len(mu), _CHUNK):
        chunk = np.asarray(mu[start : start + _CHUNK], np.float32)
        low, high = np.minimum(low, chunk.min(0)), np.maximum(high, chunk.max(0))
    scale = np.where(high > low, (high - low) / 65535, 1.0).astype(np.float32)
    values = np.empty(mu.shape, np.uint16)
    for start in range(0, len(mu), _CHUNK):
        chunk = np.asarray(mu[start : start + _CHUNK], np.float32)
        values[start : start + _CHUNK] = np.clip(np.rint((chunk - low) / scale), 0, 65535)
    return QuantisedCodes(values, low, scale)


def buffer_name(array: np.ndarray) -> str:
    """A content name: the same array always gets the same file (and the browser's cache)."""
    data = np.ascontiguousarray(array)
    digest = hashlib.blake2b(data.dtype.str.encode() + str(data.shape).encode(), digest_size=12)
    digest.update(memoryview(data).cast("B"))
    return f"{digest.hexdigest()}.bin"


def write_buffer(folder: Path, array: np.ndarray) -> Path:
    """The array's bytes (little-endian, C order) in `folder` under its content name; written
    once, found again afterwards."""
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    path = Path(folder) / buffer_name(data)
    if not path.is_file():
        Path(folder).mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(path, data.tobytes())
    return path


def read_buffer(path: Path, dtype: str, columns: int | None = None) -> np.ndarray:
    """A buffer file back as an array (what the browser reads): `dtype` such as "<f4"."""
    values = np.fromfile(path, dtype=np.dtype(dtype))
    return values if columns is None else values.reshape(-1, columns)
