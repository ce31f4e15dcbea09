"""Two VAEs written as their authors write them, with plain torch and nothing of ours, trained
a few steps and exported with `export_bundle`: what "Explore your own VAE" in the README shows.

- `ExamplesVAE`: the pytorch/examples `vae/main.py` MLP (fc1, fc21/fc22, fc3, fc4; `encode`
  takes a flattened image), here on 8×8 digits.
- `ConvVAE`: a conv VAE with BatchNorm and LeakyReLU whose decoder ends in Tanh: images in
  [-1, 1], RGB.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vae.bundle import export_bundle
from vae.data.datasets import load_dataset


class ExamplesVAE(nn.Module):
    def __init__(self, pixels: int = 64, hidden: int = 64, latent: int = 4) -> None:
        super().__init__()
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, self.fc1.in_features))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


class ConvVAE(nn.Module):
    def __init__(self, latent: int = 6, side: int = 16) -> None:
        super().__init__()
        self.side = side // 4
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.LeakyReLU(0.2), nn.Flatten(),
        )  # fmt: skip
        flat = 32 * self.side * self.side
        self.fc_mu, self.fc_var = nn.Linear(flat, latent), nn.Linear(flat, latent)
        self.decoder_input = nn.Linear(latent, flat)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1), nn.BatchNorm2d(16), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(16, 3, 3, 2, 1, output_padding=1), nn.Tanh(),
        )  # fmt: skip

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_var(h)

    def decode(self, z):
        return self.decoder(self.decoder_input(z).view(-1, 32, self.side, self.side))

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


class _Encoder(nn.Module):
    """The README's two-line wrapper: our encoder input is (N, C, H, W)."""

    def __init__(self, vae: nn.Module, flatten: bool) -> None:
        super().__init__()
        self.vae, self.flatten = vae, flatten

    def forward(self, x):
        return self.vae.encode(x.flatten(1) if self.flatten else x)


