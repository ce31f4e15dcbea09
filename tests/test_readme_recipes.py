"""The export recipes of docs/bundles.md ("Explore your own VAE") run as written, against
stand-ins for the user's own model files (pytorch/examples' main.py, a conv VAE module) and
weights; the README's short `export_bundle` sketch names only arguments that exist."""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import REPO
from vae.bundle import export_bundle
from vae.opened import open_model

pytestmark = pytest.mark.slow  # each recipe runs in a subprocess and exports a bundle

TESTS = Path(__file__).resolve().parent
RECIPES = re.findall(r"```python\n(.*?)```", REPO.joinpath("docs", "bundles.md").read_text(), re.S)
README_SECTION = REPO.joinpath("README.md").read_text().split("## Explore your own VAE")[1].split("\n## ")[0]
STAND_INS = {
    "main.py": "from bundle_models import ExamplesVAE\n\n\ndef VAE():\n    return ExamplesVAE(784, 400, 20)\n",
    "my_vae.py": "from bundle_models import ConvVAE as _Conv\n\n\ndef ConvVAE():\n    return _Conv(latent=8, side=64)\n",
}


def _user_folder(tmp_path: Path) -> Path:
    for name, text in STAND_INS.items():
        (tmp_path / name).write_text(text)
    sys.path[:0] = [str(tmp_path), str(TESTS)]
    try:
        from bundle_models import ConvVAE, ExamplesVAE
    finally:
        del sys.path[:2]
    torch.save(ExamplesVAE(784, 400, 20).state_dict(), tmp_path / "vae.pt")
    torch.save(ConvVAE(latent=8, side=64).state_dict(), tmp_path / "conv_vae.pt")
    torch.save(torch.rand(6, 3, 64, 64), tmp_path / "some_images.pt")
    two_level = {}  # the hierarchical recipe defines its model inline: its weights come from that class
    exec(RECIPES[2].split("model = TwoLevelVAE()")[0], two_level)
    torch.save(two_level["TwoLevelVAE"]().state_dict(), tmp_path / "two_level_vae.pt")
    return tmp_path


def test_the_recipes_run_as_written_and_their_bundles_open(tmp_path):
    assert len(RECIPES) == 3, "docs/bundles.md lost a recipe"
    folder = _user_folder(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(TESTS), str(REPO)])}
    for recipe in RECIPES:
        result = subprocess.run(
            [sys.executable, "-c", recipe], cwd=folder, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stderr[-3000:]
    examples = open_model(folder / "models" / "examples-mnist")
    assert (examples.model.latent_dim, examples.model.image_shape, examples.info.data.spec) == (
        20,
        (1, 28, 28),
        "mnist",
    )
    conv = open_model(folder / "models" / "my-conv-vae")
    assert (conv.model.latent_dim, conv.model.image_shape, conv.model.likelihood) == (8, (3, 64, 64), "gaussian")
    assert conv.info.data.num_examples == 6
    two_level = open_model(folder / "models" / "two-level-mnist")
    assert [(lv.name, lv.size) for lv in two_level.model.levels] == [("top", 8), ("bottom", 16)]
    assert (two_level.model.latent_dim, two_level.info.data.spec) == (24, "mnist")


def test_the_readme_sketch_calls_export_bundle_with_its_own_arguments():
    """The README's sketch has placeholders (`encoder`, `decoder`), so it cannot run; its call
    must still fit the signature."""
    (sketch,) = re.findall(r"```python\n(.*?)```", README_SECTION, re.S)
    calls = [
        node
        for node in ast.walk(ast.parse(sketch))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "export_bundle"
    ]
    assert len(calls) == 1
    bound = inspect.signature(export_bundle).bind(
        *[None] * len(calls[0].args), **{k.arg: None for k in calls[0].keywords}
    )
    assert {"folder", "encoder", "decoder", "image_shape"} <= set(bound.arguments)
