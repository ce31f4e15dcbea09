"""What a bundle folder holds: file names, the manifest's format tag, and the limits that both
export and opening enforce."""

FORMAT = "vae-latent-explorer-bundle"
FORMAT_VERSION = 1
MANIFEST, ENCODER, DECODER, SAMPLE = "manifest.json", "encoder.onnx", "decoder.onnx", "data.npz"
MAX_SAMPLE_IMAGES = 10_000  # and at most MAX_SAMPLE_BYTES of uint8 pixels
MAX_SAMPLE_BYTES = 64 * 2**20
LIKELIHOODS = ("bernoulli", "gaussian")
