"""Interpolate's parts: the path between A and B decoded step by step, a scrubber over its steps
(live in the browser, or a server slider), the downloads, how far each step of both paths lies
from the data, and both paths drawn over the map."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.live.decoding import DecoderGraph, live_scrubber, released
from ui.map.figures import add_path, latent_scatter
from ui.shell import cache
from ui.shell.charts import path_distances
from ui.shell.items import item_text, show_item, show_items
from ui.shell.page import choose_latent
from ui.shell.panels import distance_reading, maps_projection, ready_map
from ui.shell.pickers import HeldOut, LatentChoice
from vae.latent.codes import decode_codes, lerp, nearest_distances, slerp
from vae.latent.hierarchy import level_path
from vae.latent.projection import METHOD_LABELS
from vae.models.interface import LatentModel, is_conditional, is_text
from vae.models.levels import Level, is_hierarchical, levels_of
from vae.pictures import gif_bytes, grid_picture, png_bytes

PATH_COLOURS = {"linear": "#d62728", "spherical": "#9467bd"}
PATHS = {"linear": lerp, "spherical": slerp}
LIVE_STEP_KEY = "interpolate_live_step"  # the step the browser scrubber was released at
RELEASED_KEY = "interpolate_live_released"  # nonce of that release


def default_b_row(held: HeldOut | None) -> int:
    """B starts at the first held-out point whose label differs from A's (row 0), so the
    default path says something."""
    if held is not None and held.codes.labels is not None:
        differs = np.flatnonzero(held.codes.labels != held.codes.labels[0])
        return int(differs[0]) if len(differs) else 1
    return 1


def level_choice(vae: LatentModel) -> Level | None:
    """A hierarchical model: interpolate every level, or one level holding the others at A's
    values (None: every level). A flat model: None, no control."""
    if not is_hierarchical(vae):
        return None
    levels = {level.name: level for level in levels_of(vae)}
    name = st.radio(
        "Levels",
        ["all", *levels],
        format_func=lambda n: "all levels" if n == "all" else f"only {n}",
        horizontal=True,
        key="interpolate_level",
        help="Only one level: it moves from A's values to B's, every other level stays at A's",
    )
    return levels.get(name)


@dataclass(frozen=True)
class Interpolation:
    path: Path
    vae: LatentModel
    a: LatentChoice
    b: LatentChoice
    y: torch.Tensor | None
    method: str
    steps: int
    held: HeldOut | None
    level: Level | None = None  # a hierarchical model's one level that moves; None: all

    def _path(self, method: str) -> np.ndarray:
        if self.level is None:
            return PATHS[method](self.a.z, self.b.z, self.steps)
        return level_path(PATHS[method], self.a.z, self.b.z, self.steps, self.level)

    @property
    def codes(self) -> np.ndarray:
        return self._path(self.method)

    @property
    def what(self) -> str:
        """The path in words, for captions."""
        held = "" if self.level is None else f" of {self.level.name} only (the other levels held at A's)"
        return f"{self.method} path{held}"

    def frames(self) -> torch.Tensor:
        return decode_codes(self.vae, self.codes, None if self.y is None else self.y.repeat(self.steps))

    def both_paths(self) -> dict[str, np.ndarray]:
        return {name: self._path(name) for name in PATHS}

    def distances(self) -> dict[str, np.ndarray]:
        """Each step's distance to the nearest held-out code, in typical spacings; {} without data."""
        if self.held is None:
            return {}
        spacing = cache.spacing(self.path, len(self.held.codes.mu))
        return {name: nearest_distances(self.held.codes.mu, z) / spacing for name, z in self.both_paths().items()}


