"""What the app knows about a model besides its networks: a frozen, typed description read
once from a checkpoint's metadata or a bundle's manifest. Pages read these fields, never the
raw dictionaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vae.bundle.format import SAMPLE
from vae.data.datasets import class_names, label_name
from vae.data.source import DataSource, Split

Kind = Literal["checkpoint", "bundle"]
DEFAULT_UPLOAD_STYLE = {"background": "keep", "fit": "resize"}


@dataclass(frozen=True)
class TrainingSetup:
    """How a checkpoint was trained (vae.train's options); absent for a bundle."""

    beta: float = 1.0
    tc_beta: float = 1.0
    warmup_epochs: float = 0.0
    free_bits: float = 0.0
    epochs: int = 0
    sweep: str | None = None  # the sweep it belongs to (python -m vae.sweep, the Train page)
    word_dropout: float = 0.0  # a text model: the share of decoder input words replaced by <unk>

    @classmethod
    def from_dict(cls, options: dict) -> TrainingSetup:
        return cls(
            beta=float(options.get("beta", 1.0)),
            tc_beta=float(options.get("tc_beta", 1.0)),
            warmup_epochs=float(options.get("warmup_epochs", 0.0)),
            free_bits=float(options.get("free_bits", 0.0)),
            epochs=int(options.get("epochs", 0)),
            sweep=options.get("sweep"),
            word_dropout=float(options.get("word_dropout", 0.0)),
        )


@dataclass(frozen=True)
class HeldOutMetrics:
    """vae.analysis.metrics.evaluate_model's summary: held-out ELBO and its parts, the IWAE
    bound, bits per dimension, KL per dimension and active units (nats; `n` images)."""

    n: int
    elbo: float
    recon_ll: float
    kl: float
    iwae_k: int
    iwae_nll: float
    bits_per_dim: float
    kl_per_dim: tuple[float, ...]
    active_units: int
    perplexity: float | None = None  # a text model: exp(IWAE NLL / words scored, <eos> included)

    @classmethod
    def from_dict(cls, values: dict | None) -> HeldOutMetrics | None:
        if not values:
            return None
        return cls(
            n=int(values["n"]),
            elbo=float(values["elbo"]),
            recon_ll=float(values.get("recon_ll", float("nan"))),
            kl=float(values.get("kl", float("nan"))),
            iwae_k=int(values.get("iwae_k", 0)),
            iwae_nll=float(values["iwae_nll"]),
            bits_per_dim=float(values["bits_per_dim"]),
            kl_per_dim=tuple(float(v) for v in values.get("kl_per_dim") or ()),
            active_units=int(values["active_units"]),
            perplexity=float(values["perplexity"]) if values.get("perplexity") is not None else None,
        )


@dataclass(frozen=True)
class Provenance:
    """Where the model came from: trained here (vae.train) or exported elsewhere (a bundle),
    and what the networks' pixels are (a bundle's networks may use [-1, 1])."""

    origin: str  # "trained here" | "exported"
    created: str | None = None
    description: str = ""
    exported_with: dict = field(default_factory=dict)
    pixel_range: tuple[float, float] = (0.0, 1.0)
    sigma: float | None = None  # a Gaussian bundle's σ, in pixel_range units


@dataclass(frozen=True)
class ModelInfo:
    """A model's description. `label_names` has a name for every class of a conditional
    model (numbers where it names too few), else the data's label names."""

    kind: Kind
    name: str
    image_shape: tuple[int, ...]  # (C, H, W); a text model's (L,): token ids per sentence
    num_classes: int
    label_names: tuple[str, ...]
    upload_style: dict
    data: DataSource | None
    split: Split
    provenance: Provenance
    training: TrainingSetup | None = None
    history: tuple[dict, ...] = ()  # one record per epoch: losses, held-out ELBO, KL per dimension
    metrics: HeldOutMetrics | None = None  # recorded at the end of training
    epochs_done: int | None = None
    modality: str = "image"  # "image", or "text" for a sentence VAE

    @property
    def is_text(self) -> bool:
        return self.modality == "text"

    @property
    def is_native(self) -> bool:
        """Trained here: it has a training setup, history, and can be resumed or retrained."""
        return self.kind == "checkpoint"

    def class_name(self, value: int | None) -> str:
        """The name of class `value` ("no label" for None; the number itself past the names)."""
        return label_name(list(self.label_names), value)

    @property
    def recorded_kl_per_dim(self) -> tuple[float, ...] | None:
        """KL per dimension as the checkpoint recorded it: its final metrics, else its last epoch."""
        if self.metrics is not None and self.metrics.kl_per_dim:
            return self.metrics.kl_per_dim
        last = self.history[-1].get("kl_per_dim") if self.history else None
        return tuple(float(v) for v in last) if last else None


def info_from_checkpoint(name: str, meta: dict, num_classes: int) -> ModelInfo:
    """The description of a checkpoint from its metadata (see vae.training.config.dataset_meta)."""
    return ModelInfo(
        kind="checkpoint",
        name=name,
        image_shape=tuple(int(s) for s in meta["image_shape"]),
        num_classes=num_classes,
        label_names=tuple(class_names(meta.get("label_names"), num_classes)),
        upload_style=dict(meta.get("upload_style") or DEFAULT_UPLOAD_STYLE),
        data=DataSource.from_dict(meta.get("dataset")),
        split=Split.from_dict(meta.get("split")),
        provenance=Provenance("trained here", created=meta.get("created")),
        training=TrainingSetup.from_dict(meta.get("training") or {}),
        history=tuple(dict(record) for record in meta.get("history") or ()),
        metrics=HeldOutMetrics.from_dict(meta.get("metrics")),
        epochs_done=meta.get("epochs_done"),
        modality="text" if meta.get("vocabulary") else "image",
    )


def info_from_manifest(folder: Path, manifest: dict) -> ModelInfo:
    """The description of a bundle from its (checked) manifest. A data sample is all held
    out: the model never saw those images here."""
    num_classes = int(manifest.get("num_classes") or 0)
    label_names = tuple(str(n) for n in manifest.get("label_names") or ())
    sample = manifest.get("sample") or None
    if sample is not None:
        count = int(sample.get("num_examples", 0))
        data = DataSource(
            spec=f"{folder.name} (its data sample)",
            num_examples=count,
            label_names=label_names,
            factor_names=tuple(str(n) for n in sample.get("factor_names") or ()),
            sample=folder / SAMPLE,
        )
        split = Split.from_dict({"held_out_fraction": 1.0, "held_out_indices": list(range(count))})
    elif manifest.get("dataset"):
        data, split = DataSource(spec=str(manifest["dataset"])), Split()
    else:
        data, split = None, Split()
    low, high = (float(v) for v in manifest["pixel_range"])
    return ModelInfo(
        kind="bundle",
        name=folder.name,
        image_shape=tuple(int(s) for s in manifest["image_shape"]),
        num_classes=num_classes,
        label_names=tuple(class_names(label_names, num_classes)),
        upload_style=dict(manifest.get("upload_style") or DEFAULT_UPLOAD_STYLE),
        data=data,
        split=split,
        provenance=Provenance(
            "exported",
            created=manifest.get("created"),
            description=str(manifest.get("description") or ""),
            exported_with=dict(manifest.get("exported_with") or {}),
            pixel_range=(low, high),
            sigma=float(manifest["sigma"]) if manifest.get("sigma") else None,
        ),
    )
