"""`python -m vae.train --dataset SPEC --out models/NAME.pt [options]`: see `vae.training.cli`."""

import sys

from vae.training.cli import main

if __name__ == "__main__":
    sys.exit(main())
