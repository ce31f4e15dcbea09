import io

import numpy as np
import pytest
import torch
from hostile_files import decompression_bomb, hostile_uploads
from PIL import Image, ImageDraw

from vae.data.datasets import DIGIT_STYLE, SHAPE_STYLE, SMALL_DIGIT_STYLE
from vae.data.preprocess import preprocess_upload
from vae.errors import UploadError

MNIST_META = {"image_shape": [1, 28, 28], "upload_style": DIGIT_STYLE}
RGB_META = {"image_shape": [3, 32, 32], "upload_style": {"background": "keep", "fit": "resize"}}


def _png(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _photo_of_a_one() -> Image.Image:
    """Dark ink on light paper, off-centre, in a large photo."""
    image = Image.new("RGB", (300, 200), (235, 230, 225))
    ImageDraw.Draw(image).rectangle([40, 30, 60, 150], fill=(20, 20, 30))
    return image


def test_photo_follows_the_mnist_convention():
    x = preprocess_upload(_png(_photo_of_a_one()), MNIST_META)
    assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
    image = x[0, 0].numpy()
    assert image[0].max() < 0.05 and image.max() > 0.9  # light ink on a dark background
    rows, cols = np.nonzero(image > 0.3)
    assert rows.max() - rows.min() + 1 <= 21 and rows.max() - rows.min() + 1 >= 18  # scaled into 20×20
    mass = image / image.sum()
    centre_y, centre_x = (mass.sum(1) * np.arange(28)).sum(), (mass.sum(0) * np.arange(28)).sum()
    assert abs(centre_y - 13.5) < 1 and abs(centre_x - 13.5) < 1  # centred by mass


def test_polarity_does_not_matter():
    dark_on_light = preprocess_upload(_png(_photo_of_a_one()), MNIST_META)
    light_on_dark = preprocess_upload(_png(Image.eval(_photo_of_a_one(), lambda v: 255 - v)), MNIST_META)
    assert torch.allclose(dark_on_light, light_on_dark, atol=0.05)


def test_exif_orientation_is_applied():
    upright = Image.new("L", (60, 20), 255)
    ImageDraw.Draw(upright).rectangle([5, 5, 55, 14], fill=0)  # a horizontal bar
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewers turn it 90° clockwise
    stored = upright.rotate(90, expand=True)
    x = preprocess_upload(_png(stored, "JPEG", exif=exif.tobytes()), MNIST_META)[0, 0]
    rows, cols = np.nonzero(x.numpy() > 0.3)
    assert np.ptp(cols) > 3 * np.ptp(rows)  # shown horizontal again


def test_transparent_rgba_is_flattened():
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([10, 5, 30, 35], fill=(0, 0, 0, 255))
    x = preprocess_upload(_png(image), MNIST_META)[0, 0]
    assert x[0, 0] < 0.05 and x.max() > 0.9


@pytest.mark.parametrize(
    "make",
    [
        lambda: Image.new("P", (30, 30), 3),
        lambda: Image.fromarray((np.arange(900).reshape(30, 30) * 70).astype(np.uint16)),
        lambda: Image.new("CMYK", (30, 30), (0, 50, 100, 0)),
        lambda: Image.new("1", (30, 30), 1),
        lambda: Image.new("L", (1, 1), 128),
        lambda: Image.new("RGB", (4000, 6), (9, 99, 199)),
    ],
)
def test_unusual_modes_and_sizes_encode(make):
    for meta in (MNIST_META, RGB_META, {"image_shape": [1, 8, 8], "upload_style": SMALL_DIGIT_STYLE}):
        x = preprocess_upload(make(), meta)
        assert x.shape == (1, *meta["image_shape"]) and torch.isfinite(x).all()
        assert 0 <= x.min() and x.max() <= 1


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("L", (20, 20), v) for v in (0, 255)]
    ImageDraw.Draw(frames[0]).rectangle([5, 5, 14, 14], fill=255)
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    x = preprocess_upload(buffer.getvalue(), {"image_shape": [1, 20, 20], "upload_style": SHAPE_STYLE})
    assert x[0, 0, 10, 10] > 0.9 and x[0, 0, 0, 0] < 0.1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 5, "damaged|not an image"),
        (b"hello, I am text", "not an image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image"),
    ],
)
def test_bad_uploads_get_a_clear_message(content, message):
    with pytest.raises(UploadError, match=message):
        preprocess_upload(content, MNIST_META)


def test_truncated_png_and_jpeg():
    for fmt in ("PNG", "JPEG"):
        noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
        data = _png(noise, fmt)
        with pytest.raises(UploadError, match="damaged|truncated"):
            preprocess_upload(data[: len(data) // 2], RGB_META)


def test_decompression_bomb_is_refused():
    with pytest.raises(UploadError, match="megapixel|bomb"):
        preprocess_upload(decompression_bomb(), MNIST_META)


@pytest.mark.parametrize("name", sorted(hostile_uploads()))
def test_every_hostile_upload_encodes_or_gets_a_message(name):
    content, should_encode = hostile_uploads()[name]
    for meta in (MNIST_META, RGB_META):
        if should_encode:
            x = preprocess_upload(content, meta)
            assert x.shape == (1, *meta["image_shape"]) and torch.isfinite(x).all()
        else:
            with pytest.raises(UploadError):
                preprocess_upload(content, meta)