class _Decoder(nn.Module):
    def __init__(self, vae: nn.Module, shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.vae, self.shape = vae, shape

    def forward(self, z):
        return self.vae.decode(z).view(-1, *self.shape)


def _train(model: nn.Module, x: torch.Tensor, steps: int, recon) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for step in range(steps):
        batch = x[(step * 64) % len(x) :][:64]
        out, mu, logvar = model(batch)
        loss = recon(out, batch) - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()


def rgb_images(n: int = 600, side: int = 16, seed: int = 0) -> torch.Tensor:
    """Coloured squares on a dark background, (n, 3, side, side) in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 3, side, side)
    for i in range(n):
        size = int(torch.randint(3, side // 2, (1,), generator=g))
        top, left = (int(v) for v in torch.randint(0, side - size, (2,), generator=g))
        images[i, :, top : top + size, left : left + size] = torch.rand(3, 1, 1, generator=g)
    return images


def examples_bundle(folder: Path) -> tuple[Path, ExamplesVAE]:
    torch.manual_seed(0)
    data = load_dataset("digits")
    model = ExamplesVAE()
    flat = data.images.flatten(1)
    _train(model, flat, 60, lambda out, x: F.binary_cross_entropy(out, x, reduction="sum") / len(x))
    export_bundle(
        folder,
        encoder=_Encoder(model, flatten=True).eval(),
        decoder=_Decoder(model, (1, 8, 8)).eval(),
        image_shape=(1, 8, 8),
        pixel_range=(0.0, 1.0),
        likelihood="bernoulli",
        label_names=data.label_names,
        sample_images=data.images[:400],
        sample_labels=data.labels[:400],
        upload_style=data.upload_style,
        description="pytorch/examples vae/main.py MLP, 8×8 digits",
    )
    return folder, model


def conv_bundle(folder: Path) -> tuple[Path, ConvVAE]:
    torch.manual_seed(0)
    images = rgb_images()
    model = ConvVAE()
    scaled = images * 2 - 1  # the model works in [-1, 1]
    _train(model, scaled, 30, lambda out, x: F.mse_loss(out, x, reduction="sum") / len(x))
    export_bundle(
        folder,
        encoder=_Encoder(model, flatten=False).eval(),
        decoder=_Decoder(model, (3, 16, 16)).eval(),
        image_shape=(3, 16, 16),
        pixel_range=(-1.0, 1.0),
        likelihood="gaussian",
        sigma=0.2,
        sample_images=images[:300],
        description="conv VAE with BatchNorm, LeakyReLU and a Tanh output",
    )
    return folder, model


class _PlainEncoder(nn.Module):
    def __init__(self, pixels: int = 64, latent: int = 2) -> None:
        super().__init__()
        self.fc = nn.Linear(pixels, 2 * latent)

    def forward(self, x):
        return self.fc(x.flatten(1)).chunk(2, dim=1)


class NaNDecoder(nn.Module):
    """A decoder that is not defined for z0 > 2.5: NaN there (as a user's exported bundle was)."""

    def __init__(self, latent: int = 2, side: int = 8) -> None:
        super().__init__()
        self.fc, self.side = nn.Linear(latent, side * side), side

    def forward(self, z):
        x = torch.sigmoid(self.fc(z)).view(-1, 1, self.side, self.side)
        return torch.where(z[:, :1, None, None] > 2.5, torch.full_like(x, float("nan")), x)


def nan_bundle(folder: Path) -> Path:
    """A 2-D bundle of 8×8 images (no data) whose decoder returns NaN for z0 > 2.5: it passes
    the bundle checks (they probe z = 0)."""
    torch.manual_seed(0)
    export_bundle(
        folder,
        encoder=_PlainEncoder().eval(),
        decoder=NaNDecoder().eval(),
        image_shape=(1, 8, 8),
        likelihood="bernoulli",
        description="a decoder that returns NaN for z0 > 2.5",
    )
    return folder


class TwoLevelVAE(nn.Module):
    """A two-level VAE as its author might write it, plain torch: z_top (4) over z_bottom (6) on
    8×8 images. Bottom-up inference q(z_bottom | x), q(z_top | z_bottom); a learnt conditional
    prior p(z_bottom | z_top); the decoder reads both levels."""

    def __init__(self, pixels: int = 64, hidden: int = 48, top: int = 4, bottom: int = 6) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU())
        self.q_bottom = nn.Linear(hidden, 2 * bottom)
        self.q_top = nn.Sequential(nn.Linear(bottom, hidden), nn.ReLU(), nn.Linear(hidden, 2 * top))
        self.p_bottom = nn.Sequential(nn.Linear(top, hidden), nn.Tanh(), nn.Linear(hidden, 2 * bottom))
        self.decoder = nn.Sequential(nn.Linear(top + bottom, hidden), nn.ReLU(), nn.Linear(hidden, pixels))

    def encode(self, x):
        """((mu, logvar) of z_top, (mu, logvar) of z_bottom), z_top's given z_bottom's mean."""
        mu_b, logvar_b = self.q_bottom(self.features(x.flatten(1))).chunk(2, 1)
        mu_t, logvar_t = self.q_top(mu_b).chunk(2, 1)
        return (mu_t, logvar_t), (mu_b, logvar_b)

    def prior(self, z_top):
        return self.p_bottom(z_top).chunk(2, 1)

    def decode(self, z_top, z_bottom):
        return torch.sigmoid(self.decoder(torch.cat([z_top, z_bottom], 1))).view(-1, 1, 8, 8)


class TwoLevelEncoder(nn.Module):
    def __init__(self, vae: TwoLevelVAE) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, x):
        (mu_t, logvar_t), (mu_b, logvar_b) = self.vae.encode(x)
        return torch.cat([mu_t, mu_b], 1), torch.cat([logvar_t, logvar_b], 1)


class TwoLevelDecoder(nn.Module):
    def __init__(self, vae: TwoLevelVAE) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, z):
        return self.vae.decode(z[:, :4], z[:, 4:])


class TwoLevelPrior(nn.Module):
    def __init__(self, vae: TwoLevelVAE) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, z_top):
        return self.vae.prior(z_top)


def two_level_bundle(folder: Path) -> tuple[Path, TwoLevelVAE]:
    """The two-level VAE with random weights, exported with a data sample of 8×8 digits."""
    torch.manual_seed(0)
    model = TwoLevelVAE().eval()
    data = load_dataset("digits")
    export_bundle(
        folder,
        encoder=TwoLevelEncoder(model).eval(),
        decoder=TwoLevelDecoder(model).eval(),
        prior=TwoLevelPrior(model).eval(),
        levels=[("top", 4), ("bottom", 6)],
        image_shape=(1, 8, 8),
        likelihood="bernoulli",
        sample_images=data.images[:200],
        sample_labels=data.labels[:200],
        description="a two-level VAE in plain torch",
    )
    return folder, model
