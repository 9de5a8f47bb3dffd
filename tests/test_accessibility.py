"""axe-core finds nothing serious in the built book, and formulas are not Tab stops.

Issue 12, deliverable 3 ("Accessibility, tested"). Headless Chromium (the
browser of ``test_browser.py``) opens every built page of the book at a
1280 px viewport, once with the reader's system set to a light colour scheme
and once to a dark one (the theme follows it: ``default_mode: auto``), waits
until MathJax has typeset the page, injects axe-core and runs it with the WCAG
2.0/2.1 A and AA rules (tags ``wcag2a``, ``wcag2aa``, ``wcag21a``,
``wcag21aa``). Every violation of impact "serious" or "critical" fails the
test, listed with its page, rule, impact and the CSS selectors of the elements
(axe's ``target``). No rule is switched off and no element is excluded: a
finding is fixed in the book's templates, CSS or configuration (see
``_ext/optlib_book.py``). The text of code cells, outputs, equations and tables
sits on the book's scroll cues (background gradients), over which axe cannot
compute a contrast ("needs review"), so the contrast of every page is checked a
second time with the cues switched off. :func:`test_the_check_catches_its_defects`
shows on a small sample that each defect the book had is seen.

axe-core is the npm package (package.json, pinned by package-lock.json; ``make``
installs it with ``npm ci`` into ``node_modules/``); it is read from there and
injected into each page, nothing is fetched while the tests run, and the book
itself never ships it. Without ``node_modules/axe-core`` the test fails (it is
part of ``make test``'s environment like Chromium; under ``CI=true`` a missing
browser fails too, see :func:`test_browser.require_browser`).

The counts of every page (serious and critical, and all violations by impact
and rule) are written to ``axe_counts.json`` in the test's temporary folder
and summarised in the failure message.

:func:`test_formulas_are_not_tab_stops` presses Tab on chapter 1 from the top
of the page until the first exploration's slider has the focus: every display
or inline formula used to be a Tab stop (MathJax's menu puts each one in the
tab order), 206 presses. Now formulas are not Tab stops (``mathjax3_config``
in ``_config.yml``); a display equation wider than its column, which scrolls
sideways, is (so that a keyboard can scroll it: ``_ext/static/optlib_a11y.js``).

The book is the session's ``book`` fixture (conftest.py). To run these tests on
a book built elsewhere, set ``OPTLIB_BOOK_HTML`` to its ``_build/html`` folder.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

# The browser test's Chromium (a module-scoped fixture: a launched browser, or why
# there is none), its rule for a missing browser, and its wait for MathJax.
from test_rendering import html_root  # noqa: F401  (a fixture: $OPTLIB_BOOK_HTML or the build)
from test_browser import (  # noqa: F401  (chromium is a fixture)
    MATHJAX_START_MS,
    MATHJAX_TYPESET_MS,
    REDIRECT,
    _TYPESET_JS,
    _is_local,
    chromium,
    require_browser,
)

REPO = Path(__file__).resolve().parent.parent
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORT = {"width": 1280, "height": 1000}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SERIOUS = ("serious", "critical")
SCHEMES = ("light", "dark")
# After MathJax: the theme's and the book's scripts mark scrolling boxes as Tab stops
# (debounced by 300 ms after the page's last change), then axe looks.
SETTLE_MS = 800
CHAPTER_1 = "chapters/01_oscillation.html"
# Tab presses from the top of chapter 1 to its first slider: 206 when every formula was a
# Tab stop; 71-79 without them (the skip link, the header's and the sidebar's links and
# buttons, and before the slider some 20 code cells, each with a copy button and, where
# it scrolls, its own stop, citations and API links, three equations that scroll). The
# bound leaves room for the chapter to grow; the test's real guard is that no formula
# which does not scroll takes the focus.
MAX_TAB_PRESSES = 120
TAB_LIMIT = 400          # give up after this many presses

pytestmark = pytest.mark.browser


# --------------------------------------------------------------------------- the book
def book_pages(root: Path) -> list[Path]:
    """Every built page (not the theme's files in _static/ etc.); a page that only
    redirects (index.html -> intro.html) is checked as the page it leads to."""
    return sorted(p for p in root.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(root).parts)
                  and not REDIRECT.search(p.read_text(encoding="utf-8")))


def _require_axe() -> Path:
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed ({AXE.relative_to(REPO)} is missing): "
                    "run `npm ci` (make test does)", pytrace=False)
    return AXE


def _open(browser, path: Path, scheme: str):
    """A context in ``scheme`` at 1280 px (requests outside the book refused), and its
    page opened at ``path`` with the math typeset. Returns ``(context, page, status)``."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
    context.route(re.compile(r"^(?!file:|data:|blob:|about:).*"),
                  lambda route: route.continue_() if _is_local(route.request.url)
                  else route.abort())
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    status = page.evaluate(_TYPESET_JS, [MATHJAX_START_MS, MATHJAX_TYPESET_MS])
    page.wait_for_timeout(SETTLE_MS)
    return context, page, status


# --------------------------------------------------------------------------- axe
_RUN_AXE_JS = r"""async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return {
    theme: document.documentElement.dataset.theme || "",
    violations: results.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => ({impact: n.impact, target: n.target.map(String).join(" "),
                                html: n.html.slice(0, 160),
                                summary: (n.failureSummary || "").slice(0, 300)})),
    })),
  };
}"""


def axe_violations(page, axe: Path) -> dict:
    """Run axe-core (``axe``: the path of axe.min.js) on the open page."""
    page.add_script_tag(path=str(axe))
    return page.evaluate(_RUN_AXE_JS, TAGS)


# The scroll cues of optlib_book.css are background gradients, in the box's own colour
# where the box is not scrolled, behind every code cell, output, equation and table. axe
# cannot compute a contrast over a gradient: it reports all that text (600 nodes on
# chapter 1) as "needs review", not as passed or failed. So the contrast of that text is
# checked a second time with the cues switched off (they are not behind the text once
# it is at rest: the covers are the box's background colour).
_NO_SCROLL_CUES = ".bd-article * { background-image: none !important; }"


def contrast_without_scroll_cues(page) -> dict:
    """axe's color-contrast (axe already injected) with the scroll cues' gradients off."""
    page.add_style_tag(content=_NO_SCROLL_CUES)
    result = page.evaluate(_RUN_AXE_JS.replace('{type: "tag", values: tags}',
                                               '["color-contrast"]'), TAGS)
    for v in result["violations"]:
        v["id"] += " (scroll cues off)"
    return result


def serious_findings(rel: str, scheme: str, result: dict) -> list[str]:
    """One line per serious or critical node: page, scheme, rule, impact, selector."""
    lines = []
    for v in result["violations"]:
        for n in v["nodes"]:
            impact = n["impact"] or v["impact"]
            if impact in SERIOUS:
                lines.append(f"{rel} [{scheme}]: {v['id']} ({impact}) at {n['target']}: "
                             f"{v['help']} -- {n['html']}")
    return lines


def _counts(result: dict) -> dict:
    by_rule: Counter = Counter()
    by_impact: Counter = Counter()
    for v in result["violations"]:
        for n in v["nodes"]:
            impact = n["impact"] or v["impact"]
            by_rule[f"{v['id']} ({impact})"] += 1
            by_impact[impact] += 1
    return {"serious+critical": sum(by_impact[i] for i in SERIOUS),
            "by_impact": dict(by_impact), "by_rule": dict(by_rule)}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_finds_nothing_serious(scheme, html_root, chromium, tmp_path):
    """axe-core (WCAG 2.1 A/AA) finds no serious or critical violation on any page."""
    browser = require_browser(chromium)
    axe = _require_axe()
    pages = book_pages(html_root)
    assert pages, f"no built pages in {html_root}"
    problems: list[str] = []
    counts: dict[str, dict] = {}
    for path in pages:
        rel = path.relative_to(html_root).as_posix()
        context, page, status = _open(browser, path, scheme)
        try:
            if status in ("no MathJax", "timeout"):
                problems.append(f"{rel} [{scheme}]: the math was not typeset ({status})")
            result = axe_violations(page, axe)
            result["violations"] += contrast_without_scroll_cues(page)["violations"]
        finally:
            context.close()
        if result["theme"] != scheme:   # else the dark run would test light pages again
            problems.append(f"{rel}: the page is in {result['theme']!r} mode, not in the "
                            f"reader's {scheme!r} colour scheme")
        counts[rel] = _counts(result)
        problems += serious_findings(rel, scheme, result)
    report = tmp_path / "axe_counts.json"
    report.write_text(json.dumps(counts, indent=1, sort_keys=True), encoding="utf-8")
    summary = "\n".join(f"  {rel}: {c['serious+critical']} serious/critical "
                        f"(all: {c['by_impact']})" for rel, c in counts.items())
    print(f"axe-core, {scheme} colour scheme, serious+critical per page (details: {report}):"
          f"\n{summary}")
    assert not problems, (f"{len(problems)} serious/critical findings ({scheme}); per page:\n"
                          f"{summary}\n" + "\n".join(problems))


def test_the_check_catches_its_defects(chromium):
    """The check sees its defects on a small sample: a toggle whose name is not its
    visible text (label-content-name-mismatch, the solution toggles' old defect), a list
    without list items (aria-required-children, the bibliography's), a box that scrolls
    but cannot be focused (scrollable-region-focusable, a wide equation that is no Tab
    stop), and pale code text over a scroll cue, which axe alone only marks "needs
    review" and the second pass without the cues fails (color-contrast)."""
    browser = require_browser(chromium)
    axe = _require_axe()
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.set_content(
            '<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
            '<details><summary aria-label="Toggle hidden content"><p>Show solution</p>'
            '</summary><p>x</p></details>'
            '<div role="list"><a href="#x">x</a></div>'
            '<div style="width:200px;overflow-x:auto"><p style="white-space:nowrap">'
            + 'a wide equation ' * 20 + '</p></div>'
            '<article class="bd-article"><pre style="background-color:#fff;color:#bbb;'
            'background-image:linear-gradient(to right,#fff,transparent)">pale code</pre>'
            '</article></main></body></html>')
        result = axe_violations(page, axe)
        found = "\n".join(serious_findings("sample", "light", result))
        result["violations"] += contrast_without_scroll_cues(page)["violations"]
        with_second_pass = "\n".join(serious_findings("sample", "light", result))
    finally:
        context.close()
    for rule in ("label-content-name-mismatch", "aria-required-children",
                 "scrollable-region-focusable"):
        assert rule in found, found
    assert "color-contrast" not in found, found      # a gradient: axe cannot tell
    assert "color-contrast (scroll cues off)" in with_second_pass, with_second_pass


# --------------------------------------------------------------------------- Tab order
_FOCUS_JS = r"""() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  return {
    tag: el.tagName.toLowerCase(),
    slider: el.matches(".optlib-exploration input[type=range]"),
    math: !!el.closest("mjx-container, .math"),
    wide: el.matches('mjx-container[display="true"][role="region"]')
          && el.scrollWidth > el.clientWidth,
    text: (el.getAttribute("aria-label") || el.textContent || "").trim().slice(0, 40),
  };
}"""


def tab_presses_to_first_slider(page) -> tuple[int | None, list[dict]]:
    """Press Tab from the top of the page until the first exploration's slider has the
    focus; returns the number of presses (None if never) and what got the focus."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); "
                  "window.scrollTo(0, 0); }")
    stops = []
    for n in range(1, TAB_LIMIT + 1):
        page.keyboard.press("Tab")
        focus = page.evaluate(_FOCUS_JS)
        stops.append(focus)
        if focus and focus["slider"]:
            return n, stops
    return None, stops


def test_formulas_are_not_tab_stops(html_root, chromium):
    """On chapter 1, the first slider is a few Tab presses from the top (206 when every
    formula was a Tab stop), and no formula takes the focus on the way except a display
    equation that scrolls sideways."""
    browser = require_browser(chromium)
    path = html_root / CHAPTER_1
    assert path.is_file(), f"{CHAPTER_1} was not built"
    context, page, status = _open(browser, path, "light")
    try:
        assert status == "typeset", f"{CHAPTER_1}: the math was not typeset ({status})"
        formulas = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        presses, stops = tab_presses_to_first_slider(page)
    finally:
        context.close()
    math_stops = [s for s in stops if s and s["math"] and not s["wide"]]
    print(f"{CHAPTER_1}: {presses} Tab presses to the first slider ({formulas} formulas on "
          f"the page; {len(math_stops)} formulas that do not scroll took the focus)")
    assert presses is not None, (f"{CHAPTER_1}: the first slider did not get the focus in "
                                 f"{TAB_LIMIT} Tab presses")
    assert not math_stops, (f"{CHAPTER_1}: {len(math_stops)} formulas are Tab stops before "
                            f"the first slider, e.g. {math_stops[:3]}")
    assert presses <= MAX_TAB_PRESSES, (
        f"{CHAPTER_1}: {presses} Tab presses to the first slider (at most "
        f"{MAX_TAB_PRESSES}); the stops: {[s and s['tag'] + ' ' + s['text'] for s in stops]}")
