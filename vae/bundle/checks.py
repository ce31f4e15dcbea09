"""What opening a model bundle checks before any of it runs: the manifest (format version,
field types, size limits, no paths on the server), each graph (plain ONNX: no external data and
no custom operators, in subgraphs too; inputs and outputs as the manifest says, with a dynamic
batch) and the data sample (array headers read first, no pickles). Each refusal is a one-line
BundleError."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np

from vae.bundle.format import (
    FORMAT,
    LEVELS_FORMAT_VERSION,
    LIKELIHOODS,
    MANIFEST,
    MAX_LEVELS,
    MAX_SAMPLE_BYTES,
    MAX_SAMPLE_IMAGES,
    READ_VERSIONS,
    SAMPLE,
)
from vae.data.datasets import BUILTIN
from vae.errors import BundleError

STANDARD_DOMAINS = {"", "ai.onnx"}
MAX_CHANNELS, MAX_SIDE, MAX_LATENT, MAX_CLASSES = 4, 1024, 4096, 10_000


def _integer(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def read_manifest(folder: Path) -> dict:
    """The bundle's manifest, read and checked (check_manifest)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BundleError(f"{folder.name}: no {MANIFEST}: not a model bundle") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(f"{folder.name}/{MANIFEST} is not readable JSON ({err})") from None
    return check_manifest(folder, manifest)


def check_manifest(folder: Path, manifest: dict) -> dict:
    """The manifest of the bundle in `folder` with its fields in their types, once every
    check passes: what opening a bundle checks, and what export_bundle checks before it
    writes anything. Raises BundleError."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{folder.name}/{MANIFEST} is not a VAE Latent Explorer bundle manifest")
    if manifest.get("format_version") not in READ_VERSIONS:
        raise BundleError(
            f"{folder.name} is a bundle of format version {manifest.get('format_version')}; this app reads "
            f"versions {' and '.join(map(str, READ_VERSIONS))}: export it again with this version's vae.bundle"
        )
    try:
        shape = [_integer(s) for s in manifest["image_shape"]]
        low, high = (float(v) for v in manifest["pixel_range"])
        latent_dim, num_classes = _integer(manifest["latent_dim"]), _integer(manifest.get("num_classes") or 0)
        sigma = manifest.get("sigma")
        sigma = None if sigma is None else float(sigma)
        names = [str(n) for n in manifest.get("label_names") or []]
        style = dict(manifest.get("upload_style") or {})
        levels = [(str(lv["name"]), _integer(lv["size"])) for lv in manifest.get("levels") or []]
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
        raise BundleError(
            f"{folder.name}/{MANIFEST}: dataset must be one of {', '.join(BUILTIN)} (or none), not {repr(dataset)[:60]}: "
            "to ship other data, export with dataset=None and sample_images= (and sample_labels=), a data sample "
            "that travels with the bundle"
        )
    if sample is not None and not 1 <= sample["num_examples"] <= MAX_SAMPLE_IMAGES:
        raise BundleError(f"{folder.name}/{MANIFEST}: a data sample holds 1 to {MAX_SAMPLE_IMAGES} images")
    levels = _check_levels(folder, levels or [("z", latent_dim)], latent_dim)
    if len(levels) > 1 and manifest["format_version"] != LEVELS_FORMAT_VERSION:
        raise BundleError(
            f"{folder.name}/{MANIFEST}: a bundle with levels is of format version {LEVELS_FORMAT_VERSION}"
        )
    if len(levels) > 1 and num_classes:
        raise BundleError(f"{folder.name}/{MANIFEST}: a bundle with levels is unconditional here (num_classes 0)")
    manifest = {
        **manifest,
        "levels": [{"name": name, "size": size} for name, size in levels],
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


RESERVED_LEVEL_NAMES = ("all", "all levels")


def _check_levels(folder: Path, levels: list[tuple[str, int]], latent_dim: int) -> list[tuple[str, int]]:
    """The levels (name, size), top first, once they are named apart, of positive sizes, and
    add up to the latent size."""
    names, sizes = [n for n, _ in levels], [s for _, s in levels]
    where = f"{folder.name}/{MANIFEST}"
    if not 1 <= len(levels) <= MAX_LEVELS or min(sizes) < 1:
        raise BundleError(f"{where}: 1 to {MAX_LEVELS} levels of positive size please, not {sizes}")
    if len(set(names)) != len(names) or not all(n.strip() and len(n) <= 40 for n in names):
        raise BundleError(f"{where}: level names must be distinct, non-empty and short, not {names}")
    reserved = [n for n in names if n.strip().lower() in RESERVED_LEVEL_NAMES]
    if reserved:  # the pages offer these words beside the level names
        raise BundleError(f"{where}: {reserved[0]!r} names the whole code in the app: name the level otherwise")
    if sum(sizes) != latent_dim:
        raise BundleError(f"{where}: the levels' sizes {sizes} add up to {sum(sizes)}, not the latent_dim {latent_dim}")
    return levels


def checked_graph(folder: Path, name: str, inputs: dict[str, list], outputs: dict[str, list]) -> bytes:
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


def check_sample(folder: Path, manifest: dict) -> None:
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
