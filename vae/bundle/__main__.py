"""`python -m vae.bundle CKPT --out DIR`: a checkpoint trained here as a bundle folder."""

from __future__ import annotations

import argparse
import sys

from vae.bundle.from_checkpoint import bundle_from_checkpoint
from vae.errors import VAEError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vae.bundle", description="Turn a checkpoint into a model bundle.")
    p.add_argument("checkpoint", help="a .pt file written by vae.train")
    p.add_argument("--out", required=True, help="the bundle folder to write, e.g. models/mnist-bundle")
    p.add_argument("--sample", type=int, default=2000, help="held-out images to include (0: none; default 2000)")
    args = p.parse_args(argv)
    try:
        folder = bundle_from_checkpoint(args.checkpoint, args.out, args.sample)
    except VAEError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
