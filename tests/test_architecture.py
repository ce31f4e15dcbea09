"""The rules of the house that imports can check: the library never pulls in Streamlit, and
evaluating a checkpoint never loads the training loop."""

import json
import subprocess
import sys

from conftest import REPO

LIBRARY_MODULES = sorted("vae." + p.stem for p in (REPO / "vae").glob("*.py") if p.stem not in ("__init__", "__main__"))


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
    assert not {"vae.train", "vae.distributed", "vae.jobs"} & loaded
