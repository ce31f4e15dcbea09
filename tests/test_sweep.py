"""Sweeps: one model per β or free-bits value, from the command line and as background jobs."""

import time

import pytest

from vae.errors import TrainingError
from vae.models.checkpoints import read_checkpoint
from vae.sweep import main as sweep_cli
from vae.training.jobs import cancel_job, read_job, start_job
from vae.training.sweep_plan import parse_values, read_sweep, start_sweep, sweep_members

TINY_TRAIN = {"dataset": "digits", "epochs": 1, "batch_size": 256, "iwae_k": 0, "slim": True, "device": "cpu"}
TINY_MODEL = {"arch": "mlp", "latent_dim": 2, "hidden_dims": [32]}


def test_values_are_read_leniently_and_checked():
    assert parse_values("0.5, 1 2;4 2") == [0.5, 1.0, 2.0, 4.0]
    bad_values = [
        ("1", "two"),
        ("1 x", "not a number"),
        ("-1 2", "at least 0"),
        ("nan 1", "finite"),
        ("1 1.0000001", "differ"),
    ]
    for bad, message in bad_values:
        with pytest.raises(TrainingError, match=message):
            parse_values(bad)
    assert [m.name for m in sweep_members("b.pt", [0.5, 1.0, 8.0])] == ["b-0.5.pt", "b-1.pt", "b-8.pt"]


def test_the_command_line_trains_one_tagged_model_per_value(tmp_path):
    args = ["--name", "fb", "--free-bits-values", "0", "0.5", "--out-dir", str(tmp_path), "--epochs", "1"]
    assert sweep_cli([*args, "--arch", "mlp", "--latent-dim", "2", "--iwae-k", "0", "--quiet"]) == 0
    for name, value in [("fb-0.pt", 0.0), ("fb-0.5.pt", 0.5)]:
        training = read_checkpoint(tmp_path / name)["meta"]["training"]
        assert training["free_bits"] == value and training["sweep"] == "fb" and training["beta"] == 1.0


def test_a_bad_sweep_name_is_one_line(tmp_path, capsys):
    assert sweep_cli(["--name", "../x", "--betas", "1", "2", "--out-dir", str(tmp_path)]) == 1
    assert "model name" in capsys.readouterr().err


def _wait_until(condition, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"still waiting after {timeout} s")


@pytest.mark.slow
def test_a_background_sweep_trains_each_member_in_turn(tmp_path):
    job = start_sweep(tmp_path, "s", "beta", [1, 4], TINY_TRAIN, TINY_MODEL)
    assert job.name == "s-1.pt" and read_sweep(tmp_path, job).current == 0
    with pytest.raises(TrainingError, match="running already"):
        start_job(tmp_path, "other", TINY_TRAIN, TINY_MODEL)
    _wait_until(lambda: (j := read_job(tmp_path)).name == "s-4.pt" and not j.running)
    job = read_job(tmp_path)
    assert job.state == "done", job.message
    progress = read_sweep(tmp_path, job)
    assert progress.members == ["s-1.pt", "s-4.pt"] and progress.current == 1 and progress.label == "β"
    betas = [read_checkpoint(tmp_path / name)["meta"]["training"]["beta"] for name in progress.members]
    assert betas == [1.0, 4.0]
    with pytest.raises(TrainingError, match="exists"):  # names are checked before anything starts
        start_sweep(tmp_path, "s", "beta", [1, 2], TINY_TRAIN, TINY_MODEL)


@pytest.mark.slow
def test_cancelling_a_sweep_member_ends_the_sweep_and_a_single_job_forgets_it(tmp_path):
    slow = {**TINY_TRAIN, "epochs": 200}
    start_sweep(tmp_path, "c", "free_bits", [0, 1], slow, TINY_MODEL)
    _wait_until(lambda: read_job(tmp_path).history)
    assert cancel_job(tmp_path)
    time.sleep(1)
    job = read_job(tmp_path)
    assert job.name == "c-0.pt" and job.state == "cancelled"
    assert not (tmp_path / "c-1.pt").exists() and read_sweep(tmp_path, job) is None
    with pytest.raises(TrainingError, match="cancelled"):  # a member finishing now would start no next one
        start_job(tmp_path, "c-1", slow, TINY_MODEL, handoff=True)
    start_job(tmp_path, "single", TINY_TRAIN, TINY_MODEL)
    assert read_sweep(tmp_path, read_job(tmp_path)) is None
    _wait_until(lambda: not read_job(tmp_path).running)
