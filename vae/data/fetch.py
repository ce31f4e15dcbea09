"""Fetch MNIST or Fashion-MNIST IDX files and check their md5 sums (needs internet):

    python -m vae.download mnist [--data-dir data] [--split all|train|test] [--mirror URL]

Files land in DATA_DIR/NAME/, where `--dataset NAME` finds them. A file that is already
there with the right checksum is not fetched again; a download with a wrong checksum is
deleted.
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
}


SPLIT_PREFIX = {"train": "train-", "test": "t10k-"}


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    name: str,
    data_dir: str | os.PathLike | None = None,
    mirrors: list[str] | None = None,
    files: list[str] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Fetch the files of `name` (all four unless `files` names some) into DATA_DIR/NAME,
    trying each mirror in turn; returns the folder. Raises DatasetError if a file cannot be
    fetched with the right checksum."""
    if name not in RESOURCES:
        raise DatasetError(f"no download for {name!r}: choose one of {', '.join(RESOURCES)}")
    resource = RESOURCES[name]
    folder = Path(data_dir or default_data_dir()) / name
    folder.mkdir(parents=True, exist_ok=True)
    for filename in files or list(resource["files"]):
        expected = resource["files"][filename]
        target = folder / filename
        if target.is_file() and md5sum(target) == expected:
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
            if md5sum(partial) != expected:
                partial.unlink()
                problems.append(f"{mirror}: checksum mismatch")
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
    p.add_argument("--split", choices=("all", "train", "test"), default="all", help="which files (default: all four)")
    args = p.parse_args(argv)
    files = [f for f in RESOURCES[args.name]["files"] if args.split == "all" or f.startswith(SPLIT_PREFIX[args.split])]
    try:
        folder = download(args.name, args.data_dir, args.mirror, files)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{args.name} is in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
