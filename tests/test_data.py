import gzip

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import write_idx
from vae.data.datasets import load_dataset, split_indices
from vae.data.source import dataset_for_checkpoint
from vae.data.sprites import FACTOR_NAMES, make_sprites
from vae.errors import DatasetError


def test_digits_is_the_offline_default():
    data = load_dataset("digits")
    assert data.images.shape == (1797, 1, 8, 8) and data.images.dtype == torch.float32
    assert data.images.min() == 0 and data.images.max() == 1
    assert data.labels.shape == (1797,) and data.label_names == [str(d) for d in range(10)]


def test_sprites_are_deterministic_with_known_factors():
    a, b = make_sprites(300, size=32, seed=3), make_sprites(300, size=32, seed=3)
    assert torch.equal(a.images, b.images) and torch.equal(a.factors, b.factors)
    assert a.images.shape == (300, 1, 32, 32) and a.factor_names == FACTOR_NAMES
    assert set(a.images.unique().tolist()) == {0.0, 1.0}
    assert (a.images.flatten(1).sum(1) > 0).all()  # every sprite is drawn
    assert set(a.labels.tolist()) == {0, 1, 2} and a.label_names == ["square", "ellipse", "heart"]
    assert not torch.equal(make_sprites(300, size=32, seed=4).images, a.images)


def test_sprite_position_factor_moves_the_shape():
    data = make_sprites(2000, size=64, seed=0)
    grid = torch.arange(64).float()
    mass = data.images[:, 0].sum((1, 2))
    centre_x = (data.images[:, 0].sum(1) * grid).sum(1) / mass
    correlation = np.corrcoef(centre_x.numpy(), data.factors[:, 3].numpy())[0, 1]
    assert correlation > 0.95


def test_sprites_spec_options():
    data = load_dataset("sprites", image_size=32, n=50)
    assert data.images.shape == (50, 1, 32, 32) and data.factors.shape == (50, 5)
    assert data.options == {"n": 50, "image_size": 32, "seed": 0}


def test_idx_folder_with_only_test_files(idx_folder):
    data = load_dataset(str(idx_folder))
    assert data.images.shape == (60, 1, 28, 28) and data.labels.shape == (60,)
    assert 0 <= data.images.min() and data.images.max() <= 1


def test_mnist_spec_finds_a_subfolder_and_raw_files(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28)), compress=False)
    write_idx(folder / "t10k-labels-idx1-ubyte", np.arange(5), compress=False)
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    data = load_dataset("mnist")
    assert len(data) == 5 and data.labels.tolist() == [0, 1, 2, 3, 4]


def test_real_mnist_test_set(shared_mnist):
    data = load_dataset("mnist", data_dir=shared_mnist.parent)
    assert data.images.shape == (10_000, 1, 28, 28)
    assert data.labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_truncated_idx_gives_a_clear_error(idx_folder):
    path = idx_folder / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(DatasetError, match="truncated"):
        load_dataset(str(idx_folder))


def test_cut_gzip_stream_gives_a_clear_error(idx_folder):
    path = idx_folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(str(idx_folder))


def test_wrong_magic_and_count_mismatch(idx_folder):
    labels = idx_folder / "t10k-labels-idx1-ubyte.gz"
    write_idx(labels, np.arange(59) % 10)
    with pytest.raises(DatasetError, match="59 labels but"):
        load_dataset(str(idx_folder))
    write_idx(labels, np.zeros((60, 2)))  # an idx2 file where labels belong
    with pytest.raises(DatasetError, match="magic number"):
        load_dataset(str(idx_folder))


