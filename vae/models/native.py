"""One VAE family: encoder -> (mu, logvar), reparameterization, decoder, ELBO.

Every size is derived from `VAEConfig`; β, free bits and KL warm-up are arguments of the
loss, not subclasses. Conditioning (a one-hot label fed to encoder and decoder) and the
likelihood are config fields.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from vae.models.architecture import VAEConfig, conv_sizes
from vae.models.gaussian import gaussian_kl, gaussian_log_density, reparameterize, total_correlation


class ElboTerms(NamedTuple):
    """Batch averages, in nats per image; `kl_per_dim` has shape (latent_dim,)."""

    loss: torch.Tensor  # what the optimiser minimises: -recon_ll + beta * free-bits KL
    elbo: torch.Tensor  # recon_ll - kl (beta = 1, no free bits): the true bound
    recon_ll: torch.Tensor
    kl: torch.Tensor
    kl_per_dim: torch.Tensor


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class _Flatten(nn.Flatten):
    """nn.Flatten whose gradient keeps a channels-last input's layout. Flatten's gradient
    comes back NCHW; with channels-last convolutions every layer below would then reorder
    its gradients (MNIST bf16 training was slower than fp32 that way)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            x.requires_grad
            and x.dim() == 4
            and not x.is_contiguous()
            and x.is_contiguous(memory_format=torch.channels_last)
        ):
            x.register_hook(lambda grad: grad.contiguous(memory_format=torch.channels_last))
        return super().forward(x)


def conv_encoder(in_channels: int, channels: tuple[int, ...]) -> nn.Sequential:
    """Stride-2, kernel-4 convolutions with SiLU, flattened: (N, C, H, W) -> (N, features)."""
    convs: list[nn.Module] = []
    for c_in, c_out in zip((in_channels, *channels[:-1]), channels):
        convs += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.SiLU()]
    return nn.Sequential(*convs, _Flatten())


def conv_decoder(out_channels: int, channels: tuple[int, ...], sizes: list[tuple[int, int]]) -> nn.Sequential:
    """The mirror of `conv_encoder`: (N, channels[-1], h, w) -> logits (N, C, H, W); `sizes`
    are `conv_sizes` of the image."""
    deconvs: list[nn.Module] = []
    outs = (*reversed(channels[:-1]), out_channels)
    for i, (c_in, c_out) in enumerate(zip(reversed(channels), outs)):
        (in_h, in_w), (out_h, out_w) = sizes[-1 - i], sizes[-2 - i]
        # Exact inverse of the encoder's sizes: odd sides get an output_padding of 1.
        padding = (out_h - 2 * in_h, out_w - 2 * in_w)
        deconvs.append(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, output_padding=padding))
        if c_out != out_channels:  # (as first written: the saved layer indices depend on it)
            deconvs.append(nn.SiLU())
    return nn.Sequential(*deconvs)


def log_likelihood(
    x_logits: torch.Tensor, x: torch.Tensor, likelihood: str, log_scale: torch.Tensor | None
) -> torch.Tensor:
    """log p(x | z) summed over pixels, (N,) nats: Bernoulli on the logits, or a Gaussian
    around their sigmoid with one learned scale (σ-VAE, Rybkin et al. 2021)."""
    if likelihood == "bernoulli":
        return -F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").flatten(1).sum(1)
    mean = torch.sigmoid(x_logits)
    return gaussian_log_density(x, mean, log_scale.clamp(min=math.log(1e-3))).flatten(1).sum(1)


class ConfiguredModel(nn.Module):
    """What the model interface reads straight from a native model's config."""

    config: VAEConfig

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.config.image_shape

    @property
    def likelihood(self) -> str:
        return self.config.likelihood


