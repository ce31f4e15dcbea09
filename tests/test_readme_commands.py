"""Every command in the shell blocks of the README and of the docs/*.md pages runs as written,
only shrunk in size (epochs, images, processes), so a command that drifts from the code fails
here. The commands are read from the files themselves, in order, block by block."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import REPO, SHARED_MNIST
from vae import load_checkpoint

# The README first, then every page of docs/: the commands a reader may copy.
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# `make app` / `make test` are what CI itself runs (.ci/run); the rest must be known here.
RUN_ELSEWHERE = {"make"}
MODULES = {"vae.train", "vae.sweep", "vae.evaluate", "vae.project", "vae.download", "vae.bundle", "bench.mig_seeds"}
# How each size is shrunk: flag -> the smaller value.
SMALLER = {
    "--epochs": "1",
    "--n": "300",
    "--k": "5",
    "--iwae-k": "5",
    "--nproc_per_node": "2",
    "--nnodes": "1",
    "--points": "100",
    "--sample": "100",
    "--count": "300",
    "--hidden-dim": "32",
    "--embed-dim": "16",
}


def shell_blocks(text: str) -> list[list[str]]:
    """The commands of each ```bash block: continuation lines joined, comments dropped."""
    blocks = []
    for body in re.findall(r"```bash\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", body)
        commands = [line.split("  #")[0].strip() for line in joined.splitlines()]
        blocks.append([c for c in commands if c and not c.startswith("#")])
    return blocks


def _module(words: list[str]) -> str | None:
    return words[words.index("-m") + 1] if "-m" in words else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shrink(command: str, workdir: Path) -> list[str]:
    """The documented command as an argv for this interpreter, smaller: fewer epochs, images,
    processes and importance samples; files under models/ and /tmp go to `workdir`."""
    words = shlex.split(command)
    program, words = words[0], words[1:]
    if Path(program).name == "torchrun":
        argv = [sys.executable, "-m", "torch.distributed.run"]
    else:
        assert Path(program).name == "python", command
        argv = [sys.executable]
    resuming = "--resume" in words
    out = []
    for i, word in enumerate(words):
        flag = words[i - 1] if i else ""
        if flag in SMALLER:
            word = "2" if flag == "--epochs" and resuming else SMALLER[flag]
        elif flag == "--rdzv_endpoint":
            word = f"127.0.0.1:{_free_port()}"
        elif word.startswith(("models/", "/tmp/")) or flag == "--out-dir":
            word = str(workdir / word.lstrip("/"))
        out.append(word)
    module = _module(out)
    if module in ("vae.train", "vae.sweep") and "--iwae-k" not in out:
        out += ["--iwae-k", "5"]
    if module == "vae.evaluate" and "--k" not in out:
        out += ["--k", "5"]
    if module == "vae.project" and "--points" not in out:
        out += ["--points", "100"]
    if module == "vae.download":  # the two t10k files from the local copy, as a mirror
        out += ["--split", "test", "--mirror", SHARED_MNIST.as_uri() + "/"]
    return argv + out


