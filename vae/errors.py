"""Errors a user can cause. Each message is one line: what is wrong and what to do.

The CLIs and the app show these messages as they are, never a traceback.
"""


class VAEError(Exception):
    """Base of every user-facing error in this package."""


class DatasetError(VAEError, ValueError):
    """A dataset cannot be loaded."""


class CheckpointError(VAEError):
    """A checkpoint file cannot be loaded."""


class UploadError(VAEError, ValueError):
    """An uploaded file cannot be used as an image."""


class TrainingError(VAEError):
    """Training stopped (for example on a NaN loss); the last good checkpoint is kept."""


class BundleError(CheckpointError, ValueError):
    """A model bundle cannot be written or opened."""
