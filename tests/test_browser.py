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
Page errors and console errors fail the test; :data:`KNOWN_THEME_ERRORS` would
list errors that the theme stack logs on every page (each matched exactly and
checked to come from the theme), and is empty now that the book's configuration
fixes the two it used to log.

The book works offline: opening a page makes no request outside the book
(MathJax is served from ``_static/``, installed from npm, see ``_config.yml``).
Every request to anything but ``file:``, ``data:``, ``blob:``, ``about:`` or this
machine is recorded, aborted (the tests never use the network), and fails the
test of its page, with the page and the URL. Besides the chapter pages and the
landing page, :func:`test_every_page_is_offline_with_its_math_typeset` opens
every built page (notation, API reference, bibliography, search, index, ...)
and checks that, and that MathJax typeset every formula with its own fonts.

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
    """A console error that only says a resource from outside the book failed to load.

    Such a request was aborted by :func:`_offline_page`, which records it, and the
    recorded request fails the test with a clearer message than the console's.
    """
    return "net::ERR_" in text and bool(url) and not _is_local(url)


def _offline_page(browser):
    """A new context and page in which every request outside the book is refused.

    Returns ``(context, page, outside)``: ``outside`` collects the URL of every such
    request (aborted at once, so no test depends on the network) and of every
    WebSocket the page opens elsewhere; a test fails unless it stays empty.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    outside: list[str] = []

    def refuse(route):
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route(re.compile(r"^(?!file:|data:|blob:|about:).*"), refuse)
    page = context.new_page()
    page.on("websocket", lambda ws: None if _is_local(ws.url) else outside.append(ws.url))
    return context, page, outside


def _outside_problems(rel: str, outside: list[str]) -> list[str]:
    """One problem per distinct outside request, naming the page and the URL."""
    return [f"{rel}: request outside the book: {url} (the book must work offline: serve it "
            "from _static/, see _config.yml)" for url in dict.fromkeys(outside)]


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
  const path = root.querySelector(".optlib-figure > svg path");
  const img = root.querySelector(".optlib-figure > img");
  return {
    name: root.dataset.exploration || "",
    sizes: spec.sizes, labels: spec.labels, width: spec.width, height: spec.height,
    frames: spec.frames.length,
    background: spec.background,
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
    paths: root.querySelectorAll(".optlib-figure > svg path").length,
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
    img = s["img"]   # drawn at twice the figure's pixels (crisp on high-density screens)
    if not img or not img["complete"] or (img["width"], img["height"]) != (2 * s["width"],
                                                                          2 * s["height"]):
        problems.append(f"{where}: background image {img} is not a loaded "
                        f"{2 * s['width']}x{2 * s['height']} PNG")
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
    """Choose another option of the first dropdown: paths and readout follow, and the
    background too when the dropdown is the exploration's background slider (a comparison's
    objective); another dropdown (chapter 6's schedule) keeps the background."""
    i = before["kinds"].index("select")
    choice = (before["index"][i] + 1) % (before["max"][i] + 1)
    root.locator("select").first.select_option(index=choice)
    chosen = _state(root)
    where_chosen = f"{where} after choosing option {choice}"
    problems = _check_state(where_chosen, chosen)
    switches_background = before["background"] == i
    for key, what in (("d", "first SVG path"), ("readout", "readout")) + (
            (("imgTail", "background image"),) if switches_background else ()):
        if chosen[key] == before[key]:
            problems.append(f"{where_chosen}: the {what} did not change")
    if not switches_background and chosen["imgTail"] != before["imgTail"]:
        problems.append(f"{where_chosen}: the background image changed, but this dropdown "
                        "is not the exploration's background slider")
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
    # Anything outside the book is refused at once, and recorded: it fails the test.
    context, page, outside = _offline_page(browser)
    page.add_init_script(_ERROR_LISTENER)
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
        problems += _outside_problems(rel, outside)
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


# --------------------------------------------------------------------------- offline, math
# Pages every book has besides the chapters; the offline test opens these and every other
# built page, and fails if one of these is missing.
BOOK_PAGES = ("intro.html", "notation.html", "api.html", "bibliography.html", "search.html",
              "genindex.html")
# MathJax (a deferred script) has run by the page's load event, or it never will; a short
# grace, then. Typesetting the API reference (~600 formulas) takes a few seconds.
MATHJAX_START_MS = 3_000
MATHJAX_TYPESET_MS = 60_000
# After that, a moment for anything a page requests late (a request is recorded when it
# starts). Not "networkidle": under load it may never come.
SETTLE_MS = 500
REDIRECT = re.compile(r"<meta[^>]*http-equiv=[\"']?refresh", re.IGNORECASE)   # index.html

# Waits for MathJax to finish typesetting the page, then for its fonts: "typeset", or
# "no math" at once on a page without math, "no MathJax" when the page has math but MathJax
# never started, "timeout" when it did not finish in time.
_TYPESET_JS = r"""async ([startMs, typesetMs]) => {
  if (!document.querySelector(".math")) return "no math";
  const start = Date.now();
  while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - start > startMs) return "no MathJax";
    await new Promise(r => setTimeout(r, 50));
  }
  const late = new Promise(r => setTimeout(() => r("timeout"), typesetMs));
  const done = MathJax.startup.promise.then(() => document.fonts.ready).then(() => "typeset");
  return Promise.race([done, late]);
}"""

# What a reader sees of the math: formulas MathJax left as TeX, its error boxes, its fonts
# (CHTML output: web fonts loaded relative to tex-chtml.js), and TeX delimiters in the
# visible text outside code.
_MATH_STATE_JS = r"""() => {
  const math = Array.from(document.querySelectorAll(".math"));
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest(
      "pre, code, script, style, textarea, mjx-container, mjx-assistive-mml, .highlight")
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (/\\\(|\\\)|\\\[|\\\]|\$\$/.test(n.textContent) && el.getClientRects().length)
      raw.push(n.textContent.trim().slice(0, 80));
  }
  const fonts = Array.from(document.fonts).filter(f => f.family.startsWith("MJX"));
  return {
    math: math.length,
    typeset: math.filter(m => m.querySelector("mjx-container")).length,
    untypeset: math.filter(m => !m.querySelector("mjx-container"))
                   .map(m => m.textContent.trim().slice(0, 60)),
    containers: document.querySelectorAll("mjx-container").length,
    errors: Array.from(document.querySelectorAll("mjx-merror"))
                 .map(e => (e.getAttribute("data-mjx-error") || e.textContent).slice(0, 80)),
    fontsLoaded: fonts.filter(f => f.status === "loaded").map(f => f.family),
    fontsFailed: fonts.filter(f => f.status === "error").map(f => f.family),
    mathjax: Array.from(document.scripts).map(s => s.getAttribute("src") || "")
                  .filter(src => /mathjax|tex-.*\.js|mml-.*\.js/i.test(src)),
    raw: raw,
  };
}"""


def _built_pages(html: Path) -> list[Path]:
    """Every HTML page of the built book (not the theme's templates in _static/ etc.)."""
    return sorted(p for p in html.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(html).parts))


