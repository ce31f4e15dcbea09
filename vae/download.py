"""`python -m vae.download mnist [--data-dir data] [--split all|train|test]`: see `vae.data.download`."""

import sys

from vae.data.download import main

if __name__ == "__main__":
    sys.exit(main())
