"""The rules of the house that imports can check: the library never pulls in Streamlit, and
evaluating a checkpoint never loads the training loop, and only training looks past the model
interface."""

import json
import re
import subprocess
import sys

from conftest import REPO

LIBRARY_MODULES = sorted(
    ".".join(p.relative_to(REPO).with_suffix("").parts)
    for p in (REPO / "vae").rglob("*.py")
    if p.stem not in ("__init__", "__main__")
)
# What only training may touch: the native VAE's config and layers, past the model interface.
MODEL_INTERNALS = re.compile(
    r"\.config\.|decode_logits|\.log_likelihood\(|\.(?:en|de)coder_(?:body|convs|deconvs)\b|\.to_mu\b|\.to_logvar\b"
)
INTERFACE_USERS = [
    *(REPO / "pages").glob("[0-7]_*.py"),
    *(REPO / "ui").rglob("*.py"),
    *(REPO / "vae" / "analysis").glob("*.py"),
    *(REPO / "vae" / "latent").glob("*.py"),
    REPO / "vae" / "evaluate.py",
    REPO / "vae" / "project.py",
]


def _modules_after(code: str) -> set[str]:
    """The module names loaded by a fresh interpreter after running `code`."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_the_library_never_imports_streamlit():
    loaded = _modules_after("import vae\n" + "\n".join(f"import {m}" for m in LIBRARY_MODULES))
    assert set(LIBRARY_MODULES) <= loaded
    assert not any(m == "streamlit" or m.startswith("streamlit.") for m in loaded)


def test_evaluate_never_imports_the_training_loop():
    loaded = _modules_after("import vae.evaluate")
    assert "vae.evaluate" in loaded
    training = {
        "vae.train",
        "vae.training.loop",
        "vae.training.distributed",
        "vae.training.jobs",
        "vae.training.job_child",
    }
    assert not training & loaded


def test_the_library_is_organised_in_sub_packages():
    top_level = {p.stem for p in (REPO / "vae").glob("*.py")} - {"__init__"}
    # Shared helpers and the documented command lines; everything else lives in a sub-package.
    assert top_level <= {
        "errors",
        "files",
        "pictures",
        "devices",
        "train",
        "evaluate",
        "project",
        "download",
        "bundle",
        "sweep",
    }


def test_pages_and_analyses_use_only_the_model_interface():
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in INTERFACE_USERS
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if MODEL_INTERNALS.search(line) and not line.lstrip().startswith(("from ", "import "))
    ]
    assert not offenders, "\n".join(offenders)