@st.fragment
def scrubber(view: Interpolation, frames: torch.Tensor, distances: dict, graph: DecoderGraph | None) -> None:
    """One step shown large, with its reading and a keep button; only this reruns when it moves."""
    steps, method, y, z_path = view.steps, view.method, view.y, view.codes
    if graph is not None:
        frame, about = st.columns([1, 1])
        with frame:
            component_key = f"interpolate_live_{method}_{steps}"
            last = released(component_key)  # the last release, taken before drawing
            if last and "step" in last and last["nonce"] != st.session_state.get(RELEASED_KEY):
                st.session_state[RELEASED_KEY] = last["nonce"]
                st.session_state[LIVE_STEP_KEY] = int(last["step"])
            step = min(int(st.session_state.get(LIVE_STEP_KEY, 0)), steps - 1)
            live_scrubber(graph, is_conditional(view.vae), z_path, step, 0 if y is None else int(y), key=component_key)
    else:
        step = st.slider("Step", 0, steps - 1, 0, key="interpolate_step")
        frame, about = st.columns([1, 2])
        show_item(frame, view.vae, frames[step], 192, f"step {step} of {steps - 1}", width=192)
    with about:
        if graph is not None:
            st.markdown(f"**Step {step} of {steps - 1}** (where the slider was released)")
        t = step / (steps - 1)
        st.markdown(f"**t = {t:.2f}** along the {view.what}, |z| = {np.linalg.norm(z_path[step]):.2f}.")
        if distances:
            distance = float(distances[method][step])
            item = "sentence" if is_text(view.vae) else "image"
            st.markdown(
                f"{distance:.1f}× the typical spacing from the nearest held-out code: "
                f"{distance_reading(distance, item)}."
            )
        if st.button("Keep this step's code", key="interpolate_keep", help="For Traverse and Arithmetic"):
            choose_latent(
                view.path,
                z_path[step],
                f"step {step}/{steps - 1} of the {view.what} from {view.a.caption} to {view.b.caption}",
                None if y is None else int(y),
            )
            st.success("Kept for the other pages.")


def show_path(view: Interpolation, frames: torch.Tensor, distances: dict[str, np.ndarray]) -> None:
    """Every step of the path: a strip of images, or for a text model a table of its sentences
    with each step's distance to the data."""
    caption = f"{view.what}, {view.steps} steps: A = {view.a.caption}, B = {view.b.caption}"
    if not is_text(view.vae):
        show_items(st, view.vae, frames, view.steps, caption, target=80)
        return
    table = {
        "step": list(range(view.steps)),
        "t": [round(step / (view.steps - 1), 2) for step in range(view.steps)],
        "decoded sentence (greedy)": [item_text(view.vae, row) for row in frames],
    }
    if distances:
        table["× spacing from the data"] = [round(float(d), 2) for d in distances[view.method]]
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(caption + ". A sentence repeats while the path stays in one sentence's region of z.")


def downloads(view: Interpolation, frames: torch.Tensor, frame_ms: int) -> None:
    level = "" if view.level is None else f"-{view.level.name}"
    name = f"interpolation-{view.method}{level}-{view.steps}"
    if is_text(view.vae):
        st.download_button(
            "Download the path (text, one sentence per step)",
            "\n".join(item_text(view.vae, row) for row in frames) + "\n",
            file_name=f"{name}.txt",
            mime="text/plain",
            key="interpolate_txt",
        )
        return
    gif, png = st.columns(2)
    gif.download_button(
        "Download the animation (GIF)",
        gif_bytes(frames, frame_ms=frame_ms),
        file_name=f"{name}.gif",
        mime="image/gif",
        key="interpolate_gif",
    )
    png.download_button(
        "Download the strip (PNG)",
        png_bytes(grid_picture(frames, ncols=view.steps, target=96)),
        file_name=f"{name}.png",
        mime="image/png",
        key="interpolate_png",
    )


def paths_on_map(
    path: Path, held: HeldOut, paths: dict[str, np.ndarray], method: str, distances: dict[str, np.ndarray]
) -> None:
    """`paths` maps each path's name to its (steps, D) codes; `method` is the one chosen."""
    on_map, near = st.columns([3, 2])
    with near:
        st.markdown("**Does the path stay on the data?**")
        st.plotly_chart(path_distances(distances, PATH_COLOURS), key="interpolate_distances")
        st.caption(
            "Each step's distance to the nearest held-out encoding, in units of the typical gap between an encoding "
            "and its nearest neighbour. Well above 1: the decoder is guessing between real "
            + ("sentences." if held.data.modality == "text" else "images.")
        )
    with on_map:
        latent_map, params, note = ready_map(path, len(held.codes.mu), maps_projection(2))
        figure = latent_scatter(
            latent_map.embedding_,
            held.codes.index,
            held.codes.labels,
            held.data.label_names,
            axis_title=METHOD_LABELS[params.method],
            click_grid=False,
            sentences=[held.data.texts[i] for i in held.codes.index] if held.data.modality == "text" else None,
        )
        for name in paths:
            figure = add_path(
                figure,
                latent_map.transform(paths[name]),
                f"{name} path",
                PATH_COLOURS[name],
                "solid" if name == method else "dot",
            )
        figure.update_layout(height=480)
        st.plotly_chart(figure, key="interpolate_map")
        how = "exact" if params.method == "pca" else "each step placed by its nearest latent neighbours"
        st.caption(f"Both paths over the {METHOD_LABELS[params.method]} map ({how}); the chosen one is solid.{note}")
