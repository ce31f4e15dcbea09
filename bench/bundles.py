"""A model as a bundle (ONNX graphs in onnxruntime) against the same model as a `.pt`
checkpoint (torch), in one models folder, with AppTest:

- opening it: the first render of Home with every Streamlit cache cleared (load, data, card,
  reconstructions, prior samples);
- a Traverse slider move (server sliders: the page reruns and decodes one image).
Runs alternate, bundle then checkpoint. Goal ≤ 1.2× for both.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")

import streamlit as st  # noqa: E402
from streamlit.logger import set_log_level  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from bench.app_reruns import _traverse  # noqa: E402
from bench.report import Comparison  # noqa: E402
from bench.timing import alternating_medians_ms  # noqa: E402
from vae.bundle import bundle_from_checkpoint  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _open_home(name: str):
    def render():
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
        at.session_state["model_name"] = name
        at.run()
        if at.exception:
            raise RuntimeError(f"Home on {name}: {at.exception}")

    return render


def run(quick: bool = False, models_dir: Path = REPO / "models") -> list[Comparison]:
    set_log_level("error")
    names, repeats = (["digits.pt"], 3) if quick else (["digits.pt", "mnist.pt"], 7)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        os.environ["VAE_MODELS_DIR"] = str(folder)
        for name in names:
            shutil.copy(models_dir / name, folder / name)
            bundle = bundle_from_checkpoint(models_dir / name, folder / name.replace(".pt", "-bundle"))
            cases = (
                ("open (first Home render, caches cleared)", _open_home, "ms"),
                ("Traverse slider move (server sliders)", None, "ms per rerun (AppTest)"),
            )
            for what, build, measure in cases:
                if build is None:
                    (bundle_app, ours), (_, reference) = _traverse(bundle.name), _traverse(name)
                    ours(), reference()  # warm-up
                    apps = (bundle_app,)
                else:
                    ours, reference, apps = build(bundle.name), build(name), ()
                bundle_ms, checkpoint_ms = alternating_medians_ms(ours, reference, repeats)
                if any(app.exception for app in apps):
                    raise RuntimeError(f"{what} on {bundle.name}: {apps[0].exception}")
                results.append(
                    Comparison(
                        area="bundles",
                        case=f"{what}, {name} as a bundle",
                        measure=measure,
                        ours=bundle_ms,
                        reference=checkpoint_ms,
                        reference_name="the same model as a .pt checkpoint",
                        higher_is_better=False,
                        goal=1.2,
                    )
                )
    return results
