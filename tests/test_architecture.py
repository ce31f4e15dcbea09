"""The rules of the house that imports and files can check: the library never pulls in
Streamlit, its sub-packages import only downwards, evaluating a checkpoint never loads the
training loop, only training looks past the model interface, pages stay thin and read a model's
description through typed fields (never the raw `meta` dict)."""

import ast
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
    *(p for p in (REPO / "pages").glob("*.py") if p.name != "9_Train.py"),  # Train builds the native model
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


# The library's layers, lowest first: a module imports only from its own layer or those below.
LAYERS = [
    {"errors", "files", "pictures", "devices"},
    {"data"},
    {"models"},
    {"latent"},
    {"bundle", "analysis"},
    {"opened"},
    {"training"},
    {"large_maps"},
    {"__init__", "train", "evaluate", "project", "download", "sweep"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _library_imports(path):
    """The vae.* modules a file imports, anywhere in it (top level or inside functions)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vae."):
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("vae."))


def test_library_sub_packages_import_only_downwards():
    upward = []
    for path in (REPO / "vae").rglob("*.py"):
        parts = path.relative_to(REPO / "vae").with_suffix("").parts
        own = parts[0]
        for module in _library_imports(path):
            target = module.split(".")[1]
            if target != own and RANK[target] > RANK[own]:
                upward.append(f"{path.relative_to(REPO)} imports {module}")
    assert not upward, "\n".join(upward)


def test_no_two_library_modules_share_a_file_name():
    seen = {}
    for path in (REPO / "vae").rglob("*.py"):
        if path.stem not in ("__init__", "__main__"):
            seen.setdefault(path.stem, []).append(str(path.relative_to(REPO)))
    assert not [paths for paths in seen.values() if len(paths) > 1]


PAGES = sorted((REPO / "pages").glob("*.py"))


def test_every_page_is_thin():
    assert len(PAGES) == 10
    for page in PAGES:
        limit = 120 if page.name == "9_Train.py" else 80
        lines = page.read_text().splitlines()
        assert len(lines) <= limit, f"{page.name}: {len(lines)} lines"
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(ast.parse(page.read_text()))
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
        }
        assert not imported & {"numpy", "torch"}, f"{page.name} computes: it imports {imported & {'numpy', 'torch'}}"


META_LOOKUP = re.compile(r"\bmeta(?:\[|\.get\()")


def test_pages_and_ui_read_a_model_only_through_its_typed_description():
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in [*PAGES, *(REPO / "ui").rglob("*.py")]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if META_LOOKUP.search(line)
    ]
    assert not offenders, "\n".join(offenders)


def test_the_shared_shell_of_ui_depends_on_no_room():
    rooms = {p.name for p in (REPO / "ui").iterdir() if p.is_dir() and (p / "__init__.py").exists()} - {"shell"}
    offenders = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in (REPO / "ui" / "shell").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
        for module in [node.module]
        if module.split(".")[0] == "ui" and len(module.split(".")) > 1 and module.split(".")[1] in rooms
    ]
    assert rooms >= {"map", "compare", "live", "explore", "analyze", "home", "train"} and not offenders, offenders
