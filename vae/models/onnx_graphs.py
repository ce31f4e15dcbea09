"""A native model's networks as ONNX graphs: the decoder for the browser (onnxruntime-web) and
the encoder beside it for any ONNX tool.

Each graph is one self-contained file (every weight inside it, no external-data files) with a
dynamic batch dimension:
    decoder  z (N, latent_dim) float32 [, label (N,) int64]  ->  image (N, C, H, W) in [0, 1]
    decoder-absolute (a hierarchical model) z: the levels' values, not standardised -> image
    decoder (a text model)  z (N, latent_dim) float32  ->  ids (N, L) int32, the greedy sentence
    encoder  image (N, C, H, W) float32 in [0, 1] [, label]  ->  mu, logvar (N, latent_dim)
A conditional model takes the class index as the second input `label` (the one-hot encoding
happens inside the graph, as in the PyTorch model). Exports are cached beside the checkpoint,
keyed by its content, like the maps: an export takes seconds and never runs on a slider move.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import threading
import warnings
from pathlib import Path

import torch
from torch import nn

from vae.files import file_digest, write_bytes_atomically
from vae.models.interface import LatentModel, is_conditional, is_text

OPSET = 18

# torch.export traces with builtins.max/min swapped for its own and process-wide state
# (stdout, loggers) redirected: two exports at once fail and can leave max swapped for good.
_EXPORT_LOCK = threading.Lock()


class DecodeModule(nn.Module):
    def __init__(self, model: LatentModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.decode(z, label)


class GreedySentenceModule(nn.Module):
    """A text model's greedy decoding, its fixed-length loop unrolled into the graph (one
    recurrent step per position: fine for the short sentences these models write).

    The ids leave as int32, not torch's int64: onnxruntime-web hands an int64 output to
    JavaScript as a BigInt64Array, whose elements are BigInts that cannot index an array or
    compare with a number without a conversion each; a vocabulary's ids fit easily in int32."""

    def __init__(self, model: LatentModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decode(z).to(torch.int32)


class DecodeAbsoluteModule(nn.Module):
    """A hierarchical model's `decode_absolute`: the levels' own values -> mean images."""

    def __init__(self, model: LatentModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decode_absolute(z)


class EncodeModule(nn.Module):
    def __init__(self, model: LatentModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor, label: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.encode(image, label)


def decoder_onnx(model: nn.Module, part: str = "standardised") -> bytes:
    """The decoder as ONNX bytes: inputs `z` (and `label`), output `image`. `part="absolute"`:
    a hierarchical model's `decode_absolute` (its input `z` holds the levels' values), which
    keeps a lower level's values while an upper one moves. A text model: input `z`, output
    `ids` (N, L) int32, its greedy sentence (<pad> after the first <eos>)."""
    z = torch.zeros(2, model.latent_dim)
    if is_text(model):
        if part != "standardised":
            raise ValueError("a text model has one decoder: part='standardised'")
        return _export(GreedySentenceModule(model), z, "z", ["ids"], model)
    if part == "absolute":
        return _export(DecodeAbsoluteModule(model), z, "z", ["image"], model)
    if part != "standardised":
        raise ValueError(f"unknown decoder part {part!r}: use 'standardised' or 'absolute'")
    return _export(DecodeModule(model), z, "z", ["image"], model)


def encoder_onnx(model: nn.Module) -> bytes:
    """The encoder as ONNX bytes: inputs `image` (and `label`), outputs `mu`, `logvar`."""
    if is_text(model):
        raise ValueError("a text model's encoder reads token ids: it is not exported")
    x = torch.full((2, *model.image_shape), 0.5)
    return _export(EncodeModule(model), x, "image", ["mu", "logvar"], model)


def _export(module: nn.Module, first: torch.Tensor, first_name: str, outputs: list[str], model) -> bytes:
    args: tuple[torch.Tensor, ...] = (first,)
    names = [first_name]
    if is_conditional(model):
        args += (torch.zeros(len(first), dtype=torch.long),)
        names.append("label")
    was_training = model.training
    model.eval()
    try:
        return export_module(module, args, names, outputs)
    finally:
        model.train(was_training)


def export_module(module: nn.Module, args: tuple[torch.Tensor, ...], names: list[str], outputs: list[str]) -> bytes:
    """Any module as ONNX bytes: inputs named `names` (batch dimension dynamic), outputs
    `outputs`, standard operators, every weight inside."""
    batch = torch.export.Dim("batch", min=1)
    with _EXPORT_LOCK, _numba_compiles_wait(), _quiet():
        program = torch.onnx.export(
            module,
            args,
            dynamo=True,
            input_names=names,
            output_names=outputs,
            dynamic_shapes=tuple({0: batch} for _ in args),
            opset_version=OPSET,
            optimize=True,
            external_data=False,
        )
    import onnx  # here: importing it takes most of a second, and a cached graph needs none

    proto = program.model_proto
    for tensor in proto.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            raise ValueError(f"the export left {tensor.name} in an external file")
    _store_exact_halves(proto.graph)
    return proto.SerializeToString()


HALF_MIN_ELEMENTS = 1024  # a smaller weight saves too little for its Cast node


def _store_exact_halves(graph) -> None:
    """Store as float16, with a Cast back to float32 in front, every large float32 weight
    whose values are all float16 values (a checkpoint saved with --half-weights): half the
    file, the same numbers. Other weights are left as they are."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    casts = []
    for tensor in graph.initializer:
        if tensor.data_type != TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(tensor)
        if values.size < HALF_MIN_ELEMENTS:
            continue
        with np.errstate(over="ignore"):
            half = values.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), values):
            continue
        name = tensor.name
        tensor.CopyFrom(numpy_helper.from_array(half, f"{name}.float16"))
        casts.append(helper.make_node("Cast", [f"{name}.float16"], [name], to=TensorProto.FLOAT))
    if casts:
        nodes = [*casts, *graph.node]  # a node's inputs must be made by the nodes before it
        del graph.node[:]
        graph.node.extend(nodes)


def _numba_compiles_wait() -> contextlib.AbstractContextManager:
    """Numba's compiler lock, so that a UMAP fit in another thread does not compile its
    kernels while builtins.max is swapped (numba types a global `max` at compile time)."""
    try:
        from numba.core.compiler_lock import global_compiler_lock
    except ImportError:  # numba comes with umap-learn; without it there is nothing to guard
        return contextlib.nullcontext()
    return global_compiler_lock


@contextlib.contextmanager
def _quiet():
    """The exporter reports each stage on stdout and warns about optional packages (e.g.
    torchvision's operators); none of it concerns the user."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def graph_path(folder: Path, checkpoint: str | os.PathLike, part: str) -> Path:
    """Where `part` ("decoder", "decoder-absolute" or "encoder") of a checkpoint is cached in `folder`: named by
    the checkpoint's content, so a retrained file gets a new graph and a browser may cache
    the old name for ever."""
    checkpoint = Path(checkpoint)
    return Path(folder) / f"{checkpoint.stem}-{file_digest(checkpoint)}-{part}.onnx"


def cached_graph(folder: Path, checkpoint: str | os.PathLike, model: nn.Module, part: str = "decoder") -> Path:
    """The graph file of `part`, exported on first use and written atomically."""
    path = graph_path(folder, checkpoint, part)
    if not path.is_file():
        if part == "decoder-absolute":
            data = decoder_onnx(model, part="absolute")
        else:
            data = {"decoder": decoder_onnx, "encoder": encoder_onnx}[part](model)
        write_bytes_atomically(path, data)
    return path


def served_copy(folder: Path, graph: Path) -> Path:
    """A copy of an existing graph file in `folder`, named by its content (a bundle's decoder,
    served to the browser like an exported one)."""
    graph = Path(graph)
    path = Path(folder) / f"{graph.parent.name}-{file_digest(graph)}-{graph.stem}.onnx"
    if not path.is_file():
        write_bytes_atomically(path, graph.read_bytes())
    return path


def cached_vocabulary(folder: Path, words: tuple[str, ...] | list[str]) -> Path:
    """A text model's vocabulary for the browser, beside its decoder graph: a JSON list of the
    words by id, named by its content (fetched once, like the graph)."""
    data = json.dumps(list(words), ensure_ascii=False, separators=(",", ":")).encode()
    path = Path(folder) / f"vocabulary-{hashlib.sha1(data).hexdigest()[:16]}.json"
    if not path.is_file():
        write_bytes_atomically(path, data)
    return path
