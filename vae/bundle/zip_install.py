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

from vae.bundle.format import DECODER, ENCODER, MANIFEST, SAMPLE
from vae.bundle.onnx_model import BundleModel, load_bundle
from vae.errors import BundleError

BUNDLE_FILES = {MANIFEST, ENCODER, DECODER, SAMPLE}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_UNPACKED = 512 * 2**20  # bytes once unpacked: a zip bomb stops here


def bundle_name(name: str) -> str:
    name = name.strip().removesuffix(".zip")
    if not NAME_PATTERN.match(name) or name.endswith(".pt"):
        raise BundleError("a bundle name is letters, digits, '.', '_' or '-' (at most 64), not ending in .pt")
    return name


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it: put it back at once
    os.umask(mask)
    return mask


def install_bundle_zip(data: bytes, models_dir: str | os.PathLike, name: str, replace: bool = False) -> BundleModel:
    """Unpack, check and install the zipped bundle as models_dir/NAME; returns it opened (its
    `folder` is models_dir/NAME), so the app need not open it again. Raises BundleError (and
    leaves the models folder as it was) when anything is wrong."""
    models_dir, name = Path(models_dir), bundle_name(name)
    target = models_dir / name
    if (target.exists() or target.is_symlink()) and not replace:
        raise BundleError(f"{name} exists: confirm to replace it, or choose another name")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {Path(info.filename).name: info for info in archive.infolist() if not info.is_dir()}
    except Exception:  # zipfile raises several types for a file that is not a zip
        raise BundleError("this file is not a zip archive") from None
    found = {n: info for n, info in members.items() if n in BUNDLE_FILES}
    if MANIFEST not in found:
        raise BundleError(f"the zip holds no {MANIFEST}: zip the bundle folder written by export_bundle")
    if sum(info.file_size for info in found.values()) > MAX_UNPACKED:
        raise BundleError(f"the bundle unpacks to more than {MAX_UNPACKED // 2**20} MB")
    staging = aside = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".upload-{name}-", dir=models_dir))
        staging.chmod(0o777 & ~_umask())  # mkdtemp's 0700 would hide the model from other users
        for file_name, info in found.items():
            with archive.open(info) as source, open(staging / file_name, "wb") as out:
                shutil.copyfileobj(source, out)
        try:
            model = load_bundle(staging)  # every check, before anything is replaced
        except BundleError as err:
            raise BundleError(str(err).replace(staging.name, name)) from None
        if target.exists() or target.is_symlink():  # the old one moves aside until the new one is in place
            aside = models_dir / f".replaced-{name}-{os.getpid()}"
            os.replace(target, aside)
        os.replace(staging, target)
    except BundleError:
        raise
    except Exception as err:  # encrypted or damaged members, unknown compression, a full disk…
        if aside is not None and not target.exists():
            os.replace(aside, target)
        raise BundleError(f"the zip could not be installed ({type(err).__name__}: {str(err)[:120]})") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if aside is not None and target.exists():
            if aside.is_dir() and not aside.is_symlink():
                shutil.rmtree(aside, ignore_errors=True)
            else:
                aside.unlink(missing_ok=True)
    return model.moved_to(target)