def _run(argv: list[str], workdir: Path, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "VAE_MODELS_DIR": str(workdir / "models"), "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


TEXTS = {path.relative_to(REPO).as_posix(): path.read_text() for path in DOCS}
# (file, commands) for each shell block of each file
BLOCKS = [(name, block) for name, text in TEXTS.items() for block in shell_blocks(text)]
# The Shipped models table (docs/models.md) gives each model's training command in a cell.
TABLE_COMMANDS = [
    command
    for text in TEXTS.values()
    for command in re.findall(r"^\| `[\w.]+\.pt` \| `(python -m vae\.train [^`]+)`", text, re.M)
]
# What picks each block for the test that runs it: every block but `make`'s holds one of these.
RUNS = (
    "models/mine.pt",
    "models/my-text.pt",
    "models/deep.pt",
    "models/mnist-deep.pt",
    "--resume",
    "torchrun --standalone --nproc_per_node 2",
    "-m vae.download",
    "-m bench.mig_seeds",
    "-m vae.sweep",
    "-m vae.bundle",
    "--images",
)


def _block(has: str) -> list[str]:
    """The shell block, in the README or a docs page, whose commands include `has` (exactly one must)."""
    found = [(name, b) for name, b in BLOCKS if any(has in c for c in b)]
    assert len(found) == 1, f"expected one shell block with {has!r}, found {[name for name, _ in found]}"
    return found[0][1]


def test_every_documented_command_is_one_this_module_runs():
    assert "README.md" in TEXTS and len(TEXTS) > 1, "the docs pages were not found"
    for name, block in BLOCKS:
        for command in block:
            words = shlex.split(command)
            if words[0] in RUN_ELSEWHERE:
                continue
            assert _module(words) in MODULES, f"{name}: command not covered by this test: {command}"


def test_every_shell_block_is_run_by_a_test_here():
    for name, block in BLOCKS:
        if all(shlex.split(c)[0] in RUN_ELSEWHERE for c in block):
            continue
        picked = [has for has in RUNS if any(has in c for c in block)]
        assert len(picked) == 1, f"{name}: no test here runs this block (or more than one would): {block}"


@pytest.mark.slow
def test_first_training_command(tmp_path):
    _run_block(_block("models/mine.pt"), tmp_path)
    assert load_checkpoint(tmp_path / "models" / "mine.pt")[1]["epochs_done"] == 1


@pytest.mark.slow
def test_text_training_command(tmp_path):
    _run_block(_block("models/my-text.pt"), tmp_path)
    model, meta = load_checkpoint(tmp_path / "models" / "my-text.pt")
    assert model.config.arch == "gru" and meta["epochs_done"] == 1 and meta["training"]["word_dropout"] > 0
    assert meta["dataset"]["spec"] == "fortunes" and "<unk>" in meta["vocabulary"]


@pytest.mark.slow
def test_hierarchical_training_commands(tmp_path, request):
    _run_block(_block("models/deep.pt"), tmp_path)
    model, meta = load_checkpoint(tmp_path / "models" / "deep.pt")
    assert [level.size for level in model.levels] == [4, 8] and meta["epochs_done"] == 1
    block = _block("models/mnist-deep.pt")
    _needs_mnist(block, request)
    _run_block(block, tmp_path)
    model, meta = load_checkpoint(tmp_path / "models" / "mnist-deep.pt")
    assert [level.size for level in model.levels] == [16, 16] and meta["training"]["free_bits"] == 0.1


def _run_block(block: list[str], tmp_path: Path) -> list[subprocess.CompletedProcess]:
    """Run a block's commands in order, shrunk, in `tmp_path` (with its models/ folder); each
    must succeed without a traceback."""
    (tmp_path / "models").mkdir(exist_ok=True)
    results = []
    for command in block:
        result = _run(shrink(command, tmp_path), tmp_path)
        assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stderr
        results.append(result)
    return results


def _needs_mnist(block: list[str], request) -> None:
    """Commands on MNIST need the shared files: the `shared_mnist` fixture skips without them."""
    if any("mnist" in c for c in block):
        request.getfixturevalue("shared_mnist")


@pytest.mark.slow
def test_train_resume_evaluate_project(tmp_path, request):
    block = _block("--resume")
    _needs_mnist(block, request)
    _run_block(block, tmp_path)
    model, meta = load_checkpoint(tmp_path / "models" / "m.pt")
    assert meta["epochs_done"] == 2  # trained, then resumed to the (shrunk) new total
    maps = list((tmp_path / "models" / ".cache").rglob("*"))
    assert sum(p.is_file() for p in maps) >= 4  # UMAP and t-SNE, 2-D and 3-D


@pytest.mark.slow
def test_torchrun_commands(tmp_path, request):
    block = _block("torchrun --standalone --nproc_per_node 2")
    assert all("torchrun" in c for c in block)
    _needs_mnist(block, request)
    for command in block:
        result = _run(shrink(command, tmp_path), tmp_path)
        assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
        # one summary line, from rank 0 only
        assert len(re.findall(r"^saved .*held-out ELBO", result.stderr, re.M)) == 1, result.stderr[-2000:]
    model, meta = load_checkpoint(tmp_path / "tmp" / "ddp.pt")
    assert model.decode(torch.zeros(1, model.config.latent_dim)).shape[1:] == (1, 8, 8)
    load_checkpoint(tmp_path / "models" / "m.pt")


@pytest.mark.slow
def test_download_against_local_files(tmp_path, request):
    block = _block("-m vae.download")
    _needs_mnist(block, request)
    result = _run(shrink(block[0], tmp_path), tmp_path, cwd=tmp_path)  # --data-dir data: relative to here
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "data" / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()


@pytest.mark.slow
def test_mig_seeds(tmp_path):
    block = _block("-m bench.mig_seeds")
    argv = shrink(block[0], tmp_path) + []
    argv.insert(argv.index("--") if "--" in argv else len(argv), "--out-dir")
    argv.insert(argv.index("--out-dir") + 1, str(tmp_path / "seeds"))
    result = _run(argv, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "seeds" / "mig_seeds.json").is_file()


@pytest.mark.slow
def test_shipped_model_commands(tmp_path, request):
    assert len(TABLE_COMMANDS) >= 3, "the Shipped models table lost its commands"
    _needs_mnist(TABLE_COMMANDS, request)
    (tmp_path / "models").mkdir()
    for command in TABLE_COMMANDS:
        argv = shrink(command, tmp_path)
        result = _run(argv, tmp_path)
        assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
        assert load_checkpoint(argv[argv.index("--out") + 1])[1]["epochs_done"] == 1


@pytest.mark.slow
def test_sweep_command(tmp_path):
    _run_block(_block("-m vae.sweep"), tmp_path)
    written = sorted(p.name for p in (tmp_path / "models").glob("*.pt"))
    assert written == [f"digits-beta-{b}.pt" for b in ("0.5", "1", "2", "4", "8")]
    assert load_checkpoint(tmp_path / "models" / "digits-beta-4.pt")[1]["training"]["sweep"] == "digits-beta"


@pytest.mark.slow
def test_bundle_commands(tmp_path):
    (tmp_path / "models").mkdir()
    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "models" / "digits.pt")
    result = _run_block(_block("-m vae.bundle"), tmp_path)[-1]
    assert "ELBO" in result.stdout and (tmp_path / "models" / "digits-bundle" / "data.npz").is_file()


@pytest.mark.slow
def test_large_map_commands(tmp_path):
    from vae.large_maps.store import stored_maps

    (tmp_path / "models").mkdir()
    for name in ("sprites.pt", "digits.pt"):
        shutil.copy(REPO / "models" / name, tmp_path / "models" / name)
    results = _run_block(_block("--images"), tmp_path)
    assert "UMAP map of" in results[1].stdout and "t-SNE map of" in results[1].stdout
    assert sorted(s.count for s in stored_maps(tmp_path / "models" / "sprites.pt")) == [300, 300]  # two seeds
    (held_out,) = stored_maps(tmp_path / "models" / "digits.pt")
    assert held_out.count == 359 and len(list(held_out.folder.glob("*-2d-*.npy"))) == 3  # PCA, UMAP, t-SNE
