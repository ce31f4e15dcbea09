"""A bundle of a hierarchical VAE (manifest `levels`, prior graphs prior_1.onnx …) seen through
the same level interface as the native `HierarchicalVAE` (vae.models.hierarchical).

The bundle's graphs work in the levels' *values*: the encoder gives (μ, log σ²) of every level
along the mean path, the decoder takes every level's values, and prior_l.onnx gives
p(z_l | z_<l) = N(μ_p, σ_p²) from the values of the levels above (the top level's prior is
N(0, I)). The explorer's codes are *standardised*, ε_l with z_l = μ_p + σ_p ⊙ ε_l, so this
model converts with the prior graphs, run in onnxruntime.
"""

from __future__ import annotations

from pathlib import Path

import torch

from vae.bundle.onnx_model import BundleModel
from vae.models.gaussian import gaussian_kl_between, gaussian_log_density
from vae.models.levels import Level, make_levels


class LevelledBundleModel(BundleModel):
    """A hierarchical bundle: codes (N, latent_dim) are standardised, the top level first."""

    def __init__(self, folder: Path, manifest: dict, encoder: bytes, decoder: bytes, priors: list[bytes]) -> None:
        super().__init__(folder, manifest, encoder, decoder)
        self.levels: tuple[Level, ...] = make_levels(
            [int(lv["size"]) for lv in manifest["levels"]], [str(lv["name"]) for lv in manifest["levels"]]
        )
        self._priors = [self._session(graph) for graph in priors]
        self.graphs = {"decoder": decoder, "priors": list(priors)}  # for the browser's composed graph

    @property
    def architecture(self) -> str:
        sizes = " → ".join(f"{lv.name} {lv.size}" for lv in self.levels)
        return f"{super().architecture}, levels {sizes}"

    def conditional_prior(self, level: int, upper: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ_p, log σ_p²) of level `level` given the values of the levels above, (N, their
        sizes summed); N(0, I) for the top level."""
        if level == 0:
            zeros = torch.zeros(len(upper), self.levels[0].size)
            return zeros, zeros
        mu, logvar = self._run(self._priors[level - 1], "upper", upper, None)
        return torch.from_numpy(mu), torch.from_numpy(logvar)

    def encode_absolute(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [0, 1] -> (μ, log σ²) of the levels' values along the mean path, as the
        bundle's encoder gives them."""
        return BundleModel.encode(self, x)

    # -- the model interface, in standardised codes --------------------------------------------
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images -> (μ, log σ²) of the standardised code, (N, latent_dim): each level relative
        to its conditional prior, the levels above at their posterior means."""
        mu, logvar = self.encode_absolute(x)
        mus, logvars = [], []
        for i, level in enumerate(self.levels):
            mu_p, logvar_p = self.conditional_prior(i, mu[:, : level.start])
            mus.append((mu[:, level.dims] - mu_p) * torch.exp(-0.5 * logvar_p))
            logvars.append(logvar[:, level.dims] - logvar_p)
        return torch.cat(mus, 1), torch.cat(logvars, 1)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Standardised codes (N, latent_dim) -> mean images (N, C, H, W) in [0, 1]."""
        return self.decode_absolute(self.absolute(torch.as_tensor(z)))

    def absolute(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised codes ε -> the levels' values z_l = μ_p + σ_p ⊙ ε_l, level by level."""
        z = torch.as_tensor(z, dtype=torch.float32)
        values: list[torch.Tensor] = []
        for i, level in enumerate(self.levels):
            mu_p, logvar_p = self.conditional_prior(i, torch.cat(values, 1) if values else z[:, :0])
            values.append(mu_p + torch.exp(0.5 * logvar_p) * z[:, level.dims])
        return torch.cat(values, 1)

    def standardised(self, values: torch.Tensor) -> torch.Tensor:
        """The inverse of `absolute`: the levels' values -> ε."""
        values = torch.as_tensor(values, dtype=torch.float32)
        eps = []
        for i, level in enumerate(self.levels):
            mu_p, logvar_p = self.conditional_prior(i, values[:, : level.start])
            eps.append((values[:, level.dims] - mu_p) * torch.exp(-0.5 * logvar_p))
        return torch.cat(eps, 1)

    def decode_absolute(self, values: torch.Tensor) -> torch.Tensor:
        """The levels' values (not standardised) -> mean images in [0, 1]: the bundle's decoder."""
        return BundleModel.decode(self, values)

    # -- bounds ---------------------------------------------------------------------------------
    # The bundle's posterior is factorised along the mean path: q(z | x) = Π_l N(μ_l, σ_l²) from
    # the encoder, each level's Gaussian fixed by the levels above at their *means*, not at the
    # drawn values a top-down posterior would use. Against the hierarchical prior
    # p(z) = Π_l p(z_l | z_<l) this is still a valid lower bound on log p(x), usually looser than
    # the model's own top-down posterior gives (the native HierarchicalVAE's bounds).
    def elbo_parts(
        self, x: torch.Tensor, generator: torch.Generator | None = None, noise: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One draw z ~ q(z | x) (the factorised posterior along the mean path, a valid, usually looser
        bound than a top-down posterior): (log p(x | z) (N,), KL per dimension (N, D) of each
        level's q against its conditional prior given the drawn levels above, the drawn values z (N, D))."""
        mu, logvar = self.encode_absolute(x)
        if noise is None:
            noise = torch.randn(mu.shape, generator=generator)
        z = mu + torch.exp(0.5 * logvar) * noise
        kls = []
        for i, level in enumerate(self.levels):
            mu_p, logvar_p = self.conditional_prior(i, z[:, : level.start])
            kls.append(gaussian_kl_between(mu[:, level.dims], logvar[:, level.dims], mu_p, logvar_p))
        return self._log_likelihood(x, self.decode_absolute(z)), torch.cat(kls, 1), z

    def log_weights(self, x: torch.Tensor, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """log p(x, z) − log q(z | x) for k draws per image from the factorised posterior, (k, N):
        the IWAE bound's importance weights (Burda et al. 2016), usually looser than a top-down posterior's."""
        mu, logvar = (t.repeat(k, 1) for t in self.encode_absolute(x))
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator)
        log_ratio = -gaussian_log_density(z, mu, 0.5 * logvar).sum(1)
        for i, level in enumerate(self.levels):
            mu_p, logvar_p = self.conditional_prior(i, z[:, : level.start])
            log_ratio += gaussian_log_density(z[:, level.dims], mu_p, 0.5 * logvar_p).sum(1)
        log_px = self._log_likelihood(x.repeat(k, 1, 1, 1), self.decode_absolute(z))
        return (log_px + log_ratio).view(k, len(x))

    def browser_decoder(self) -> bytes:
        """One ONNX graph of standardised codes `z` -> `image` (in the networks' pixel range):
        the prior graphs and the decoder composed (vae.bundle.composing), checked against
        `decode`."""
        from vae.bundle.composing import checked_standardised_decoder

        return checked_standardised_decoder(self)
