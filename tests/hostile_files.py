"""Uploads a hostile or careless user sends, generated here: name -> (bytes, should it encode)."""

from __future__ import annotations

import io
import zlib

import numpy as np
from PIL import Image, ImageDraw


def encoded(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def decompression_bomb() -> bytes:
    """A 1×1 PNG whose header claims 40000×40000 pixels."""
    data = bytearray(encoded(Image.new("1", (1, 1))))
    data[16:24] = (40_000).to_bytes(4, "big") * 2
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    return bytes(data)


def _digit() -> Image.Image:
    image = Image.new("RGB", (120, 160), (240, 238, 230))
    ImageDraw.Draw(image).line([(30, 30), (90, 30), (50, 140)], fill=(20, 20, 20), width=12)
    return image


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° when shown
    return encoded(_digit(), "JPEG", exif=exif)


def _animated_gif() -> bytes:
    frames = [_digit().convert("L"), Image.new("L", (120, 160), 255)]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def hostile_uploads() -> dict[str, tuple[bytes, bool]]:
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    png, jpeg = encoded(noise), encoded(noise, "JPEG")
    rgba = Image.new("RGBA", (60, 60), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).ellipse([15, 10, 45, 50], fill=(0, 0, 0, 255))
    return {
        "empty.png": (b"", False),
        "random.png": (np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(), False),
        "text.png": (b"just some text, not a picture\n" * 20, False),
        "truncated.png": (png[: len(png) // 2], False),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], False),
        "bomb.png": (decompression_bomb(), False),
        "drawing.svg.png": (b"<svg xmlns='http://www.w3.org/2000/svg'><circle r='4'/></svg>", False),
        "sixteen-bit.png": (encoded(Image.fromarray((np.arange(1600).reshape(40, 40) * 40).astype(np.uint16))), True),
        "cmyk.jpg": (encoded(Image.new("CMYK", (40, 40), (0, 0, 0, 200)), "JPEG"), True),
        "palette.png": (encoded(_digit().convert("P")), True),
        "animated.gif": (_animated_gif(), True),
        "exif-rotated.jpg": (_exif_rotated(), True),
        "one-pixel.png": (encoded(Image.new("L", (1, 1), 0)), True),
        "long-strip.png": (encoded(Image.new("RGB", (4000, 6), (10, 10, 10))), True),
        "transparent.png": (encoded(rgba), True),
    }
