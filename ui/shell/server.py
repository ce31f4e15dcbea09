"""How app.py is served: Streamlit's ASGI app with one middleware that tells each page the
server's base URL.

Opened by a deep link (/Map), Streamlit's page guessed its server from the address and first
asked /Map/_stcore/health and /Map/_stcore/host-config: two 404s in every browser console.
Given `window.__streamlit.BACKEND_BASE_URL` (read by Streamlit's frontend before it connects),
it asks the server's root only. The app is always served from the root (no baseUrlPath)."""

from __future__ import annotations

import contextlib
import importlib

# What nearly every page imports (torch, scikit-learn with SciPy, Plotly, the library): about
# 4 s on two cores, paid by the first page opened unless the server has imported it already.
# No ui module: those declare Streamlit components and caches, which belong to the runtime
# the server starts after this (imported here, the live component's files were not served).
WARM_MODULES = (
    "torch",
    "sklearn.neighbors",
    "sklearn.decomposition",
    "plotly.graph_objects",
    "vae.opened",
    "vae.latent.projection",
    "vae.latent.grids",
    "vae.models.onnx_graphs",
)


def warm_imports() -> None:
    for name in WARM_MODULES:
        with contextlib.suppress(Exception):  # a failing import shows, with its message, on its page
            importlib.import_module(name)


@contextlib.asynccontextmanager
async def warm_up(app):
    """ASGI lifespan: import what the pages need before the server takes its first request, so
    the first page opened does not pay for it. Not in a background thread: a page importing
    the same modules at the same time could deadlock on Python's import locks, and competing
    for the interpreter lock delayed the first title from 1.0-1.4 s to 2.0-2.5 s.

    It also takes Streamlit out of its pages/-folder mode before the first session. Streamlit
    leaves it only when app.py calls st.navigation, and in it a deep link as a fresh server's
    first request ran the page without app.py: every session then listed an "app" entry."""
    with contextlib.suppress(ImportError, AttributeError):
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
    warm_imports()
    yield


_BASE_URL_SCRIPT = b"<script>window.__streamlit={BACKEND_BASE_URL:window.location.origin+'/'}</script>"
_NOT_PAGES = ("/_stcore/", "/static/", "/component/", "/media/", "/app/static/", "/large-maps/")


class PageBaseUrl:
    """ASGI middleware: adds the base URL script to the HTML page Streamlit serves for any page
    path; every other request and response passes untouched."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or any(p in scope["path"] for p in _NOT_PAGES):
            await self.app(scope, receive, send)
            return
        # Uncompressed, so the script can be added (the page is 1-2 kB of HTML).
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]}
        start: dict = {}
        parts: list[bytes] = []

        async def add_script(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            headers = start.get("headers", [])
            is_html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
            if message["type"] != "http.response.body" or not is_html:
                if start:
                    await send(dict(start))
                    start.clear()
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body"):
                return
            html = b"".join(parts).replace(b"<head>", b"<head>" + _BASE_URL_SCRIPT, 1)
            kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            await send({**start, "headers": [*kept, (b"content-length", str(len(html)).encode())]})
            await send({"type": "http.response.body", "body": html})

        await self.app(scope, receive, add_script)
