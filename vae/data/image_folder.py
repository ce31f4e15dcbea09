"""A folder of images, one sub-folder per class, loaded at one size and channel count."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from vae.errors import DatasetError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass
class ImageFolder:
    images: torch.Tensor  # (N, C, H, W) in [0, 1]
    labels: torch.Tensor | None
    label_names: list[str]
    skipped: int  # files with an image extension that could not be read


def to_rgb_or_grey(image: Image.Image, channels: int, background: int = 255) -> Image.Image:
    """Any PIL mode to "L" (channels=1) or "RGB", alpha flattened onto a plain background."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
        image = Image.fromarray(scaled.astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (background, background, background, 255))
        image = Image.alpha_composite(canvas, rgba)
    return image.convert("L" if channels == 1 else "RGB")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def load_image_folder(root: Path, image_size: int, channels: int | None = None) -> ImageFolder:
    """Class sub-folders of `root` (sorted by name) become labels; images directly in `root`
    with no sub-folders form one unlabelled set. Unreadable files are skipped and counted."""
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    groups = [(d.name, _files(d)) for d in class_dirs] if class_dirs else [("", _files(root))]
    groups = [(name, files) for name, files in groups if files]
    if not groups:
        raise DatasetError(
            f"{root} holds no images ({', '.join(IMAGE_EXTENSIONS)}): put them in one sub-folder per class"
        )
    if channels is None:
        channels = _infer_channels([files[0] for _, files in groups])
    arrays, labels, skipped = [], [], 0
    for label, (_, files) in enumerate(groups):
        for path in files:
            try:
                with Image.open(path) as image:
                    image = ImageOps.exif_transpose(image)
                    image = to_rgb_or_grey(image, channels).resize((image_size, image_size), Image.LANCZOS)
                    arrays.append(np.asarray(image, dtype=np.float32).reshape(image_size, image_size, channels))
                labels.append(label)
            except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
                skipped += 1
    if not arrays:
        raise DatasetError(f"none of the image files in {root} could be read ({skipped} skipped)")
    images = torch.from_numpy(np.stack(arrays) / 255.0).permute(0, 3, 1, 2).contiguous().float()
    labelled = bool(class_dirs)
    return ImageFolder(
        images,
        torch.tensor(labels, dtype=torch.int64) if labelled else None,
        [name for name, _ in groups] if labelled else [],
        skipped,
    )


def _infer_channels(samples: list[Path]) -> int:
    """3 if any sample image is in colour, else 1."""
    for path in samples:
        try:
            with Image.open(path) as image:
                if image.mode not in ("1", "L", "LA", "I", "I;16", "F"):
                    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
                    if np.abs(rgb - rgb.mean(axis=2, keepdims=True)).max() > 2:
                        return 3
        except (OSError, UnidentifiedImageError):
            continue
    return 1


MAX_ZIP_FILES = 200_000
MAX_ZIP_BYTES = 2 * 1024**3  # uncompressed


def extract_image_zip(archive: bytes, destination: Path) -> Path:
    """Unpack the image files of a zip (a class-per-folder image set) into `destination`, which
    is replaced as a whole and only once the archive has unpacked cleanly. Nothing lands outside
    it: entries with absolute paths or `..`, links and non-image files are left out, and an
    archive that would unpack to more than 2 GiB or 200,000 files is refused. Returns the folder
    to load: the single top-level folder when the zip wraps everything in one."""
    import io
    import shutil
    import tempfile
    import zipfile

    try:
        bundle = zipfile.ZipFile(io.BytesIO(archive))
    except zipfile.BadZipFile as err:
        raise DatasetError(f"this is not a zip archive ({err})") from None
    members = [m for m in bundle.infolist() if not m.is_dir() and Path(m.filename).suffix.lower() in IMAGE_EXTENSIONS]
    members = [m for m in members if not Path(m.filename).is_absolute() and ".." not in Path(m.filename).parts]
    members = [m for m in members if not any(part.startswith((".", "__MACOSX")) for part in Path(m.filename).parts)]
    if not members:
        raise DatasetError("the zip holds no images: put them in one sub-folder per class")
    if len(members) > MAX_ZIP_FILES or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
        raise DatasetError("the zip is too large: at most 200,000 images and 2 GiB unpacked")
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        root = incoming.resolve()
        for member in members:
            target = (incoming / member.filename).resolve()
            if root not in target.parents:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with bundle.open(member) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as err:
        shutil.rmtree(incoming, ignore_errors=True)
        raise DatasetError(f"the zip could not be unpacked ({type(err).__name__}: {err})") from None
    shutil.rmtree(destination, ignore_errors=True)  # an earlier upload under this name is replaced, not merged
    incoming.rename(destination)
    top = [p for p in destination.iterdir() if not p.name.startswith(".")]
    if len(top) == 1 and top[0].is_dir() and any(p.is_dir() for p in top[0].iterdir()):
        return top[0]  # the zip wrapped the class folders in one folder
    return destination