def test_image_folder_with_classes_and_a_broken_file(tmp_path):
    for name, colour in (("cats", (200, 30, 30)), ("dogs", (30, 30, 200))):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("RGB", (40 + i, 30), colour).save(tmp_path / name / f"{i}.png")
    (tmp_path / "dogs" / "broken.jpg").write_bytes(b"not a jpeg")
    data = load_dataset(str(tmp_path), image_size=16)
    assert data.images.shape == (6, 3, 16, 16) and data.skipped_files == 1
    assert data.label_names == ["cats", "dogs"] and data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.images[0, 0].mean() > data.images[0, 2].mean()  # red stays red
    grey = load_dataset(str(tmp_path), image_size=16, channels=1)
    assert grey.images.shape == (6, 1, 16, 16)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("imagenet", "unknown dataset"),
        ("__FILE__", "is a file"),
        ("__EMPTY__", "holds no images"),
    ],
)
def test_bad_specs_say_what_to_do(tmp_path, spec, message):
    if spec == "__FILE__":
        spec = str(tmp_path / "x.csv")
        (tmp_path / "x.csv").write_text("x")
    elif spec == "__EMPTY__":
        spec = str(tmp_path / "empty")
        (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=message):
        load_dataset(spec)


def test_missing_mnist_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetError, match="python -m vae.download mnist"):
        load_dataset("mnist")


def test_split_is_deterministic_and_disjoint():
    train, held = split_indices(100, 0.2, seed=5)
    again, held_again = split_indices(100, 0.2, seed=5)
    assert torch.equal(train, again) and torch.equal(held, held_again)
    assert len(held) == 20 and len(set(train.tolist()) | set(held.tolist())) == 100
    assert not set(train.tolist()) & set(held.tolist())
    assert not torch.equal(split_indices(100, 0.2, seed=6)[1], held)


def test_dataset_for_checkpoint_rebuilds_the_split(tiny_checkpoint):
    from vae.models.checkpoints import load_checkpoint

    _, meta = load_checkpoint(tiny_checkpoint)
    data, train, held = dataset_for_checkpoint(meta)
    assert len(train) + len(held) == len(data) == 1797
    assert torch.equal(held, meta["split"]["held_out_indices"].long())


def test_raw_and_gz_copies_count_once_and_partial_downloads_are_ignored(idx_folder):
    raw = gzip.decompress((idx_folder / "t10k-images-idx3-ubyte.gz").read_bytes())
    (idx_folder / "t10k-images-idx3-ubyte").write_bytes(raw)
    (idx_folder / "train-images-idx3-ubyte.gz.part").write_bytes(b"half a download")
    assert len(load_dataset(str(idx_folder))) == 60


def test_fashion_mnist_never_reads_an_mnist_folder(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((5, 28, 28)))
    assert len(load_dataset("mnist", data_dir=folder)) == 5  # the folder itself, named mnist
    assert len(load_dataset("mnist", data_dir=tmp_path)) == 5  # its parent
    with pytest.raises(DatasetError, match="no fashion-mnist IDX files"):
        load_dataset("fashion-mnist", data_dir=folder)


def test_a_moved_folder_is_named_in_the_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(str(tmp_path / "gone" / "images"))


def test_large_sprite_sets_are_rendered_once_then_read_back_identical(tmp_path, monkeypatch):
    from vae.data import sprites

    monkeypatch.setenv("VAE_CACHE_DIR", str(tmp_path))
    rendered = sprites.make_sprites(1000, size=64, seed=3)  # 4.1 M pixels: cached
    (stored,) = (tmp_path / "sprites").glob("*.npz")
    read_back = sprites.make_sprites(1000, size=64, seed=3)
    assert torch.equal(read_back.images, rendered.images) and torch.equal(read_back.factors, rendered.factors)
    assert torch.equal(read_back.labels, rendered.labels)
    stored.write_bytes(b"damaged")  # a damaged file is rendered again, not trusted
    assert torch.equal(sprites.make_sprites(1000, size=64, seed=3).images, rendered.images)
    assert sprites.make_sprites(10, size=16).images.shape == (10, 1, 16, 16)  # small sets: not cached
    assert len(list((tmp_path / "sprites").glob("*.npz"))) == 1
