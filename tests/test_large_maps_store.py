"""Large maps, the data side: image sets given row by row, encoding into the on-disk store
(equal to the Map's own encodings, resumable bit for bit), reading it back, and the CLI."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import REPO
from vae.data.datasets import map_subset
from vae.data.sprites import draw_factors, make_sprites
from vae.errors import DatasetError
from vae.large_maps import (
    SpriteSet,
    encode_image_set,
    image_set_from_spec,
    open_stored,
    store_folder,
    stored_maps,
)
from vae.opened import open_model
from vae.opened.opening import encode_codes
from vae.project import main as project_main


class Interrupted(Exception):
    pass


@pytest.fixture
def model_copy(tiny_checkpoint, tmp_path):
    """The tiny digits checkpoint in a folder of its own: its large maps go beside it."""
    path = tmp_path / "models" / "tiny.pt"
    path.parent.mkdir()
    shutil.copy(tiny_checkpoint, path)
    return path


def test_sprite_set_renders_the_rows_make_sprites_renders():
    sprites = make_sprites(300, size=16, seed=5)
    image_set = SpriteSet(300, 16, 5)
    rows = np.array([0, 7, 299, 150, 7])
    assert torch.equal(image_set.images(rows), sprites.images[rows])
    assert np.array_equal(image_set.labels, sprites.labels.numpy())
    assert np.array_equal(draw_factors(300, 5).astype(np.float32), sprites.factors.numpy())
    assert image_set.key == "sprites-n300-s16-seed5" and image_set.image_shape == (1, 16, 16)


def test_sprites_default_to_a_draw_apart_from_training():
    opened = open_model(REPO / "models" / "sprites.pt")
    assert opened.info.data.options["seed"] == 0
    image_set = image_set_from_spec("sprites", 1000, opened)
    assert image_set.key == "sprites-n1000-s64-seed1"
    assert "seed 1" in image_set.description and "seed 0" in image_set.description
    assert image_set_from_spec("sprites", 10, opened, seed=7).key == "sprites-n10-s64-seed7"
    with pytest.raises(DatasetError, match="needs --count"):
        image_set_from_spec("sprites", None, opened)


@pytest.mark.parametrize("fixture", ["tiny_checkpoint", "tiny_conditional_checkpoint"])
def test_encoding_equals_the_maps_own_encodings(fixture, request, tmp_path):
    opened = open_model(request.getfixturevalue(fixture))
    image_set = image_set_from_spec("held-out", 200, opened)
    stored = encode_image_set(opened.model, image_set, tmp_path / "store", batch_size=64, chunk=96)
    data = opened.data()
    expected = encode_codes(opened.model, data, data.held_idx, 200)
    assert np.array_equal(image_set.index, map_subset(data.held_idx, 200).numpy())
    np.testing.assert_allclose(stored.mu, expected.mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stored.recon_error, expected.recon_error, rtol=1e-5, atol=1e-4)
    assert np.array_equal(stored.labels, expected.labels)
    assert stored.mu.dtype == np.float32 and stored.labels.dtype == np.int32
    assert stored.meta.complete and stored.count == 200 and stored.label_names == list(opened.info.label_names)
    one_batch = encode_image_set(opened.model, image_set, tmp_path / "one batch", batch_size=1024)
    assert np.array_equal(one_batch.mu, expected.mu)  # the same batches as encode_codes: the same bits
    assert np.array_equal(one_batch.recon_error, expected.recon_error)


def test_an_interrupted_encoding_resumes_to_the_same_bits(tiny_checkpoint, tmp_path):
    opened = open_model(tiny_checkpoint)
    image_set = SpriteSet(500, 8, 3)
    whole = encode_image_set(opened.model, image_set, tmp_path / "whole", batch_size=32, chunk=100)

    def stop_halfway(done, total):
        if done >= 250:
            raise Interrupted

    folder = tmp_path / "interrupted"
    with pytest.raises(Interrupted):
        encode_image_set(opened.model, image_set, folder, batch_size=32, chunk=100, progress=stop_halfway)
    with pytest.raises(DatasetError, match="not complete"):
        open_stored(folder)
    assert sorted(p.name for p in (folder / "chunks-done").iterdir()) == ["0", "1"]
    seen = []
    resumed = encode_image_set(  # another chunk size asked for: the store keeps its own
        opened.model, image_set, folder, batch_size=32, chunk=64, progress=lambda done, total: seen.append(done)
    )
    assert seen[0] == 232 and seen[-1] == 500  # 200 rows kept, then the third chunk's first batch
    assert resumed.meta.chunks_reused == 2 and resumed.meta.chunk == 100
    assert not (folder / "chunks-done").exists()
    assert np.array_equal(resumed.mu, whole.mu) and np.array_equal(resumed.recon_error, whole.recon_error)
    assert np.array_equal(resumed.labels, whole.labels)
    again = []
    encode_image_set(opened.model, image_set, folder, progress=lambda d, t: again.append(d))
    assert again == []  # complete: nothing encoded again


def test_other_images_in_the_same_folder_are_encoded_afresh(tiny_checkpoint, tmp_path):
    opened = open_model(tiny_checkpoint)
    folder = tmp_path / "store"
    encode_image_set(opened.model, SpriteSet(50, 8, 1), folder)
    stored = encode_image_set(opened.model, SpriteSet(50, 8, 2), folder)
    fresh = encode_image_set(opened.model, SpriteSet(50, 8, 2), tmp_path / "fresh")
    assert stored.key == "sprites-n50-s8-seed2" and np.array_equal(stored.mu, fresh.mu)


def test_images_of_another_shape_are_refused_in_one_line(tiny_checkpoint, idx_folder):
    opened = open_model(tiny_checkpoint)  # digits: 1×8×8
    with pytest.raises(DatasetError, match=r"are 1×28×28 images, the model reads 1×8×8 images") as err:
        image_set_from_spec(str(idx_folder), None, opened)
    assert "\n" not in str(err.value)
    with pytest.raises(DatasetError, match="1×8×8"):
        encode_image_set(opened.model, SpriteSet(10, 16, 0), idx_folder / "store")


def test_stored_maps_lists_the_complete_maps_of_this_model(model_copy):
    opened = open_model(model_copy)
    small, sprites = image_set_from_spec("held-out", 40, opened), image_set_from_spec("sprites", 60, opened)
    encode_image_set(opened.model, small, store_folder(model_copy, small.key), model_name=opened.name)
    encode_image_set(opened.model, sprites, store_folder(model_copy, sprites.key))
    unfinished = store_folder(model_copy, "sprites-n99-s8-seed1")
    with pytest.raises(Interrupted):
        encode_image_set(opened.model, SpriteSet(99, 8, 1), unfinished, progress=_raise)
    found = stored_maps(model_copy)
    assert [m.key for m in found] == ["heldout-n40", "sprites-n60-s8-seed1"]
    assert found[0].meta.model == "tiny.pt" and found[0].description.startswith("40 of the 359 held-out")
    assert isinstance(found[0].mu, np.memmap) and not found[0].mu.flags.writeable
    meta = json.loads((found[1].folder / "meta.json").read_text())
    assert meta["complete"] and meta["count"] == 60 and meta["latent_dim"] == 4 and meta["peak_rss_mib"] > 0


def _raise(done, total):
    raise Interrupted


def test_cli_errors_are_one_line(model_copy, capsys):
    assert project_main([str(model_copy), "--images", "sprites"]) == 1
    assert project_main([str(model_copy), "--images", "sprites", "--count", "0"]) == 1
    assert project_main([str(model_copy), "--images", "no-such-set"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines), lines
    assert "Traceback" not in "".join(lines)


@pytest.mark.slow
def test_cli_encodes_sprites_into_a_complete_store(model_copy):
    result = subprocess.run(
        [sys.executable, "-m", "vae.project", str(model_copy), "--images", "sprites", "--count", "300"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (stored,) = stored_maps(model_copy)
    assert stored.count == 300 and stored.key == "sprites-n300-s8-seed1" and stored.meta.complete
    assert str(stored.folder) in result.stdout and "images/s" in result.stdout


@pytest.mark.slow
def test_two_torchrun_processes_write_one_store(model_copy):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command += ["-m", "vae.project", str(model_copy), "--images", "sprites", "--count", "300", "--chunk", "64"]
    result = subprocess.run(command + ["--device", "cpu"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("encoded ") == 1  # rank 0 reports
    (stored,) = stored_maps(model_copy)
    assert stored.meta.world_size == 2 and len(stored.meta.peak_rss_mib_per_rank) == 2
    opened = open_model(model_copy)
    alone = encode_image_set(opened.model, SpriteSet(300, 8, 1), model_copy.parent / "alone", chunk=64)
    np.testing.assert_allclose(stored.mu, alone.mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stored.recon_error, alone.recon_error, rtol=1e-5, atol=1e-4)
