"""The explorer's entry point: `streamlit run app.py`. It names the pages for the sidebar
(Home first) and runs the one the URL asks for; each page is a script in pages/."""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"

# st.navigation rather than Streamlit's pages/ folder mode, which lists the entry script by
# its file name ("app"). URLs stay /Map, /Encode, …: the number prefix is not part of them.
home = st.Page(PAGES / "0_Home.py", title="Home", default=True)
st.navigation([home, *(st.Page(p) for p in sorted(PAGES.glob("[1-9]_*.py")))]).run()
