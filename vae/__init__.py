"""VAE Latent Explorer's library: models, data, training, checkpoints, metrics (no Streamlit)."""

from vae.checkpoints import load_checkpoint, save_checkpoint
from vae.data import Dataset, load_dataset
from vae.errors import CheckpointError, DatasetError, TrainingError, UploadError, VAEError
from vae.model import VAE, VAEConfig
from vae.preprocess import preprocess_upload

__all__ = [
    "VAE",
    "CheckpointError",
    "Dataset",
    "DatasetError",
    "TrainingError",
    "UploadError",
    "VAEConfig",
    "VAEError",
    "load_checkpoint",
    "load_dataset",
    "preprocess_upload",
    "save_checkpoint",
]
