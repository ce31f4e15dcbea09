"""The first thing every page draws: its title and a progress line, before the page imports
torch and opens the model (seconds on a cold server). Imports nothing but Streamlit.

The progress line lives in a per-thread placeholder (Streamlit runs each session's script in
its own thread); `progress` rewrites it from anywhere in the page, and `run_page` (app.py)
removes it when the page script ends, however it ends. A page script run on its own (a test)
draws no progress line: nothing would remove it."""

from __future__ import annotations

import threading

import streamlit as st

_line = threading.local()


def begin_page(title: str, icon: str, heading: str, caption: str | None = None) -> None:
    """Page config, the heading (and caption), and a progress line saying the page loads."""
    st.set_page_config(page_title=f"{title} · VAE Latent Explorer", page_icon=icon, layout="wide")
    st.title(heading)
    if caption:
        st.caption(caption)
    _line.placeholder = st.empty() if getattr(_line, "in_app", False) else None
    progress("Loading…")


def progress(message: str) -> None:
    """Say what the page is busy with, in the progress line under the heading (if any)."""
    placeholder = getattr(_line, "placeholder", None)
    if placeholder is not None:
        placeholder.caption(f":material/hourglass_top: {message}")


def run_page(page) -> None:
    """Run the page app.py's navigation chose; its progress line goes when it ends."""
    _line.in_app = True
    try:
        page.run()
    finally:
        _line.in_app = False
        placeholder, _line.placeholder = getattr(_line, "placeholder", None), None
        if placeholder is not None:
            placeholder.empty()
