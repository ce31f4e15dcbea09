"""Background training jobs as the Train page starts them: lifecycle, refusals, failures."""

import io
import time
import zipfile

import pytest
from PIL import Image
from text_models import write_text_corpus

from vae.data.image_folder import extract_image_zip
from vae.errors import DatasetError, TrainingError
from vae.models.checkpoints import load_checkpoint
from vae.training.jobs import cancel_job, checkpoint_name, read_job, start_job

TINY_TRAIN = {"dataset": "digits", "epochs": 2, "batch_size": 256, "iwae_k": 0, "slim": True, "device": "cpu"}
TINY_MODEL = {"arch": "mlp", "latent_dim": 2, "hidden_dims": [32]}


def _wait(folder, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = read_job(folder)
        if job is not None and not job.running:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still running after {timeout} s: {read_job(folder)}")


@pytest.mark.slow
def test_a_job_trains_reports_each_epoch_and_lands_in_the_folder(tmp_path):
    job = start_job(tmp_path, "small", TINY_TRAIN, TINY_MODEL)
    assert job.running and job.name == "small.pt"
    with pytest.raises(TrainingError, match="running already"):
        start_job(tmp_path, "other", TINY_TRAIN, TINY_MODEL)
    job = _wait(tmp_path)
    assert job.state == "done", job.message
    assert [h["epoch"] for h in job.history] == [1, 2]
    assert job.recon_png.startswith(b"\x89PNG")
    assert (tmp_path / "small.pt").is_file() and not (tmp_path / ".jobs" / "partial.pt").exists()
    with pytest.raises(TrainingError, match="exists"):
        start_job(tmp_path, "small.pt", TINY_TRAIN, TINY_MODEL)


@pytest.mark.slow
def test_a_text_job_trains_a_sentence_vae_and_shows_sentences(tmp_path):
    corpus = write_text_corpus(tmp_path / "corpus")
    train = {**TINY_TRAIN, "dataset": str(corpus), "batch_size": 32, "word_dropout": 0.25}
    start_job(tmp_path, "words", train, {"arch": "gru", "latent_dim": 2, "embed_dim": 8, "hidden_dim": 16})
    job = _wait(tmp_path)
    assert job.state == "done", job.message
    assert job.recon_png is None and job.recon_text.count("→") == 8  # eight held-out sentences, each reconstructed
    model, meta = load_checkpoint(tmp_path / "words.pt")
    assert model.config.arch == "gru" and meta["training"]["word_dropout"] == 0.25 and "<unk>" in meta["vocabulary"]


@pytest.mark.slow
def test_a_failing_job_says_why_and_leaves_the_old_model(tmp_path):
    (tmp_path / "keep.pt").write_bytes(b"the last good model")
    start_job(tmp_path, "keep", {**TINY_TRAIN, "dataset": str(tmp_path / "no-such-folder")}, TINY_MODEL, overwrite=True)
    job = _wait(tmp_path)
    assert job.state == "failed" and "no-such-folder" in job.message
    assert (tmp_path / "keep.pt").read_bytes() == b"the last good model"


@pytest.mark.slow
def test_cancel_stops_the_job_and_saves_nothing(tmp_path):
    start_job(tmp_path, "long", {**TINY_TRAIN, "epochs": 500}, TINY_MODEL)
    time.sleep(1.0)
    assert cancel_job(tmp_path)
    job = read_job(tmp_path)
    assert job.state == "cancelled" and not job.running
    assert not (tmp_path / "long.pt").exists()
    assert not cancel_job(tmp_path)


@pytest.mark.parametrize("bad", ["../escape", "/abs", "", "a/b", ".hidden", "x" * 80])
def test_checkpoint_names_stay_in_the_folder(bad):
    with pytest.raises(TrainingError):
        checkpoint_name(bad)
    assert checkpoint_name("ok-name_1") == "ok-name_1.pt" and checkpoint_name("same.pt") == "same.pt"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 200).save(buffer, "PNG")
    return buffer.getvalue()


def test_image_zip_unpacks_inside_its_folder_only(tmp_path):
    archive = _zip(
        {
            "set/cats/a.png": _png(),
            "set/dogs/b.png": _png(),
            "../evil.png": _png(),
            "set/notes.txt": b"not an image",
            "__MACOSX/set/._a.png": b"junk",
        }
    )
    root = extract_image_zip(archive, tmp_path / "out")
    assert root == tmp_path / "out" / "set"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png")) == ["cats/a.png", "dogs/b.png"]
    assert not (tmp_path / "evil.png").exists()
    with pytest.raises(DatasetError, match="not a zip"):
        extract_image_zip(b"plain bytes", tmp_path / "x")
    with pytest.raises(DatasetError, match="no images"):
        extract_image_zip(_zip({"a.txt": b"x"}), tmp_path / "y")


@pytest.mark.slow
def test_a_leftover_job_whose_pid_was_reused_is_not_running(tmp_path):
    import json
    import os

    folder = tmp_path / ".jobs"
    folder.mkdir()
    # the server died mid-job; after a restart its pid now belongs to another process (this one)
    job = {"name": "old.pt", "epochs": 3, "pid": os.getpid(), "token": "from-before", "started": 0.0}
    (folder / "job.json").write_text(json.dumps(job))
    assert read_job(tmp_path).state == "failed"
    assert not cancel_job(tmp_path)  # and nothing is signalled
    start_job(tmp_path, "new", TINY_TRAIN, TINY_MODEL)
    assert _wait(tmp_path).state == "done"


@pytest.mark.slow
def test_two_simultaneous_starts_run_one_job(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    def attempt(name):
        try:
            start_job(tmp_path, name, {**TINY_TRAIN, "epochs": 200}, TINY_MODEL)
            return "started"
        except TrainingError:
            return "refused"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, ["a", "b"]))
    assert outcomes == ["refused", "started"]
    assert cancel_job(tmp_path)


def test_a_second_zip_under_the_same_name_replaces_the_first(tmp_path):
    extract_image_zip(_zip({"cats/a.png": _png(), "dogs/b.png": _png()}), tmp_path / "set")
    root = extract_image_zip(_zip({"birds/c.png": _png(), "fish/d.png": _png()}), tmp_path / "set")
    assert sorted(p.name for p in root.iterdir()) == ["birds", "fish"]


def test_a_damaged_zip_is_a_message_and_leaves_the_old_data(tmp_path):
    extract_image_zip(_zip({"cats/a.png": _png()}), tmp_path / "set")
    damaged = bytearray(_zip({"dogs/b.png": _png() * 50}))
    damaged[60:90] = bytes(30)  # inside the compressed data: a CRC or inflate error on reading
    with pytest.raises(DatasetError):
        extract_image_zip(bytes(damaged), tmp_path / "set")
    assert sorted(p.name for p in (tmp_path / "set").iterdir()) == ["cats"]
    assert [p.name for p in tmp_path.iterdir()] == ["set"]  # no half-unpacked folder left
