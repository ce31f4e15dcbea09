"""The parts of the Compare page: the rate–distortion plane (click a model to make it current),
one column per model, and the aligned maps with linked selection."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import streamlit as st

from ui.compare.figures import rate_by_level
from ui.compare.measured import COMPARE_IWAE_K, comparison, kl_figure, map_figure, map_names, plane_figure
from ui.shell import cache
from ui.shell.items import show_items
from ui.shell.page import make_current
from ui.shell.panels import customdata, load_map
from vae.analysis.compare import TRAVERSAL_VALUES
from vae.data.datasets import Dataset
from vae.latent.align import align_to
from vae.latent.projection import METHOD_LABELS, ProjectionParams
from vae.models.interface import is_text
from vae.opened.comparability import training_knobs

PLANE_KEY = "compare_plane"
LINKED_KEY = (
    "compare_linked"  # {"source": model name, "images": [image names, map_names], "method"}: the last box selection
)
MADE_CURRENT_KEY = "compare_made_current"


def _make_current() -> None:
    points = st.session_state[PLANE_KEY].selection.points
    names = [customdata(p)[0] for p in points if customdata(p)]
    if names:
        make_current(names[0])
        st.session_state[MADE_CURRENT_KEY] = names[0]


def plane(paths: list[Path], images: dict[Path, np.ndarray], current: Path) -> None:
    points = []
    for path in paths:
        found = comparison(path, images)
        rd = found.rate_distortion
        knobs = training_knobs(cache.opened(path).info)
        points.append(
            dict(name=path.name, rate=rd.rate, distortion=rd.distortion, elbo=rd.elbo, nll=found.iwae_nll, knobs=knobs)
        )
    st.plotly_chart(
        plane_figure(points, current.name),
        key=PLANE_KEY,
        on_select=_make_current,
        selection_mode="points",
        config={"displaylogo": False},
    )
    if made := st.session_state.pop(MADE_CURRENT_KEY, None):
        st.success(f"**{made}** is now the current model on every page.")
    st.caption(
        f"Rate R (mean KL, the nats the code carries) against distortion D (mean −log p(x|z)), on the same "
        f"{len(images[paths[0]])} held-out images; −ELBO = D + R, so models on one dashed line have the same ELBO. "
        "Up and left: more information in z, sharper reconstructions; down and right: the decoder ignores z "
        "(posterior collapse at R ≈ 0). Click a model to make it the current one (★)."
    )
    rates = {path.name: comparison(path, images).rate_by_level for path in paths}
    if any(len(levels) > 1 for levels in rates.values()):
        _rate_by_level(rates)


def _rate_by_level(rates: dict[str, dict[str, float]]) -> None:
    """The rate split by level, for a set that holds a hierarchical model."""
    st.markdown("**Rate by level**")
    st.plotly_chart(rate_by_level(rates), key="compare_rate_levels", config={"displayModeBar": False})
    st.dataframe(
        [
            {"model": name, **{level: round(nats, 2) for level, nats in levels.items()}}
            for name, levels in rates.items()
        ],
        hide_index=True,
    )
    st.caption(
        "Each bar is a model's rate R above, split by level: the mean KL of each level on the same held-out "
        "images, a hierarchical model's levels each against its conditional prior p(z_l | z_<l) given the "
        "levels drawn above (so a lower level counts only what it adds). A flat model is one level, z."
    )


def columns(paths: list[Path], images: dict[Path, np.ndarray], data: Dataset) -> None:
    """One column per model; `data` is the first model's dataset (the images shown above)."""
    shown = comparison(paths[0], images).reconstructions.shape[0]
    first = cache.opened(paths[0]).model
    text = is_text(first)
    show_items(
        st,
        first,
        data.images[images[paths[0]][:shown]],
        shown,
        "held-out " + ("sentences" if text else "images"),
        target=48,
    )
    for column, path in zip(st.columns(len(paths)), paths, strict=True):
        found = comparison(path, images)
        knobs = training_knobs(cache.opened(path).info)
        rd, latent_dim = found.rate_distortion, len(found.kl_per_dim)
        with column:
            st.markdown(f"**{path.name}**")
            known = [
                f"{label} {v:g}"
                for label, v in [("β", knobs["beta"]), ("free bits", knobs["free_bits"])]
                if v is not None
            ]
            st.caption(" · ".join(known) or "trained elsewhere")
            st.metric("held-out ELBO (nats)", f"{rd.elbo:.2f}")
            st.metric(f"IWAE NLL, k={COMPARE_IWAE_K} (nats)", f"{found.iwae_nll:.2f}")
            st.caption(f"rate {rd.rate:.2f} · distortion {rd.distortion:.2f} nats")
            if len(found.rate_by_level) > 1:
                st.caption("rate by level: " + " · ".join(f"{k} {v:.2f}" for k, v in found.rate_by_level.items()))
            st.metric("active units", f"{len(found.active)} of {latent_dim}")
            model = cache.opened(path).model
            show_items(st, model, found.reconstructions, 4, "reconstructions", target=40)
            show_items(st, model, found.prior_samples, 4, "prior samples (seed 0)", target=40)
            st.plotly_chart(
                kl_figure(found.kl_per_dim), key=f"compare_kl_{path.name}", config={"displayModeBar": False}
            )
            if not text:  # a text traversal is a table of sentences: Traverse shows it
                show_items(
                    st,
                    model,
                    found.traversals,
                    len(TRAVERSAL_VALUES),
                    f"rows {', '.join(f'z{d}' for d in found.traversed_dims)} (most KL first): "
                    f"{TRAVERSAL_VALUES[0]:g} … {TRAVERSAL_VALUES[-1]:+g} around the origin",
                    target=32,
                )


