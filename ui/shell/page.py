"""Page setup shared by every page: layout, the sidebar model picker, session-state keys."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
import torch

from ui.shell import links
from vae.bundle.onnx_model import is_bundle

REPO = Path(__file__).resolve().parents[2]  # ui/shell/page.py -> the repository
DEFAULT_MODEL = "digits.pt"

# session_state keys shared between pages (user choices only, never models or tensors)
MODEL_KEY = "model_name"  # file name of the chosen checkpoint inside models_dir()
CHOSEN_KEY = "chosen_latent"  # {"model", "z", "source"}: the code picked on Map / Encode
MAP_PARAMS_KEY = "map_params"  # the projection last shown on the Map, reused by Encode
COMPARE_KEY = "compare_models"  # the models chosen on Compare (set by a finished sweep too)
_PICKER_WIDGET = "_model_picker"


def models_dir() -> Path:
    """Where checkpoints live: `VAE_MODELS_DIR` (read at call time) or the repository's models/."""
    return Path(os.environ.get("VAE_MODELS_DIR") or REPO / "models").resolve()


def read_only() -> str | None:
    """The switch that turns off what writes to the server from the browser (training, adding
    bundles): `VAE_READ_ONLY`, or its older name `VAE_DISABLE_TRAINING`; None when neither is set."""
    for name in ("VAE_READ_ONLY", "VAE_DISABLE_TRAINING"):
        if os.environ.get(name, "").lower() in ("1", "true", "yes"):
            return name
    return None


def list_checkpoints() -> list[Path]:
    """The models directly in models_dir(): *.pt checkpoints and bundle folders (with a
    manifest.json), never a link that points outside it."""
    root = models_dir()
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.resolve().parent != root:
            continue  # hidden (caches, jobs), or a symlink leading out of the models folder
        if (path.suffix == ".pt" and path.is_file()) or is_bundle(path):
            found.append(path)
    return found


def setup_page() -> None:
    """What every page needs of torch before it decodes (its title comes from
    ui.shell.start.begin_page, drawn before the imports)."""
    # Streamlit runs each rerun in a new thread, and torch's first operation in a new thread with
    # two intra-op threads started an OpenMP team: 20-70 ms before a 0.4 ms decode. One thread
    # has no team to start; the app's decodes are small, and sessions then share the cores.
    threads = int(os.environ.get("VAE_APP_TORCH_THREADS", "1"))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def make_current(name: str) -> None:
    """Make the model `name` (in models_dir()) the current one on every page, and in the URL."""
    st.session_state[MODEL_KEY] = name
    links.set_param(links.MODEL, name)


def _remember_choice() -> None:
    make_current(st.session_state[_PICKER_WIDGET])


def pick_model() -> Path:
    """The sidebar model picker; the choice lives in a plain session key, so it survives
    page switches (widget state does not). Stops the page when there is nothing to pick."""
    checkpoints = list_checkpoints()
    if not checkpoints:
        st.info(
            f"No models in `{models_dir()}`. Train one with "
            "`python -m vae.train --dataset digits --out models/digits.pt`, or set `VAE_MODELS_DIR`."
        )
        st.stop()
    names = [p.name for p in checkpoints]
    default = DEFAULT_MODEL if DEFAULT_MODEL in names else names[0]
    wanted = links.linked(links.MODEL)  # a reload, bookmark or shared link names its model
    if wanted is not None:
        if wanted in names:
            st.session_state[MODEL_KEY] = wanted
        else:
            links.note(f"The link names the model `{wanted}`, which is not in `{models_dir()}`: showing `{default}`.")
    chosen = st.session_state.get(MODEL_KEY)
    if chosen not in names:
        chosen = default
    st.session_state[MODEL_KEY] = chosen
    st.session_state[_PICKER_WIDGET] = chosen
    st.sidebar.selectbox(
        "Model",
        names,
        key=_PICKER_WIDGET,
        on_change=_remember_choice,
        help=f"Checkpoints (.pt) and bundle folders in {models_dir()}",
    )
    links.show_note()
    return models_dir() / chosen


def choose_latent(model_path: Path, z, source: str, label: int | None = None) -> None:
    """Remember a latent vector (and its class, when known) for the traversal, interpolation
    and arithmetic pages."""
    st.session_state[CHOSEN_KEY] = kept = {
        "model": model_path.name,
        "modified": model_path.stat().st_mtime,  # a retrained file of the same name drops the old code
        "z": [float(v) for v in z],
        "source": source,
        "label": None if label is None else int(label),
    }
    links.show_view(model_path.name, kept)


def chosen_latent(model_path: Path) -> dict | None:
    chosen = st.session_state.get(CHOSEN_KEY)
    same = chosen and chosen.get("model") == model_path.name and chosen.get("modified") == model_path.stat().st_mtime
    return chosen if same else None
