"""`python -m vae.download mnist|fashion-mnist|ptb|yelp [--data-dir data] [--split all|train|test]`:
see `vae.data.fetch`."""

import sys

from vae.data.fetch import main

if __name__ == "__main__":
    sys.exit(main())
