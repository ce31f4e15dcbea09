"""The first open of a page on a freshly started server: its title and a progress line come
first, then its content; the menu lists exactly the pages. Timings go to bench (cold start)."""

import pytest
from browser_support import browser_available, chromium_page, running_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not browser_available(), reason="needs playwright and Debian's chromium"),
]

PAGES = ["Home", "Map", "Encode", "Traverse", "Interpolate", "Arithmetic", "Generate", "Analyze", "Compare", "Train"]

# When each thing first appeared, in ms since navigation: a MutationObserver installed before
# the page's own scripts, so nothing shown and removed between two polls is missed.
FIRST_SEEN = """
window.__firstSeen = {};
new MutationObserver(() => {
  const seen = window.__firstSeen, now = performance.now();
  const mark = (name, found) => { if (found && !(name in seen)) seen[name] = now; };
  mark("title", document.querySelector("h1"));
  mark("progress", [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
    .some(e => /Loading…|Opening /.test(e.innerText)));
  mark("content", document.querySelector('[data-testid="stImage"] img, iframe[title*="live"], [data-testid="stIFrame"], .stCustomComponentV1'));
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def test_a_deep_link_on_a_fresh_server_shows_title_and_progress_first_and_only_our_pages():
    with running_app() as url, chromium_page() as page:
        failed = []
        page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
        page.add_init_script(FIRST_SEEN)
        page.goto(url + "/Traverse?model=sprites.pt")
        page.wait_for_function("() => 'content' in window.__firstSeen", timeout=120_000)
        seen = page.evaluate("window.__firstSeen")
        menu = page.locator('[data-testid="stSidebar"] a').all_inner_texts()
    print(f"cold /Traverse: title {seen['title']:.0f} ms, content {seen['content']:.0f} ms")
    assert "progress" in seen, "no progress line while the page loaded"
    assert seen["title"] <= seen["progress"] <= seen["content"]
    assert [m.strip() for m in menu] == PAGES, menu  # no "app" entry above Home
    assert failed == [] and page.app_errors == []  # no /Traverse/_stcore/health probe


def test_interpolate_random_buttons_are_not_cut_at_1400_px():
    with running_app() as url, chromium_page(width=1400, height=1000) as page:
        page.goto(url + "/Interpolate?model=digits.pt")
        buttons = page.get_by_role("button", name="Random")
        buttons.first.wait_for(timeout=90_000)
        assert buttons.count() == 2
        for i in range(2):
            # the label is cut with an ellipsis when its text is wider than the button leaves it
            clipped = buttons.nth(i).evaluate(
                "b => [...b.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1)"
                " || b.scrollWidth > b.clientWidth + 1"
            )
            assert not clipped, "the Random button's label is cut"
