"""Opening a model bundle (see vae.bundle): checks that nothing in it can do more than a graph
of standard operators, then serves it through the model interface with onnxruntime.

Refused, each with a one-line BundleError: a missing or unreadable manifest or graph, a file
that is not ONNX, a graph that refers to external data files or to operators outside the
standard ONNX domains (custom operators are native code), inputs or outputs that disagree
with the manifest, a manifest of another format version, NaN outputs.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import torch

from vae.bundle import (
    DECODER,
    ENCODER,
    FORMAT,
    FORMAT_VERSION,
    LIKELIHOODS,
    MANIFEST,
    MAX_SAMPLE_BYTES,
    MAX_SAMPLE_IMAGES,
    SAMPLE,
)
from vae.data.datasets import BUILTIN
from vae.errors import BundleError

STANDARD_DOMAINS = {"", "ai.onnx"}
MAX_CHANNELS, MAX_SIDE, MAX_LATENT, MAX_CLASSES = 4, 1024, 4096, 10_000
_BATCH = 256  # rows per onnxruntime call: bounds memory for large decodes (IWAE)
_EPS = 1e-6  # Bernoulli means are clamped to [eps, 1 - eps] before the log


def is_bundle(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / MANIFEST).is_file()


def _integer(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BundleError(f"{folder.name}: no {MANIFEST}: not a model bundle") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(f"{folder.name}/{MANIFEST} is not readable JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{folder.name}/{MANIFEST} is not a VAE Latent Explorer bundle manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{folder.name} is a bundle of format version {manifest.get('format_version')}; this app reads "
            f"version {FORMAT_VERSION}: export it again with this version's vae.bundle"
        )
    try:
        shape = [_integer(s) for s in manifest["image_shape"]]
        low, high = (float(v) for v in manifest["pixel_range"])
        latent_dim, num_classes = _integer(manifest["latent_dim"]), _integer(manifest.get("num_classes") or 0)
        sigma = manifest.get("sigma")
        sigma = None if sigma is None else float(sigma)
        names = [str(n) for n in manifest.get("label_names") or []]
        style = dict(manifest.get("upload_style") or {})
        sample = manifest.get("sample")
        if sample is not None:
            sample = {**sample, "num_examples": _integer(sample["num_examples"])}
            sample["factor_names"] = [str(n) for n in sample.get("factor_names") or []]
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise BundleError(f"{folder.name}/{MANIFEST} lacks a valid field ({type(err).__name__}: {err})") from None
    if len(shape) != 3 or not high > low or not math.isfinite(high - low):
        raise BundleError(
            f"{folder.name}/{MANIFEST}: image_shape must be (C, H, W) and pixel_range (low, high), high > low"
        )
    c, h, w = shape
    if not (1 <= c <= MAX_CHANNELS and 1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise BundleError(
            f"{folder.name}/{MANIFEST}: images of {c}×{h}×{w}: at most {MAX_CHANNELS} channels and {MAX_SIDE} px a side"
        )
    if not (1 <= latent_dim <= MAX_LATENT and 0 <= num_classes <= MAX_CLASSES):
        raise BundleError(f"{folder.name}/{MANIFEST}: latent_dim 1-{MAX_LATENT} and num_classes 0-{MAX_CLASSES} please")
    if manifest.get("likelihood") not in LIKELIHOODS:
        raise BundleError(f"{folder.name}/{MANIFEST}: likelihood must be one of {LIKELIHOODS}")
    if manifest["likelihood"] == "gaussian" and not (sigma is not None and math.isfinite(sigma) and sigma > 0):
        raise BundleError(f"{folder.name}/{MANIFEST}: a gaussian likelihood needs sigma > 0")
    dataset = manifest.get("dataset")
    if dataset is not None and dataset not in BUILTIN:  # a bundle must not make the server read its folders
        raise BundleError(f"{folder.name}/{MANIFEST}: dataset must be one of {', '.join(BUILTIN)} (or none)")
    if sample is not None and not 1 <= sample["num_examples"] <= MAX_SAMPLE_IMAGES:
        raise BundleError(f"{folder.name}/{MANIFEST}: a data sample holds 1 to {MAX_SAMPLE_IMAGES} images")
    manifest = {
        **manifest,
        "image_shape": shape,
        "pixel_range": [low, high],
        "latent_dim": latent_dim,
        "num_classes": num_classes,
        "sigma": sigma,
        "label_names": names,
        "upload_style": style,
        "sample": sample,
    }
    return manifest


def _checked_graph(folder: Path, name: str, inputs: dict[str, list], outputs: dict[str, list]) -> bytes:
    """The graph's bytes once it is a plain ONNX graph whose inputs and outputs are `inputs` /
    `outputs` (name -> shape after the batch dimension)."""
    import onnx

    path = folder / name
    if path.is_symlink() and path.resolve().parent != folder.resolve():
        raise BundleError(f"{folder.name}/{name} is a link to a file outside the bundle: refused")
    try:
        data = path.read_bytes()
    except OSError:
        raise BundleError(f"{folder.name}: {name} is missing or unreadable") from None
    try:
        proto = onnx.load_from_string(data)
    except Exception:
        raise BundleError(f"{folder.name}/{name} is not an ONNX file") from None
    graph = proto.graph
    if not graph.node:
        raise BundleError(f"{folder.name}/{name} is not an ONNX file (no graph)")
    if proto.functions:
        raise BundleError(f"{folder.name}/{name} uses model-local functions: refused (export with optimize=True)")
    external, domains = False, {o.domain for o in proto.opset_import}
    for sub in _graphs(graph):
        tensors = [*sub.initializer, *(s.values for s in sub.sparse_initializer)]
        for node in sub.node:
            domains.add(node.domain)
            for a in node.attribute:
                tensors += [a.t, *a.tensors, a.sparse_tensor.values, *(s.values for s in a.sparse_tensors)]
        external = external or any(t.data_location == onnx.TensorProto.EXTERNAL for t in tensors)
    if external:
        raise BundleError(f"{folder.name}/{name} refers to external data files: export with every weight inside")
    custom = sorted(d for d in domains if d not in STANDARD_DOMAINS)
    if custom:
        raise BundleError(f"{folder.name}/{name} uses operators outside standard ONNX ({custom[0]}): refused")
    for value in [*graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if not dims or not dims[0].dim_param:
            raise BundleError(
                f"{folder.name}/{name}: {value.name} needs a dynamic batch dimension (export with dynamic_shapes)"
            )
    for kind, wanted, declared in (("input", inputs, graph.input), ("output", outputs, graph.output)):
        actual = {v.name: [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim][1:] for v in declared}
        if list(actual) != list(wanted) or any(
            [int(s) if isinstance(s, int) else s for s in actual[k]] != list(wanted[k]) for k in wanted
        ):
            expected = ", ".join(f"{k} (N, {', '.join(map(str, v))})" for k, v in wanted.items())
            raise BundleError(
                f"{folder.name}/{name}: {kind}s {_describe(actual)} disagree with the manifest, which needs {expected}"
            )
    return data


def _graphs(graph):
    """A graph and every subgraph inside it (If / Loop / Scan bodies), depth first."""
    yield graph
    for node in graph.node:
        for a in node.attribute:
            for sub in [a.g, *a.graphs] if (a.HasField("g") or a.graphs) else []:
                yield from _graphs(sub)


def _describe(shapes: dict[str, list]) -> str:
    return ", ".join(f"{k} (N, {', '.join(map(str, v))})" for k, v in shapes.items()) or "none"


class BundleModel:
    """A bundle seen through the model interface (vae.models.interface.LatentModel): images
    in [0, 1] at the boundary, converted to and from the networks' pixel range."""

    def __init__(self, folder: Path, manifest: dict, encoder: bytes, decoder: bytes) -> None:
        import onnxruntime

        self.folder, self.manifest = folder, manifest
        self.latent_dim = int(manifest["latent_dim"])
        self.image_shape = tuple(int(s) for s in manifest["image_shape"])
        self.num_classes = int(manifest.get("num_classes") or 0)
        self.likelihood = manifest["likelihood"]
        self.low, self.high = (float(v) for v in manifest["pixel_range"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # like torch in the app: sessions of several users share the cores
        try:
            self._encoder = onnxruntime.InferenceSession(encoder, options, providers=["CPUExecutionProvider"])
            self._decoder = onnxruntime.InferenceSession(decoder, options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime refuses a malformed graph in many ways
            raise BundleError(
                f"{folder.name}: onnxruntime cannot load its graphs ({str(err).splitlines()[0][:160]})"
            ) from None
        self.training = False

    # -- the model interface ----------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    @property
    def architecture(self) -> str:
        low, high = self.low, self.high
        return f"ONNX bundle ({self.folder.name}), networks in [{low:g}, {high:g}]"

    def _feeds(self, first_name: str, first: np.ndarray, y) -> dict:
        feeds = {first_name: first}
        if self.num_classes:
            if y is None:
                raise ValueError("this is a conditional model: pass the labels y")
            labels = np.asarray(torch.as_tensor(y).cpu(), dtype=np.int64).reshape(-1)
            feeds["label"] = np.broadcast_to(labels, (len(first),)).copy() if labels.size == 1 else labels
        return feeds

    def _run(self, session, first_name: str, first: torch.Tensor, y) -> list[np.ndarray]:
        first = np.ascontiguousarray(first.detach().cpu().float().numpy())
        if len(first) == 0:
            return [np.zeros((0, *o.shape[1:]), np.float32) for o in self._declared(session)]
        labels = None if y is None else torch.as_tensor(y).reshape(-1)
        parts = []
        for start in range(0, len(first), _BATCH):
            chunk_y = None if labels is None else (labels if labels.numel() == 1 else labels[start : start + _BATCH])
            parts.append(session.run(None, self._feeds(first_name, first[start : start + _BATCH], chunk_y)))
        return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]

    def _declared(self, session):
        """Empty stand-ins for a session's outputs: (0, *shape) with the batch left out."""
        shapes = {"mu": (self.latent_dim,), "logvar": (self.latent_dim,), "image": self.image_shape}
        return [np.zeros((1, *shapes[o.name])) for o in session.get_outputs()]

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        scaled = self.low + (self.high - self.low) * x
        mu, logvar = self._run(self._encoder, "image", scaled, y)
        return torch.from_numpy(mu), torch.from_numpy(logvar)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        (image,) = self._run(self._decoder, "z", torch.as_tensor(z), y)
        return ((torch.from_numpy(image) - self.low) / (self.high - self.low)).clamp(0.0, 1.0)

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        mean = self.decode(z, y)
        x = x.to(mean.dtype)
        if self.likelihood == "bernoulli":
            p = mean.clamp(_EPS, 1 - _EPS)
            return (x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
        sigma = float(self.manifest["sigma"]) / (self.high - self.low)  # σ in [0, 1] pixel units
        per_pixel = -0.5 * ((x - mean) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)
        return per_pixel.flatten(1).sum(1)

    # nn.Module-like no-ops, for code written against the native model
    def eval(self) -> BundleModel:
        return self

    def train(self, mode: bool = True) -> BundleModel:
        return self


def load_bundle(folder: str | Path) -> tuple[BundleModel, dict]:
    """(model, meta) from a bundle folder; meta has the shape of a checkpoint's, so the pages
    and analyses read both alike. Raises BundleError."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    d, shape, conditional = (
        int(manifest["latent_dim"]),
        list(manifest["image_shape"]),
        bool(manifest.get("num_classes")),
    )
    label = {"label": []} if conditional else {}
    encoder = _checked_graph(folder, ENCODER, {"image": shape, **label}, {"mu": [d], "logvar": [d]})
    decoder = _checked_graph(folder, DECODER, {"z": [d], **label}, {"image": shape})
    _check_sample(folder, manifest)
    model = BundleModel(folder, manifest, encoder, decoder)
    _probe_outputs(model, folder)
    return model, bundle_meta(folder, manifest)


def _probe_outputs(model: BundleModel, folder: Path) -> None:
    n = 3  # not the batch size an exporter traces with: a fixed batch fails here, not later
    y = torch.arange(n) % model.num_classes if model.num_classes else None
    try:
        mu, logvar = model.encode(torch.full((n, *model.image_shape), 0.5), y)
        image = model.decode(torch.zeros(n, model.latent_dim), y)
    except BundleError:
        raise
    except Exception as err:
        raise BundleError(
            f"{folder.name}: its graphs fail on a test input ({str(err).splitlines()[0][:160]})"
        ) from None
    shapes = (tuple(mu.shape), tuple(logvar.shape), tuple(image.shape))
    if shapes != ((n, model.latent_dim), (n, model.latent_dim), (n, *model.image_shape)):
        raise BundleError(f"{folder.name}: its graphs return shapes {shapes}, not what they declare")
    if not (torch.isfinite(mu).all() and torch.isfinite(logvar).all() and torch.isfinite(image).all()):
        raise BundleError(f"{folder.name}: its graphs give NaN or infinite values on a test input")


def _check_sample(folder: Path, manifest: dict) -> None:
    """The data sample is what the manifest says: uint8 images of the model's shape, labels and
    factors of the same length, within the size limits. Reads array headers before any data."""
    sample = manifest.get("sample")
    if sample is None:
        return
    count, shape = sample["num_examples"], tuple(manifest["image_shape"])
    expected = {"images": ((count, *shape), np.uint8), "labels": ((count,), np.int64), "factors": None}
    try:
        with zipfile.ZipFile(folder / SAMPLE) as archive:
            for member in archive.namelist():
                key = member.removesuffix(".npy")
                if key not in expected:
                    raise BundleError(f"{folder.name}/{SAMPLE} holds an unexpected array {key!r}")
                with archive.open(member) as handle:
                    version = np.lib.format.read_magic(handle)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    array_shape, _, dtype = read_header(handle)
                if dtype.hasobject:
                    raise BundleError(f"{folder.name}/{SAMPLE}: {key} holds Python objects: refused")
                wanted = expected[key]
                if key == "factors":
                    ok = len(array_shape) == 2 and array_shape[0] == count and dtype.kind == "f"
                else:
                    ok = array_shape == wanted[0] and dtype == wanted[1]
                if not ok:
                    raise BundleError(
                        f"{folder.name}/{SAMPLE}: {key} {array_shape} {dtype} disagrees with the manifest"
                    )
            if "images.npy" not in archive.namelist():
                raise BundleError(f"{folder.name}/{SAMPLE} holds no images")
    except BundleError:
        raise
    except Exception as err:  # a broken zip, a bad header, a missing file
        raise BundleError(f"{folder.name}/{SAMPLE} cannot be read ({type(err).__name__})") from None
    if count * math.prod(shape) > MAX_SAMPLE_BYTES:
        raise BundleError(f"{folder.name}/{SAMPLE} is larger than {MAX_SAMPLE_BYTES // 2**20} MB of pixels")


def bundle_meta(folder: Path, manifest: dict) -> dict:
    sample = manifest.get("sample") or None
    if sample is not None:
        count = int(sample.get("num_examples", 0))
        dataset = {
            "spec": f"{folder.name} (its data sample)",
            "sample": str(folder / SAMPLE),
            "options": {},
            "num_examples": count,
            "label_names": list(manifest.get("label_names") or []),
            "factor_names": list(sample.get("factor_names") or []),
        }
        held = np.arange(count, dtype=np.int32)  # every sample image is held out: the model never saw them here
    elif manifest.get("dataset"):
        dataset = {
            "spec": manifest["dataset"],
            "options": {},
            "num_examples": None,
            "label_names": [],
            "factor_names": [],
        }
        held = None  # the dataset's standard held-out fifth, chosen when it is loaded
    else:
        dataset, held = None, None
    return {
        "kind": "bundle",
        "bundle": manifest,
        "dataset": dataset,
        "split": {"held_out_fraction": 1.0 if sample else 0.2, "seed": 0, "held_out_indices": held},
        "image_shape": list(manifest["image_shape"]),
        "label_names": list(manifest.get("label_names") or []),
        "upload_style": dict(manifest.get("upload_style") or {}),
        "training": {},
        "history": [],
        "metrics": None,
        "epochs_done": 0,
    }
