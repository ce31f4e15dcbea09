"""Model bundles: VAEs written elsewhere, exported with `export_bundle`, opened through the
model interface; checkpoints turned into bundles; bad bundles refused with a message."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from bundle_models import ExamplesVAE, _Decoder, _Encoder, conv_bundle, examples_bundle
from onnx import helper

from conftest import REPO, assert_no_errors, open_page
from ui.shell.page import MODEL_KEY
from vae.analysis.metrics import evaluate_model
from vae.bundle import bundle_from_checkpoint, export_bundle
from vae.errors import BundleError
from vae.evaluate import main as evaluate_main
from vae.models.interface import LatentModel
from vae.opened import open_model

PAGES = ["app.py", *sorted(str(p.relative_to(REPO)) for p in (REPO / "pages").glob("[0-8]_*.py"))]


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, tiny_checkpoint) -> dict:
    folder = tmp_path_factory.mktemp("bundle_models")
    shutil.copy(tiny_checkpoint, folder / "tiny.pt")
    _, examples = examples_bundle(folder / "examples")
    _, conv = conv_bundle(folder / "conv")
    return {"folder": folder, "examples": examples, "conv": conv}


@pytest.fixture(scope="module")
def opened_once(tmp_path_factory, tiny_checkpoint) -> Path:
    """A models folder holding tiny.pt that the app has opened once: a copy brings its caches
    along, among them the decoder graph Traverse exports (about a second in each new folder)."""
    folder = tmp_path_factory.mktemp("opened_once")
    shutil.copy(tiny_checkpoint, folder / "tiny.pt")
    with pytest.MonkeyPatch.context() as patch:
        assert_no_errors(open_page("pages/3_Traverse.py", folder, patch, state={MODEL_KEY: "tiny.pt"}))
    return folder


@pytest.mark.parametrize("name", ["examples", "conv"])
def test_a_bundle_decodes_and_encodes_as_its_torch_modules(name, bundles):
    opened = open_model(bundles["folder"] / name)
    model, module = opened.model, bundles[name]
    assert isinstance(model, LatentModel) and opened.info.kind == "bundle" and not opened.info.is_native
    low, high = model.low, model.high
    z = torch.randn(7, model.latent_dim, generator=torch.Generator().manual_seed(3))
    x = torch.rand(7, *model.image_shape, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected_image = module.decode(z).view(7, *model.image_shape)
        expected_mu, expected_logvar = module.encode(
            (low + (high - low) * x).flatten(1) if name == "examples" else low + (high - low) * x
        )
    assert (model.decode(z) - ((expected_image - low) / (high - low)).clamp(0, 1)).abs().max() < 1e-4
    mu, logvar = model.encode(x)
    assert (mu - expected_mu).abs().max() < 1e-4 and (logvar - expected_logvar).abs().max() < 1e-4


@pytest.mark.parametrize("name", ["examples", "conv"])
def test_evaluate_reports_elbo_and_iwae_on_a_bundle(name, bundles, capsys):
    assert evaluate_main([str(bundles["folder"] / name), "--json", "--k", "5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert np.isfinite(report["elbo"]) and np.isfinite(report["iwae_nll"]) and report["epochs"] is None
    assert report["iwae_nll"] <= -report["elbo"] + 1e-3  # the IWAE bound is at least as tight
    assert report["n"] == (400 if name == "examples" else 300)


def test_a_checkpoint_as_a_bundle_keeps_its_elbo(tiny_checkpoint, tmp_path):
    folder = bundle_from_checkpoint(tiny_checkpoint, tmp_path / "tiny-bundle", sample=200)
    native, bundle = open_model(tiny_checkpoint), open_model(folder)
    data, _, held = bundle.data()
    native_data, _, native_held = native.data()
    assert torch.allclose(data.images, (native_data.images[native_held[:200]] * 255).round() / 255)
    ours = evaluate_model(bundle.model, data.images[held], iwae_k=5)
    reference = evaluate_model(native.model, data.images[held], iwae_k=5)
    assert abs(ours["elbo"] - reference["elbo"]) <= 0.005 * abs(reference["elbo"])
    assert bundle.info.label_names == native.info.label_names
    assert bundle.info.data.sample == folder / "data.npz" and bundle.info.split.held_out_count == 200


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("name", ["examples", "conv"])
def test_every_page_runs_on_a_bundle(page, name, bundles, monkeypatch):
    at = open_page(page, bundles["folder"], monkeypatch, state={MODEL_KEY: name})
    assert_no_errors(at)
    assert at.session_state[MODEL_KEY] == name


def test_home_shows_a_bundles_card_with_measured_metrics(bundles, monkeypatch):
    at = open_page("app.py", bundles["folder"], monkeypatch, state={MODEL_KEY: "conv"})
    at.button(key="home_measure").click().run()
    assert_no_errors(at)
    table = at.table[0].value
    rows = dict(zip(table.iloc[:, 0], table.iloc[:, 1]))
    assert rows["pixel range of the networks"].startswith("[-1, 1]")
    assert "Tanh" in rows["source"] and "not in a bundle" in rows["training history"]
    assert any(key.startswith("held-out ELBO (measured here") for key in rows)


# -- refusals ----------------------------------------------------------------------------------


def test_export_refuses_training_mode_random_outputs_and_wrong_shapes(tmp_path):
    model = ExamplesVAE()
    common = {"image_shape": (1, 8, 8)}
    with pytest.raises(BundleError, match="training mode"):
        export_bundle(
            tmp_path / "a", encoder=_Encoder(model, True).train(), decoder=_Decoder(model, (1, 8, 8)).eval(), **common
        )

    class Sampling(torch.nn.Module):
        def forward(self, x):
            mu, logvar = model.encode(x.flatten(1))
            return model.reparameterize(mu, logvar), logvar

    with pytest.raises(BundleError, match="different outputs"):
        export_bundle(tmp_path / "b", encoder=Sampling().eval(), decoder=_Decoder(model, (1, 8, 8)).eval(), **common)
    with pytest.raises(BundleError, match="decoder returns"):
        export_bundle(
            tmp_path / "c",
            encoder=_Encoder(model, True).eval(),
            decoder=_Decoder(model, (1, 8, 8)).eval(),
            image_shape=(1, 4, 16),
        )
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("dataset", ["shapes", "a folder"])
def test_export_refuses_a_dataset_the_app_would_refuse_and_says_to_ship_a_sample(dataset, tmp_path):
    model = ExamplesVAE().eval()
    dataset = str(tmp_path) if dataset == "a folder" else dataset
    modules = {"encoder": _Encoder(model, True).eval(), "decoder": _Decoder(model, (1, 8, 8)).eval()}
    with pytest.raises(BundleError, match=r"dataset must be one of digits, .*sample_images="):
        export_bundle(tmp_path / "bad", **modules, image_shape=(1, 8, 8), dataset=dataset)
    assert not (tmp_path / "bad").exists()  # refused before anything is written
    # What the hint says works: the images travel with the bundle, which then opens.
    images = torch.rand(20, 1, 8, 8)
    folder = export_bundle(tmp_path / "good", **modules, image_shape=(1, 8, 8), sample_images=images)
    assert len(open_model(folder).data().held_idx) == 20


def test_export_runs_the_manifest_checks_of_opening_before_any_module(tmp_path):
    model = ExamplesVAE().eval()
    modules = {"encoder": _Encoder(model, True).eval(), "decoder": _Decoder(model, (1, 8, 8)).eval()}
    with pytest.raises(BundleError, match="at most 4 channels"):  # the same message as opening one
        export_bundle(tmp_path / "wide", **modules, image_shape=(5, 8, 8))
    with pytest.raises(BundleError, match="lacks a valid field"):
        export_bundle(tmp_path / "odd", **modules, image_shape=(1, 8.5, 8))
    assert not (tmp_path / "wide").exists() and not (tmp_path / "odd").exists()


def test_the_bundle_command_line_says_what_is_wrong_in_one_line(tiny_checkpoint, tmp_path, capsys):
    from vae.bundle.__main__ import main

    (tmp_path / "taken").write_text("a file")
    assert main([str(tiny_checkpoint), "--out", str(tmp_path / "taken"), "--sample", "10"]) == 1
    assert main([str(tmp_path / "missing.pt"), "--out", str(tmp_path / "b")]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[0] == f"error: {tmp_path / 'taken'} is a file, not a folder: choose another place for the bundle"
    assert errors[1].startswith("error: ") and "missing.pt" in errors[1] and len(errors) == 2


def _corrupt(folder: Path, how: str) -> None:
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    decoder = folder / "decoder.onnx"
    if how == "missing graph":
        decoder.unlink()
    elif how == "not onnx":
        decoder.write_bytes(b"PK\x03\x04 this is a zip, not a graph")
    elif how == "external data":
        proto = onnx.load(decoder)
        onnx.save_model(
            proto,
            decoder,
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location="weights.bin",
            size_threshold=0,
        )
    elif how == "custom operator":
        proto = onnx.load(decoder)
        proto.graph.node.append(helper.make_node("Evil", ["image"], ["unused"], domain="com.example.native"))
        proto.opset_import.append(helper.make_opsetid("com.example.native", 1))
        onnx.save(proto, decoder)
    elif how == "shape mismatch":
        manifest["latent_dim"] += 1
    elif how == "another version":
        manifest["format_version"] = 99
    elif how == "nan outputs":
        proto = onnx.load(decoder)
        out = proto.graph.output[0].name
        proto.graph.node[-1].output[0] = "before_nan"
        nan = helper.make_tensor("nan_value", onnx.TensorProto.FLOAT, [], [float("nan")])
        proto.graph.initializer.append(nan)
        proto.graph.node.append(helper.make_node("Mul", ["before_nan", "nan_value"], [out]))
        onnx.save(proto, decoder)
    elif how == "subgraph operator":  # an If branch holding a custom-domain node
        proto = onnx.load(decoder)
        branch = helper.make_graph(
            [helper.make_node("Evil", [], ["y"], domain="com.example.native")], "branch", [],
            [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        )  # fmt: skip
        cond = helper.make_tensor("always", onnx.TensorProto.BOOL, [], [True])
        proto.graph.initializer.append(cond)
        proto.graph.node.append(helper.make_node("If", ["always"], ["unused"], then_branch=branch, else_branch=branch))
        onnx.save(proto, decoder)
    elif how == "fixed batch":
        proto = onnx.load(decoder)
        proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 2
        onnx.save(proto, decoder)
    elif how == "dataset path":
        manifest["dataset"] = "/etc"
    elif how == "typed field":
        manifest["latent_dim"] = "four"
    elif how == "huge image":
        manifest["image_shape"] = [3, 30000, 30000]
    elif how == "bad sample":
        with np.load(folder / "data.npz") as arrays:
            np.savez(folder / "data.npz", images=arrays["images"][:, :, :4], labels=arrays["labels"])
    elif how == "linked graph":
        decoder.unlink()
        decoder.symlink_to("/etc/hostname")
    manifest_path.write_text(json.dumps(manifest))


BAD = {
    "missing graph": "decoder.onnx is missing",
    "not onnx": "not an ONNX file",
    "external data": "external data",
    "custom operator": "outside standard ONNX",
    "shape mismatch": "disagree with the manifest",
    "another version": "format version 99",
    "nan outputs": "NaN",
    "linked graph": "outside the bundle",
    "subgraph operator": "outside standard ONNX",
    "fixed batch": "dynamic batch dimension",
    "dataset path": "dataset must be one of",
    "typed field": "lacks a valid field",
    "huge image": "at most 4 channels",
    "bad sample": "disagrees with the manifest",
}


@pytest.mark.parametrize("how", list(BAD))
def test_a_bad_bundle_gets_a_message_and_other_models_keep_working(how, bundles, opened_once, tmp_path, monkeypatch):
    folder = tmp_path / "models"
    shutil.copytree(opened_once, folder)  # tiny.pt and its caches
    shutil.copytree(bundles["folder"] / "examples", folder / "bad")
    _corrupt(folder / "bad", how)
    with pytest.raises(BundleError, match=BAD[how]):
        open_model(folder / "bad")
    at = open_page("pages/3_Traverse.py", folder, monkeypatch, state={MODEL_KEY: "bad"})
    assert not at.exception and any(BAD[how] in e.value for e in at.error)
    at.session_state[MODEL_KEY] = "tiny.pt"
    assert_no_errors(at.run())


def test_a_bundle_folder_linked_from_outside_is_not_listed(bundles, tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(bundles["folder"] / "tiny.pt", folder / "tiny.pt")
    (folder / "elsewhere").symlink_to(bundles["folder"] / "examples", target_is_directory=True)
    at = open_page("app.py", folder, monkeypatch, state={MODEL_KEY: "elsewhere"})
    assert at.sidebar.selectbox(key="_model_picker").options == ["tiny.pt"]
    assert at.session_state[MODEL_KEY] == "tiny.pt"


# -- uploading a bundle ------------------------------------------------------------------------


def _zip(folder: Path, prefix: str = "") -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, prefix + file.name)
    return buffer.getvalue()


def test_an_uploaded_zip_is_checked_then_installed_under_its_name_only(bundles, tmp_path):
    from vae.bundle.zip_install import install_bundle_zip

    models = tmp_path / "models"
    models.mkdir()
    data = _zip(bundles["folder"] / "examples", prefix="../../escape/")  # names cannot choose the path
    installed = install_bundle_zip(data, models, "mine")
    folder = installed.folder
    assert folder == models / "mine" and installed.latent_dim == 4 and open_model(folder).model.latent_dim == 4
    assert not (tmp_path / "escape").exists() and sorted(p.name for p in models.iterdir()) == ["mine"]
    with pytest.raises(BundleError, match="exists"):
        install_bundle_zip(data, models, "mine")
    assert install_bundle_zip(_zip(bundles["folder"] / "conv"), models, "mine", replace=True).folder == folder
    assert open_model(folder).model.image_shape == (3, 16, 16)


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"not a zip", "not a zip"), ("empty", "no manifest.json"), ("bad", "not an ONNX file")],
)
def test_a_bad_upload_leaves_the_models_folder_as_it_was(payload, message, bundles, tmp_path):
    from vae.bundle.zip_install import install_bundle_zip

    models = tmp_path / "models"
    models.mkdir()
    if payload == "empty":
        payload = _zip(tmp_path)  # a zip of an empty folder... holding only the models folder
    elif payload == "bad":
        broken = tmp_path / "broken"
        shutil.copytree(bundles["folder"] / "examples", broken)
        (broken / "encoder.onnx").write_bytes(b"not a graph")
        payload = _zip(broken)
    with pytest.raises(BundleError, match=message):
        install_bundle_zip(payload, models, "mine")
    assert list(models.iterdir()) == []


def test_the_read_only_switch_hides_training_and_uploads(bundles, monkeypatch):
    for switch in ("VAE_READ_ONLY", "VAE_DISABLE_TRAINING"):
        with monkeypatch.context() as patch:
            patch.setenv(switch, "1")
            home = open_page("app.py", bundles["folder"], patch)
            assert any(switch in i.value and "turned off" in i.value for i in home.info)
            train = open_page("pages/9_Train.py", bundles["folder"], patch)
            assert any(switch in i.value for i in train.info)


def test_an_installed_bundle_folder_has_the_usual_folder_mode(bundles, tmp_path):
    from vae.bundle.zip_install import install_bundle_zip

    models = tmp_path / "models"
    models.mkdir()
    previous = os.umask(0o022)
    try:
        folder = install_bundle_zip(_zip(bundles["folder"] / "examples"), models, "mine").folder
    finally:
        os.umask(previous)
    assert folder.stat().st_mode & 0o777 == 0o755  # not mkdtemp's 0700: others can read the model too
