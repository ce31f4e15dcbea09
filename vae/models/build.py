"""A native model from its config: the flat VAE, the hierarchical one or the sentence VAE, chosen by `arch`."""

from __future__ import annotations

from vae.models.architecture import TEXT_ARCHS, HierarchicalConfig, SentenceConfig, VAEConfig
from vae.models.hierarchical import HierarchicalVAE
from vae.models.native import VAE
from vae.models.sentence import SentenceVAE

ModelConfig = VAEConfig | HierarchicalConfig | SentenceConfig
NativeModel = VAE | HierarchicalVAE | SentenceVAE


def config_from_dict(values: dict) -> ModelConfig:
    """The config a checkpoint or a training run describes (ValueError when it is invalid)."""
    if values.get("arch") == "hierarchical":
        return HierarchicalConfig.from_dict(values)
    if values.get("arch") in TEXT_ARCHS:
        return SentenceConfig.from_dict(values)
    return VAEConfig.from_dict(values)


def build_model(config: ModelConfig) -> NativeModel:
    if isinstance(config, SentenceConfig):
        return SentenceVAE(config)
    return HierarchicalVAE(config) if isinstance(config, HierarchicalConfig) else VAE(config)
