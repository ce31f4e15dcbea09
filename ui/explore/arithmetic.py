"""Arithmetic's second and third tabs: attribute vectors between two classes, applied with a
strength; and for a conditional model one code decoded as every class."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from ui.live.decoding import DecoderGraph, live_mix, released
from ui.shell import cache
from ui.shell.items import show_item, show_items
from ui.shell.pickers import HeldOut, keep_button, pick_latent
from vae.latent.codes import (
    apply_attribute,
    arithmetic,
    decode_as_every_class,
    decode_codes,
    nearest_neighbours,
    prior_samples,
)
from vae.models.interface import LatentModel, is_conditional
from vae.opened import ModelInfo
from vae.opened.measures import ATTRIBUTE_FIT

SOURCES = ["data", "kept", "upload", "prior"]
STRENGTHS = np.linspace(-1.0, 2.0, 7)  # the sequence strip: before, at and past the target
VECTOR_METHODS = {
    "means": "class-mean difference",
    "classifier": "linear classifier (logistic regression)",
}


@dataclass(frozen=True)
class ArithmeticView:
    path: Path
    vae: LatentModel
    info: ModelInfo
    held: HeldOut | None
    y: torch.Tensor | None  # the class every result is decoded as (conditional models)
    graph: DecoderGraph | None = None  # the decoder for the browser; None: decoded on the server

    def live(
        self, key: str, base: np.ndarray, vectors: list[np.ndarray], names: list[str], default: list[float], bounds
    ):
        """The weights the user released the live sliders at (`default` before), after drawing
        base + Σ w_i vectors_i decoded in the browser while dragging."""
        last = released(key)
        if last and "weights" in last and len(last["weights"]) == len(default):
            st.session_state[key + "_weights"] = [float(w) for w in last["weights"]]
        weights = st.session_state.get(key + "_weights", default)
        label = 0 if self.y is None else int(self.y)
        live_mix(self.graph, is_conditional(self.vae), base, vectors, names, weights, bounds, label, key)
        return weights

    @property
    def labelled(self) -> bool:
        held = self.held
        return held is not None and held.codes.labels is not None and len(np.unique(held.codes.labels)) >= 2

    def nearest_label(self, z: np.ndarray) -> str:
        """What the closest held-out encoding is, to read a result by."""
        if self.held is None:
            return ""
        row = int(nearest_neighbours(self.held.codes.mu, z, k=1)[0][0])
        return f"nearest held-out code: label {self.held.label_of(row)}"

    def first_row_of(self, label: int, fallback: int) -> int:
        rows = np.flatnonzero(self.held.codes.labels == label) if self.labelled else []
        return int(rows[0]) if len(rows) else fallback

    def decode_one(self, z: np.ndarray) -> torch.Tensor:
        return decode_codes(self.vae, z, self.y)[0]


def attribute_vectors(view: ArithmeticView) -> None:
    if view.held is None:
        st.info("Attribute vectors are found from labelled data, and this model's data is not available here.")
    elif not view.labelled:
        st.info("Attribute vectors need data labelled with at least two classes, and this model's data has fewer.")
    else:
        names = view.held.data.label_names
        classes = [int(k) for k in np.unique(view.held.codes.labels)]
        settings, point = st.columns([2, 2])
        with settings:
            source = st.selectbox("From class", classes, format_func=lambda k: names[k], key="arithmetic_from", index=0)
            target = st.selectbox(
                "Toward class", classes, format_func=lambda k: names[k], key="arithmetic_to", index=len(classes) - 1
            )
            method = st.radio(
                "Vector from", list(VECTOR_METHODS), format_func=VECTOR_METHODS.get, key="arithmetic_method"
            )
        if source == target:
            st.info("Pick two different classes.")
        else:
            try:
                vector = cache.attribute_vector(view.path, int(source), int(target), method)
            except ValueError as err:  # a class absent from the images fitted on
                st.info(f"No attribute vector between these classes: {err}.")
                return
            split = cache.fitting(view.path)
            fitted = len(split.fit_subset(ATTRIBUTE_FIT))
            with point:
                start = pick_latent(
                    view.path,
                    view.vae,
                    view.info,
                    f"arithmetic_start_c{source}",  # a new source class starts from one of its points
                    "Apply to",
                    SOURCES,
                    view.held,
                    view.y,
                    default_row=view.first_row_of(int(source), 0),
                    prefer_kept=True,
                )
            st.caption(
                f"Vector from {names[source]} toward {names[target]}: length {np.linalg.norm(vector):.2f}, found "
                f"from the codes of {fitted} {split.fit_about}. "
                + (
                    "Mean code of the target class minus mean code of the source class."
                    if method == "means"
                    else "The normal of a logistic-regression boundary between the two classes (as InterFaceGAN "
                    "does with a linear SVM), scaled to the gap between the class means along it."
                )
            )
            if start is not None and view.graph is not None:
                key = f"arithmetic_live_strength_{source}_{target}_{method}"
                [strength] = view.live(key, start.z, [vector], ["Strength"], [1.0], (-1.0, 2.0))
                z = apply_attribute(start.z, vector, [strength])[0]
                st.caption(f"strength {strength:+.2f} (as released): {view.nearest_label(z)}")
                source_text = f"{start.caption} moved {strength:+.2f} toward {names[target]}"
                keep_button(
                    view.path, z, source_text, "arithmetic_keep_vector", None if view.y is None else int(view.y)
                )
            elif start is not None:

                @st.fragment
                def strength_and_image() -> None:
                    """Only this reruns when the strength moves."""
                    strength = st.slider("Strength", -1.0, 2.0, 1.0, 0.05, key="arithmetic_strength")
                    z = apply_attribute(start.z, vector, [strength])[0]
                    show_item(
                        st,
                        view.vae,
                        view.decode_one(z),
                        160,
                        f"strength {strength:+.2f}: {view.nearest_label(z)}",
                        width=160,
                    )
                    source = f"{start.caption} moved {strength:+.2f} toward {names[target]}"
                    keep_button(view.path, z, source, "arithmetic_keep_vector", None if view.y is None else int(view.y))

                strength_and_image()
            if start is not None:
                sequence = apply_attribute(start.z, vector, STRENGTHS)
                images = decode_codes(view.vae, sequence, None if view.y is None else view.y.repeat(len(STRENGTHS)))
                show_items(
                    st,
                    view.vae,
                    images,
                    len(STRENGTHS),
                    "strengths " + ", ".join(f"{s:+.1f}" for s in STRENGTHS) + " (0: the start point)",
                    target=80,
                )


def change_the_label(view: ArithmeticView) -> None:
    if not is_conditional(view.vae):
        st.info(
            "This model is not conditional: its code holds the class as well as the style, so there is no label to "
            "change. Train one with `--conditional` to draw one style as every class."
        )
    else:
        names = view.info.label_names
        st.caption(
            "Each row keeps one code z (the style) and decodes it as every class: p(x | z, y) with y changed. "
            "The first column is the original image."
        )
        count = st.slider("Rows", 1, 8, 4, key="arithmetic_label_rows")
        seed = st.number_input(
            "Seed: which held-out images (prior samples when the data is not here)",
            0,
            10**6,
            0,
            key="arithmetic_label_seed",
        )
        if view.held is not None:
            rows = np.random.default_rng(int(seed)).choice(
                len(view.held.codes.mu), size=min(count, len(view.held.codes.mu)), replace=False
            )
            codes, originals = view.held.codes.mu[rows], view.held.data.images[view.held.codes.index[rows]]
        else:
            codes = prior_samples(count, view.vae.latent_dim, 1.0, int(seed))
            originals = None
        swapped = decode_as_every_class(view.vae, codes)
        if originals is not None:
            swapped = torch.cat([originals[:, None], swapped], dim=1)
        show_items(st, view.vae, swapped.flatten(0, 1), swapped.shape[1], target=64)
        st.caption("Columns: " + ("original, " if originals is not None else "") + ", ".join(names))


def sum_of_codes(view: ArithmeticView, picks: dict, result_column) -> None:
    """a − b + c: live weights in the browser, or the plain sum decoded on the server."""
    path, y = view.path, view.y
    label = None if y is None else int(y)
    if not all(picks.values()):
        return
    if view.graph is not None:
        vectors = [picks[name].z for name in "abc"]
        weights = view.live(
            "arithmetic_live_sum", np.zeros_like(vectors[0]), vectors, ["a", "b", "c"], [1.0, -1.0, 1.0], (-2.0, 2.0)
        )
        z = sum(w * v for w, v in zip(weights, vectors))
        formula = " ".join(f"{w:+.2f}·{name}" for w, name in zip(weights, "abc"))
        st.caption(f"z = {formula} (as released): {view.nearest_label(z) or 'decoded'}")
        source = f"{formula} with a = {picks['a'].caption}, b = {picks['b'].caption}, c = {picks['c'].caption}"
        keep_button(path, z, source, "arithmetic_keep_sum", label)
        return
    with result_column:
        z = arithmetic(picks["a"].z, picks["b"].z, picks["c"].z)
        st.markdown("**a − b + c**")
        show_item(st, view.vae, view.decode_one(z), 160, view.nearest_label(z) or "decoded", width=160)
        source = f"{picks['a'].caption} − {picks['b'].caption} + {picks['c'].caption}"
        keep_button(path, z, source, "arithmetic_keep_sum", label)
