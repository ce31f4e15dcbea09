import io

import pytest
import torch
from PIL import Image

from vae.pictures import gif_bytes, grid_picture, png_bytes


@pytest.mark.parametrize("channels", [1, 3])
def test_gif_has_one_frame_per_image_and_loops(channels):
    frames = torch.linspace(0, 1, 7)[:, None, None, None].expand(7, channels, 8, 8).contiguous()
    gif = Image.open(io.BytesIO(gif_bytes(frames, target=32, frame_ms=90)))
    assert gif.format == "GIF" and gif.is_animated and gif.n_frames == 7
    assert gif.size == (32, 32) and gif.info["loop"] == 0 and gif.info["duration"] == 90


def test_png_strip_round_trips():
    images = torch.rand(5, 1, 8, 8)
    picture = grid_picture(images, ncols=5, target=16)
    assert Image.open(io.BytesIO(png_bytes(picture))).size == picture.size
