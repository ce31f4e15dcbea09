"""The one model interface: what every page, analysis, map and `vae.evaluate` may ask of a
model. The native VAE (`vae.models.native`) implements it; so can a model trained anywhere
else, as long as it can encode, decode and score an image.

Only training and the Train page reach past it (into `VAE.config` and the layers).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class LatentModel(Protocol):
    """A VAE seen from outside: a Gaussian posterior q(z | x) = N(μ, σ²), a standard-normal
    prior, and a decoder whose mean image lies in [0, 1].

    Conditional models take class labels `y` (N,) beside images and codes; unconditional ones
    ignore `y`. Every tensor is on `device`; images are (N, C, H, W) float in [0, 1]."""

    @property
    def latent_dim(self) -> int: ...

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the images the model reads and writes."""
        ...

    @property
    def num_classes(self) -> int:
        """How many classes the model is conditioned on; 0 for an unconditional model."""
        ...

    @property
    def likelihood(self) -> str:
        """The observation model p(x | z): "bernoulli" or "gaussian"."""
        ...

    @property
    def architecture(self) -> str:
        """One line on the networks, for the model card."""
        ...

    @property
    def device(self) -> torch.device: ...

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images -> (μ, log σ²), each (N, latent_dim)."""
        ...

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Codes (N, latent_dim) -> mean images (N, C, H, W) in [0, 1]."""
        ...

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | z) summed over pixels, (N,) nats: the reconstruction term of the ELBO."""
        ...


def is_conditional(model: LatentModel) -> bool:
    return model.num_classes > 0


def is_text(model: LatentModel) -> bool:
    """Whether the model reads and writes token ids (a sentence VAE, `vae.models.sentence`):
    such a model has `vocabulary` and `sequence_length` instead of `image_shape`, and
    `decode` returns (N, L) ids."""
    return getattr(model, "modality", "image") == "text"
