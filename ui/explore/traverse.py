"""Traverse's sliders and decoded image: Streamlit sliders decoded on the server, or the live
component decoding in the browser while dragging. The current code lives in session state, so
the grid below and a switch between the two modes start from the same values.

A hierarchical model's sliders are grouped by level, and what an upper slider does to the levels
below is a choice (`BELOW`): "keep" shows and decodes the levels' own values (the absolute
decoder), so the lower levels' values stay put; "follow" shows the standardised code and sets
the levels below the moved one to their conditional prior means (ε = 0). The code kept in
session state is always the standardised one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.live.decoding import DecoderGraph, live_traverse, released
from ui.shell import cache
from ui.shell.charts import kl_bars
from ui.shell.items import item_text, show_item, show_items
from ui.shell.kl import measured_kl
from ui.shell.page import choose_latent
from ui.shell.panels import distance_reading
from ui.shell.pickers import HeldOut, LatentChoice
from vae.latent.codes import (
    INACTIVE_KL,
    decode_codes,
    nearest_distances,
    prior_samples,
    slider_ranges,
)
from vae.latent.grids import traversal_grid
from vae.latent.hierarchy import (
    at_prior_means_below,
    decode_values,
    from_values,
    level_index,
    level_traversal,
    to_values,
    value_ranges,
)
from vae.models.interface import LatentModel, is_conditional, is_text
from vae.models.levels import dim_label, is_hierarchical, levels_of
from vae.opened import ModelInfo

STATE_KEY = "traverse_state"  # {"start": signature of the starting point, "z": current values}
RELEASED_KEY = "traverse_live_released"  # nonce of the last release the live component reported
BELOW = {"keep": "keep their values", "follow": "follow the upper levels (conditional prior means)"}


def below_choice(vae: LatentModel) -> str | None:
    """A hierarchical model: what moving an upper level's slider does to the levels below
    ("keep" or "follow"); a flat model: None, no control."""
    if not is_hierarchical(vae):
        return None
    return st.radio(
        "When an upper level moves, the levels below",
        list(BELOW),
        format_func=BELOW.get,
        key="traverse_below",
        help="Keep their values: the sliders hold the levels' own values, decoded as they are. Follow: the "
        "sliders hold standardised codes ε, and the levels below the moved one go to their conditional prior "
        "means (ε = 0)",
    )


@dataclass
class TraverseSliders:
    path: Path
    vae: LatentModel
    start: LatentChoice
    held: HeldOut | None
    kl: np.ndarray
    active: list[int]
    inactive: list[int]
    low: np.ndarray
    high: np.ndarray
    mode: str  # the slider range: "prior" or "data"
    y: torch.Tensor | None
    graph: DecoderGraph | None  # the ONNX decoder for the browser; None: Streamlit sliders decoded on the server
    below: str | None = None  # a hierarchical model's BELOW choice; None: a flat model
    # with below == "keep", `graph` decodes the levels' values and low/high bound them

    @property
    def keeps_values(self) -> bool:
        return self.below == "keep"

    def shown(self, z: np.ndarray) -> np.ndarray:
        """A standardised code (D,) as the sliders show it."""
        return to_values(self.vae, z)[0] if self.keeps_values else np.asarray(z, np.float32)

    def stored(self, values: np.ndarray) -> np.ndarray:
        """The sliders' values (D,) as the standardised code kept in session state."""
        return from_values(self.vae, values)[0] if self.keeps_values else np.asarray(values, np.float32)

    def label(self, d: int) -> str:
        return f"{dim_label(levels_of(self.vae), d)} · KL {self.kl[d]:.2f}"

    def __post_init__(self) -> None:
        signature = [self.path.name, self.path.stat().st_mtime, self.start.caption]
        signature.append([round(float(v), 6) for v in self.start.z])
        state = st.session_state.get(STATE_KEY)
        if not state or state.get("start") != signature or len(state.get("z", [])) != self.vae.latent_dim:
            st.session_state[STATE_KEY] = {"start": signature, "z": [float(v) for v in self.start.z]}
            self.set(self.start.z)
        shown = np.clip(self.shown(self.current), self.low, self.high)
        for d in range(self.vae.latent_dim):
            if self.graph is not None:  # the component holds the values; server sliders restart from them
                st.session_state.pop(self.key(d), None)
            elif self.key(d) not in st.session_state:  # a slider not shown yet in this range starts at the value
                st.session_state[self.key(d)] = float(shown[d])

    @property
    def current(self) -> np.ndarray:
        return np.array(st.session_state[STATE_KEY]["z"], np.float32)

    def key(self, d: int) -> str:
        # the range (and for levels' values, the space) is part of the key: a slider's bounds
        # cannot change under a kept value
        space = "_values" if self.keeps_values else ""
        return f"traverse_{self.path.stem}_{self.mode}{space}_z{d}"

    def set(self, z: np.ndarray) -> None:
        """Moves the sliders to the standardised code `z` (D,), clipped to their ranges."""
        values = np.clip(self.shown(z), self.low, self.high)
        st.session_state[STATE_KEY]["z"] = [float(v) for v in self.stored(values)]
        for d in range(self.vae.latent_dim):
            st.session_state[self.key(d)] = float(values[d])

    def _follow(self, d: int) -> None:
        """A server slider of dimension d moved (below == "follow"): the levels below its level
        go to their conditional prior means."""
        values = np.array([st.session_state[self.key(k)] for k in range(self.vae.latent_dim)], np.float32)
        moved = np.clip(
            at_prior_means_below(values, levels_of(self.vae), level_index(levels_of(self.vae), d)), self.low, self.high
        )
        for k in range(self.vae.latent_dim):
            st.session_state[self.key(k)] = float(moved[k])

    def randomise(self) -> None:
        seed = int(np.random.default_rng().integers(2**31))
        self.set(prior_samples(1, self.vae.latent_dim, 1.0, seed)[0])

    def buttons(self) -> None:
        reset_column, random_column, _ = st.columns([1, 1, 4])
        reset_column.button("Reset to start", key="traverse_reset", on_click=self.set, args=(self.start.z,))
        random_column.button("Randomise (prior)", key="traverse_random", on_click=self.randomise)

    def _slider(self, d: int) -> float:
        low, high = float(self.low[d]), float(self.high[d])
        step = float(max(round((high - low) / 120, 3), 0.001))
        follow = self.below == "follow"
        return st.slider(
            self.label(d) if self.below else f"z{d} · KL {self.kl[d]:.2f}",
            low,
            high,
            step=step,
            format="%.2f",
            key=self.key(d),
            on_change=self._follow if follow else None,
            args=(d,) if follow else None,
        )

    def _reading_and_buttons(self, z: np.ndarray) -> None:
        if self.held is not None:
            spacing = cache.spacing(self.path, len(self.held.codes.mu))
            distance = float(nearest_distances(self.held.codes.mu, z)[0]) / spacing
            item = "sentence" if is_text(self.vae) else "image"
            st.markdown(
                f"{distance:.1f}× the typical spacing from the nearest held-out code: "
                f"{distance_reading(distance, item)}."
            )
        keep, regrid = st.columns(2)
        if keep.button("Keep this code", key="traverse_keep", help="For Interpolate and Arithmetic"):
            choose_latent(self.path, z, f"traversal from {self.start.caption}", None if self.y is None else int(self.y))
            st.success("Kept for the other pages.")
        if regrid.button("Grid at these values", key="traverse_regrid", help="Redraw the grid below around this point"):
            st.rerun()

    def show(self) -> None:
        """The sliders and the decoded image, in a fragment: a slider move reruns only this."""
        st.fragment(self._live if self.graph is not None else self._server)()

    def _live(self) -> None:
        space = "_values" if self.keeps_values else ""
        component_key = f"traverse_live_{self.path.stem}_{self.mode}{space}"
        # Take the last release before drawing: the component treats a new z from Python as a new start.
        last = released(component_key)
        if last and "z" in last and last["nonce"] != st.session_state.get(RELEASED_KEY):
            st.session_state[RELEASED_KEY] = last["nonce"]
            values = np.clip(np.asarray(last["z"], np.float32), self.low, self.high)
            st.session_state[STATE_KEY]["z"] = [float(v) for v in self.stored(values)]
        levels = levels_of(self.vae)
        order = self.active + self.inactive
        live_traverse(
            self.graph,
            is_conditional(self.vae),
            self.shown(self.current),
            order,
            self.inactive,
            [self.label(d) if self.below else f"z{d} · KL {self.kl[d]:.2f}" for d in range(self.vae.latent_dim)],
            self.low,
            self.high,
            0 if self.y is None else int(self.y),
            key=component_key,
            groups=[(lv.name, [d for d in order if d in lv.indices]) for lv in levels] if self.below else None,
            follow=self.below == "follow",
        )
        self._reading_and_buttons(self.current)

    def _slider_group(self, dims: list[int]) -> dict[int, float]:
        values = {d: self._slider(d) for d in dims if d not in self.inactive}
        inactive = [d for d in dims if d in self.inactive]
        if inactive:
            label = f"{len(inactive)} inactive dimension(s), KL < {INACTIVE_KL} nats: they barely matter"
            with st.expander(label):
                values.update({d: self._slider(d) for d in inactive})
        return values

    def _server(self) -> None:
        sliders, shown = st.columns([3, 2])
        with sliders:
            if self.below is None:
                values = self._slider_group(self.active + self.inactive)
            else:  # grouped by level, the top first
                values = {}
                for level in levels_of(self.vae):
                    st.markdown(f"**{level.name}** ({level.size} dimensions)")
                    values.update(self._slider_group([d for d in self.active + self.inactive if d in level.indices]))
        shown_values = np.array([values[d] for d in range(self.vae.latent_dim)], np.float32)
        z = self.stored(shown_values)
        st.session_state[STATE_KEY]["z"] = [float(v) for v in z]
        with shown:
            decoded = decode_values(self.vae, shown_values) if self.keeps_values else decode_codes(self.vae, z, self.y)
            show_item(st, self.vae, decoded[0], 256, "decoded", width=256)
            self._reading_and_buttons(z)


