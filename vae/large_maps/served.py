"""What the server's large-map routes may hand out (ui/shell/routes.py): the folders of buffer
files and, per map, a function that returns its images. Pages register here when they show a
large map; a route serves nothing it was not told about, and only by content name or row."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

BUFFER_NAME = re.compile(r"^[0-9a-f]{24}\.bin$")
MAP_ID = re.compile(r"^[0-9A-Za-z_.-]{1,200}$")
MOST_IMAGES = 16  # images one request may ask for (the thumbnails under the cursor)

_lock = threading.Lock()
_buffer_folders: list[Path] = []
_images: OrderedDict[str, tuple[Callable[[np.ndarray], np.ndarray], int]] = OrderedDict()
KEPT_MAPS = 8  # image sets kept for the image route: the maps shown most recently


def serve_buffers(folder: Path) -> None:
    with _lock:
        if Path(folder) not in _buffer_folders:
            _buffer_folders.append(Path(folder))


def buffer_file(name: str) -> Path | None:
    """The registered buffer file of that content name, or None."""
    if not BUFFER_NAME.match(name):
        return None
    with _lock:
        folders = list(_buffer_folders)
    return next((folder / name for folder in folders if (folder / name).is_file()), None)


def serve_images(map_id: str, images: Callable[[np.ndarray], np.ndarray], count: int) -> None:
    """`images(rows)` -> (n, C, H, W) in [0, 1] for rows of a map of `count` points."""
    if not MAP_ID.match(map_id):
        raise ValueError(f"bad map id {map_id!r}")
    with _lock:
        _images[map_id] = (images, count)
        _images.move_to_end(map_id)
        while len(_images) > KEPT_MAPS:
            _images.popitem(last=False)


def map_id_for(*parts: str) -> str:
    """A map id the image route accepts, from any names (a model file may be "vae (1).pt"):
    the names made filename-safe, and a digest of them, so two never collide."""
    safe = re.sub(r"[^0-9A-Za-z_.-]+", "_", "-".join(parts))[:120]
    return f"{safe}-{hashlib.blake2b('/'.join(parts).encode(), digest_size=6).hexdigest()}"


def images_of(map_id: str, rows_text: str) -> np.ndarray | None:
    """The images of rows "3" or "3,17,42" of a registered map; None when the map is unknown
    or the rows are not whole numbers in range (at most MOST_IMAGES)."""
    with _lock:
        found = _images.get(map_id)
    if found is None or not re.fullmatch(rf"\d{{1,9}}(,\d{{1,9}}){{0,{MOST_IMAGES - 1}}}", rows_text):
        return None
    images, count = found
    rows = np.array([int(r) for r in rows_text.split(",")], np.int64)
    if rows.max() >= count:
        return None
    return images(rows)
