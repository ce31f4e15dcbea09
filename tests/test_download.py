import pytest

from vae.data.datasets import load_dataset
from vae.data.fetch import RESOURCES, download, md5sum
from vae.errors import DatasetError

TEST_FILES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_download_verifies_md5_against_local_files(shared_mnist, tmp_path):
    folder = download("mnist", tmp_path, mirrors=[shared_mnist.as_uri() + "/"], files=TEST_FILES)
    assert folder == tmp_path / "mnist"
    for name in TEST_FILES:
        assert md5sum(folder / name) == RESOURCES["mnist"]["files"][name]
    assert len(load_dataset("mnist", data_dir=tmp_path)) == 10_000


def test_download_refuses_a_wrong_checksum(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(b"tampered")
    with pytest.raises(DatasetError, match="checksum mismatch"):
        download("mnist", tmp_path / "data", mirrors=[mirror.as_uri() + "/"], files=["t10k-labels-idx1-ubyte.gz"])
    assert list((tmp_path / "data" / "mnist").iterdir()) == []


def test_download_reports_an_unreachable_mirror(tmp_path):
    with pytest.raises(DatasetError, match="could not fetch"):
        download(
            "fashion-mnist",
            tmp_path,
            mirrors=[(tmp_path / "nowhere").as_uri() + "/"],
            files=["t10k-labels-idx1-ubyte.gz"],
        )
