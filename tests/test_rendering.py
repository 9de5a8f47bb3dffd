"""The built book renders what its sources say: no raw TeX, no split outputs, nothing cut off.

Three classes of rendering bug, each with a check (issue 12, "Correct rendering"):

* **Misparsed markdown.** MyST does not start a ``$$`` display block on a line
  that continues a paragraph or a list item; it reads ``$`` + inline math + ``$``
  instead, and the reader sees dollar signs, raw ``\\beta`` and run-together
  italics. :func:`test_no_display_math_glued_to_text_in_the_sources` checks every
  markdown source (chapters' markdown cells, the .md pages) for a ``$$`` block
  without a blank line before it; :func:`test_no_raw_tex_in_the_rendered_text`
  checks the built HTML for ``$`` or a TeX command (``\\beta``, ``\\(``,
  ``_{``) in text outside math, code and preformatted elements.
* **Split printed output.** A cell's prints arrive as several stream messages;
  unless the build merges them (``nb_merge_streams: true`` in _config.yml), a
  printed table becomes several grey boxes.
  :func:`test_no_printed_output_split_into_several_boxes` fails on two adjacent
  stdout outputs in one cell's output area.
* **Content cut off at the right.** In headless Chromium at a 1280 px viewport,
  :func:`test_nothing_is_cut_off_at_the_right` measures every display equation,
  printed output, code block and table: each fits the main column or scrolls
  inside its own box (``overflow-x: auto``/``scroll``) with the book's scroll
  cue (``_ext/static/optlib_book.css``: shadows drawn with
  ``background-attachment: local``); and no element of the article reaches past
  the column unless a scrolling box holds it.

The checks themselves are tested on small samples (``*_catches_*`` tests), so
that a check that can no longer see its defect fails too.

The book is the session's ``book`` fixture (conftest.py). To run these tests on
a book built elsewhere, set ``OPTLIB_BOOK_HTML`` to its ``_build/html`` folder.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

# The browser test's Chromium (a module-scoped fixture: a launched browser, or why
# there is none) and its rule for a missing browser.
from test_browser import chromium, require_browser  # noqa: F401  (chromium is a fixture)

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((REPO / "chapters").glob("*.ipynb"))
MARKDOWN_PAGES = sorted(p for p in REPO.glob("*.md") if p.name != "README.md")
VIEWPORT = {"width": 1280, "height": 1000}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}


# --------------------------------------------------------------------------- the book
@pytest.fixture(scope="module")
def html_root(request) -> Path:
    """The built book's HTML folder: $OPTLIB_BOOK_HTML, or the session's build."""
    given = os.environ.get("OPTLIB_BOOK_HTML")
    if given:
        return Path(given)
    book = request.getfixturevalue("book")
    if not (book.html / "intro.html").is_file():
        pytest.fail(f"the book was not built:\n{book.output[-3000:]}", pytrace=False)
    return book.html


def pages(root: Path) -> list[Path]:
    """Every built page (not the theme's files in _static/)."""
    return sorted(p for p in root.rglob("*.html")
                  if p.relative_to(root).parts[0] not in ("_static", "_sources"))


class _Tree(HTMLParser):
    """A minimal element stack over the standard library's parser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, list[str]]] = []

    def open(self, tag: str, classes: list[str], attrs: dict[str, str]) -> None: ...

    def close(self, tag: str) -> None: ...

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        a = {k: (v or "") for k, v in attrs}
        classes = a.get("class", "").split()
        self.open(tag, classes, a)
        self.stack.append((tag, classes))

    def handle_endtag(self, tag):
        if tag in VOID or tag not in (t for t, _ in self.stack):
            return
        while self.stack:
            t, _ = self.stack.pop()
            self.close(t)
            if t == tag:
                break


# --------------------------------------------------------------------------- split outputs
class _Outputs(_Tree):
    """The classes of each child of every ``div.cell_output``, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.areas: list[list[list[str]]] = []
        self._depth: list[int] = []    # stack depth of each open cell_output

    def open(self, tag, classes, attrs):
        if self._depth and len(self.stack) == self._depth[-1] + 1:
            self.areas[-1].append(classes)
        if tag == "div" and "cell_output" in classes:
            self.areas.append([])
            self._depth.append(len(self.stack))

    def close(self, tag):
        if self._depth and len(self.stack) == self._depth[-1]:
            self._depth.pop()


def split_outputs(source: str) -> list[int]:
    """For each cell output area with adjacent stdout outputs: how many pairs."""
    parser = _Outputs()
    parser.feed(source)
    found = []
    for children in parser.areas:
        pairs = sum(1 for a, b in zip(children, children[1:])
                    if "output" in a and "stream" in a and "output" in b and "stream" in b)
        if pairs:
            found.append(pairs)
    return found


# Two prints of one cell as myst-nb renders them without nb_merge_streams.
_STREAM = ('<div class="output stream highlight-myst-ansi notranslate"><div class="highlight">'
           '<pre>{}</pre></div></div>\n')
_SPLIT_SAMPLE = ('<div class="cell docutils container"><div class="cell_output docutils '
                 'container">\n' + _STREAM.format("a 1") + _STREAM.format("b 2") + '</div></div>')


def test_split_output_check_catches_two_stream_boxes():
    assert split_outputs(_SPLIT_SAMPLE) == [1]
    merged = re.sub(r"</pre></div></div>\n<div class=\"output stream[^>]*><div class=\"highlight\">"
                    r"<pre>", "\n", _SPLIT_SAMPLE)
    assert split_outputs(merged) == []


def test_no_printed_output_split_into_several_boxes(html_root):
    """One box per printed output: the build merges a cell's consecutive stream messages."""
    problems = []
    for page in pages(html_root):
        found = split_outputs(page.read_text(encoding="utf-8"))
        if found:
            problems.append(f"{page.relative_to(html_root)}: {len(found)} cell outputs split "
                            f"into several boxes ({sum(found)} adjacent stream outputs)")
    assert not problems, ("printed output split into several boxes (is nb_merge_streams: true "
                          "still set in _config.yml?):\n" + "\n".join(problems))


# --------------------------------------------------------------------------- raw TeX
# Text a reader must never see outside math: a dollar sign, a TeX command (\beta,
# \frac), a TeX delimiter (\( \[ \{) or a braced sub/superscript (_{ ^{).
RAW_TEX = re.compile(r"\$|\\[A-Za-z]+|\\[()\[\]{}]|[_^]\{")
# Where TeX or code is the content: math (MathJax's input and output), code,
# preformatted text, scripts; and API signatures, which show Python values as code.
_VERBATIM_TAGS = {"script", "style", "pre", "code", "kbd", "samp", "tt", "textarea", "svg",
                  "math", "mjx-container", "template"}


class _Text(_Tree):
    def __init__(self) -> None:
        super().__init__()
        self.verbatim = 0
        self.marks: list[bool] = []
        self.hits: list[str] = []

    def open(self, tag, classes, attrs):
        mark = tag in _VERBATIM_TAGS or "math" in classes or (tag == "dt" and "sig" in classes)
        self.marks.append(mark)
        self.verbatim += mark

    def close(self, tag):
        self.verbatim -= self.marks.pop()

    def handle_data(self, data):
        if self.verbatim:
            return
        for m in RAW_TEX.finditer(data):
            context = data[max(0, m.start() - 50):m.end() + 50]
            self.hits.append(re.sub(r"\s+", " ", context).strip())


def raw_tex(source: str) -> list[str]:
    """Pieces of visible text (outside math, code, pre) that contain raw TeX."""
    parser = _Text()
    parser.feed(source)
    return parser.hits


def test_raw_tex_check_catches_a_misparsed_display_block():
    # What MyST made of a $$ block glued to a list item (chapter 2, section 2.3, before).
    bad = ('<ul><li>averages to $<span class="math notranslate nohighlight">\\(v_t = '
           '\\beta\\)</span>$ because</li></ul>')
    assert raw_tex(bad) == ["averages to $", "$ because"]
    assert raw_tex("<p>a \\beta and x_{1}</p>") == ["a \\beta and x_{1}", "a \\beta and x_{1}"]
    good = ('<p>averages to</p><div class="math notranslate nohighlight">\\[v_t = \\beta\\]'
            '</div><pre>cost = $5</pre><code>\\alpha</code>')
    assert raw_tex(good) == []


def test_no_raw_tex_in_the_rendered_text(html_root):
    problems = []
    for page in pages(html_root):
        for hit in raw_tex(page.read_text(encoding="utf-8")):
            problems.append(f"{page.relative_to(html_root)}: ...{hit}...")
    assert not problems, "raw TeX visible in the text:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- the sources
def markdown_sources() -> list[tuple[str, str]]:
    """(where, text) of every markdown cell of the chapters and every .md page."""
    found = []
    for path in CHAPTERS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "markdown":
                found.append((f"chapters/{path.name} cell {i} (id {cell.get('id')})",
                              "".join(cell["source"])))
    for path in MARKDOWN_PAGES:
        found.append((path.name, path.read_text(encoding="utf-8")))
    return found


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def glued_display_math(text: str) -> list[int]:
    """0-based lines where a ``$$`` block opens right below a line of text.

    MyST starts a display block only after a blank line (or at the start of a
    block); directly below a paragraph or a list item's text it parses
    ``$``, inline math, ``$``. Code fences are skipped; a closing ``$$`` and the
    line after a directive's opening fence (``:::{note}``) are fine.
    """
    lines = text.split("\n")
    found, in_math, fence = [], False, None
    for k, line in enumerate(lines):
        stripped = line.strip()
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m and not in_math:
            fence = m.group(1)
            continue
        if "$$" not in stripped:
            continue
        if not in_math and stripped.startswith("$$"):
            before = lines[k - 1].strip() if k else ""
            if before and not before.startswith((":::", "```", "$$")):
                found.append(k)
        if stripped.count("$$") % 2:
            in_math = not in_math
    return found


_GLUED = """* A **flipping** component averages to
  $$
  v_t = (1-\\beta)\\sum_k (-\\beta)^k
  $$
  because neighbouring terms nearly cancel.
"""
_SEPARATED = _GLUED.replace("to\n  $$", "to\n\n  $$").replace("$$\n  because", "$$\n\n  because")


def test_source_check_catches_display_math_glued_to_a_list_item():
    assert glued_display_math(_GLUED) == [1]
    assert glued_display_math("Some text\n$$\nx\n$$\n") == [1]
    assert glued_display_math(_SEPARATED) == []
    assert glued_display_math("```\ntext\n$$\n```\n") == []


def test_myst_misparses_the_glued_sample():
    """The defect the source check guards against is real (MyST's own parser)."""
    mdit = pytest.importorskip("myst_parser.parsers.mdit")
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    md = mdit.create_md_parser(MdParserConfig(enable_extensions={"dollarmath", "amsmath"}),
                               RendererHTML)
    assert raw_tex(md.render(_GLUED)), "MyST parsed the glued $$ block as display math"
    assert not raw_tex(md.render(_SEPARATED))
    assert 'class="math block"' in md.render(_SEPARATED)


def test_no_display_math_glued_to_text_in_the_sources():
    problems = []
    for where, text in markdown_sources():
        lines = text.split("\n")
        for k in glued_display_math(text):
            problems.append(f"{where}, line {k + 1}: {lines[k - 1].strip()[-60:]!r} then "
                            f"{lines[k].strip()!r}: add a blank line before (and after) the "
                            "$$ block (indented, inside a list item)")
    assert not problems, "$$ blocks MyST will misparse:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- in a browser
# Measured in the page: every wide thing of the article, and whether it is cut off.
_OVERFLOW_JS = r"""() => {
  const article = document.querySelector("article.bd-article") || document.body;
  const cs = getComputedStyle(article);
  const box = article.getBoundingClientRect();
  const right = box.right - parseFloat(cs.paddingRight) - parseFloat(cs.borderRightWidth);
  const scrolls = ox => ox === "auto" || ox === "scroll";
  const describe = el => {
    const text = (el.textContent || "").replace(/\s+/g, " ").trim().slice(0, 70);
    return el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
      ? "." + el.className.trim().split(/\s+/).join(".") : "") + " " + JSON.stringify(text);
  };
  const kinds = {
    "display equation": "div.math mjx-container[display=true], div.math:not(:has(mjx-container))",
    "printed output": "div.cell_output pre",
    "code block": "div.highlight pre:not(div.cell_output *)",
    "table": "table",
  };
  const counts = {}, problems = [];
  for (const [kind, selector] of Object.entries(kinds)) {
    counts[kind] = {total: 0, wider: 0};
    for (const el of article.querySelectorAll(selector)) {
      if (el.closest(".optlib-exploration")) continue;
      const r = el.getBoundingClientRect();
      if (!r.width) continue;
      counts[kind].total++;
      // A table scrolls in its wrapper (pydata-sphinx-theme's .pst-scrollable-table-container).
      const holder = kind === "table" ? (el.closest(".pst-scrollable-table-container") || el) : el;
      const hs = getComputedStyle(holder);
      const wide = holder.scrollWidth > holder.clientWidth + 1 || r.right > right + 1;
      if (!wide) continue;
      counts[kind].wider++;
      if (!scrolls(hs.overflowX)) {
        problems.push(`${kind} wider than its box (scrollWidth ${holder.scrollWidth} > ` +
                      `${holder.clientWidth}, overflow-x ${hs.overflowX}): ${describe(el)}`);
      } else if (!(hs.backgroundAttachment.includes("local") &&
                   hs.backgroundImage.includes("gradient"))) {
        problems.push(`${kind} scrolls without the book's scroll cue (no scroll shadow): ` +
                      describe(el));
      }
      if (holder.getBoundingClientRect().right > right + 1) {
        const past = Math.round(holder.getBoundingClientRect().right - right);
        problems.push(`${kind} reaches ${past} px past the column: ${describe(el)}`);
      }
    }
  }
  // Anything else of the article that reaches past the column must be inside a
  // scrolling box that itself fits; a box that hides it (overflow hidden/clip)
  // cuts it off without a cue.
  const seen = new Set();
  for (const el of article.querySelectorAll("*")) {
    if (el.closest("mjx-assistive-mml, .optlib-exploration script")) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || r.right <= right + 1) continue;
    let a = el.parentElement, verdict = "sticks out of the column";
    while (a && a !== article) {
      const ox = getComputedStyle(a).overflowX;
      if (ox !== "visible") {
        if (a.getBoundingClientRect().right <= right + 1) {
          verdict = scrolls(ox) ? null
                                : `is cut off by ${describe(a).slice(0, 60)} (overflow-x ${ox})`;
          break;
        }
      }
      a = a.parentElement;
    }
    if (verdict) {
      // report the outermost offender only
      let top = el;
      while (top.parentElement && top.parentElement !== article &&
             top.parentElement.getBoundingClientRect().right > right + 1) top = top.parentElement;
      if (!seen.has(top)) { seen.add(top); problems.push(`${describe(top)} ${verdict}`); }
    }
  }
  return {counts, problems, typeset: document.querySelectorAll("mjx-container").length,
          displayMath: document.querySelectorAll("div.math").length};
}"""

_MATHJAX_READY = ("() => !document.querySelector('div.math, span.math') || "
                  "(window.MathJax && MathJax.startup && MathJax.startup.promise)")


def _browser(chromium):
    return require_browser(chromium)   # skip without Chromium, but fail under CI (CI=true)


def _open(browser, url: str):
    """A page at the 1280 px viewport, with nothing loaded from outside the book."""
    context = browser.new_context(viewport=VIEWPORT)
    context.route(re.compile(r"^(?!file:|data:|blob:|about:).*"), lambda route: route.abort())
    page = context.new_page()
    page.goto(url, wait_until="load")
    return context, page


def measure(page) -> dict:
    """Wait for MathJax's typesetting, then measure (see _OVERFLOW_JS)."""
    try:
        page.wait_for_function(_MATHJAX_READY, timeout=15_000)
    except Exception:  # noqa: BLE001 -- reported as a failure below
        pass
    page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    return page.evaluate(_OVERFLOW_JS)


_COLUMN_SAMPLE = """<!doctype html><html><head>{css}</head><body>
<article class="bd-article" style="width: 600px; padding: 0 20px">
<div class="math notranslate nohighlight" style="display:flex; overflow:hidden">
<mjx-container display="true" style="display:block; flex-grow:1; {equation}">
<span style="display:inline-block; width:900px">a wide equation</span></mjx-container></div>
<div class="cell_output"><div class="output stream"><div class="highlight">
<pre style="{pre}">{wide}</pre></div></div></div>
<p>{figure}</p>
</article></body></html>"""


def _sample_problems(browser, tmp_path, **styles) -> list[str]:
    css = REPO / "_ext" / "static" / "optlib_book.css"
    link = f'<link rel="stylesheet" href="{css.as_uri()}">' if styles.pop("book_css") else ""
    figure = '<img alt="" style="width: 900px; height: 10px">' if styles.pop("figure") else ""
    html = _COLUMN_SAMPLE.format(css=link, wide="x" * 200, figure=figure, **styles)
    path = tmp_path / "sample.html"
    path.write_text(html, encoding="utf-8")
    context, page = _open(browser, path.as_uri())
    try:
        return page.evaluate(_OVERFLOW_JS)["problems"]
    finally:
        context.close()


@pytest.mark.browser
def test_overflow_check_catches_what_is_cut_off(chromium, tmp_path):
    browser = _browser(chromium)
    # pydata-sphinx-theme before the book's CSS: the equation scrolls, with no cue.
    found = _sample_problems(browser, tmp_path, book_css=False, equation="overflow:auto",
                             pre="overflow:auto", figure=False)
    assert len(found) == 2 and all("without the book's scroll cue" in p for p in found), found
    # An equation clipped by its box (pydata-sphinx-theme's div.math is overflow: hidden), a
    # printed output running out of its box, and an image reaching past the column.
    found = _sample_problems(browser, tmp_path, book_css=False, equation="overflow:hidden",
                             pre="overflow:visible", figure=True)
    assert any(p.startswith("display equation wider than its box") for p in found), found
    assert any(p.startswith("printed output wider than its box") for p in found), found
    assert any(p.startswith("img") and "sticks out of the column" in p for p in found), found
    # With the book's CSS both scroll inside the column, with the cue.
    assert _sample_problems(browser, tmp_path, book_css=True, equation="", pre="",
                            figure=False) == []


def _pages_to_measure() -> list[str]:
    return ([f"chapters/{nb.stem}.html" for nb in CHAPTERS]
            + ["intro.html", "notation.html", "api.html"])


@pytest.mark.browser
@pytest.mark.parametrize("rel", _pages_to_measure())
def test_nothing_is_cut_off_at_the_right(rel, html_root, chromium):
    """At 1280 px, wide equations, outputs, code and tables scroll in their box, with a cue."""
    browser = _browser(chromium)
    path = html_root / rel
    if not path.is_file():
        pytest.fail(f"{rel} was not built", pytrace=False)
    context, page = _open(browser, path.as_uri())
    try:
        result = measure(page)
    finally:
        context.close()
    counts = ", ".join(f"{k}: {v['wider']} of {v['total']} wider than the column"
                       for k, v in result["counts"].items())
    print(f"{rel}: {counts}")
    if result["displayMath"]:
        assert result["typeset"], (f"{rel}: MathJax typeset nothing, so the equations cannot be "
                                   "measured (the book serves MathJax from _static/: is it "
                                   "there?)")
    assert not result["problems"], f"{rel} ({counts}):\n" + "\n".join(result["problems"])


def _solution_cells(nb_path: Path) -> int:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return sum(1 for c in nb["cells"] if c["cell_type"] == "code"
               and c["metadata"].get("jupyter", {}).get("source_hidden"))


@pytest.mark.browser
@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_a_solution_opens_in_one_click(nb, html_root, chromium):
    """Each worked solution's output is folded (optlib.exercises.solution: Run All in a
    notebook would show every answer); in the book the cell is already behind "Show
    solution", so the fold inside it is open (optlib_solutions.js) and the toggle closed."""
    browser = _browser(chromium)
    rel = f"chapters/{nb.stem}.html"
    path = html_root / rel
    if not path.is_file():
        pytest.fail(f"{rel} was not built", pytrace=False)
    context, page = _open(browser, path.as_uri())
    try:
        folds = page.evaluate("""() => [...document.querySelectorAll('details.optlib-solution')]
          .map(d => { const toggle = d.parentElement.closest('details');
                      return {open: d.open, toggle: toggle ? toggle.className : null,
                              toggleOpen: toggle ? toggle.open : null,
                              verdict: d.textContent.includes('✔')}; })""")
    finally:
        context.close()
    assert len(folds) == _solution_cells(nb) >= 4, folds
    for k, fold in enumerate(folds):
        assert fold["toggle"] and "hide" in fold["toggle"], f"{rel}: fold {k} not in a toggle"
        assert fold["toggleOpen"] is False, f"{rel}: solution {k} is shown at once"
        assert fold["open"], f"{rel}: solution {k}'s output needs a second click"
        assert fold["verdict"], f"{rel}: solution {k}'s check does not say ✔"