def _remember_selection(key: str, name: str, method: str) -> None:
    event = st.session_state[key]
    selected = {int(customdata(p)[1]) for p in event.selection.points if len(customdata(p)) > 1}
    if selected:
        st.session_state[LINKED_KEY] = {"source": name, "images": sorted(selected), "method": method}
    elif st.session_state.get(LINKED_KEY, {}).get("source") == name:
        st.session_state.pop(LINKED_KEY)  # a cleared selection clears the highlight


def maps(paths: list[Path], data: Dataset, method: str, n_points: int) -> None:
    params = ProjectionParams(method)
    reference = None
    linked = st.session_state.get(LINKED_KEY) or {}
    if linked and (linked.get("source") not in {p.name for p in paths} or linked.get("method") != method):
        linked = {}  # made on a map no longer shown (another model set or projection)
    if linked:
        st.caption(
            f"{len(linked['images'])} images selected in **{linked['source']}**: ringed in the other maps. "
            "Double-click the selecting map to clear."
        )
    per_row = min(len(paths), 3)
    for start in range(0, len(paths), per_row):
        row = paths[start : start + per_row]
        for column, path in zip(st.columns(per_row), row, strict=False):
            codes = cache.codes(path, n_points)
            names = map_names(paths[0], path, codes.index)  # each image named as the first model numbers it
            embedding = load_map(path, n_points, params).embedding_
            if reference is None:
                reference = (embedding, names)
            else:
                embedding = align_to(reference[0], reference[1], embedding, names)
            highlight = tuple(linked["images"]) if linked and linked["source"] != path.name else None
            key = f"compare_map_{path.name}_{method}"
            with column:
                st.markdown(f"**{path.name}**")
                st.plotly_chart(
                    map_figure(
                        embedding, names, codes.labels, tuple(data.label_names), METHOD_LABELS[method], highlight
                    ),
                    key=key,
                    on_select=partial(_remember_selection, key, path.name, method),
                    selection_mode=("box", "lasso"),
                    config={"displaylogo": False},
                )
