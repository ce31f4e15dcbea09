"""A text model's greedy decoder as an ONNX graph (vae.models.onnx_graphs), run in
onnxruntime against torch's `decode`, token for token."""

import json

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from text_models import save_text_checkpoint, z_dependent_model

from vae import load_checkpoint
from vae.models.onnx_graphs import cached_graph, cached_vocabulary, decoder_onnx, encoder_onnx


@pytest.fixture(scope="module", params=["gru", "lstm"])
def exported(request):
    model = z_dependent_model(request.param)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    graph = decoder_onnx(model)
    return model, graph, onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def _codes(latent_dim: int) -> np.ndarray:
    """256 codes: from the prior, wider, and far out (|z| up to 30)."""
    rng = np.random.default_rng(0)
    codes = [
        rng.normal(size=(128, latent_dim)),
        4 * rng.normal(size=(64, latent_dim)),
        rng.uniform(-30, 30, (64, latent_dim)),
    ]
    return np.concatenate(codes).astype(np.float32)


@pytest.mark.parametrize("batch", [1, 64])
def test_ids_equal_torch_greedy_decode_token_for_token(exported, batch):
    model, _, session = exported
    codes = _codes(model.latent_dim)
    expected = model.decode(torch.from_numpy(codes)).numpy()
    got = np.concatenate([session.run(None, {"z": codes[i : i + batch]})[0] for i in range(0, len(codes), batch)])
    assert got.dtype == np.int32 and got.shape == (len(codes), model.sequence_length)
    assert np.array_equal(got, expected)
    assert len({tuple(row) for row in got}) > 100  # the codes decode to many sentences: a real test


def test_the_graph_is_self_contained_with_z_in_and_int32_ids_out(exported):
    model, graph, _ = exported
    proto = onnx.load_from_string(graph)
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["z"] and [o.name for o in proto.graph.output] == ["ids"]
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.INT32
    assert all(t.data_location != onnx.TensorProto.EXTERNAL for t in proto.graph.initializer)
    assert {op.domain for op in proto.graph.node} <= {"", "ai.onnx"}


def test_a_text_checkpoint_gets_a_cached_graph_and_a_content_named_vocabulary(tmp_path):
    checkpoint = save_text_checkpoint(tmp_path / "sentences.pt", z_dependent_model("gru", sequence_length=6))
    model, _ = load_checkpoint(checkpoint)
    graph = cached_graph(tmp_path / "graphs", checkpoint, model)
    assert graph.is_file() and graph.name.endswith("-decoder.onnx")
    words = cached_vocabulary(tmp_path / "graphs", model.vocabulary.words)
    assert json.loads(words.read_text(encoding="utf-8")) == list(model.vocabulary.words)
    assert cached_vocabulary(tmp_path / "graphs", list(model.vocabulary.words)) == words  # by content
    assert cached_vocabulary(tmp_path / "graphs", (*model.vocabulary.words, "more")) != words
    with pytest.raises(ValueError, match="token ids"):
        encoder_onnx(model)
