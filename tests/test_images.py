import io
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from vae.latent.grids import traversal_grid
from vae.pictures import gif_bytes, grid_picture, nonfinite_frames, nonfinite_note, picture, png_bytes

NONFINITE = (255, 0, 255)


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


class NaNForLargeZ0:
    """A model whose decoder returns NaN for z0 > 2.5 and +inf for z1 > 2.5."""

    latent_dim, image_shape, num_classes, device = 2, (1, 8, 8), 0, torch.device("cpu")

    def decode(self, z: torch.Tensor, y=None) -> torch.Tensor:
        x = torch.sigmoid(z.sum(1))[:, None, None, None].expand(-1, 1, 8, 8)
        x = torch.where(z[:, 1, None, None, None] > 2.5, float("inf"), x)
        return torch.where(z[:, 0, None, None, None] > 2.5, float("nan"), x)


def _is_checkerboard(tile: np.ndarray) -> bool:
    """(h, w, 3) uint8: the non-finite mark, magenta and black squares."""
    on = np.add.outer(np.arange(tile.shape[0]), np.arange(tile.shape[1])) % 2 == 0
    return (tile[on] == NONFINITE).all() and (tile[~on] == 0).all()


def test_frames_the_decoder_returned_nan_or_inf_for_are_marked_and_counted_without_warnings():
    model = NaNForLargeZ0()
    values = np.linspace(-3, 3, 9)  # only the last (3.0) is above 2.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NaN cast to uint8 warns (and became black)
        frames = traversal_grid(model, np.zeros(2, np.float32), [0, 1], values)
        grid = grid_picture(frames, ncols=9, target=8)
        one = picture(frames[8], target=8)
        fine = picture(frames[0], target=8)
        gif_bytes(frames, target=8)
        png_bytes(grid)
    assert nonfinite_frames(frames).tolist() == [False] * 8 + [True] + [False] * 8 + [True]
    assert grid.mode == "RGB" and grid.info["nonfinite_frames"] == 2 and grid.info["frames"] == 18
    tiles = (
        np.asarray(grid)[1:, 1:].reshape(2, 9, 9, 9, 3)[:, :8, :, :8].transpose(0, 2, 1, 3, 4)
    )  # (row, col, y, x, 3)
    assert _is_checkerboard(tiles[0, 8]) and _is_checkerboard(tiles[1, 8])  # NaN, then +inf: not black or white
    finite = np.delete(tiles, 8, axis=1)
    assert (finite[..., 0] == finite[..., 1]).all() and (finite[..., 1] == finite[..., 2]).all()  # still grey
    assert "2 of 18 images" in nonfinite_note(grid) and "checkerboard" in nonfinite_note(grid)
    assert _is_checkerboard(np.asarray(one)) and "this image" in nonfinite_note(one)
    assert fine.mode == "L" and nonfinite_note(fine) is None
