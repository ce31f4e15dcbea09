"""Arithmetic: a − b + c, attribute vectors between classes applied with a strength, and for a
conditional model the same code drawn as every class."""

import numpy as np
import streamlit as st
import torch

from ui import cache
from ui.panels import open_model_page
from ui.pickers import class_in_use, decode_class, held_out, keep_button, pick_latent
from vae.latent import (
    apply_attribute,
    arithmetic,
    decode_as_every_class,
    decode_codes,
    nearest_neighbours,
    prior_samples,
)
from vae.pictures import grid_picture, picture

SOURCES = ["data", "kept", "upload", "prior"]
STRENGTHS = np.linspace(-1.0, 2.0, 7)  # the sequence strip: before, at and past the target
VECTOR_METHODS = {
    "means": "class-mean difference",
    "classifier": "linear classifier (logistic regression)",
}

path, vae, meta = open_model_page("Arithmetic", "➕")
config = vae.config

st.title("Latent arithmetic")
held = held_out(path)
class_slot = st.container()
in_use = class_in_use(vae, "arithmetic_class")
labelled = held is not None and held.codes.labels is not None and len(np.unique(held.codes.labels)) >= 2


def nearest_label(z: np.ndarray) -> str:
    """What the closest held-out encoding is, to read a result by."""
    if held is None:
        return ""
    row = int(nearest_neighbours(held.codes.mu, z, k=1)[0][0])
    return f"nearest held-out code: label {held.label_of(row)}"


def first_row_of(label: int, fallback: int) -> int:
    rows = np.flatnonzero(held.codes.labels == label) if labelled else []
    return int(rows[0]) if len(rows) else fallback


def decode_one(z: np.ndarray) -> torch.Tensor:
    return decode_codes(vae, z, y)[0]


sum_tab, vector_tab, label_tab = st.tabs(["a − b + c", "Attribute vectors", "Change the label"])

with sum_tab:
    st.caption("Take what a has that b lacks, and add it to c: z = a − b + c, then decode.")
    columns = st.columns(4)
    picks = {}
    for column, (name, row) in zip(columns, [("a", 0), ("b", 1), ("c", 2)]):
        with column:
            picks[name] = pick_latent(
                path, vae, meta, f"arithmetic_{name}", name, SOURCES, held, in_use, row, prefer_kept=name == "a"
            )
    with class_slot:
        y = decode_class(vae, meta, "arithmetic_class", follow=picks["a"])
    with columns[3]:
        if all(picks.values()):
            z = arithmetic(picks["a"].z, picks["b"].z, picks["c"].z)
            st.markdown("**a − b + c**")
            st.image(picture(decode_one(z), 160), caption=nearest_label(z) or "decoded", width=160, output_format="PNG")
            source = f"{picks['a'].caption} − {picks['b'].caption} + {picks['c'].caption}"
            keep_button(path, z, source, "arithmetic_keep_sum", None if y is None else int(y))

with vector_tab:
    if held is None:
        st.info("Attribute vectors are found from labelled data, and this model's data is not available here.")
    elif not labelled:
        st.info("Attribute vectors need data labelled with at least two classes, and this model's data has fewer.")
    else:
        names = held.data.label_names
        classes = [int(k) for k in np.unique(held.codes.labels)]
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
            vector = cache.attribute_vector(path, len(held.codes.mu), int(source), int(target), method)
            with point:
                start = pick_latent(
                    path,
                    vae,
                    meta,
                    f"arithmetic_start_c{source}",  # a new source class starts from one of its points
                    "Apply to",
                    SOURCES,
                    held,
                    y,
                    default_row=first_row_of(int(source), 0),
                    prefer_kept=True,
                )
            st.caption(
                f"Vector from {names[source]} toward {names[target]}: length {np.linalg.norm(vector):.2f}. "
                + (
                    "Mean code of the target class minus mean code of the source class."
                    if method == "means"
                    else "The normal of a logistic-regression boundary between the two classes (as InterFaceGAN "
                    "does with a linear SVM), scaled to the gap between the class means along it."
                )
            )
            if start is not None:

                @st.fragment
                def strength_and_image() -> None:
                    """Only this reruns when the strength moves."""
                    strength = st.slider("Strength", -1.0, 2.0, 1.0, 0.05, key="arithmetic_strength")
                    z = apply_attribute(start.z, vector, [strength])[0]
                    st.image(
                        picture(decode_one(z), 160),
                        caption=f"strength {strength:+.2f}: {nearest_label(z)}",
                        width=160,
                        output_format="PNG",
                    )
                    source = f"{start.caption} moved {strength:+.2f} toward {names[target]}"
                    keep_button(path, z, source, "arithmetic_keep_vector", None if y is None else int(y))

                strength_and_image()
                sequence = apply_attribute(start.z, vector, STRENGTHS)
                images = decode_codes(vae, sequence, None if y is None else y.repeat(len(STRENGTHS)))
                st.image(
                    grid_picture(images, ncols=len(STRENGTHS), target=80),
                    caption="strengths " + ", ".join(f"{s:+.1f}" for s in STRENGTHS) + " (0: the start point)",
                    output_format="PNG",
                )

with label_tab:
    if not config.conditional:
        st.info(
            "This model is not conditional: its code holds the class as well as the style, so there is no label to "
            "change. Train one with `--conditional` to draw one style as every class."
        )
    else:
        names = meta.get("label_names") or [str(k) for k in range(config.num_classes)]
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
        if held is not None:
            rows = np.random.default_rng(int(seed)).choice(
                len(held.codes.mu), size=min(count, len(held.codes.mu)), replace=False
            )
            codes, originals = held.codes.mu[rows], held.data.images[held.codes.index[rows]]
        else:
            codes = prior_samples(count, config.latent_dim, 1.0, int(seed))
            originals = None
        swapped = decode_as_every_class(vae, codes)
        if originals is not None:
            swapped = torch.cat([originals[:, None], swapped], dim=1)
        st.image(grid_picture(swapped.flatten(0, 1), ncols=swapped.shape[1], target=64), output_format="PNG")
        st.caption("Columns: " + ("original, " if originals is not None else "") + ", ".join(names))
