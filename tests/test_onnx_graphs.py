"""ONNX export of the native VAE's networks (vae.models.onnx_graphs), run in onnxruntime."""

import os

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from torch import nn

from vae import load_checkpoint
from vae.models import onnx_graphs
from vae.models.checkpoints import round_to_half
from vae.models.native import VAE, VAEConfig
from vae.models.onnx_graphs import cached_graph, decoder_onnx, encoder_onnx, export_module

CONFIGS = [
    VAEConfig(image_shape=(1, 8, 8), latent_dim=3, arch="mlp", hidden_dims=(16,)),
    VAEConfig(image_shape=(3, 13, 11), latent_dim=4, arch="conv", hidden_dims=(32,), likelihood="gaussian"),
    VAEConfig(image_shape=(1, 8, 8), latent_dim=2, arch="mlp", hidden_dims=(16,), conditional=True, num_classes=5),
]


def _run(graph: bytes, feeds: dict) -> list[np.ndarray]:
    return onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"]).run(None, feeds)


@pytest.mark.parametrize("config", CONFIGS, ids=["mlp", "conv-rgb-odd-size", "conditional"])
def test_graphs_equal_torch_at_any_batch_size(config):
    torch.manual_seed(0)
    model = VAE(config).eval()
    decoder, encoder = decoder_onnx(model), encoder_onnx(model)
    for n in (1, 7):  # exported with batch 2: the batch dimension is dynamic
        z = torch.randn(n, config.latent_dim)
        x = torch.rand(n, *config.image_shape)
        y = torch.arange(n) % config.num_classes if config.conditional else None
        label = {"label": y.numpy()} if y is not None else {}
        with torch.no_grad():
            image = model.decode(z, y)
            mu, logvar = model.encode(x, y)
        (decoded,) = _run(decoder, {"z": z.numpy(), **label})
        assert decoded.shape == (n, *config.image_shape)
        assert np.abs(decoded - image.numpy()).max() < 1e-5
        got_mu, got_logvar = _run(encoder, {"image": x.numpy(), **label})
        assert np.abs(got_mu - mu.numpy()).max() < 1e-5 and np.abs(got_logvar - logvar.numpy()).max() < 1e-5


def test_a_graph_is_one_self_contained_file_with_named_inputs():
    model = VAE(CONFIGS[2]).train()  # the export switches to eval (dropout-free here) and back
    proto = onnx.load_from_string(decoder_onnx(model))
    assert model.training
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["z", "label"] and [o.name for o in proto.graph.output] == ["image"]
    assert all(t.data_location != onnx.TensorProto.EXTERNAL for t in proto.graph.initializer)
    assert {op.domain for op in proto.graph.node} <= {"", "ai.onnx"}  # standard operators only


def test_graphs_are_cached_by_checkpoint_content(tiny_checkpoint, tmp_path, monkeypatch):
    model, _ = load_checkpoint(tiny_checkpoint)
    first = cached_graph(tmp_path, tiny_checkpoint, model)
    calls = []
    monkeypatch.setattr(onnx_graphs, "decoder_onnx", lambda m: calls.append(m) or b"")
    assert cached_graph(tmp_path, tiny_checkpoint, model) == first and calls == []  # no second export
    changed = tmp_path / "tiny.pt"
    changed.write_bytes(tiny_checkpoint.read_bytes() + b"\0")  # another file's content: another name
    os.utime(changed)
    assert onnx_graphs.graph_path(tmp_path, changed, "decoder").name != first.name
    assert first.name.startswith("tiny-") and first.name.endswith("-decoder.onnx")


def test_the_absolute_decoder_graph_equals_torch_decode_absolute(tmp_path):
    from vae.models.hierarchical import HierarchicalConfig, HierarchicalVAE

    torch.manual_seed(0)
    model = HierarchicalVAE(HierarchicalConfig((1, 8, 8), (2, 3), hidden_dim=16)).eval()
    with torch.no_grad():  # away from the zero-initialised priors, so the levels' values matter
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    graph = decoder_onnx(model, part="absolute")
    values = model.absolute(torch.randn(5, 5, generator=torch.Generator().manual_seed(1))).detach()
    values[:, 2:] += 0.5  # values off the standardised path
    with torch.no_grad():
        expected = model.decode_absolute(values).numpy()
        standardised = model.decode(values).numpy()
    (decoded,) = _run(graph, {"z": values.numpy()})
    assert np.abs(decoded - expected).max() < 1e-5
    (one,) = _run(graph, {"z": values[:1].numpy()})  # batch 1, as the live sliders send
    (one_standardised,) = _run(decoder_onnx(model), {"z": values[:1].numpy()})
    assert np.abs(one - expected[:1]).max() < 1e-5 and np.abs(one_standardised - standardised[:1]).max() < 1e-5
    assert np.abs(expected - standardised).max() > 1e-3  # not the standardised decoder
    checkpoint = tmp_path / "h.pt"
    checkpoint.write_bytes(b"the cache is keyed by this content")
    cached = cached_graph(tmp_path, checkpoint, model, "decoder-absolute")
    assert cached.name.endswith("-decoder-absolute.onnx")
    (again,) = _run(cached.read_bytes(), {"z": values.numpy()})
    assert np.array_equal(again, decoded)


def test_concurrent_exports_leave_builtins_and_numba_alone():
    """torch.export swaps builtins.max/min while it traces and restores them after; two
    exports at once (two browser sessions opening models) used to restore each other's swap
    and leave max broken for the process, which then failed every UMAP fit (numba)."""
    import builtins
    import threading

    import numba
    import numpy as np

    original_max, original_min = builtins.max, builtins.min
    module = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    errors: list[BaseException] = []

    def export():
        try:
            export_module(module, (torch.zeros(2, 4),), ["z"], ["out"])
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=export) for _ in range(3)]
    for thread in threads:
        thread.start()

    @numba.njit(parallel=True)
    def largest(values):
        return values.max()  # the parallel max that UMAP compiles and that broke

    compiled = largest(np.arange(10.0))
    for thread in threads:
        thread.join()
    assert not errors
    assert builtins.max is original_max and builtins.min is original_min
    assert compiled == 9.0


def test_a_half_weight_model_gets_a_half_size_graph_with_the_same_outputs():
    """Weights that are all float16 values (a --half-weights checkpoint) are stored as float16
    in the graph, cast back to float32 in it: half the file, outputs unchanged; other weights
    stay float32."""
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 28, 28), latent_dim=4, arch="mlp", hidden_dims=(64,))).eval()
    full = decoder_onnx(model)
    assert onnx.TensorProto.FLOAT16 not in {t.data_type for t in onnx.load_from_string(full).graph.initializer}
    round_to_half(model)
    half = decoder_onnx(model)
    stored = onnx.load_from_string(half).graph.initializer
    assert onnx.TensorProto.FLOAT16 in {t.data_type for t in stored}
    assert len(half) < 0.55 * len(full)
    z = torch.randn(5, 4)
    with torch.no_grad():
        expected = model.decode(z).numpy()
    np.testing.assert_allclose(_run(half, {"z": z.numpy()})[0], expected, atol=1e-5)
