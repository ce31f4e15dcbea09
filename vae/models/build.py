"""A native model from its config: the flat VAE or the hierarchical one, chosen by `arch`."""

from __future__ import annotations

from vae.models.architecture import HierarchicalConfig, VAEConfig
from vae.models.hierarchical import HierarchicalVAE
from vae.models.native import VAE

ModelConfig = VAEConfig | HierarchicalConfig
NativeModel = VAE | HierarchicalVAE


def config_from_dict(values: dict) -> ModelConfig:
    """The config a checkpoint or a training run describes (ValueError when it is invalid)."""
    if values.get("arch") == "hierarchical":
        return HierarchicalConfig.from_dict(values)
    return VAEConfig.from_dict(values)


def build_model(config: ModelConfig) -> NativeModel:
    return HierarchicalVAE(config) if isinstance(config, HierarchicalConfig) else VAE(config)