class VAE(ConfiguredModel):
    """Gaussian-posterior VAE with a standard-normal prior (Kingma & Welling 2014)."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        y_dim = config.label_dim
        if config.arch == "mlp":
            self.encoder_body = nn.Sequential(_mlp([c * h * w + y_dim, *config.hidden_dims]), nn.SiLU())
            feature_dim = config.hidden_dims[-1]
            self.decoder_body = nn.Sequential(
                _mlp([config.latent_dim + y_dim, *reversed(config.hidden_dims), c * h * w])
            )
            self._unflatten = (c, h, w)
        else:
            channels = config.conv_channels
            self._sizes = conv_sizes(h, w, len(channels))
            self.encoder_convs = conv_encoder(c, channels)
            last_h, last_w = self._sizes[-1]
            flat = channels[-1] * last_h * last_w
            dense = [flat + y_dim, *config.hidden_dims]
            self.encoder_body = nn.Sequential(_mlp(dense), nn.SiLU()) if config.hidden_dims else nn.Identity()
            feature_dim = dense[-1]
            self.decoder_body = nn.Sequential(
                _mlp([config.latent_dim + y_dim, *reversed(config.hidden_dims), flat]), nn.SiLU()
            )
            self.decoder_deconvs = conv_decoder(c, channels, self._sizes)
            self._unflatten = (channels[-1], last_h, last_w)
        self.to_mu = nn.Linear(feature_dim, config.latent_dim)
        self.to_logvar = nn.Linear(feature_dim, config.latent_dim)
        if config.likelihood == "gaussian":
            # One learned observation noise scale shared by all pixels (σ-VAE, Rybkin et al. 2021).
            self.log_scale = nn.Parameter(torch.tensor(math.log(0.1)))

    @property
    def device(self) -> torch.device:
        """Where the weights are. One attribute read: `next(model.parameters())` walks every
        submodule, 17 µs, 12 % of a batch-1 decode of the digits model."""
        return self.to_mu.weight.device

    # -- the model interface (vae.models.interface.LatentModel) ----------------------------
    @property
    def num_classes(self) -> int:
        return self.config.label_dim

    @property
    def architecture(self) -> str:
        c = self.config
        return f"{c.arch}, hidden {list(c.hidden_dims)}" + (
            f", conv {list(c.conv_channels)}" if c.arch == "conv" else ""
        )

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.log_likelihood(self.decode_logits(z, y), x)

    @property
    def channels_last(self) -> bool:
        """Whether the conv weights are stored channels-last (`model.to(memory_format=...)`),
        as training does on CPUs with bf16 (vae.training.speed)."""
        if self.config.arch != "conv":
            return False
        weight = self.decoder_deconvs[0].weight
        return weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()

    # -- the model ------------------------------------------------------------------------
    def _one_hot(self, y: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor | None:
        if not self.config.conditional:
            return None
        if y is None:
            raise ValueError("this is a conditional VAE: pass the labels y")
        y = torch.as_tensor(y, device=device).long().reshape(-1)
        if y.numel() == 1 and n > 1:
            y = y.expand(n)
        return F.one_hot(y, self.config.num_classes).float()

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, C, H, W) in [0, 1] -> mu, logvar, each (N, latent_dim)."""
        y_hot = self._one_hot(y, x.shape[0], x.device)
        if self.config.arch == "mlp":
            features = x.flatten(1) if y_hot is None else torch.cat([x.flatten(1), y_hot], 1)
        else:
            features = self.encoder_convs(x)
            if y_hot is not None:
                features = torch.cat([features, y_hot.to(features.dtype)], 1)
        h = self.encoder_body(features)
        return self.to_mu(h), self.to_logvar(h)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, latent_dim) -> decoder output before the sigmoid, (N, C, H, W)."""
        y_hot = self._one_hot(y, z.shape[0], z.device)
        if y_hot is not None:
            z = torch.cat([z, y_hot.to(z.dtype)], 1)
        h = self.decoder_body(z)
        if self.config.arch == "mlp":
            return h.view(-1, *self._unflatten)
        h = h.view(-1, *self._unflatten)
        if self.channels_last:  # the dense output in the layout of the deconvolutions' weights
            h = h.contiguous(memory_format=torch.channels_last)
        return self.decoder_deconvs(h)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, latent_dim) -> the mean image, (N, C, H, W) in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(
        self, x: torch.Tensor, y: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x, y)
        z = reparameterize(mu, logvar, generator)
        return self.decode_logits(z, y), mu, logvar

    @torch.no_grad()
    def sample(
        self,
        n: int,
        y: torch.Tensor | None = None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """n images from the prior, z ~ N(0, temperature² I). A conditional model without
        labels cycles through the classes."""
        device = self.device
        z = temperature * torch.randn(n, self.config.latent_dim, generator=generator, device=device)
        if self.config.conditional and y is None:
            y = torch.arange(n, device=device) % self.config.num_classes
        return self.decode(z, y)

    # -- log-densities ----------------------------------------------------------------------
    def log_likelihood(self, x_logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log p(x | z) summed over pixels: (N,) in nats."""
        return log_likelihood(x_logits, x, self.config.likelihood, getattr(self, "log_scale", None))

    def elbo_terms(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        beta: float = 1.0,
        free_bits: float = 0.0,
        generator: torch.Generator | None = None,
        tc_penalty: float = 0.0,
        dataset_size: int | None = None,
        noise: torch.Tensor | None = None,
    ) -> ElboTerms:
        """One-sample ELBO. `free_bits` (nats per dimension, Kingma et al. 2016) stops the
        optimiser from pushing a dimension's batch-mean KL below that floor. `tc_penalty`
        adds that multiple of the total correlation of q(z) to the loss: with beta = 1 and
        tc_penalty = B − 1 this is the β-TCVAE objective (Chen et al. 2018), since the KL
        splits into index-code MI + TC + dimension-wise KL. `noise` (N, latent_dim), when
        given, is the ε of the reparameterization instead of a fresh draw."""
        mu, logvar = self.encode(x, y)
        if noise is None:
            z = reparameterize(mu, logvar, generator)
        else:
            z = mu + torch.exp(0.5 * logvar) * noise.to(mu.dtype)
        x_logits = self.decode_logits(z, y)
        recon_ll = self.log_likelihood(x_logits.float(), x.float()).mean()
        kl_per_dim = gaussian_kl(mu.float(), logvar.float()).mean(0)
        kl = kl_per_dim.sum()
        kl_for_loss = kl_per_dim.clamp(min=free_bits).sum() if free_bits > 0 else kl
        loss = -recon_ll + beta * kl_for_loss
        if tc_penalty:
            loss = loss + tc_penalty * total_correlation(z.float(), mu.float(), logvar.float(), dataset_size or len(x))
        return ElboTerms(loss, recon_ll - kl, recon_ll, kl, kl_per_dim)
