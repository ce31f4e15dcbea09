"""The first open of a page on a freshly started server: when its title shows and when its
content does, against a fresh server of a minimal Streamlit page (a title and an image).

Each case starts its own server, so nothing is imported or cached in the process yet; what
is stored on disk beside the shipped models (maps, held-out codes, decoder graphs) is there,
as on a fresh clone. The server imports torch, scikit-learn and the pages' modules before it
answers (ui/shell/server.py): the time it takes to answer is reported beside each case.
The issue's goals: title and progress within 2 s, content within 5 s.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Comparison

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser_support import browser_available, chromium_page, running_app  # noqa: E402
from test_browser_start import FIRST_SEEN  # noqa: E402

PAGES = [
    "Traverse?model=sprites.pt",
    "?model=mnist.pt",
    "Map?model=digits.pt",
    "Analyze?model=digits.pt",
    "Generate?model=mnist.pt",
    "Compare?model=digits-beta-1.pt",
]
MINIMAL_APP = (
    "import numpy as np\nimport streamlit as st\n"
    'st.title("A page")\nst.image(np.zeros((64, 64), np.uint8), caption="an image")\n'
)
TITLE_GOAL_MS, CONTENT_GOAL_MS = 2000, 5000


def first_open(path: str, script: Path | None = None) -> dict[str, float]:
    """Milliseconds from navigation to the first title, progress line and content; and
    `start`, from starting the server until it answers."""
    started = time.perf_counter()
    with running_app(**({"script": script} if script else {})) as url:
        ready = (time.perf_counter() - started) * 1000
        with chromium_page() as page:
            page.add_init_script(FIRST_SEEN)
            page.goto(f"{url}/{path}")
            try:
                page.wait_for_function("() => 'content' in window.__firstSeen", timeout=180_000)
            except Exception as err:  # a page that never shows content is a finding, with what it showed
                text = page.locator("body").inner_text()[:300].replace("\n", " ")
                seen = page.evaluate("window.__firstSeen")
                raise RuntimeError(f"/{path}: no content in 180 s; seen {seen}: {text}") from err
            return {**page.evaluate("window.__firstSeen"), "start": ready}


def run(quick: bool = False) -> list[Comparison]:
    if not browser_available():
        raise RuntimeError("needs playwright and Debian's chromium (apt-get install chromium)")
    if quick:  # the CI smoke run: six fresh servers are no smoke test
        return []
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "minimal.py"
        script.write_text(MINIMAL_APP)
        minimal = [first_open("", script) for _ in range(2)]
    reference = [seen["content"] for seen in minimal]
    reference_start = statistics.median(seen["start"] for seen in minimal)
    results = []
    for path in PAGES:
        seen = first_open(path)
        title, content = seen["title"], seen["content"]
        met = f"title {'✔' if title <= TITLE_GOAL_MS else '✘'} ≤ 2 s, content {'✔' if content <= CONTENT_GOAL_MS else '✘'} ≤ 5 s"
        results.append(
            Comparison(
                area="browser (cold start)",
                case=f"first open of /{path} on a fresh server: content",
                measure="ms",
                ours=content,
                reference=statistics.median(reference),
                reference_name="fresh server, minimal page (title + image): shown",
                higher_is_better=False,
                note=(
                    f"title at {title:.0f} ms, progress line at {seen.get('progress', float('nan')):.0f} ms; {met}; "
                    f"server answered {seen['start']:.0f} ms after it started (minimal page's: {reference_start:.0f})"
                ),
            )
        )
    return results
