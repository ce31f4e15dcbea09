"""Faults a long-running explorer meets: a killed training run, files appearing while the app
lists the folder, paths that try to leave the configured folders, server settings."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO
from ui.shell.page import list_checkpoints
from vae.errors import VAEError
from vae.models.checkpoints import read_checkpoint

TRAIN = [sys.executable, "-m", "vae.train", "--dataset", "sprites", "--n", "2000", "--image-size", "32"]
TRAIN += ["--arch", "conv", "--latent-dim", "4", "--iwae-k", "0", "--quiet"]


def _epochs_done(path) -> int:
    try:
        return read_checkpoint(path)["meta"]["epochs_done"]
    except (VAEError, FileNotFoundError):
        return 0


@pytest.mark.slow
def test_kill_9_mid_training_keeps_the_last_good_checkpoint_and_resume_continues(tmp_path):
    out = tmp_path / "run.pt"
    process = subprocess.Popen([*TRAIN, "--epochs", "200", "--out", str(out)], cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        while _epochs_done(out) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.4)  # into the next epoch
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(30)
    done = _epochs_done(out)
    assert done >= 1  # whole and readable: never half a file
    assert not [p for p in tmp_path.iterdir() if p.name != "run.pt" and not p.name.startswith(".")]
    resumed = subprocess.run([*TRAIN, "--epochs", str(done + 1), "--out", str(out), "--resume"], cwd=REPO, timeout=300)
    assert resumed.returncode == 0
    assert _epochs_done(out) == done + 1


def test_the_picker_never_lists_half_written_files_or_links_out(tmp_path, monkeypatch, tiny_checkpoint):
    import shutil

    monkeypatch.setenv("VAE_MODELS_DIR", str(tmp_path / "models"))
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(tiny_checkpoint, models / "good.pt")
    (models / ".good.pt.1234.tmp").write_bytes(b"half a file")  # how save_checkpoint writes
    (models / ".hidden.pt").write_bytes(b"x")
    outside = tmp_path / "secret.pt"
    outside.write_bytes(b"outside the folder")
    (models / "link.pt").symlink_to(outside)
    (models / "folder.pt").mkdir()
    assert [p.name for p in list_checkpoints()] == ["good.pt"]


def test_server_settings_for_public_use():
    config = (REPO / ".streamlit" / "config.toml").read_text()  # no tomllib before Python 3.11
    assert re.search(r"^enableXsrfProtection\s*=\s*true\s*$", config, re.M)
    assert 0 < int(re.search(r"^maxUploadSize\s*=\s*(\d+)", config, re.M).group(1)) <= 50
    for source in [REPO / "app.py", *(REPO / "pages").glob("*.py"), *(REPO / "ui").glob("*.py")]:
        assert "unsafe_allow_html" not in source.read_text(), source


@pytest.mark.parametrize("typed", ["../../etc", "/etc", "..", "sub/../../.."])
def test_train_page_refuses_folders_outside_the_data_folder(typed, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VAE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(str(REPO / "pages" / "9_Train.py"), default_timeout=60).run()
    at.selectbox(key="train_dataset").set_value("folder")
    at.text_input(key="train_folder").set_value(typed)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert any("give a folder inside" in e.value for e in at.error)
    assert not (tmp_path / "models" / ".jobs").exists()  # nothing started
