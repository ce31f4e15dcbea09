"""Model bundles: any PyTorch VAE as a folder the explorer opens, ONNX graphs and a manifest.

Export, in your own environment (needs torch, onnx and onnxscript; onnxruntime makes the
check faster):

    from vae.bundle import export_bundle
    export_bundle("models/NAME", encoder=enc, decoder=dec, image_shape=(C, H, W),
                  pixel_range=(0.0, 1.0), dataset="mnist", likelihood="bernoulli")

`encoder`: (N, C, H, W) in `pixel_range` -> (mu, logvar), each (N, D); `decoder`: (N, D) ->
(N, C, H, W) in `pixel_range`. With `num_classes` > 0 both take the class index (N,) int64 as
a second argument. A checkpoint trained here becomes a bundle with

    python -m vae.bundle models/mnist.pt --out models/mnist-bundle [--sample 2000]

A hierarchical VAE adds `levels=[("top", 8), ("bottom", 16)]` (top first) and `prior=`, the
conditional prior of each level below the top (values of the levels above -> (mu, logvar)),
with encoder and decoder in the levels' values; its bundle holds prior_1.onnx ... as well
(docs/bundles.md).

The folder holds encoder.onnx and decoder.onnx (every weight inside, no external data),
manifest.json and, optionally, data.npz: a sample of the data (uint8 images, labels,
factors) so the bundle opens where the original dataset is not. ONNX is a graph of standard
operators and its tensors: opening a bundle runs no code from it (unlike a pickle or a
`.pt2` archive).
"""

from vae.bundle.exporting import export_bundle
from vae.bundle.format import DECODER, ENCODER, FORMAT, FORMAT_VERSION, MANIFEST, SAMPLE
from vae.bundle.from_checkpoint import bundle_from_checkpoint
from vae.bundle.onnx_model import BundleModel, is_bundle, load_bundle
from vae.bundle.zip_install import install_bundle_zip

__all__ = [
    "DECODER",
    "ENCODER",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "SAMPLE",
    "BundleModel",
    "bundle_from_checkpoint",
    "export_bundle",
    "install_bundle_zip",
    "is_bundle",
    "load_bundle",
]
