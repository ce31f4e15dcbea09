"""Decoder graphs (vae.models.onnx_graphs) run in onnxruntime-web in real Chromium, as the live
component runs them, against torch."""

import numpy as np
import pytest
import torch
from browser_support import REPO, browser_available, chromium_page, ort_decode, ort_page
from torch import nn

from vae import load_checkpoint
from vae.latent.codes import decode_codes
from vae.models.onnx_graphs import cached_graph

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium"),
]
# The β sweep (digits-beta-*.pt) is digits.pt's architecture; mnist-hierarchical.pt decodes standardised
# codes through its conditional priors.
SHIPPED = ["digits.pt", "mnist.pt", "sprites.pt", "mnist-hierarchical.pt"]


class OddLayersVAE(nn.Module):
    """A decoder of layers the old hand-written browser decoder refused: BatchNorm, LeakyReLU,
    Tanh, nearest and bilinear Upsample, padded Conv2d."""

    latent_dim, image_shape, num_classes, likelihood, architecture = 4, (1, 8, 8), 0, "bernoulli", "test"

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(4, 16 * 2 * 2),
            nn.Unflatten(1, (16, 2, 2)),
            nn.BatchNorm2d(16),
            nn.LeakyReLU(0.2),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(16, 8, 3, padding=1),
            nn.Tanh(),
            nn.Upsample(scale_factor=2, mode="bilinear"),
            nn.Conv2d(8, 1, 3, padding=1),
            nn.Sigmoid(),
        )
        batch_norm = self.net[2]
        batch_norm.running_mean.uniform_(-1, 1)  # statistics a trained model would have
        batch_norm.running_var.uniform_(0.5, 2)

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    graphs = tmp_path_factory.mktemp("graphs")
    with chromium_page() as page, ort_page(page, graphs):
        yield page, graphs


def _graph_url(graphs, checkpoint, model) -> str:
    return "graphs/" + cached_graph(graphs, checkpoint, model).name


@pytest.mark.parametrize("name", SHIPPED)
def test_browser_decode_equals_torch_for_each_shipped_model(name, browser):
    page, graphs = browser
    model, _ = load_checkpoint(REPO / "models" / name)
    vectors = np.random.default_rng(0).normal(size=(5, model.latent_dim)).astype(np.float32)
    vectors[0] = 0
    expected = decode_codes(model, vectors).reshape(len(vectors), -1).numpy()
    decoded, _ = ort_decode(page, _graph_url(graphs, REPO / "models" / name, model), vectors)
    assert np.abs(decoded - expected).max() < 1e-4


def test_a_hierarchical_bundles_composed_decoder_equals_its_server_decode(browser, tiny_hierarchical_checkpoint):
    """A hierarchical bundle's browser graph is its prior graphs and decoder composed into one
    graph of standardised codes: in onnxruntime-web it decodes as the server does."""
    from vae.bundle import bundle_from_checkpoint
    from vae.bundle.composing import browser_decoder
    from vae.opened import open_model

    page, graphs = browser
    folder = bundle_from_checkpoint(tiny_hierarchical_checkpoint, graphs.parent / "tiny-hierarchical-bundle", sample=0)
    model = open_model(folder).model
    graph = browser_decoder(model, graphs)
    vectors = np.random.default_rng(2).normal(size=(4, model.latent_dim)).astype(np.float32)
    expected = decode_codes(model, vectors).reshape(len(vectors), -1).numpy()
    decoded, _ = ort_decode(page, "graphs/" + graph.name, vectors)
    assert np.abs(decoded - expected).max() < 1e-4


def test_browser_decode_of_a_conditional_mlp(browser, tiny_conditional_checkpoint):
    page, graphs = browser
    model, _ = load_checkpoint(tiny_conditional_checkpoint)
    vectors = np.random.default_rng(1).normal(size=(3, model.latent_dim)).astype(np.float32)
    for label in (0, 7):
        expected = decode_codes(model, vectors, torch.tensor([label])).reshape(3, -1).numpy()
        decoded, _ = ort_decode(page, _graph_url(graphs, tiny_conditional_checkpoint, model), vectors, label)
        assert np.abs(decoded - expected).max() < 1e-4


def test_a_decoder_with_batchnorm_leakyrelu_tanh_and_upsample_decodes_in_the_browser(browser, tmp_path):
    page, graphs = browser
    torch.manual_seed(0)
    model = OddLayersVAE().eval()
    checkpoint = tmp_path / "odd.pt"
    checkpoint.write_bytes(b"the graph cache is keyed by this file's content")
    vectors = np.random.default_rng(2).normal(size=(4, 4)).astype(np.float32)
    with torch.no_grad():
        expected = model.decode(torch.from_numpy(vectors)).reshape(4, -1).numpy()
    decoded, _ = ort_decode(page, _graph_url(graphs, checkpoint, model), vectors)
    assert np.abs(decoded - expected).max() < 1e-4
    assert expected.std() > 0.01  # the layers did something
