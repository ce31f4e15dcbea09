"""VAE Latent Explorer's library: models, data, training, checkpoints, metrics (no Streamlit)."""

from vae.data.datasets import Dataset, load_dataset
from vae.data.preprocess import preprocess_upload
from vae.errors import CheckpointError, DatasetError, TrainingError, UploadError, VAEError
from vae.models.checkpoints import load_checkpoint, save_checkpoint
from vae.models.native import VAE, VAEConfig
from vae.opened import OpenedModel, open_model

__all__ = [
    "VAE",
    "OpenedModel",
    "CheckpointError",
    "Dataset",
    "DatasetError",
    "TrainingError",
    "UploadError",
    "VAEConfig",
    "VAEError",
    "load_checkpoint",
    "load_dataset",
    "open_model",
    "preprocess_upload",
    "save_checkpoint",
]
