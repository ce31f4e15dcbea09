"""The explorer's entry point: `streamlit run app.py`. It names the pages (Home first), lists
them in the sidebar and runs the one the URL asks for; each page is a script in pages/."""

from pathlib import Path

import streamlit as st

from ui.shell.start import finish

PAGES = Path(__file__).resolve().parent / "pages"

# st.navigation rather than Streamlit's pages/ folder mode, which lists the entry script by
# its file name ("app"). URLs stay /Map, /Encode, …: the number prefix is not part of them.
# Streamlit's own sidebar menu is hidden: opened by a deep link (/Traverse), it listed an
# "app" entry above Home; page links drawn here list exactly the pages.
home = st.Page(PAGES / "0_Home.py", title="Home", default=True)
pages = [home, *(st.Page(p) for p in sorted(PAGES.glob("[1-9]_*.py")))]
current = st.navigation(pages, position="hidden")
with st.sidebar:
    for page in pages:
        st.page_link(page)
try:
    current.run()
finally:
    finish()  # the page's progress line goes, however the page ended
