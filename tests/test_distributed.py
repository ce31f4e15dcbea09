"""Two CPU processes with Gloo (torchrun) follow a one-process run with the same global batch."""

import subprocess
import sys

import pytest
import torch
from text_models import write_text_corpus

from conftest import REPO
from vae import load_checkpoint
from vae.models.checkpoints import read_checkpoint
from vae.training.config import TrainConfig
from vae.training.loop import train

ARGS = ["--dataset", "digits", "--arch", "mlp", "--latent-dim", "4", "--hidden", "64", "--epochs", "1"]
ARGS += ["--batch-size", "64", "--iwae-k", "5", "--device", "cpu", "--seed", "3"]
# Training sees the same batches and noise, so its loss agrees to float rounding; the held-out
# ELBO draws its noise per rank, hence the looser bound.
TRAIN_LOSS_RTOL = 1e-4
HELDOUT_ELBO_RTOL = 5e-3

pytestmark = pytest.mark.slow  # torchrun subprocesses


def test_two_gloo_processes_match_one_process(tmp_path):
    two = tmp_path / "two.pt"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
        + ["-m", "vae.train", *ARGS, "--out", str(two)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("saved ") == 1  # the summary, from rank 0 only (tests/test_readme_commands.py
    # runs the README's own torchrun commands)
    _, one_meta = train(
        TrainConfig(dataset="digits", epochs=1, batch_size=64, iwae_k=5, device="cpu", seed=3),
        tmp_path / "one.pt",
        {"arch": "mlp", "latent_dim": 4, "hidden_dims": (64,)},
        progress=False,
    )
    two_meta = read_checkpoint(two)["meta"]
    (a,), (b,) = one_meta["history"], two_meta["history"]
    assert b["train_loss"] == pytest.approx(a["train_loss"], rel=TRAIN_LOSS_RTOL)
    assert b["heldout_elbo"] == pytest.approx(a["heldout_elbo"], rel=HELDOUT_ELBO_RTOL)
    model, meta = load_checkpoint(two)  # the same format as a one-process checkpoint
    assert meta["epochs_done"] == 1 and meta["metrics"]["iwae_k"] == 5
    assert model.decode(torch.zeros(2, 4)).shape == (2, 1, 8, 8)


def test_sprites_under_torchrun_train_in_bf16_channels_last_when_the_cpu_has_it(tmp_path):
    """torchrun reads `--n` as its own (ambiguous) option: the count travels as --num-images.
    On a CPU with native bf16 this runs DDP over channels-last bf16 convolutions."""
    out = tmp_path / "sprites.pt"
    args = ["--dataset", "sprites", "--num-images", "300", "--image-size", "32", "--epochs", "1", "--device", "cpu"]
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
        + ["-m", "vae.train", *args, "--iwae-k", "2", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    model, meta = load_checkpoint(out)
    assert meta["dataset"]["num_examples"] == 300 and meta["epochs_done"] == 1
    assert meta["layout"] == ("channels-last" if meta["precision"] == "bf16" else "contiguous")
    assert model.decode(torch.zeros(1, model.config.latent_dim)).shape == (1, 1, 32, 32)


def test_a_sentence_vae_trains_under_torchrun_and_matches_one_process(tmp_path):
    """Word dropout draws its mask from the same per-batch noise a single process uses."""
    corpus = write_text_corpus(tmp_path / "corpus")
    args = ["--dataset", str(corpus), "--arch", "gru", "--latent-dim", "4", "--embed-dim", "16", "--hidden-dim", "32"]
    args += ["--word-dropout", "0.3", "--epochs", "1", "--batch-size", "16", "--min-count", "1", "--seed", "3"]
    for processes, out in ((2, tmp_path / "two.pt"), (1, tmp_path / "one.pt")):
        result = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
            + ["-m", "vae.train", *args, "--iwae-k", "2", "--device", "cpu", "--out", str(out)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    (one_meta, two_meta) = (read_checkpoint(tmp_path / n)["meta"] for n in ("one.pt", "two.pt"))
    assert two_meta["vocabulary"] == one_meta["vocabulary"]
    assert two_meta["history"][0]["train_loss"] == pytest.approx(one_meta["history"][0]["train_loss"], rel=1e-4)
    model, _ = load_checkpoint(tmp_path / "two.pt")
    assert model.decode(torch.zeros(2, 4)).shape == (2, model.sequence_length)
