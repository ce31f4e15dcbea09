"""A bundle uploaded as a zip of its folder: unpacked by name into a hidden folder of the
models folder, opened (every check of a bundle), and only then moved into place. Nothing in
the zip chooses a path: only the bundle's own file names are taken, wherever they sit in it."""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from vae.bundle import DECODER, ENCODER, MANIFEST, SAMPLE
from vae.errors import BundleError

BUNDLE_FILES = {MANIFEST, ENCODER, DECODER, SAMPLE}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_UNPACKED = 512 * 2**20  # bytes once unpacked: a zip bomb stops here


def bundle_name(name: str) -> str:
    name = name.strip().removesuffix(".zip")
    if not NAME_PATTERN.match(name) or name.endswith(".pt"):
        raise BundleError("a bundle name is letters, digits, '.', '_' or '-' (at most 64), not ending in .pt")
    return name


def install_bundle_zip(data: bytes, models_dir: str | os.PathLike, name: str, replace: bool = False) -> Path:
    """Unpack, check and install the zipped bundle as models_dir/NAME; returns that folder.
    Raises BundleError (and leaves the models folder as it was) when anything is wrong."""
    from vae.models.bundled import load_bundle

    models_dir, name = Path(models_dir), bundle_name(name)
    target = models_dir / name
    if (target.exists() or target.is_symlink()) and not replace:
        raise BundleError(f"{name} exists: confirm to replace it, or choose another name")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {Path(info.filename).name: info for info in archive.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BundleError("this file is not a zip archive") from None
    found = {n: info for n, info in members.items() if n in BUNDLE_FILES}
    if MANIFEST not in found:
        raise BundleError(f"the zip holds no {MANIFEST}: zip the bundle folder written by export_bundle")
    if sum(info.file_size for info in found.values()) > MAX_UNPACKED:
        raise BundleError(f"the bundle unpacks to more than {MAX_UNPACKED // 2**20} MB")
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=models_dir))
    try:
        for file_name, info in found.items():
            with archive.open(info) as source, open(staging / file_name, "wb") as out:
                shutil.copyfileobj(source, out)
        load_bundle(staging)  # every check, before anything is replaced
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise BundleError(f"the zip could not be unpacked ({err})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
