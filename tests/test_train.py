import json
import math
import subprocess
import sys

import pytest
import torch

from conftest import REPO
from vae import load_checkpoint
from vae.devices import pick_device
from vae.errors import TrainingError
from vae.evaluate import main as evaluate_main
from vae.models.native import VAE
from vae.training import precision
from vae.training.cli import main as train_main
from vae.training.config import TrainConfig
from vae.training.loop import train
from vae.training.precision import use_bf16, use_channels_last

SMALL_MLP = ["--dataset", "digits", "--arch", "mlp", "--hidden", "32", "--latent-dim", "3", "--iwae-k", "2", "--quiet"]


@pytest.mark.slow
def test_cli_smoke_run_writes_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "m.pt"
    result = subprocess.run(
        [sys.executable, "-m", "vae.train", *SMALL_MLP, "--epochs", "1", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    model, meta = load_checkpoint(out)
    assert meta["epochs_done"] == 1 and len(meta["history"]) == 1
    assert meta["dataset"]["spec"] == "digits" and meta["image_shape"] == [1, 8, 8]
    assert meta["label_names"] == [str(d) for d in range(10)]
    assert len(meta["split"]["held_out_indices"]) == 359
    assert set(meta["metrics"]) >= {"elbo", "iwae_nll", "bits_per_dim", "kl_per_dim", "active_units"}
    assert model.decode(torch.zeros(1, 3)).shape == (1, 1, 8, 8)


def test_resume_continues_and_matches_an_uninterrupted_run(tmp_path):
    straight, resumed = tmp_path / "straight.pt", tmp_path / "resumed.pt"
    assert train_main([*SMALL_MLP, "--epochs", "2", "--out", str(straight)]) == 0
    assert train_main([*SMALL_MLP, "--epochs", "1", "--out", str(resumed)]) == 0
    assert train_main(["--resume", "--epochs", "2", "--out", str(resumed), "--iwae-k", "2", "--quiet"]) == 0
    a, meta_a = load_checkpoint(straight)
    b, meta_b = load_checkpoint(resumed)
    assert meta_b["epochs_done"] == 2 and [h["epoch"] for h in meta_b["history"]] == [1, 2]
    for name, tensor in a.state_dict().items():
        assert torch.allclose(tensor, b.state_dict()[name], atol=1e-6), name
    assert meta_a["history"][1]["heldout_elbo"] == pytest.approx(meta_b["history"][1]["heldout_elbo"], abs=1e-4)


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    out = tmp_path / "m.pt"
    train(TrainConfig(epochs=1, iwae_k=0), out, {"arch": "mlp", "latent_dim": 2, "hidden_dims": (16,)}, progress=False)
    good = out.read_bytes()
    real = VAE.elbo_terms

    def poisoned(self, *args, **kwargs):
        terms = real(self, *args, **kwargs)
        return terms._replace(loss=terms.loss * float("nan"))

    monkeypatch.setattr(VAE, "elbo_terms", poisoned)
    with pytest.raises(TrainingError, match=r"became nan in epoch 2.*last good model \(epoch 1\)"):
        train(TrainConfig(epochs=3, iwae_k=0), out, resume=True, progress=False)
    assert out.read_bytes() == good
    assert load_checkpoint(out)[1]["epochs_done"] == 1


@pytest.mark.slow
def test_cli_errors_are_one_line_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vae.train", "--dataset", "nope", "--out", str(tmp_path / "x.pt")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: unknown dataset 'nope'") and "Traceback" not in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "vae.evaluate", str(tmp_path / "missing.pt")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "no such checkpoint" in result.stderr and "Traceback" not in result.stderr


def test_resume_past_the_target_says_so(tiny_checkpoint, tmp_path):
    copy = tmp_path / "t.pt"
    copy.write_bytes(tiny_checkpoint.read_bytes())
    with pytest.raises(TrainingError, match="already has 2 epochs"):
        train(TrainConfig(epochs=2), copy, resume=True, progress=False)


def test_conditional_gaussian_training_and_warmup(tmp_path):
    out = tmp_path / "c.pt"
    _, meta = train(
        TrainConfig(epochs=2, warmup_epochs=2, free_bits=0.1, beta=2.0, iwae_k=2),
        out,
        {"arch": "mlp", "latent_dim": 2, "hidden_dims": (16,), "conditional": True, "likelihood": "gaussian"},
        progress=False,
    )
    model, _ = load_checkpoint(out)
    assert model.config.conditional and model.config.num_classes == 10
    assert meta["history"][0]["beta"] == pytest.approx(1.0)  # halfway through the warm-up
    assert meta["history"][1]["beta"] == pytest.approx(2.0)
    assert model.sample(10).shape == (10, 1, 8, 8)


def test_conditional_needs_labels(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    from PIL import Image

    for i in range(10):
        Image.new("L", (8, 8), i * 20).save(folder / f"{i}.png")
    with pytest.raises(TrainingError, match="needs labels"):
        train(TrainConfig(dataset=str(folder), image_size=8), tmp_path / "x.pt", {"conditional": True}, progress=False)


def test_evaluate_cli_json(tiny_checkpoint, capsys):
    assert evaluate_main([str(tiny_checkpoint), "--json", "--k", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] == "digits" and report["n"] == 359 and report["iwae_k"] == 3
    assert report["iwae_nll"] > 0 and len(report["kl_per_dim"]) == 4
    assert 0 <= report["nmi"] <= 1 and -1 <= report["ari"] <= 1 and 0.1 < report["probe_accuracy"] <= 1
    assert "mig" not in report  # digits have no known factors


def test_evaluate_reports_mig_for_data_with_factors(tmp_path, capsys):
    out = tmp_path / "sprites.pt"
    train(
        TrainConfig(dataset="sprites", n=400, image_size=16, epochs=1, iwae_k=0), out, {"arch": "mlp", "latent_dim": 3}
    )
    assert evaluate_main([str(out), "--json", "--k", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 <= report["mig"] <= 1 and "nmi" in report and "probe_accuracy" in report


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(TrainingError, match="no CUDA GPU"):
            pick_device("cuda")


def test_precision_and_layout_choice(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    for native in (True, False):
        monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda native=native: native)
        # auto: bf16 for conv models on a CPU that computes bf16 itself, never for MLPs there
        assert use_bf16("auto", cpu, "conv", 64) is native and not use_bf16("auto", cpu, "mlp", 64)
        assert not use_bf16("auto", cpu, "conv", 28)  # MNIST-sized convolutions were no faster in bf16
        assert use_bf16("auto", cuda, "mlp", 8)
        assert use_channels_last("auto", cpu, "conv", use_bf16("auto", cpu, "conv", 64)) is native
    assert use_bf16("bf16", cpu) and not use_bf16("fp32", cuda)
    assert not use_channels_last("channels-last", cpu, "mlp", True)  # an MLP has no image layout
    assert use_channels_last("channels-last", cpu, "conv", False) and not use_channels_last("auto", cuda, "conv", True)
    with pytest.raises(TrainingError, match="unknown precision"):
        use_bf16("half", cpu)
    with pytest.raises(TrainingError, match="unknown layout"):
        use_channels_last("nhwc", cpu, "conv", True)


SMALL_SPRITES = {"dataset": "sprites", "image_size": 16, "n": 300, "epochs": 1, "batch_size": 64, "iwae_k": 0}
SMALL_CONV = {"arch": "conv", "latent_dim": 4, "conv_channels": (8, 8), "hidden_dims": (32,)}


def test_epoch_records_the_training_speed_of_the_steps_alone(tmp_path):
    cfg = TrainConfig(**SMALL_SPRITES, device="cpu", precision="fp32")
    _, meta = train(cfg, tmp_path / "m.pt", SMALL_CONV, progress=False)
    record = meta["history"][0]
    assert meta["precision"] == "fp32" and 0 < record["train_seconds"] <= record["seconds"]
    assert record["images_per_second"] == pytest.approx(240 / record["train_seconds"])


def test_bf16_training_on_cpu_runs_and_is_recorded(tmp_path):
    _, meta = train(
        TrainConfig(**SMALL_SPRITES, device="cpu", precision="bf16"), tmp_path / "b.pt", SMALL_CONV, progress=False
    )
    assert meta["precision"] == "bf16" and meta["training"]["precision"] == "bf16"
    assert math.isfinite(meta["history"][0]["heldout_elbo"])
    model, _ = load_checkpoint(tmp_path / "b.pt")
    assert next(model.parameters()).dtype == torch.float32
    resumed_cfg = TrainConfig(**{**SMALL_SPRITES, "epochs": 2}, device="cpu", precision="fp32")
    _, meta = train(resumed_cfg, tmp_path / "b.pt", resume=True, progress=False)  # another machine's choice
    assert meta["precision"] == "fp32" and meta["epochs_done"] == 2


def test_bf16_channels_last_checkpoint_decodes_the_same_in_fp32_without_bf16(tmp_path, monkeypatch):
    cfg = TrainConfig(**SMALL_SPRITES, device="cpu", precision="bf16", layout="channels-last")
    trained, meta = train(cfg, tmp_path / "fast.pt", SMALL_CONV, progress=False)
    assert (meta["precision"], meta["layout"]) == ("bf16", "channels-last")
    assert meta["training"]["layout"] == "channels-last"
    # a machine without bf16: the file holds plain fp32 weights in the standard layout
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    model, _ = load_checkpoint(tmp_path / "fast.pt")
    for name, tensor in model.state_dict().items():
        assert tensor.dtype == torch.float32 and tensor.is_contiguous(), name
    assert not model.channels_last and not trained.channels_last
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model.decode(z), trained.decode(z))
        x = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(1))
        assert torch.equal(model.encode(x)[0], trained.encode(x)[0])


def test_resume_across_precisions_and_layouts(tmp_path):
    out = tmp_path / "m.pt"
    steps = [("bf16", "channels-last"), ("fp32", "contiguous"), ("bf16", "channels-last"), ("auto", "auto")]
    for epochs, (chosen_precision, chosen_layout) in enumerate(steps, start=1):
        cfg = TrainConfig(
            **{**SMALL_SPRITES, "epochs": epochs}, device="cpu", precision=chosen_precision, layout=chosen_layout
        )
        _, meta = train(cfg, out, SMALL_CONV, resume=epochs > 1, progress=False)
        assert meta["epochs_done"] == epochs and math.isfinite(meta["history"][-1]["heldout_elbo"])
        if chosen_layout != "auto":
            assert meta["layout"] == chosen_layout
    assert [r["epoch"] for r in meta["history"]] == [1, 2, 3, 4]


def test_resume_takes_a_new_data_dir(tmp_path, idx_folder):
    data_root = tmp_path / "old"
    (data_root / "mnist").mkdir(parents=True)
    for file in idx_folder.glob("*.gz"):
        file.rename(data_root / "mnist" / file.name)
    out = tmp_path / "m.pt"
    config = TrainConfig(dataset="mnist", data_dir=str(data_root), epochs=1, iwae_k=0, batch_size=16)
    train(config, out, {"arch": "mlp", "latent_dim": 2, "hidden_dims": (8,)}, progress=False)
    moved = data_root.rename(tmp_path / "new")
    _, meta = train(TrainConfig(data_dir=str(moved), epochs=2, iwae_k=0), out, resume=True, progress=False)
    assert meta["epochs_done"] == 2 and meta["training"]["data_dir"] == str(moved)
