"""The browser decoder (ui/live_traverse/decoder.js) against torch, run in real Chromium."""

import numpy as np
import pytest
import torch
from browser_support import REPO, browser_available, chromium_page

from vae import load_checkpoint
from vae.latent.codes import decode_codes
from vae.models.decoder_export import decoder_spec

pytestmark = pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium")
DECODER_JS = REPO / "ui" / "live_traverse" / "decoder.js"
SHIPPED = sorted(p.name for p in (REPO / "models").glob("*.pt"))


def _browser_decode(page, spec: dict, vectors: np.ndarray, label: int = 0) -> np.ndarray:
    flat = page.evaluate(
        "([spec, vectors, label]) => { const model = VAEDecoder.prepare(spec);"
        " return vectors.map(z => Array.from(VAEDecoder.decode(model, z, label).data)); }",
        [spec, vectors.tolist(), label],
    )
    return np.array(flat, dtype=np.float32)


@pytest.fixture(scope="module")
def page():
    with chromium_page() as browser_page:
        browser_page.goto("about:blank")
        browser_page.add_script_tag(path=str(DECODER_JS))
        yield browser_page


@pytest.mark.parametrize("name", SHIPPED)
def test_browser_decode_equals_torch_for_each_shipped_model(name, page):
    model, _ = load_checkpoint(REPO / "models" / name)
    vectors = np.random.default_rng(0).normal(size=(5, model.config.latent_dim)).astype(np.float32)
    vectors[0] = 0
    expected = decode_codes(model, vectors).reshape(len(vectors), -1).numpy()
    assert np.abs(_browser_decode(page, decoder_spec(model), vectors) - expected).max() < 1e-4


def test_browser_decode_of_a_conditional_mlp(page, tmp_path):
    from vae.training.config import TrainConfig
    from vae.training.loop import train

    model, _ = train(
        TrainConfig(dataset="digits", epochs=1, iwae_k=0),
        tmp_path / "c.pt",
        {"arch": "mlp", "latent_dim": 3, "hidden_dims": (32,), "conditional": True},
        progress=False,
    )
    vectors = np.random.default_rng(1).normal(size=(3, 3)).astype(np.float32)
    expected = decode_codes(model, vectors, torch.tensor([7])).reshape(3, -1).numpy()
    assert np.abs(_browser_decode(page, decoder_spec(model), vectors, label=7) - expected).max() < 1e-4
