"""What a bundle folder holds: file names, the manifest's format tag, and the limits that both
export and opening enforce."""

FORMAT = "vae-latent-explorer-bundle"
FORMAT_VERSION = 1  # a flat bundle: one level, codes with prior N(0, I)
LEVELS_FORMAT_VERSION = 2  # a bundle with levels and prior graphs (an app that reads only 1 refuses it)
READ_VERSIONS = (FORMAT_VERSION, LEVELS_FORMAT_VERSION)
MANIFEST, ENCODER, DECODER, SAMPLE = "manifest.json", "encoder.onnx", "decoder.onnx", "data.npz"
MAX_SAMPLE_IMAGES = 10_000  # and at most MAX_SAMPLE_BYTES of uint8 pixels
MAX_SAMPLE_BYTES = 64 * 2**20
MAX_LEVELS = 8
LIKELIHOODS = ("bernoulli", "gaussian")


def prior_graph(level: int) -> str:
    """The file of level `level`'s conditional prior (1 for the level below the top): fixed by
    the format, never read from the manifest."""
    return f"prior_{level}.onnx"
