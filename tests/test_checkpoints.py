import os
import pickle

import pytest
import torch

from vae.errors import CheckpointError
from vae.models.checkpoints import (
    FORMAT,
    FORMAT_VERSION,
    load_checkpoint,
    read_checkpoint,
    round_to_half,
    save_checkpoint,
)
from vae.models.native import VAE, VAEConfig

CONFIG = VAEConfig((1, 8, 8), latent_dim=3, arch="mlp", hidden_dims=(16,))


def _saved(tmp_path, config=CONFIG):
    torch.manual_seed(0)
    model = VAE(config)
    meta = {
        "dataset": {"spec": "digits"},
        "image_shape": list(config.image_shape),
        "history": [{"epoch": 1, "heldout_elbo": -1.5}],
        "split": {"held_out_indices": torch.arange(5, dtype=torch.int32)},
    }
    return model, meta, save_checkpoint(tmp_path / "m.pt", model, meta)


@pytest.mark.parametrize(
    "config", [CONFIG, VAEConfig((3, 28, 28), latent_dim=4, conditional=True, num_classes=4, likelihood="gaussian")]
)
def test_round_trip_is_exact(tmp_path, config):
    model, meta, path = _saved(tmp_path, config)
    loaded, loaded_meta = load_checkpoint(path)
    assert loaded.config == config and not loaded.training
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name
    assert loaded_meta["history"] == meta["history"]
    assert torch.equal(loaded_meta["split"]["held_out_indices"], meta["split"]["held_out_indices"])
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left behind


def test_half_weights_halve_the_file_and_load_as_the_rounded_model(tmp_path):
    config = VAEConfig((1, 28, 28), latent_dim=4, arch="mlp", hidden_dims=(64,))
    torch.manual_seed(0)
    model = VAE(config)
    meta = {"dataset": {"spec": "digits"}, "image_shape": [1, 28, 28], "split": {}}
    full = save_checkpoint(tmp_path / "full.pt", model, meta)
    half = save_checkpoint(tmp_path / "half.pt", model, meta, half_weights=True)
    assert 0.45 < half.stat().st_size / full.stat().st_size < 0.55
    loaded, _ = load_checkpoint(half)
    round_to_half(model)
    for name, tensor in model.state_dict().items():
        assert loaded.state_dict()[name].dtype == torch.float32  # computes as the float32 model does
        assert torch.equal(tensor, loaded.state_dict()[name]), name


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "payload-ran"
    _Payload.marker = marker
    torch.save(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": {},
            "state_dict": {},
            "meta": {"evil": _Payload()},
        },
        tmp_path / "evil.pt",
    )
    with pytest.raises(CheckpointError, match="refused, nothing in it was run") as err:
        load_checkpoint(tmp_path / "evil.pt")
    assert "evil.pt" in str(err.value)
    assert not marker.exists()
    # The same with a plain pickle file rather than torch's zip format.
    (tmp_path / "evil2.pt").write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "evil2.pt")
    assert not marker.exists()


def test_truncated_file_names_the_file(tmp_path):
    _, _, path = _saved(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"m\.pt is not a readable checkpoint"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", b"random bytes \x00\x01", b"PK\x03\x04broken zip"])
def test_garbage_files_are_refused(tmp_path, content):
    path = tmp_path / "junk.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_checkpoint(path)


def test_other_torch_files_and_versions_are_refused(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a VAE Latent Explorer checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    _, _, path = _saved(tmp_path)
    payload = read_checkpoint(path)
    payload["format_version"] = 99
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_weights_that_do_not_fit_the_config(tmp_path):
    _, _, path = _saved(tmp_path)
    payload = read_checkpoint(path)
    payload["config"]["latent_dim"] = 5
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="weights don't match its model config"):
        load_checkpoint(path)


def _full_disk(obj, handle):
    handle.write(b"partial")
    raise OSError(28, "No space left on device")


def _torch_write_error(obj, handle):
    raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64")


@pytest.mark.parametrize(
    "failing_save, message",
    [
        (_full_disk, "No space left on device.*unchanged"),
        (_torch_write_error, "could not write checkpoint.*unchanged"),  # torch reports some write errors this way
    ],
)
def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch, failing_save, message):
    model, meta, path = _saved(tmp_path)
    before = path.read_bytes()
    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(CheckpointError, match=message):
        save_checkpoint(path, model, {**meta, "history": []})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_metadata_without_dataset_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "bare.pt", VAE(CONFIG), {})
    with pytest.raises(CheckpointError, match="lacks dataset, split, image_shape"):
        load_checkpoint(path)


def test_half_weights_refuse_a_weight_beyond_float16s_range():
    model = VAE(CONFIG)
    with torch.no_grad():
        next(model.parameters())[0, 0] = 1e6
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    with pytest.raises(ValueError, match="float16's range"):
        round_to_half(model)
    assert all(torch.equal(tensor, before[name]) for name, tensor in model.state_dict().items())
