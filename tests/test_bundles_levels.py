"""Hierarchical bundles: a two-level VAE written in plain torch (tests/bundle_models.py) and a
native hierarchical checkpoint exported with levels and prior graphs, reopened through the
level interface in standardised codes; flat bundles open as before; bad level specs refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from bundle_models import (
    TwoLevelDecoder,
    TwoLevelEncoder,
    TwoLevelPrior,
    TwoLevelVAE,
    _Decoder,
    _Encoder,
    examples_bundle,
    two_level_bundle,
)

from vae.analysis.metrics import elbo_per_example, iwae_log_likelihood
from vae.bundle import export_bundle
from vae.bundle.__main__ import main as bundle_main
from vae.bundle.composing import browser_decoder
from vae.errors import BundleError
from vae.models.checkpoints import load_checkpoint
from vae.models.gaussian import gaussian_kl, gaussian_kl_between
from vae.models.levels import levels_of, per_level_sums
from vae.opened import open_model

TOL = 1e-4


@pytest.fixture(scope="module")
def two_level(tmp_path_factory):
    folder, module = two_level_bundle(tmp_path_factory.mktemp("levels") / "two-level")
    return folder, module, open_model(folder).model


def _run(path: Path, z: torch.Tensor) -> torch.Tensor:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {"z": z.numpy()})[0])


def _torch_absolute(module: TwoLevelVAE, eps: torch.Tensor) -> torch.Tensor:
    """Standardised codes -> values, computed with the foreign model's own prior."""
    top = eps[:, :4]
    mu_p, logvar_p = module.prior(top)
    return torch.cat([top, mu_p + torch.exp(0.5 * logvar_p) * eps[:, 4:]], 1)


@torch.no_grad()
def test_a_foreign_two_level_vaes_graphs_compute_what_its_torch_modules_do(two_level, tmp_path):
    folder, module, model = two_level
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["graphs"]["priors"] == ["prior_1.onnx"]
    assert [(lv.name, lv.start, lv.size) for lv in levels_of(model)] == [("top", 0, 4), ("bottom", 4, 6)]
    g = torch.Generator().manual_seed(5)
    x, eps, values = torch.rand(7, 1, 8, 8, generator=g), torch.randn(7, 10, generator=g), torch.randn(7, 10)
    (mu_t, logvar_t), (mu_b, logvar_b) = module.encode(x)
    mu_abs, logvar_abs = model.encode_absolute(x)  # encoder.onnx
    assert (mu_abs - torch.cat([mu_t, mu_b], 1)).abs().max() < TOL
    assert (logvar_abs - torch.cat([logvar_t, logvar_b], 1)).abs().max() < TOL
    assert (model.decode_absolute(values) - module.decode(values[:, :4], values[:, 4:])).abs().max() < TOL
    mu_p, logvar_p = model.conditional_prior(1, values[:, :4])  # prior_1.onnx
    want_mu, want_logvar = module.prior(values[:, :4])
    assert (mu_p - want_mu).abs().max() < TOL and (logvar_p - want_logvar).abs().max() < TOL
    # standardised codes: decode, absolute / standardised, encode
    absolute = _torch_absolute(module, eps)
    assert (model.absolute(eps) - absolute).abs().max() < TOL
    assert (model.standardised(absolute) - eps).abs().max() < TOL
    assert (model.decode(eps) - module.decode(absolute[:, :4], absolute[:, 4:])).abs().max() < TOL
    mu, logvar = model.encode(x)
    mu_p, logvar_p = module.prior(mu_t)  # the mean path: the top level at its mean
    assert (mu[:, :4] - mu_t).abs().max() < TOL and (logvar[:, 4:] - (logvar_b - logvar_p)).abs().max() < TOL
    assert (mu[:, 4:] - (mu_b - mu_p) * torch.exp(-0.5 * logvar_p)).abs().max() < TOL
    # the browser's graph: one ONNX graph of standardised codes, equal to the server's decode
    graph = browser_decoder(model, tmp_path)
    onnx.checker.check_model(str(graph))
    assert [i.name for i in onnx.load(graph).graph.input] == ["z"]
    assert (_run(graph, eps) - model.decode(eps)).abs().max() < TOL
    assert (_run(graph, eps) - module.decode(absolute[:, :4], absolute[:, 4:])).abs().max() < TOL
    assert browser_decoder(model, tmp_path) == graph  # named by content: made once


