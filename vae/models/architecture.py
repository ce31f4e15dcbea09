"""The native VAEs' architectures as data: `VAEConfig` (one latent vector) and
`HierarchicalConfig` (levels) fix every layer size."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

ARCHS = ("mlp", "conv")
TEXT_ARCHS = ("gru", "lstm")  # sentence VAEs (vae.models.sentence)
LIKELIHOODS = ("bernoulli", "gaussian")


def default_conv_channels(height: int, width: int) -> tuple[int, ...]:
    """Stride-2 conv widths that halve the smaller side until it is at most 4 pixels."""
    size, layers = min(height, width), 0
    while size > 4:
        size = (size + 2 - 4) // 2 + 1
        layers += 1
    widths = (32, 32, 64, 64, 128, 128)
    return tuple(widths[i] if i < len(widths) else widths[-1] for i in range(max(layers, 1)))


class PlainConfig:
    """to_dict / from_dict of a frozen config dataclass, as a checkpoint stores it (tuples as lists)."""

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict):
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown model config fields: {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


@dataclass(frozen=True)
class VAEConfig(PlainConfig):
    image_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W)
    latent_dim: int = 16
    arch: str = "conv"
    hidden_dims: tuple[int, ...] = (256,)  # MLP layers; for conv, the dense layers after the convs
    conv_channels: tuple[int, ...] = ()  # empty: derived from the image size
    likelihood: str = "bernoulli"
    conditional: bool = False
    num_classes: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        object.__setattr__(self, "hidden_dims", tuple(int(h) for h in self.hidden_dims))
        channels = tuple(int(c) for c in self.conv_channels)
        if self.arch == "conv" and not channels:
            channels = default_conv_channels(*self.image_shape[1:])
        object.__setattr__(self, "conv_channels", channels)
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (C, H, W), got {self.image_shape}")
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be positive, got {self.latent_dim}")
        if self.arch == "conv":
            last_h, last_w = conv_sizes(*self.image_shape[1:], len(channels))[-1]
            if min(last_h, last_w) < 1:
                raise ValueError(
                    f"{len(channels)} conv layers shrink a {self.image_shape[1]}×{self.image_shape[2]} image below one "
                    "pixel: use fewer --conv-channels, or --arch mlp"
                )
        if self.arch == "mlp" and not self.hidden_dims:
            raise ValueError("an mlp needs at least one hidden layer (hidden_dims)")
        if self.conditional and self.num_classes < 2:
            raise ValueError("a conditional VAE needs num_classes >= 2 (data with labels)")

    @property
    def num_pixels(self) -> int:
        return math.prod(self.image_shape)

    @property
    def label_dim(self) -> int:
        return self.num_classes if self.conditional else 0


DEFAULT_LEVELS = (8, 16)  # top first: a few global dimensions over more local ones


@dataclass(frozen=True)
class HierarchicalConfig(PlainConfig):
    image_shape: tuple[int, int, int] = (1, 28, 28)
    level_dims: tuple[int, ...] = DEFAULT_LEVELS  # the top level first
    hidden_dim: int = 256  # width of the bottom-up and top-down states
    conv_channels: tuple[int, ...] = ()  # empty: derived from the image size
    likelihood: str = "bernoulli"
    num_classes: int = 0  # classes of the training data (for labels); the model is unconditional
    arch: str = "hierarchical"
    conditional: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        object.__setattr__(self, "level_dims", tuple(int(d) for d in self.level_dims))
        channels = tuple(int(c) for c in self.conv_channels) or default_conv_channels(*self.image_shape[1:])
        object.__setattr__(self, "conv_channels", channels)
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (C, H, W), got {self.image_shape}")
        if not 2 <= len(self.level_dims) <= 5 or min(self.level_dims) < 1:
            raise ValueError(f"a hierarchical VAE needs 2 to 5 levels of positive size, got {list(self.level_dims)}")
        if self.arch != "hierarchical":
            raise ValueError(f"arch must be 'hierarchical', got {self.arch!r}")
        if self.conditional:
            raise ValueError("the hierarchical VAE is unconditional here: drop --conditional")
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if self.hidden_dim < 1:
            raise ValueError(f"hidden_dim must be positive, got {self.hidden_dim}")
        last_h, last_w = conv_sizes(*self.image_shape[1:], len(channels))[-1]
        if min(last_h, last_w) < 1:
            raise ValueError(
                f"{len(channels)} conv layers shrink a {self.image_shape[1]}×{self.image_shape[2]} image below one pixel"
            )

    @property
    def latent_dim(self) -> int:
        return sum(self.level_dims)

    @property
    def label_dim(self) -> int:
        return 0


@dataclass(frozen=True)
class SentenceConfig(PlainConfig):
    """A sentence VAE (Bowman et al. 2016): token ids (N, sequence_length) in, a recurrent
    encoder to (μ, log σ²), a recurrent decoder started from z and fed z at every step."""

    vocab_size: int = 1000  # the vocabulary's size, its four special tokens included
    sequence_length: int = 21  # ids per sentence: at most sequence_length − 1 words, then <eos>
    latent_dim: int = 16
    arch: str = "gru"  # gru | lstm
    embed_dim: int = 128
    hidden_dim: int = 256
    num_classes: int = 0  # classes of the training data (for labels); the model is unconditional
    conditional: bool = False
    likelihood: str = "categorical"

    def __post_init__(self) -> None:
        if self.arch not in TEXT_ARCHS:
            raise ValueError(f"a sentence VAE's arch must be one of {TEXT_ARCHS}, got {self.arch!r}")
        if self.vocab_size < 5:
            raise ValueError(f"vocab_size must hold the four special tokens and a word, got {self.vocab_size}")
        if self.sequence_length < 2:
            raise ValueError(f"sequence_length must be at least 2, got {self.sequence_length}")
        if min(self.latent_dim, self.embed_dim, self.hidden_dim) < 1:
            raise ValueError("latent_dim, embed_dim and hidden_dim must be positive")
        if self.conditional:
            raise ValueError("the sentence VAE is unconditional here: drop --conditional")
        if self.likelihood != "categorical":
            raise ValueError(f"a sentence VAE's likelihood is categorical, got {self.likelihood!r}")

    @property
    def label_dim(self) -> int:
        return 0


def conv_sizes(height: int, width: int, layers: int) -> list[tuple[int, int]]:
    """Spatial size after each stride-2, kernel-4, padding-1 conv (input size first)."""
    sizes = [(height, width)]
    for _ in range(layers):
        h, w = sizes[-1]
        sizes.append(((h - 2) // 2 + 1, (w - 2) // 2 + 1))
    return sizes
