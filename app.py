"""The explorer's entry point: `streamlit run app.py`.

`streamlit run` finds `app` below and serves it (Streamlit's ASGI app, with one middleware
and a start-up that imports what pages need in the background: ui/shell/server.py). Each session then runs this file as its script: it names the pages
(Home first), lists them in the sidebar and runs the one the URL asks for; each page is a
script in pages/."""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.shell.routes import ROUTES
from ui.shell.server import PageBaseUrl, warm_up
from ui.shell.start import run_page

app = st.App(__file__, routes=ROUTES, middleware=[Middleware(PageBaseUrl)], lifespan=warm_up)

if get_script_run_ctx(suppress_warning=True) is not None:  # a session's run, not the server importing this file
    PAGES = Path(__file__).resolve().parent / "pages"
    # st.navigation rather than Streamlit's pages/ folder mode (which lists this file as "app");
    # its menu is hidden (.streamlit/config.toml) for these page links. URLs stay /Map, /Encode…
    home = st.Page(PAGES / "0_Home.py", title="Home", default=True)
    pages = [home, *(st.Page(p) for p in sorted(PAGES.glob("[1-9]_*.py")))]
    current = st.navigation(pages, position="hidden")
    with st.sidebar:
        for page in pages:
            st.page_link(page)
    run_page(current)  # with its progress line, removed however the page ends