def _check_offline_page(browser, html: Path, path: Path) -> tuple[list[str], dict]:
    """Open one page: outside requests, files of the book that fail to load, page
    errors and the math; returns the problems and the state of the math."""
    rel = path.relative_to(html).as_posix()
    context, page, outside = _offline_page(browser)
    local_failures: list[str] = []
    page_errors: list[str] = []
    page.on("requestfailed", lambda req: local_failures.append(
        f"{req.url} ({req.failure})") if _is_local(req.url) else None)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    problems: list[str] = []
    state: dict = {}
    try:
        page.goto(path.as_uri(), wait_until="load")
        if REDIRECT.search(path.read_text(encoding="utf-8")):   # then check where it leads
            page.wait_for_url(lambda url: url != path.as_uri())
            page.wait_for_load_state("load")
        status = page.evaluate(_TYPESET_JS, [MATHJAX_START_MS, MATHJAX_TYPESET_MS])
        page.wait_for_timeout(SETTLE_MS)
        state = page.evaluate(_MATH_STATE_JS)
        if status == "no MathJax":
            problems.append(f"{rel}: {state['math']} formulas, but MathJax never started "
                            f"(scripts: {state['mathjax']})")
        elif status == "timeout":
            problems.append(f"{rel}: MathJax did not finish typesetting in "
                            f"{MATHJAX_TYPESET_MS / 1000:.0f} s")
        elif status == "typeset":
            if state["untypeset"]:
                problems.append(f"{rel}: {len(state['untypeset'])} of {state['math']} formulas "
                                f"not typeset by MathJax, e.g. {state['untypeset'][:3]}")
            if state["errors"]:
                problems.append(f"{rel}: MathJax errors {state['errors'][:5]}")
            if not state["fontsLoaded"] or state["fontsFailed"]:
                problems.append(f"{rel}: MathJax's fonts: loaded {state['fontsLoaded']}, "
                                f"failed {state['fontsFailed']}")
            if len(state["mathjax"]) != 1:
                problems.append(f"{rel}: MathJax must be loaded by one script, found "
                                f"{state['mathjax']}")
        if state.get("raw"):
            problems.append(f"{rel}: TeX source visible in the text: {state['raw'][:5]}")
        problems += [f"{rel}: a file of the book failed to load: {f}" for f in local_failures]
        problems += [f"{rel}: uncaught error {e!r}" for e in page_errors]
        problems += _outside_problems(rel, outside)
    finally:
        context.close()
    return problems, state


def test_every_page_is_offline_with_its_math_typeset(book, chromium):
    """Every built page opens without a single request outside the book, and MathJax,
    served by the book itself, typesets all of its math with its own fonts."""
    browser = require_browser(chromium)
    if not (book.html / "intro.html").is_file():
        pytest.fail(f"the book was not built:\n{book.output[-3000:]}", pytrace=False)
    pages = _built_pages(book.html)
    rels = {p.relative_to(book.html).as_posix() for p in pages}
    wanted = [*BOOK_PAGES, *(f"chapters/{nb.stem}.html" for nb in NOTEBOOKS)]
    problems = [f"{rel}: not built" for rel in wanted if rel not in rels]
    typeset = {}
    for path in pages:
        found, state = _check_offline_page(browser, book.html, path)
        problems += found
        typeset[path.relative_to(book.html).as_posix()] = state.get("containers", 0)
    # The landing page and every chapter have math: it must have become MathJax output.
    for rel in ["intro.html", *(f"chapters/{nb.stem}.html" for nb in NOTEBOOKS)]:
        if rel in typeset and not typeset[rel]:
            problems.append(f"{rel}: no formula typeset by MathJax (no <mjx-container>)")
    assert not problems, "\n".join(problems)
