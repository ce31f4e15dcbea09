"""The first thing every page draws: its title and a progress line, before the page imports
torch and opens the model (seconds on a cold server). Imports nothing but Streamlit.

The progress line lives in a per-thread placeholder (Streamlit runs each session's script in
its own thread); `progress` rewrites it from anywhere in the page, and `finish` (called by
app.py when the page script ends, however it ends) removes it."""

from __future__ import annotations

import threading

import streamlit as st

_line = threading.local()


def _run_through_app_py() -> None:
    """Streamlit starts in its pages/-folder mode and leaves it only when app.py calls
    st.navigation; when a fresh server's first request is a deep link (/Traverse), it ran the
    page directly, app.py never ran, and every session showed a menu with an "app" entry.
    Leave that mode and run again, through app.py."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without that mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def begin_page(title: str, icon: str, heading: str, caption: str | None = None) -> None:
    """Page config, the heading (and caption), and a progress line saying the page loads."""
    _run_through_app_py()
    st.set_page_config(page_title=f"{title} · VAE Latent Explorer", page_icon=icon, layout="wide")
    st.title(heading)
    if caption:
        st.caption(caption)
    _line.placeholder = st.empty()
    progress("Loading…")


def progress(message: str) -> None:
    """Say what the page is busy with, in the progress line under the heading (if any)."""
    placeholder = getattr(_line, "placeholder", None)
    if placeholder is not None:
        placeholder.caption(f":material/hourglass_top: {message}")


def finish() -> None:
    """Remove the progress line: the page has drawn what it will draw."""
    placeholder = getattr(_line, "placeholder", None)
    _line.placeholder = None
    if placeholder is not None:
        placeholder.empty()