GRID_VALUES = 9  # columns of the traversal grid
MAX_GRID_ROWS = 16


def dimension_kl(path: Path, info: ModelInfo, vae: LatentModel, held: HeldOut | None) -> tuple[np.ndarray, str]:
    """KL per dimension (measured on the held-out codes, else as the checkpoint recorded it,
    else 1 everywhere) and a note on where it comes from."""
    kl, note = measured_kl(path, info, vae, None if held is None else held.codes)
    if kl is None:
        return np.ones(vae.latent_dim), "unknown: every dimension treated as active"
    return kl, note


def ranges(
    held: HeldOut | None, mode: str, vae: LatentModel, below: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each slider's (low, high): ±3 of the prior, or the data's mean ± 3 sd; for the levels'
    values (below == "keep"), the mean ± 3 sd of the values of prior draws or of the data. When
    the levels below follow (ε = 0, their conditional prior mean), every range holds 0."""
    mu = held.codes.mu if held is not None else None
    if below == "keep":
        return value_ranges(vae, mu, mode)
    low, high = slider_ranges(mu if mu is not None else np.zeros((1, vae.latent_dim)), mode)
    if below == "follow":
        low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)
    return low, high


def show_grid(sliders: TraverseSliders) -> None:
    """One row per active dimension (the strongest first), from the low to the high end of its slider."""
    dims = (sliders.active or list(range(sliders.vae.latent_dim)))[:MAX_GRID_ROWS]
    values = [np.linspace(sliders.low[d], sliders.high[d], GRID_VALUES) for d in dims]
    if sliders.below is None:
        images = traversal_grid(sliders.vae, sliders.current, dims, values, sliders.y)
        names, held = [f"z{d}" for d in dims], "the other dimensions held at the values above"
    else:
        dims = sorted(dims)  # by level, the top first
        values = [np.linspace(sliders.low[d], sliders.high[d], GRID_VALUES) for d in dims]
        images = level_traversal(sliders.vae, sliders.current, dims, values, sliders.below)
        names = [dim_label(levels_of(sliders.vae), d) for d in dims]
        held = (
            "every other level's values held at those above"
            if sliders.below == "keep"
            else "the rest of its level and the levels above held at the values above, the levels below at their "
            "conditional prior means"
        )
    if is_text(sliders.vae):  # a table: one row per dimension, one column per value
        columns = {"dimension": names}
        texts = [item_text(sliders.vae, row) for row in images]
        for j in range(GRID_VALUES):
            columns[f"value {j + 1}"] = texts[j::GRID_VALUES]
        st.dataframe(columns, hide_index=True, width="stretch")
    else:
        show_items(st, sliders.vae, images, GRID_VALUES, target=56)
    st.caption(
        f"Rows, top to bottom: {', '.join(names)}; columns: {GRID_VALUES} values from the low to the "
        f"high end of each slider, {held} (as of the last full redraw)."
    )


def show_kl(kl: np.ndarray, note: str, active: list[int]) -> None:
    st.plotly_chart(kl_bars(kl, INACTIVE_KL), key="traverse_kl")
    st.caption(
        f"KL({note}). A dimension with KL near 0 has a posterior equal to the prior: the decoder ignores it "
        f"(posterior collapse). {len(active)} of {len(kl)} dimensions are active."
    )
