"""A top-down hierarchical VAE in the Ladder VAE / NVAE manner (Sønderby et al. 2016; Vahdat &
Kautz 2020): a deterministic bottom-up path from the image, then a top-down path that draws
the levels one after another, the top one first. Level l has a conditional prior
p(z_l | z_<l) = N(μ_p, σ_p²) computed from the levels above, and a posterior that combines
that top-down state with the bottom-up features of the image (as a residual on the prior's
parameters, NVAE section 3.2). The KL is counted per level, against the level's own prior.

The code this model shows the explorer is standardised (see `vae.models.levels`): ε_l with
z_l = μ_p + σ_p ⊙ ε_l, whose prior is N(0, I). `encode` returns the posterior of ε along the
mean path (every upper level at its posterior mean); the ELBO and the IWAE bound use the true
top-down posterior, drawn level by level (`elbo_parts`, `log_weights`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from vae.models.architecture import HierarchicalConfig, conv_sizes
from vae.models.gaussian import gaussian_kl_between, gaussian_log_density
from vae.models.levels import Level, make_levels
from vae.models.native import ConfiguredModel, ElboTerms, conv_decoder, conv_encoder, log_likelihood


def _soft_clamp(logvar: torch.Tensor, bound: float = 8.0) -> torch.Tensor:
    """Keeps log-variances in (−bound, bound) smoothly: no exp overflow early in training."""
    return bound * torch.tanh(logvar / bound)


# What the top-down walk hands each level's `pick`: its index, prior μ and log σ², and the
# posterior's μ and log σ² (None when no image is being encoded).
Pick = Callable[[int, torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None], torch.Tensor]


class HierarchicalVAE(ConfiguredModel):
    def __init__(self, config: HierarchicalConfig) -> None:
        super().__init__()
        self.config = config
        c, h, w = config.image_shape
        channels, width = config.conv_channels, config.hidden_dim
        self._sizes = conv_sizes(h, w, len(channels))
        last_h, last_w = self._sizes[-1]
        flat = channels[-1] * last_h * last_w
        self._unflatten = (channels[-1], last_h, last_w)
        dims = config.level_dims
        self.levels: tuple[Level, ...] = make_levels(dims)
        self.encoder_convs = conv_encoder(c, channels)
        # Bottom-up: one dense head per level on the convolutions' features (top level first).
        # Side by side, not stacked: a stacked path made the top level one layer deeper than a
        # flat VAE's encoder, and it learned far slower (held-out ELBO after 12 epochs on MNIST, levels
        # 16 and 16: −145 nats stacked, −127 side by side, −114 with the linear merges below).
        self.bottom_up = nn.ModuleList(nn.Sequential(nn.Linear(flat, width), nn.SiLU()) for _ in dims)
        self.top_posterior = nn.Linear(width, 2 * dims[0])
        self.top_state = nn.Sequential(nn.Linear(dims[0], width), nn.SiLU())
        self.priors = nn.ModuleList(nn.Linear(width, 2 * d) for d in dims[1:])
        self.posteriors = nn.ModuleList(nn.Linear(2 * width, 2 * d) for d in dims[1:])
        # A lower level adds a linear term to the state: a block on the state itself made the
        # path from the top level to the image deeper than a flat VAE's decoder, which learned
        # far slower (−127 against −114 nats above; a flat 16-d VAE: −115).
        self.merges = nn.ModuleList(nn.Linear(d, width) for d in dims[1:])
        # Start at prior = N(0, I), posterior = prior, and lower levels not yet changing the
        # state: drawn noise fed in at full strength drowned the top level early on, and every
        # level collapsed for the first epochs.
        for layer in (*self.priors, *self.posteriors, *self.merges):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.decoder_body = nn.Sequential(nn.Linear(width, flat), nn.SiLU())
        self.decoder_deconvs = conv_decoder(c, channels, self._sizes)
        if config.likelihood == "gaussian":
            self.log_scale = nn.Parameter(torch.tensor(math.log(0.1)))

    # -- the model interface (vae.models.interface.LatentModel) ----------------------------
    @property
    def device(self) -> torch.device:
        return self.top_posterior.weight.device

    @property
    def num_classes(self) -> int:
        return 0

    @property
    def architecture(self) -> str:
        c = self.config
        sizes = " → ".join(f"{lv.name} {lv.size}" for lv in self.levels)
        return f"hierarchical, levels {sizes}, width {c.hidden_dim}, conv {list(c.conv_channels)}"

    @property
    def channels_last(self) -> bool:
        return False

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images -> (μ, log σ²) of the standardised code, (N, latent_dim): each level's
        posterior relative to its conditional prior, the levels above at their posterior means."""
        mus, logvars = [], []

        def at_mean(i, mu_p, logvar_p, mu_q, logvar_q):
            mus.append((mu_q - mu_p) * torch.exp(-0.5 * logvar_p))
            logvars.append(logvar_q - logvar_p)
            return mu_q

        self._walk(x.shape[0], at_mean, self._features(x))
        return torch.cat(mus, 1), torch.cat(logvars, 1)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Standardised codes (N, latent_dim) -> mean images (N, C, H, W) in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z))

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        eps = [z[:, lv.dims] for lv in self.levels]
        # z.shape[0], not len(z): len() would fix the batch size of an exported (ONNX) graph
        h = self._walk(z.shape[0], lambda i, mu_p, logvar_p, *_: mu_p + torch.exp(0.5 * logvar_p) * eps[i])
        return self._image_logits(h)

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.log_likelihood(self.decode_logits(z), x)

    def log_likelihood(self, x_logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return log_likelihood(x_logits, x, self.config.likelihood, getattr(self, "log_scale", None))

    # -- levels -----------------------------------------------------------------------------
    def absolute(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised codes ε -> the levels' values z_l = μ_p + σ_p ⊙ ε_l, (N, latent_dim)."""
        values = []

        def place(i, mu_p, logvar_p, *_):
            values.append(mu_p + torch.exp(0.5 * logvar_p) * z[:, self.levels[i].dims])
            return values[-1]

        self._walk(z.shape[0], place)
        return torch.cat(values, 1)

    def standardised(self, values: torch.Tensor) -> torch.Tensor:
        """The inverse of `absolute`: the levels' values -> ε."""
        eps = []

        def measure(i, mu_p, logvar_p, *_):
            level_values = values[:, self.levels[i].dims]
            eps.append((level_values - mu_p) * torch.exp(-0.5 * logvar_p))
            return level_values

        self._walk(values.shape[0], measure)
        return torch.cat(eps, 1)

    def encode_absolute(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images -> (μ, log σ²) of the levels' values along the mean path, (N, latent_dim):
        what a model bundle's encoder returns (vae.bundle)."""
        mus, logvars = [], []

        def at_mean(i, mu_p, logvar_p, mu_q, logvar_q):
            mus.append(mu_q)
            logvars.append(logvar_q)
            return mu_q

        self._walk(x.shape[0], at_mean, self._features(x))
        return torch.cat(mus, 1), torch.cat(logvars, 1)

    def conditional_prior(self, level: int, upper: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ_p, log σ_p²) of p(z_l | z_<l), each (N, size of level l), for level l ≥ 1 given
        the values of the levels above it, (N, their sizes summed): a bundle's prior graph."""
        if not 1 <= level < len(self.levels):
            raise ValueError(f"level {level}: the levels below the top are 1 to {len(self.levels) - 1}")
        found = []

        def above(i, mu_p, logvar_p, *_):
            if i == level:
                found.append((mu_p, logvar_p))
            return upper[:, self.levels[i].dims] if i < level else mu_p

        self._walk(upper.shape[0], above)
        return found[0]

    def decode_absolute(self, values: torch.Tensor) -> torch.Tensor:
        """The levels' values (not standardised) -> mean images: what keeps a lower level's
        values fixed while an upper one moves."""
        h = self._walk(values.shape[0], lambda i, *_: values[:, self.levels[i].dims])
        return torch.sigmoid(self._image_logits(h))

    # -- bounds -----------------------------------------------------------------------------
    def elbo_parts(
        self, x: torch.Tensor, generator: torch.Generator | None = None, noise: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One draw from the top-down posterior: (log p(x | z) (N,), KL per dimension (N, D)
        against each level's conditional prior given the drawn levels above, the drawn z (N, D))."""
        if noise is None:
            noise = torch.randn((len(x), self.latent_dim), generator=generator, device=x.device, dtype=x.dtype)
        kls, drawn = [], []

        def draw(i, mu_p, logvar_p, mu_q, logvar_q):
            kls.append(gaussian_kl_between(mu_q.float(), logvar_q.float(), mu_p.float(), logvar_p.float()))
            drawn.append(mu_q + torch.exp(0.5 * logvar_q) * noise[:, self.levels[i].dims].to(mu_q.dtype))
            return drawn[-1]

        h = self._walk(x.shape[0], draw, self._features(x))
        recon_ll = self.log_likelihood(self._image_logits(h).float(), x.float())
        return recon_ll, torch.cat(kls, 1), torch.cat(drawn, 1)

    def log_weights(self, x: torch.Tensor, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """log p(x, z) − log q(z | x) for k top-down posterior draws per image, (k, N): the
        importance weights of the IWAE bound (Burda et al. 2016)."""
        features = [f.repeat(k, 1) for f in self._features(x)]
        n = len(x) * k
        noise = torch.randn((n, self.latent_dim), generator=generator, device=x.device, dtype=x.dtype)
        log_ratio = torch.zeros(n, device=x.device)

        def draw(i, mu_p, logvar_p, mu_q, logvar_q):
            z = mu_q + torch.exp(0.5 * logvar_q) * noise[:, self.levels[i].dims]
            log_p = gaussian_log_density(z, mu_p, 0.5 * logvar_p).sum(1)
            log_q = gaussian_log_density(z, mu_q, 0.5 * logvar_q).sum(1)
            log_ratio.add_(log_p - log_q)
            return z

        h = self._walk(n, draw, features)
        log_px = self.log_likelihood(self._image_logits(h), x.repeat(k, 1, 1, 1))
        return (log_px + log_ratio).view(k, len(x))

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
        """The training objective. `free_bits` (nats per dimension) is a floor on each level's
        batch-mean KL, counted for the level as a whole (free bits per group, Kingma et al. 2016)."""
        if tc_penalty:
            raise ValueError("the total-correlation penalty (--tc-beta) is for flat VAEs only")
        recon_ll, kl_per_dim, _ = self.elbo_parts(x, generator, noise)
        recon_ll, kl_per_dim = recon_ll.mean(), kl_per_dim.mean(0)
        kl = kl_per_dim.sum()
        if free_bits > 0:
            kl_for_loss = sum(kl_per_dim[lv.dims].sum().clamp(min=free_bits * lv.size) for lv in self.levels)
        else:
            kl_for_loss = kl
        return ElboTerms(-recon_ll + beta * kl_for_loss, recon_ll - kl, recon_ll, kl, kl_per_dim)

    # -- the two paths ----------------------------------------------------------------------
    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Bottom-up features, one per level, the top level's first."""
        h = self.encoder_convs(x)
        return [head(h) for head in self.bottom_up]

    def _walk(self, n: int, pick: Pick, features: list[torch.Tensor] | None = None) -> torch.Tensor:
        """The top-down path: for each level, its prior and (given features) its posterior,
        then z_l = pick(...) feeds the state below. Returns the final state (N, width)."""
        device = self.device
        dim0 = self.config.level_dims[0]
        zeros = torch.zeros(n, dim0, device=device)
        if features is not None:
            mu_q, logvar_q = self.top_posterior(features[0]).chunk(2, 1)
            logvar_q = _soft_clamp(logvar_q)
        else:
            mu_q = logvar_q = None
        h = self.top_state(pick(0, zeros, zeros, mu_q, logvar_q))
        for i, (prior, posterior, merge) in enumerate(zip(self.priors, self.posteriors, self.merges), start=1):
            mu_p, logvar_p = prior(h).chunk(2, 1)
            logvar_p = _soft_clamp(logvar_p)
            if features is not None:
                d_mu, d_logvar = posterior(torch.cat([h, features[i]], 1)).chunk(2, 1)
                mu_q, logvar_q = mu_p + d_mu, _soft_clamp(logvar_p + d_logvar)
            z = pick(i, mu_p, logvar_p, mu_q, logvar_q)
            h = h + merge(z)
        return h

    def _image_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder_deconvs(self.decoder_body(h).view(-1, *self._unflatten))
