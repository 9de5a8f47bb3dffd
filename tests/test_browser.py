"""A real browser moves the sliders of the static explorations in the built book.

Headless Chromium (the Debian package ``chromium`` at ``/usr/bin/chromium``),
driven by Playwright, opens every chapter page of the book built by the
session fixture ``book`` (``conftest.py``) from ``file://``. For each
exploration on a page (``<div class="optlib-exploration">``) it focuses the
first slider, presses the arrow keys, and checks that the first SVG path, the
``<output>`` label and the readout follow (the readout is the one stored for
that grid point), then moves back and checks that everything is as before.
The landing page (``intro.html``, where ``index.html`` redirects) and its
exploration get the same treatment.
Page errors and console errors fail the test. Ignored is only a failed load of
a resource from outside the book (CDN scripts such as MathJax or require.js),
because the tests run without network and such requests are aborted on
purpose; :data:`KNOWN_THEME_ERRORS` would list errors that the theme stack logs
on every page (each matched exactly and checked to come from the theme), and
is empty now that the book's configuration fixes the two it used to log.

Every notebook in ``chapters/`` must become a page with at least one
exploration. With no notebooks at all there is a single failing test ("no
chapter pages built"), so that an empty book cannot pass.

Without Chromium the tests are skipped, except under CI (``CI=true``), where a
missing browser is a failure: ``.ci/run`` installs it.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "chapters").glob("*.ipynb"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
EXPLORATION = 'class="optlib-exploration"'
KEY_PRESSES = 3          # arrow-key presses per move

pytestmark = pytest.mark.browser

# Errors that the book's theme stack would report on EVERY page, if any; each is
# (kind, exact message, where it must come from) and anything else fails the test.
# Empty: the two it used to log are fixed in the book's configuration.
# - "Identifier 'THEBE_JS_URL' has already been declared": Sphinx 7.4 wrote
#   sphinx-thebe's inline configuration script twice; _ext/optlib_book.py drops
#   the second copy of every inline script.
# - "Got invalid theme mode: . Resetting to auto." (pydata-sphinx-theme, on a first
#   visit): _config.yml now sets html_context.default_mode to "auto".
KNOWN_THEME_ERRORS: tuple[tuple[str, str, str], ...] = ()


# --------------------------------------------------------------------------- the browser
@pytest.fixture(scope="module")
def chromium():
    """A launched Chromium, or the reason why there is none (a string)."""
    if not CHROMIUM.exists():
        yield (f"Chromium is not installed at {CHROMIUM} "
               "(apt-get install chromium; .ci/run does this in CI)")
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        yield f"the Python package playwright is not importable ({exc}); `make test` installs it"
        return
    manager = sync_playwright().start()
    try:
        # A browser that is installed but does not start is a failure, not a skip.
        browser = manager.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                          headless=True)
        yield browser
        browser.close()
    finally:
        manager.stop()


def require_browser(chromium):
    """The browser; without one skip, but fail under CI (CI=true), where it is required."""
    if isinstance(chromium, str):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the browser test cannot run: {chromium}", pytrace=False)
        pytest.skip(chromium)
    return chromium


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("file", "data", "blob", "about") or parts.hostname in (
        "127.0.0.1", "localhost")


def _is_external_load_failure(text: str, url: str) -> bool:
    """A console error that only says a resource from outside the book failed to load."""
    return "net::ERR_" in text and bool(url) and not _is_local(url)


# Records every uncaught error with the line it was thrown on (for inline
# scripts: the line of the HTML file), before any script of the page runs.
_ERROR_LISTENER = r"""
window.__optlibErrors = [];
window.addEventListener("error", function (ev) {
  if (ev instanceof ErrorEvent) {
    window.__optlibErrors.push({message: ev.message, filename: ev.filename, line: ev.lineno});
  }
}, true);
"""


def _exploration_lines(source: str) -> list[tuple[int, int]]:
    """1-based line ranges of the exploration blocks in an HTML file."""
    ranges = []
    for m in re.finditer(r'<div class="optlib-exploration".*?</script></div>', source, re.DOTALL):
        first = source.count("\n", 0, m.start()) + 1
        ranges.append((first, first + m.group(0).count("\n")))
    return ranges


def _unexplained(kind: str, text: str, where: str) -> bool:
    """True unless the error is one of KNOWN_THEME_ERRORS and ``where`` is its origin."""
    for known_kind, message, origin in KNOWN_THEME_ERRORS:
        if kind == known_kind and text.strip() in (message, "SyntaxError: " + message,
                                                   "Uncaught SyntaxError: " + message):
            return origin not in where
    return True


# --------------------------------------------------------------------------- in the page
_STATE_JS = r"""root => {
  const spec = JSON.parse(root.querySelector("script.optlib-data").textContent);
  const inputs = Array.from(root.querySelectorAll("input[type=range], select"));
  const index = inputs.map(i => +i.value);
  let k = 0;
  index.forEach((v, i) => { k = k * spec.sizes[i] + v; });
  const stored = document.createElement("div");
  stored.innerHTML = spec.frames[k].readout;
  const path = root.querySelector("svg path");
  const img = root.querySelector("img");
  return {
    name: root.dataset.exploration || "",
    sizes: spec.sizes, labels: spec.labels, width: spec.width, height: spec.height,
    frames: spec.frames.length,
    index: index,
    kinds: inputs.map(i => i.tagName.toLowerCase()),
    max: inputs.map(i => i.tagName === "SELECT" ? i.options.length - 1 : +i.max),
    outputs: inputs.map(i => i.tagName === "SELECT" ? i.options[i.selectedIndex].textContent
                                                    : i.parentElement.querySelector("output")
                                                       .textContent),
    imgTail: img ? img.getAttribute("src").slice(-64) : null,
    readout: root.querySelector(".optlib-readout").textContent,
    storedReadout: stored.textContent,
    d: path ? path.getAttribute("d") : null,
    paths: root.querySelectorAll("svg path").length,
    img: img ? {complete: img.complete, width: img.naturalWidth, height: img.naturalHeight}
             : null,
  };
}"""


def _state(root) -> dict:
    return root.evaluate(_STATE_JS)


def _check_state(where: str, s: dict) -> list[str]:
    """What must hold whatever the slider position: labels, readout, background."""
    problems = []
    if s["frames"] != math.prod(s["sizes"]):
        problems.append(f"{where}: {s['frames']} frames for a grid of {s['sizes']}")
    want = [s["labels"][i][v] for i, v in enumerate(s["index"])]
    if s["outputs"] != want:
        problems.append(f"{where}: <output> shows {s['outputs']}, the sliders are at {want}")
    if not s["readout"].strip() or s["readout"] != s["storedReadout"]:
        problems.append(f"{where}: readout {s['readout']!r} is not the stored frame's "
                        f"{s['storedReadout']!r}")
    if not s["paths"] or not s["d"]:
        problems.append(f"{where}: the script drew no SVG path (paths={s['paths']}, d={s['d']!r})")
    img = s["img"]
    if not img or not img["complete"] or (img["width"], img["height"]) != (s["width"],
                                                                          s["height"]):
        problems.append(f"{where}: background image {img} is not a loaded "
                        f"{s['width']}x{s['height']} PNG")
    return problems


def _exercise(page, root, where: str) -> list[str]:
    """Move the first slider with the keyboard and back; return the problems found."""
    before = _state(root)
    problems = _check_state(f"{where} (on load)", before)
    if problems:
        return problems
    r = before["kinds"].index("input")          # the first slider (a dropdown may come first)
    start, top = before["index"][r], before["max"][r]
    if top < 1:
        return [f"{where}: the first slider has a single value, it cannot move"]
    right = top - start >= start                # move toward the side with more room
    n = min(KEY_PRESSES, top - start if right else start)
    forward, back = ("ArrowRight", "ArrowLeft") if right else ("ArrowLeft", "ArrowRight")
    target = start + n if right else start - n
    slider = root.locator("input[type=range]").first
    slider.scroll_into_view_if_needed()
    slider.focus()
    for _ in range(n):
        page.keyboard.press(forward)
    moved = _state(root)
    where_moved = f"{where} after {n}x {forward}"
    if moved["index"][r] != target:
        return [f"{where_moved}: the slider is at {moved['index'][r]}, expected {target}"]
    problems += _check_state(where_moved, moved)
    if moved["d"] == before["d"]:
        problems.append(f"{where_moved}: the first SVG path did not change")
    if moved["outputs"][r] == before["outputs"][r]:
        problems.append(f"{where_moved}: the <output> still shows {before['outputs'][r]!r}")
    if moved["outputs"][r] != before["labels"][r][target]:
        problems.append(f"{where_moved}: <output> shows {moved['outputs'][r]!r}, expected "
                        f"{before['labels'][r][target]!r}")
    if moved["readout"] == before["readout"]:
        problems.append(f"{where_moved}: the readout did not change: {before['readout']!r}")

    for _ in range(n):
        page.keyboard.press(back)
    again = _state(root)
    where_back = f"{where} after {n}x {back}"
    problems += _check_state(where_back, again)
    for key in ("index", "d", "outputs", "readout"):
        if again[key] != before[key]:
            problems.append(f"{where_back}: {key} is {again[key]!r}, not back to {before[key]!r}")
    if "select" in before["kinds"]:
        problems += _exercise_dropdown(root, where, before)
    return problems


def _exercise_dropdown(root, where: str, before: dict) -> list[str]:
    """Choose another option of the first dropdown: background, paths and readout follow."""
    i = before["kinds"].index("select")
    choice = (before["index"][i] + 1) % (before["max"][i] + 1)
    root.locator("select").first.select_option(index=choice)
    chosen = _state(root)
    where_chosen = f"{where} after choosing option {choice}"
    problems = _check_state(where_chosen, chosen)
    for key, what in (("imgTail", "background image"), ("d", "first SVG path"),
                      ("readout", "readout")):
        if chosen[key] == before[key]:
            problems.append(f"{where_chosen}: the {what} did not change")
    return problems


def _errors(page, path: Path, rel: str, source: str, console_errors, page_errors) -> list[str]:
    """The errors of a page that fail the test (see KNOWN_THEME_ERRORS)."""
    problems = []
    lines = source.splitlines()
    ours = _exploration_lines(source)
    located = page.evaluate("window.__optlibErrors")
    for e in located:   # uncaught errors, with the line that threw
        in_exploration = e["filename"] == path.as_uri() and any(
            a <= e["line"] <= b for a, b in ours)
        origin = lines[e["line"] - 1] if e["filename"] == path.as_uri() and 0 < e["line"] <= len(
            lines) else e["filename"]
        if in_exploration or _unexplained("pageerror", e["message"], origin):
            problems.append(f"{rel}: uncaught error {e['message']!r} at {e['filename']}:"
                            f"{e['line']}" + (" (an exploration's script)" if in_exploration
                                              else ""))
    if len(page_errors) != len(located):
        problems.append(f"{rel}: page errors {page_errors} != errors seen by the listener "
                        f"{[e['message'] for e in located]}")
    for text, url in console_errors:
        if not _is_external_load_failure(text, url) and _unexplained("console", text, url):
            problems.append(f"{rel}: console error at {url or '?'}: {text}")
    return problems


# --------------------------------------------------------------------------- tests
def _page_of(book, notebook: Path) -> Path:
    return book.html / "chapters" / f"{notebook.stem}.html"


def _check_page(chromium, book, path: Path, tmp_path: Path) -> int:
    """Open ``path``, exercise each exploration; returns how many there were."""
    browser = require_browser(chromium)
    source = path.read_text(encoding="utf-8")
    expected_count = source.count(EXPLORATION)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    # No network in tests: anything outside the book is refused at once.
    context.route(re.compile(r"^(?!file:|data:|blob:|about:).*"),
                  lambda route: route.continue_() if _is_local(route.request.url)
                  else route.abort())
    context.add_init_script(_ERROR_LISTENER)
    page = context.new_page()
    console_errors: list[tuple[str, str]] = []
    page_errors: list[str] = []

    def on_console(msg):
        if msg.type == "error":
            console_errors.append((msg.text, (msg.location or {}).get("url", "")))

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    rel = path.relative_to(book.html).as_posix()
    problems: list[str] = []
    try:
        page.goto(path.as_uri(), wait_until="load")
        roots = page.locator("div.optlib-exploration")
        count = roots.count()
        if count != expected_count:
            problems.append(f"{rel}: the page has {count} explorations in the DOM, its HTML "
                            f"{expected_count}")
        for i in range(count):
            root = roots.nth(i)
            name = root.get_attribute("data-exploration") or "?"
            problems += _exercise(page, root, f"{rel} exploration #{i + 1} ({name})")
        problems += _errors(page, path, rel, source, console_errors, page_errors)
        if problems:
            shot = tmp_path / (path.stem + ".png")
            page.screenshot(path=str(shot), full_page=True)
            problems.append(f"screenshot: {shot}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    return count


if NOTEBOOKS:
    @pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
    def test_chapter_explorations_work_in_a_browser(notebook, book, chromium, tmp_path):
        """The chapter's page exists, has an exploration, and every one of them works."""
        path = _page_of(book, notebook)
        if not path.is_file():
            detail = ("is it listed in _toc.yml?" if book.returncode == 0 else
                      f"the build failed:\n{book.output[-3000:]}")
            pytest.fail(f"chapters/{notebook.name} has no built page "
                        f"{path.relative_to(book.html)}: {detail}", pytrace=False)
        if EXPLORATION not in path.read_text(encoding="utf-8"):
            pytest.fail(f"the page of chapters/{notebook.name} has no exploration "
                        f"(<div {EXPLORATION}>): every chapter needs at least one",
                        pytrace=False)
        assert _check_page(chromium, book, path, tmp_path) >= 1
else:
    def test_chapter_explorations_work_in_a_browser():
        """Without chapter notebooks there is nothing to check, and that is a failure."""
        pytest.fail("no chapter pages built: chapters/ has no notebooks (chapters/*.ipynb), "
                    "so no exploration could be tested in a browser", pytrace=False)


def test_landing_page_exploration_works_in_a_browser(book, chromium, tmp_path):
    """The landing page shows an exploration right away, and it works."""
    path = book.html / "intro.html"       # index.html redirects to the root page, intro
    if not path.is_file():
        pytest.fail(f"no landing page intro.html was built:\n{book.output[-3000:]}",
                    pytrace=False)
    assert _check_page(chromium, book, path, tmp_path) >= 1
