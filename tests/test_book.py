"""The Jupyter Book builds without a single warning, and its HTML is sound.

The book is built once per test session into a temporary directory (never into
the repository), with the same strict flags as the documented build command:
``jupyter-book build . -W -n --keep-going --builder html``; the ``book``
fixture that does it lives in ``conftest.py`` (shared with the browser test).
Only the standard library is used to inspect the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # the fixture `book` (conftest.py) returns a BuiltBook
    from conftest import BuiltBook

BOOK_TITLE = "Gradient descent, momentum, RMSprop and Adam"
# Lines that contain "WARNING" but are not warnings about the book. Each entry
# is matched exactly (as a substring of one output line), and is listed with why.
HARMLESS_WARNING_LINES = (
    # ipykernel >= 7 logs this on every start of a kernel that talks to its
    # client over local TCP, which is how jupyter-cache/nbclient start the
    # kernels that execute the chapters. It is the kernel's own log (stderr of
    # the kernel process), not a Sphinx warning, and -W cannot see it.
    "[IPKernelApp] WARNING | Kernel is running over TCP without encryption.",
)


# --------------------------------------------------------------------------- parsing


@dataclass
class Page:
    """What the tests need from one HTML page."""

    hrefs: list[str] = field(default_factory=list)
    srcs: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    text: list[str] = field(default_factory=list)
    math_blocks: list[str] = field(default_factory=list)
    refresh: str | None = None


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._math_depth = 0  # >0 while inside a display-math <div>
        self._math_text: list[str] = []
        self._skip_depth = 0  # >0 while inside <script>/<style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if "href" in a:
            self.page.hrefs.append(a["href"])
        if "src" in a:
            self.page.srcs.append(a["src"])
        for key in ("id", "name"):
            if a.get(key):
                self.page.ids.add(a[key])
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            m = re.search(r"url=(\S+)", a.get("content", ""), re.IGNORECASE)
            if m:
                self.page.refresh = m.group(1).strip("'\"")
        if tag in ("script", "style"):
            self._skip_depth += 1
        classes = a.get("class", "").split()
        if tag == "div":
            if self._math_depth:
                self._math_depth += 1
            elif "math" in classes and "notranslate" in classes:
                self._math_depth = 1
                self._math_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip_depth:
            self._skip_depth -= 1
        if tag == "div" and self._math_depth:
            self._math_depth -= 1
            if not self._math_depth:
                self.page.math_blocks.append("".join(self._math_text))

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        self.page.text.append(data)
        if self._math_depth:
            self._math_text.append(data)


_pages: dict[Path, Page] = {}


def parse(path: Path) -> Page:
    if path not in _pages:
        parser = _PageParser()
        parser.feed(path.read_text(encoding="utf-8"))
        parser.close()
        _pages[path] = parser.page
    return _pages[path]


def text_of(page: Page) -> str:
    return re.sub(r"\s+", " ", " ".join(page.text))


def html_files(book: BuiltBook) -> list[Path]:
    """The book's pages: every built .html file except the theme's assets.

    ``_static/`` holds files copied verbatim from the themes, among them Jinja
    template fragments with an .html suffix (``webpack-macros.html``); they
    are not pages and their ``{{ pathto(...) }}`` hrefs are not links.
    """
    return sorted(
        p for p in book.html.rglob("*.html")
        if p.relative_to(book.html).parts[0] != "_static"
    )


_EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")  # http:, mailto:, data:, //host


def internal_links(page: Page) -> list[str]:
    """hrefs and srcs that point into the book itself (not ``#`` anchors)."""
    return [
        link
        for link in page.hrefs + page.srcs
        if not _EXTERNAL.match(link) and not link.startswith("#") and link.strip()
    ]


def resolve(base: Path, link: str) -> tuple[Path, str]:
    parts = urlsplit(link)
    target = (base.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


# --------------------------------------------------------------------------- tests


def test_build_succeeds_without_warnings(book: BuiltBook) -> None:
    print(f"book build took {book.seconds:.1f} s")
    assert book.returncode == 0, f"jupyter-book build failed:\n{book.output[-5000:]}"
    warnings = [
        line
        for line in book.output.splitlines()
        if "WARNING" in line and not any(ok in line for ok in HARMLESS_WARNING_LINES)
    ]
    assert not warnings, "the build printed warnings:\n" + "\n".join(warnings)
    assert (book.html / "index.html").is_file()


def test_landing_page_has_title_and_math(book: BuiltBook) -> None:
    index = book.html / "index.html"
    assert index.is_file()
    landing = index
    # sphinx-external-toc writes index.html as a redirect to the root page.
    redirect = parse(index).refresh
    if redirect is not None:
        landing, _ = resolve(index, redirect)
        assert landing.is_file(), f"index.html redirects to missing {redirect}"
    page = parse(landing)
    assert BOOK_TITLE in text_of(page)
    assert page.math_blocks, "no display-math block on the landing page"
    assert any(r"\[" in block for block in page.math_blocks)
    assert any(r"\alpha \nabla f(w_t)" in block for block in page.math_blocks)


def test_bibliography_lists_references(book: BuiltBook) -> None:
    bib = book.html / "bibliography.html"
    assert bib.is_file()
    text = text_of(parse(bib))
    for name in (
        "Polyak", "Nesterov", "Goh", "Duchi", "Tieleman", "Kingma",
        "Loshchilov", "Reddi", "Nocedal", "Goodfellow", "Ruder", "Sutskever",
    ):
        assert name in text, f"{name} missing from the bibliography"


def test_citations_point_at_bibliography_entries(book: BuiltBook) -> None:
    bib = book.html / "bibliography.html"
    cites = [
        link
        for link in internal_links(parse(book.html / "intro.html"))
        if urlsplit(link).path == "bibliography.html" and urlsplit(link).fragment
    ]
    assert cites, "the landing page cites nothing"
    ids = parse(bib).ids
    missing = [link for link in cites if urlsplit(link).fragment not in ids]
    assert not missing, f"citations without a bibliography entry: {missing}"


def test_internal_links_resolve(book: BuiltBook) -> None:
    pages = html_files(book)
    assert len(pages) >= 2
    broken: list[str] = []
    checked = 0
    for path in pages:
        for link in internal_links(parse(path)):
            target, _ = resolve(path, link)
            checked += 1
            if not target.exists():
                broken.append(f"{path.relative_to(book.html)}: {link}")
    assert checked > 0
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_cross_page_anchors_exist(book: BuiltBook) -> None:
    """A link to ``page.html#anchor`` lands on an element with that id."""
    broken: list[str] = []
    for path in html_files(book):
        for link in internal_links(parse(path)):
            target, fragment = resolve(path, link)
            if fragment and target.suffix == ".html" and target.is_file():
                if fragment not in parse(target).ids:
                    broken.append(f"{path.relative_to(book.html)}: {link}")
    assert not broken, "links to missing anchors:\n" + "\n".join(broken)


def test_no_page_outside_the_toc(book: BuiltBook) -> None:
    """README.md, tests/, optlib/ ... must not become pages of the book."""
    sources = {
        p.relative_to(book.html).as_posix()
        for p in html_files(book)
    }
    for unwanted in ("README.html", "tests", "optlib", "bench", ".venv"):
        assert not any(s == unwanted or s.startswith(unwanted + "/") for s in sources), unwanted
