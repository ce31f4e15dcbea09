"""The Compare page through Streamlit's AppTest: which models it offers, what it shows of each."""

import shutil

from conftest import REPO, assert_no_errors, open_page
from ui.shell.page import COMPARE_KEY, MODEL_KEY

SWEEP = ["digits-beta-0.5.pt", "digits-beta-1.pt", "digits-beta-2.pt", "digits-beta-4.pt", "digits-beta-8.pt"]


def test_compare_opens_on_the_shipped_beta_sweep_and_greys_out_other_data(monkeypatch):
    at = open_page("pages/8_Compare.py", REPO / "models", monkeypatch, state={MODEL_KEY: "digits.pt"})
    assert_no_errors(at)
    assert at.multiselect[0].value == SWEEP
    assert set(at.multiselect[0].options) == {"digits.pt", *SWEEP}  # mnist and sprites are not offered
    excluded = at.caption[0].value
    assert "mnist.pt (images of 28×28, not 8×8)" in excluded and "sprites.pt (images of 64×64, not 8×8)" in excluded
    metrics = {m.label: [] for m in at.metric}
    for m in at.metric:
        metrics[m.label].append(m.value)
    assert len(metrics["held-out ELBO (nats)"]) == 5
    active = [int(v.split()[0]) for v in metrics["active units"]]
    assert active[0] > active[2] and active[3] == active[4] == 0  # larger β, fewer active units: collapse at 4 and 8
    assert len(at.get("plotly_chart")) == 1 + 5 + 5  # the plane, a KL chart per model, a map per model


def test_compare_keeps_the_chosen_models_and_needs_two(monkeypatch):
    chosen = {MODEL_KEY: "digits-beta-1.pt", COMPARE_KEY: ["digits-beta-0.5.pt", "digits.pt"]}
    at = open_page("pages/8_Compare.py", REPO / "models", monkeypatch, state=chosen)
    assert_no_errors(at)
    assert at.multiselect[0].value == ["digits-beta-0.5.pt", "digits.pt"]
    at.multiselect[0].set_value(["digits.pt"]).run()
    assert "Pick at least two models to compare." in [i.value for i in at.info]


def test_a_model_alone_with_its_data_is_told_how_to_get_company(tmp_path, monkeypatch, tiny_checkpoint):
    shutil.copy(tiny_checkpoint, tmp_path / "tiny.pt")
    shutil.copy(REPO / "models" / "sprites.pt", tmp_path / "sprites.pt")
    at = open_page("pages/8_Compare.py", tmp_path, monkeypatch, state={MODEL_KEY: "sprites.pt"})
    assert_no_errors(at)
    assert "Pick at least two models to compare." in [i.value for i in at.info]
    assert "tiny.pt (images of 8×8, not 64×64)" in at.caption[0].value


def test_a_bundle_compares_with_the_checkpoint_it_was_exported_from(tmp_path, monkeypatch):
    from vae.bundle import bundle_from_checkpoint

    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    bundle_from_checkpoint(tmp_path / "digits.pt", tmp_path / "digits-bundle", sample=0)  # names the dataset
    state = {MODEL_KEY: "digits.pt", COMPARE_KEY: ["digits.pt", "digits-bundle"]}
    at = open_page("pages/8_Compare.py", tmp_path, monkeypatch, state=state)
    assert_no_errors(at)
    assert at.multiselect[0].value == ["digits.pt", "digits-bundle"]
    elbos = [float(m.value) for m in at.metric if m.label == "held-out ELBO (nats)"]
    assert len(elbos) == 2 and abs(elbos[0] - elbos[1]) < 0.01 * abs(elbos[0])  # same images, same draws
    assert "trained elsewhere" in [c.value for c in at.caption]


def test_a_bundle_with_its_data_sample_is_scored_on_the_same_images_as_its_checkpoint(tmp_path, monkeypatch):
    from vae.bundle import bundle_from_checkpoint

    shutil.copy(REPO / "models" / "digits.pt", tmp_path / "digits.pt")
    shutil.copy(REPO / "models" / "mnist.pt", tmp_path / "mnist.pt")
    bundle_from_checkpoint(tmp_path / "digits.pt", tmp_path / "digits-bundle", sample=2000)  # its held-out images
    state = {MODEL_KEY: "digits-bundle", COMPARE_KEY: ["digits-bundle", "digits.pt"]}
    at = open_page("pages/8_Compare.py", tmp_path, monkeypatch, state=state)
    assert_no_errors(at)
    assert at.multiselect[0].options == ["digits-bundle", "digits.pt"]
    assert at.multiselect[0].value == ["digits-bundle", "digits.pt"]
    assert "mnist.pt (images of 28×28, not 8×8)" in at.caption[0].value  # other data: still excluded
    assert any("on the same 359 held-out images" in c.value for c in at.caption)  # digits.pt's whole held-out fifth
    elbos = [float(m.value) for m in at.metric if m.label == "held-out ELBO (nats)"]
    assert len(elbos) == 2 and abs(elbos[0] - elbos[1]) < 0.01 * abs(elbos[0])  # the same images (8-bit), same draws


def test_the_shipped_models_comparisons_are_stored_and_nothing_is_measured_on_first_open(monkeypatch):
    """Compare's first open on a shipped model reads every column from models/.cache (shipped in
    git): measuring the MNIST pair took 20 s."""
    import ui.compare.measured

    measured = []
    monkeypatch.setattr(ui.compare.measured, "compare_model", lambda *a, **k: measured.append(a) or None)
    for model in ("digits.pt", "mnist.pt"):
        at = open_page("pages/8_Compare.py", REPO / "models", monkeypatch, state={MODEL_KEY: model})
        assert_no_errors(at)
        assert len(at.multiselect[0].value) >= 2
    assert measured == [], f"{len(measured)} comparisons were measured: run the Compare page on the shipped models"


def test_a_stored_comparison_reads_back_exactly(tmp_path, tiny_hierarchical_checkpoint):
    import numpy as np
    import torch

    from vae import load_checkpoint
    from vae.analysis.compare import compare_model
    from vae.opened.stored_comparisons import comparison_file, load_comparison, stored_comparison

    model, _ = load_checkpoint(tiny_hierarchical_checkpoint)
    path = tmp_path / "h.pt"
    shutil.copy(tiny_hierarchical_checkpoint, path)
    images = np.arange(12)
    x = torch.rand(12, *model.image_shape).round()
    first = stored_comparison(path, images, 5, lambda: compare_model(model, x, iwae_k=5))
    again = stored_comparison(path, images, 5, lambda: (_ for _ in ()).throw(AssertionError("measured again")))
    assert again.rate_distortion == first.rate_distortion and again.iwae_nll == first.iwae_nll
    assert again.rate_by_level == first.rate_by_level and list(again.rate_by_level) == ["top", "bottom"]
    assert np.array_equal(again.kl_per_dim, first.kl_per_dim) and again.active == first.active
    assert torch.equal(again.traversals, first.traversals) and again.traversed_dims == first.traversed_dims
    assert comparison_file(path, images, 5) != comparison_file(path, images[:-1], 5)  # other images, other file
    comparison_file(path, images, 5).write_bytes(b"not a zip")
    assert load_comparison(comparison_file(path, images, 5)) is None
