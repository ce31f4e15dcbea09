"""The view in the URL: the model, the kept latent code and each page's main state live in the
query string (st.query_params), so a reload, a bookmark or a link sent to someone opens the
same view. A session takes each of its link's parameters once, the first time a page asks for
it; after that the session's own choices win and are written back to the URL on every run."""

from __future__ import annotations

import math

import streamlit as st

READ_KEY = "_link_read"  # names of the link's parameters this session has already taken
NOTE_KEY = "_link_note"  # what the link asked for that could not be opened, shown on that run
MODEL = "model"
KEPT = ("z", "from", "label")  # the kept code, its source and its class
MAX_LATENT = 4096  # a hand-edited link cannot make us parse an endless vector


def linked(name: str) -> str | None:
    """The link's parameter `name` the first time this session asks for it; None afterwards
    (and when the link has none)."""
    taken = st.session_state.setdefault(READ_KEY, set())
    if name in taken:
        return None
    taken.add(name)
    return st.query_params.get(name)


def note(message: str) -> None:
    st.session_state[NOTE_KEY] = message


def show_note() -> None:
    message = st.session_state.pop(NOTE_KEY, None)
    if message:
        st.warning(message)


def show_view(model: str, kept: dict | None) -> None:
    """Write the model and its kept code (None: no code kept) to the URL. Other parameters are
    the page's own: Streamlit clears the query string when the user changes page."""
    set_param(MODEL, model)
    wanted = kept_params(kept) if kept else {}
    for name in KEPT:
        set_param(name, wanted.get(name))


def set_param(name: str, value: str | int | None) -> None:
    """Change one parameter of the URL (None removes it); used inside fragments."""
    if value is None:
        st.query_params.pop(name, None)
    elif st.query_params.get(name) != str(value):
        st.query_params[name] = str(value)


def kept_params(kept: dict) -> dict[str, str]:
    params = {"z": ",".join(f"{v:.6g}" for v in kept["z"]), "from": kept["source"]}
    if kept.get("label") is not None:
        params["label"] = str(kept["label"])
    return params


def kept_from_link(latent_dim: int, num_classes: int = 0) -> dict | None:
    """The kept code the link carries, as {"z", "source", "label"}, or None when it has none.
    A code of the wrong length or with non-numbers is ignored with a note."""
    text = linked("z")
    if not text:
        return None
    try:
        z = [float(v) for v in text.split(",")[: MAX_LATENT + 1]]
    except ValueError:
        z = []
    if len(z) != latent_dim or not all(math.isfinite(v) for v in z):
        note(f"The link's kept code is not a {latent_dim}-number vector for this model, so it was not kept.")
        return None
    label = linked("label")
    return {
        "z": z,
        "source": linked("from") or "a shared link",
        "label": int(label) if label and label.isdigit() and int(label) < num_classes else None,
    }


def int_param(name: str, low: int, high: int) -> int | None:
    """An integer parameter of the link within [low, high], or None."""
    text = linked(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if low <= value <= high else None
