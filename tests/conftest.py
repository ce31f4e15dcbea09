from __future__ import annotations

import functools
import gzip
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from vae.training.config import TrainConfig
from vae.training.loop import train

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "datasets" / "mnist"


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    """Write a uint8 array as an IDX file (gzip when compress)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


@functools.cache
def _components():
    """Streamlit's registry of installed components, found once: each new AppTest scans every
    installed package's metadata for components (0.1-0.2 s), and the tests make hundreds."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    manager = BidiComponentManager()
    manager.discover_and_register_components(start_file_watching=False)
    return manager


def open_page(page: str, models: Path, monkeypatch, query: dict | None = None, state: dict | None = None):
    """A new AppTest session of `page` (a path from the repo root) over the checkpoints in
    `models`, with this query string (as a link or a reload sends it) and session state."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VAE_MODELS_DIR", str(models))
    at = AppTest.from_file(str(REPO / page), default_timeout=90)
    if hasattr(at, "_bidi_component_manager"):  # private (Streamlit 1.67); without it each AppTest scans again
        at._bidi_component_manager = _components()
    for name, value in (query or {}).items():
        at.query_params[name] = value
    for key, value in (state or {}).items():
        at.session_state[key] = value
    return at.run()


def assert_no_errors(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator per test, so no test depends on which tests ran before it."""
    return np.random.default_rng(0)


@pytest.fixture
def idx_folder(tmp_path: Path) -> Path:
    """A folder holding only 'test' IDX files: 60 random 28×28 images with labels."""
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (60, 28, 28)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, 60))
    return tmp_path


def _tiny_digits_model(folder: Path, name: str, epochs: int, iwae_k: int, **model: object) -> Path:
    out = folder / name
    options = {"arch": "mlp", **model}
    train(TrainConfig(dataset="digits", epochs=epochs, iwae_k=iwae_k), out, options, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """An MLP VAE trained for 2 epochs on digits: small, fast, real."""
    return _tiny_digits_model(tmp_path_factory.mktemp("models"), "tiny.pt", 2, 5, latent_dim=4, hidden_dims=(64,))


@pytest.fixture(scope="session")
def tiny_conditional_checkpoint(tmp_path_factory) -> Path:
    """A conditional MLP VAE trained for 1 epoch on digits (10 classes)."""
    folder = tmp_path_factory.mktemp("models")
    return _tiny_digits_model(folder, "tiny_conditional.pt", 1, 0, latent_dim=3, hidden_dims=(32,), conditional=True)


@pytest.fixture(scope="session")
def tiny_hierarchical_checkpoint(tmp_path_factory) -> Path:
    """A two-level hierarchical VAE (levels 2 and 3) trained for 2 epochs on digits."""
    folder = tmp_path_factory.mktemp("models")
    return _tiny_digits_model(
        folder, "tiny_hierarchical.pt", 2, 5, arch="hierarchical", level_dims=(2, 3), hidden_dim=32
    )


@pytest.fixture(scope="session")
def digits_models(tmp_path_factory) -> dict[str, Path]:
    """models/digits.pt as each kind of model: the checkpoint itself, a bundle with a data
    sample (its 359 held-out images, all held out again) and a bundle that names `digits`."""
    from vae.bundle import bundle_from_checkpoint

    folder, checkpoint = tmp_path_factory.mktemp("digits_models"), REPO / "models" / "digits.pt"
    shutil.copy(checkpoint, folder / "digits.pt")
    return {
        "checkpoint": folder / "digits.pt",
        "sample": bundle_from_checkpoint(checkpoint, folder / "digits-sample", sample=600),
        "dataset": bundle_from_checkpoint(checkpoint, folder / "digits-named", sample=0),
    }


@pytest.fixture
def shared_mnist() -> Path:
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("the shared MNIST test files are not present")
    return SHARED_MNIST
