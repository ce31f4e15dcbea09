"""Server time of the app's interactions against an empty Streamlit script, with AppTest.

- a Traverse slider move: the whole Traverse page reruns (AppTest has no fragment reruns;
  the browser reruns only the sliders-and-image fragment);
- a map click on a point: the Map page reruns with a new selection and shows that point;
- opening Compare on the shipped β sweep (5 models), against opening the Map with one model,
  both after a first visit (the encodings, maps and comparisons are then cached).
The reference is a script holding only one slider, moved the same way: what Streamlit itself
costs per rerun. Reruns alternate, ours then the reference. The server-time overhead ratio
has no goal: it says how much of a rerun is ours.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

# Bare-mode Streamlit warns about a missing ScriptRunContext on every call; each AppTest run
# reads the level from the config again, so it is set there, before streamlit is imported.
os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")

from streamlit.elements.plotly_chart import PlotlyChartSelectionSerde  # noqa: E402
from streamlit.logger import set_log_level  # noqa: E402
from streamlit.testing.v1 import AppTest

from bench.report import Comparison
from bench.timing import alternating_medians_ms
from ui.shell.pickers import DEFAULT_MAP_POINTS
from vae import load_checkpoint
from vae.latent.projection import ProjectionParams

REPO = Path(__file__).resolve().parents[1]
EMPTY_SCRIPT = 'import streamlit as st\nst.slider("value", 0, 100, 50, key="value")\n'


def _reference() -> tuple[AppTest, callable]:
    at = AppTest.from_string(EMPTY_SCRIPT, default_timeout=60)
    at.run()
    state = {"i": 0}

    def move():
        state["i"] += 1
        at.slider(key="value").set_value(25 + 50 * (state["i"] % 2))
        at.run()

    return at, move


def _traverse(name: str) -> tuple[AppTest, callable]:
    at = AppTest.from_file(str(REPO / "pages" / "3_Traverse.py"), default_timeout=300)
    at.session_state["model_name"] = name
    at.session_state["traverse_live"] = False  # the server sliders (the live ones decode in the browser)
    at.run()
    slider = at.slider[0]
    values = [slider.min + (slider.max - slider.min) * f for f in (0.25, 0.75)]
    state = {"i": 0}

    def move():
        state["i"] += 1
        at.slider[0].set_value(values[state["i"] % 2])
        at.run()

    return at, move


def map_point_clicked(row: int):
    """The map chart's widget value after a click on point `row` (as the browser sends it)."""
    point = {"curve_number": 1, "point_number": row, "point_index": row, "x": 0.0, "y": 0.0}
    point["customdata"] = {"0": row, "1": row}
    selection = {"points": [point], "point_indices": [row], "box": [], "lasso": []}
    return PlotlyChartSelectionSerde().deserialize(json.dumps({"selection": selection}))


def _map_click(name: str) -> tuple[AppTest, callable]:
    at = AppTest.from_file(str(REPO / "pages" / "1_Map.py"), default_timeout=600)
    at.session_state["model_name"] = name
    at.run()
    _, meta = load_checkpoint(Path(os.environ["VAE_MODELS_DIR"]) / name)
    n_points = min(DEFAULT_MAP_POINTS, len(meta["split"]["held_out_indices"]))
    key = f"map_chart_{ProjectionParams().key()}_{n_points}"  # the default map: UMAP, cached beside the model
    state = {"i": 0}

    def click():
        state["i"] += 1
        row = 3 + state["i"] % 2
        at.session_state[key] = map_point_clicked(row)
        at.run()
        if "Nearest neighbours in latent space" not in [m.value for m in at.markdown]:
            raise RuntimeError(f"the map click on {name} did not show the point")

    return at, click


def _opening(page: str, name: str) -> callable:
    """A new session opening `page` with model `name`: what a visit costs the server."""

    def open_page():
        at = AppTest.from_file(str(REPO / "pages" / page), default_timeout=600)
        at.session_state["model_name"] = name
        at.run()
        if at.exception or at.error:
            raise RuntimeError(f"{page} on {name}: {at.exception or at.error}")

    return open_page


def compare_visit(repeats: int) -> Comparison:
    """Opening Compare with the 5 models of the shipped β sweep against opening the Map with one."""
    compare, map_page = _opening("8_Compare.py", "digits.pt"), _opening("1_Map.py", "digits.pt")
    started = time.perf_counter()
    compare()  # the first visit: encodes, measures and maps every model
    first = time.perf_counter() - started
    map_page()
    ours, single = alternating_medians_ms(compare, map_page, repeats)
    return Comparison(
        area="app (server)",
        case="open Compare (5 models, digits β sweep) after the first visit",
        measure="ms per visit (AppTest)",
        ours=ours,
        reference=single,
        reference_name="open the Map (digits.pt)",
        higher_is_better=False,
        goal=2.0,
        note=f"first visit {first:.1f} s",
    )


def run(quick: bool = False, models_dir: Path = REPO / "models") -> list[Comparison]:
    set_log_level("error")  # bare-mode Streamlit warns about a missing ScriptRunContext on every call
    os.environ["VAE_MODELS_DIR"] = str(models_dir)
    names, repeats = (["digits.pt"], 5) if quick else (["digits.pt", "mnist.pt", "sprites.pt"], 30)
    reference_app, reference = _reference()
    results = []
    for name in names:
        for what, build in (("Traverse slider move", _traverse), ("Map click on a point", _map_click)):
            app, interaction = build(name)
            interaction()  # warm-up
            ours, empty = alternating_medians_ms(interaction, reference, repeats)
            if app.exception or reference_app.exception:
                raise RuntimeError(f"{what} on {name}: {app.exception or reference_app.exception}")
            results.append(
                Comparison(
                    area="app (server)",
                    case=f"{what}, {name}",
                    measure="ms per rerun (AppTest)",
                    ours=ours,
                    reference=empty,
                    reference_name="one-slider script",
                    higher_is_better=False,
                )
            )
    results.append(compare_visit(1 if quick else 15))
    return results
