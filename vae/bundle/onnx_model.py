"""Opening a model bundle (see vae.bundle): after the checks of vae.bundle.checks, the
bundle is served through the model interface with onnxruntime, and a test input must give
outputs of the declared shapes with no NaN."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from vae.bundle.checks import check_sample, checked_graph, read_manifest
from vae.bundle.format import DECODER, ENCODER, MANIFEST, prior_graph
from vae.errors import BundleError
from vae.models.gaussian import gaussian_log_density

_BATCH = 256  # rows per onnxruntime call: bounds memory for large decodes (IWAE)
_EPS = 1e-6  # Bernoulli means are clamped to [eps, 1 - eps] before the log


def is_bundle(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / MANIFEST).is_file()


class BundleModel:
    """A bundle seen through the model interface (vae.models.interface.LatentModel): images
    in [0, 1] at the boundary, converted to and from the networks' pixel range."""

    def __init__(self, folder: Path, manifest: dict, encoder: bytes, decoder: bytes) -> None:
        self.folder, self.manifest = folder, manifest
        self.latent_dim = int(manifest["latent_dim"])
        self.image_shape = tuple(int(s) for s in manifest["image_shape"])
        self.num_classes = int(manifest.get("num_classes") or 0)
        self.likelihood = manifest["likelihood"]
        self.low, self.high = (float(v) for v in manifest["pixel_range"])
        self._encoder, self._decoder = self._session(encoder), self._session(decoder)
        self.training = False

    def _session(self, graph: bytes):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # like torch in the app: sessions of several users share the cores
        try:
            return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime refuses a malformed graph in many ways
            raise BundleError(
                f"{self.folder.name}: onnxruntime cannot load its graphs ({str(err).splitlines()[0][:160]})"
            ) from None

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
        if len(first) == 0:  # every dimension after the batch is a number (vae.bundle.checks)
            return [np.zeros((0, *o.shape[1:]), np.float32) for o in session.get_outputs()]
        labels = None if y is None else torch.as_tensor(y).reshape(-1)
        parts = []
        for start in range(0, len(first), _BATCH):
            chunk_y = None if labels is None else (labels if labels.numel() == 1 else labels[start : start + _BATCH])
            parts.append(session.run(None, self._feeds(first_name, first[start : start + _BATCH], chunk_y)))
        return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        scaled = self.low + (self.high - self.low) * x
        mu, logvar = self._run(self._encoder, "image", scaled, y)
        return torch.from_numpy(mu), torch.from_numpy(logvar)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        (image,) = self._run(self._decoder, "z", torch.as_tensor(z), y)
        return ((torch.from_numpy(image) - self.low) / (self.high - self.low)).clamp(0.0, 1.0)

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self._log_likelihood(x, self.decode(z, y))

    def _log_likelihood(self, x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        """log p(x | mean image) summed over pixels, (N,)."""
        x = x.to(mean.dtype)
        if self.likelihood == "bernoulli":
            p = mean.clamp(_EPS, 1 - _EPS)
            return (x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
        sigma = float(self.manifest["sigma"]) / (self.high - self.low)  # σ in [0, 1] pixel units
        return gaussian_log_density(x, mean, math.log(sigma)).flatten(1).sum(1)

    def moved_to(self, folder: Path) -> BundleModel:
        """The same opened model after its folder was moved (a zip installed into place)."""
        self.folder = Path(folder)
        return self

    # nn.Module-like no-ops, for code written against the native model
    def eval(self) -> BundleModel:
        return self

    def train(self, mode: bool = True) -> BundleModel:
        return self


def load_bundle(folder: str | Path) -> BundleModel:
    """The bundle in `folder` behind the model interface, after every check (manifest, graphs,
    data sample, a test input). Raises BundleError. `vae.opened.open_model` describes it."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    d, shape, conditional = (
        int(manifest["latent_dim"]),
        list(manifest["image_shape"]),
        bool(manifest.get("num_classes")),
    )
    label = {"label": []} if conditional else {}
    encoder = checked_graph(folder, ENCODER, {"image": shape, **label}, {"mu": [d], "logvar": [d]})
    decoder = checked_graph(folder, DECODER, {"z": [d], **label}, {"image": shape})
    sizes = [int(level["size"]) for level in manifest["levels"]]
    priors = [  # p(z_l | z_<l): the levels above -> (mu, logvar) of level l
        checked_graph(folder, prior_graph(i), {"upper": [sum(sizes[:i])]}, {"mu": [size], "logvar": [size]})
        for i, size in enumerate(sizes[1:], start=1)
    ]
    check_sample(folder, manifest)
    if priors:
        from vae.bundle.levelled import LevelledBundleModel

        model: BundleModel = LevelledBundleModel(folder, manifest, encoder, decoder, priors)
    else:
        model = BundleModel(folder, manifest, encoder, decoder)
    _probe_outputs(model, folder)
    return model


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