@torch.no_grad()
def test_its_kl_is_counted_per_level_against_the_conditional_prior_and_iwae_bounds_the_elbo(two_level):
    folder, module, model = two_level
    x = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(1)).round()
    noise = torch.randn(40, 10, generator=torch.Generator().manual_seed(2))
    recon_ll, kl_per_dim, z = model.elbo_parts(x, noise=noise)
    (mu_t, logvar_t), (mu_b, logvar_b) = module.encode(x)
    z_top = mu_t + torch.exp(0.5 * logvar_t) * noise[:, :4]
    mu_p, logvar_p = module.prior(z_top)  # given the drawn top level
    assert (kl_per_dim[:, :4] - gaussian_kl(mu_t, logvar_t)).abs().max() < TOL
    assert (kl_per_dim[:, 4:] - gaussian_kl_between(mu_b, logvar_b, mu_p, logvar_p)).abs().max() < TOL
    z_bottom = mu_b + torch.exp(0.5 * logvar_b) * noise[:, 4:]
    p = module.decode(z_top, z_bottom).clamp(1e-6, 1 - 1e-6)
    want_ll = (x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
    assert (recon_ll - want_ll).abs().max() < 1e-3 and (z - torch.cat([z_top, z_bottom], 1)).abs().max() < TOL
    elbo = elbo_per_example(model, x, generator=torch.Generator().manual_seed(3), samples=20)
    per_level = per_level_sums(elbo["kl_per_dim"].numpy(), model.levels)
    assert set(per_level) == {"top", "bottom"} and min(per_level.values()) > 0
    assert np.isclose(sum(per_level.values()), float(elbo["kl"].sum()), rtol=1e-5)
    iwae = iwae_log_likelihood(model, x, k=50, generator=torch.Generator().manual_seed(4))
    assert float(iwae.mean()) >= float(elbo["elbo"].mean())


@torch.no_grad()
def test_a_native_hierarchical_checkpoint_round_trips_through_the_command_line(
    tiny_hierarchical_checkpoint, tmp_path, capsys
):
    assert bundle_main([str(tiny_hierarchical_checkpoint), "--out", str(tmp_path / "h"), "--sample", "30"]) == 0
    native, _ = load_checkpoint(tiny_hierarchical_checkpoint)
    opened = open_model(tmp_path / "h")
    model = opened.model
    assert [(lv.name, lv.size) for lv in model.levels] == [(lv.name, lv.size) for lv in native.levels]
    assert opened.info.data.num_examples == 30
    g = torch.Generator().manual_seed(0)
    eps, x = torch.randn(6, native.latent_dim, generator=g), torch.rand(6, *native.image_shape, generator=g)
    assert (model.decode(eps) - native.decode(eps)).abs().max() < TOL
    assert (model.absolute(eps) - native.absolute(eps)).abs().max() < TOL
    for got, want in zip(model.encode(x), native.encode(x)):
        assert (got - want).abs().max() < TOL
    assert (_run(browser_decoder(model, tmp_path / "graphs"), eps) - native.decode(eps)).abs().max() < TOL


def test_a_flat_bundle_of_the_old_format_still_opens_as_one_level(tmp_path):
    folder, module = examples_bundle(tmp_path / "flat")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and "priors" not in manifest["graphs"]
    assert "levels" not in manifest  # written as bundles were before levels
    model = open_model(folder).model
    assert [(lv.name, lv.size) for lv in levels_of(model)] == [("z", 4)]
    assert not hasattr(model, "elbo_parts") and not hasattr(model, "absolute")
    z = torch.randn(3, 4)
    with torch.no_grad():
        assert (model.decode(z) - module.decode(z).view(3, 1, 8, 8)).abs().max() < TOL
    served = browser_decoder(model, tmp_path / "graphs")  # the decoder as it is
    assert served.read_bytes() == (folder / "decoder.onnx").read_bytes()


def _two_level_modules(**changes):
    module = TwoLevelVAE().eval()
    arguments = {
        "encoder": TwoLevelEncoder(module).eval(),
        "decoder": TwoLevelDecoder(module).eval(),
        "prior": TwoLevelPrior(module).eval(),
        "levels": [("top", 4), ("bottom", 6)],
        "image_shape": (1, 8, 8),
    }
    return {**arguments, **changes}


class _WidePrior(torch.nn.Module):
    def forward(self, upper):
        return upper.repeat(1, 2), upper.repeat(1, 2)  # (N, 8) for a level of 6


BAD_SPECS = {
    "sizes": ({"levels": [("top", 4), ("bottom", 8)]}, r"add up to 12, but the encoder returns 10 dimensions"),
    "prior shape": ({"prior": _WidePrior().eval()}, r"prior of level 'bottom' returns \[\(3, 8\), \(3, 8\)\]"),
    "no prior": ({"prior": None}, r"needs prior="),
    "too many priors": ({"prior": [_WidePrior(), _WidePrior()]}, r"a list of 1"),
    "names": ({"levels": [("top", 4), ("top", 6)]}, r"level names must be distinct"),
    "reserved name": ({"levels": [("All levels", 4), ("bottom", 6)]}, r"names the whole code in the app"),
    "conditional": ({"num_classes": 3}, r"levels is unconditional"),
}


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_export_refuses_bad_level_specs_in_one_line_before_writing(case, tmp_path):
    changes, message = BAD_SPECS[case]
    with pytest.raises(BundleError, match=message) as refused:
        export_bundle(tmp_path / "bad", **_two_level_modules(**changes))
    assert "\n" not in str(refused.value) and not (tmp_path / "bad").exists()


def test_a_flat_model_with_a_prior_is_refused(tmp_path):
    from bundle_models import ExamplesVAE

    model = ExamplesVAE().eval()
    with pytest.raises(BundleError, match="a prior is for a model with levels"):
        export_bundle(
            tmp_path / "flat",
            encoder=_Encoder(model, True).eval(),
            decoder=_Decoder(model, (1, 8, 8)).eval(),
            prior=_WidePrior(),
            image_shape=(1, 8, 8),
        )
    assert not (tmp_path / "flat").exists()


def _edit_manifest(folder: Path, **fields) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, **fields}))


OPEN_REFUSALS = {
    "sizes": (lambda f: _edit_manifest(f, levels=[{"name": "top", "size": 5}, {"name": "bottom", "size": 6}]),
              "add up to 11, not the latent_dim 10"),
    "levels in version 1": (lambda f: _edit_manifest(f, format_version=1), "of format version 2"),
    "prior shape": (lambda f: shutil.copy(f / "encoder.onnx", f / "prior_1.onnx"), "prior_1.onnx: inputs"),
    "prior missing": (lambda f: (f / "prior_1.onnx").unlink(), "prior_1.onnx is missing"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(OPEN_REFUSALS))
def test_opening_refuses_levels_that_disagree_with_the_graphs(case, two_level, tmp_path):
    folder = shutil.copytree(two_level[0], tmp_path / "bad")
    corrupt, message = OPEN_REFUSALS[case]
    corrupt(folder)
    with pytest.raises(BundleError, match=message) as refused:
        open_model(folder)
    assert "\n" not in str(refused.value)
