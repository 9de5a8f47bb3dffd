"""The Jupyter Book builds without a single warning, and its HTML is complete.

The book is built once per test session into a temporary directory (never into
the repository), with the same strict flags as the documented build command:
``jupyter-book build . -W -n --keep-going --builder html``; the ``book``
fixture that does it lives in ``conftest.py`` (shared with the browser test).
Only the standard library is used to inspect the result.

What a reader must find in the built HTML:

* every chapter notebook as a page with display equations, at least one figure
  and at least one static exploration (``<div class="optlib-exploration">`` with
  its frames in ``<script class="optlib-data">``, see ``optlib/explore/static.py``);
* the landing page opening with a static exploration;
* the notation page and the API reference, which documents every public name
  of optlib and shows each optimizer's update rule from its docstring;
* launch buttons (Binder, Colab) that open the chapter's notebook in the
  book's repository on its branch, download links to the page's source, and
  the repository and issue buttons;
* internal links and anchors that resolve, and no inline script twice.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import re
import textwrap
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:  # the fixture `book` (conftest.py) returns a BuiltBook
    from conftest import BuiltBook

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((REPO / "chapters").glob("*.ipynb"))
BOOK_TITLE = "Gradient descent, momentum, RMSprop and Adam"
# Where the book is hosted (_config.yml: repository.url / repository.branch, the
# book at the repository root); the launch and source links must point there.
REPOSITORY = "https://github.com/optlib-textbook/optimizers-textbook"
BRANCH = "main"
BINDER = "https://mybinder.org/v2/gh/optlib-textbook/optimizers-textbook"
COLAB = "https://colab.research.google.com/github/optlib-textbook/optimizers-textbook"
# The modules the API reference documents, each with every name of its __all__.
API_MODULES = (
    "optlib.optimizers", "optlib.partition", "optlib.schedules", "optlib.clipping", "optlib.objectives", "optlib.runs", "optlib.analysis",
    "optlib.experiments",
    "optlib.explore", "optlib.network", "optlib.plotting", "optlib.exercises",
)
# Lines that contain "WARNING" but are not warnings about the book. Each entry
# is matched exactly (as a substring of one output line), and is listed with why.
HARMLESS_WARNING_LINES = (
    # ipykernel >= 7 logs this on every start of a kernel that talks to its
    # client over local TCP, which is how jupyter-cache/nbclient start the
    # kernels that execute the text notebooks (intro.md). It is the kernel's own log (stderr of
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
    # (id of the innermost documented optlib object before it, text) per display-math block
    owned_math: list[tuple[str, str]] = field(default_factory=list)
    anchors: list[dict[str, str]] = field(default_factory=list)   # attributes of every <a>
    imgs: list[str] = field(default_factory=list)                 # src of every <img>
    explorations: list[str] = field(default_factory=list)         # data-exploration names
    exploration_data: list[str] = field(default_factory=list)     # <script class="optlib-data">
    head_scripts: list[str] = field(default_factory=list)  # bodies of <head>'s inline <script>s
    table_rows: int = 0


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._math_depth = 0  # >0 while inside a display-math <div>
        self._math_text: list[str] = []
        self._skip_depth = 0  # >0 while inside <script>/<style>
        self._owner = ""      # id of the last <dt id="optlib..."> (an API object)
        self._script: list[str] | None = None  # body of the open <script> without src
        self._script_is_data = False
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "head":
            self._in_head = True
        if tag == "a":
            self.page.anchors.append(a)
        if tag == "img":
            self.page.imgs.append(a.get("src", ""))
        if tag == "tr":
            self.page.table_rows += 1
        if tag == "dt" and a.get("id", "").startswith("optlib."):
            self._owner = a["id"]
        if tag == "script" and "src" not in a:
            self._script = []
            self._script_is_data = "optlib-data" in a.get("class", "").split()
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
        if tag == "div" and "optlib-exploration" in classes:
            self.page.explorations.append(a.get("data-exploration", ""))
        if tag == "div":
            if self._math_depth:
                self._math_depth += 1
            elif "math" in classes and "notranslate" in classes:
                self._math_depth = 1
                self._math_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip_depth:
            self._skip_depth -= 1
        if tag == "head":
            self._in_head = False
        if tag == "script" and self._script is not None:
            body = "".join(self._script)
            if self._script_is_data:
                self.page.exploration_data.append(body)
            elif self._in_head:
                self.page.head_scripts.append(body)
            self._script = None
        if tag == "div" and self._math_depth:
            self._math_depth -= 1
            if not self._math_depth:
                text = "".join(self._math_text)
                self.page.math_blocks.append(text)
                self.page.owned_math.append((self._owner, text))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)
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


def _shown_outputs(cell: dict) -> list[str]:
    """The printed text (stdout and text/plain results) of a stored cell that its page shows."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    if tags & {"remove-output", "remove-cell"}:
        return []
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            texts.append("".join(out["text"]))
        elif out.get("output_type") in ("execute_result", "display_data"):
            data = out.get("data", {})
            if set(data) == {"text/plain"}:       # richer outputs show their richer view
                texts.append("".join(data["text/plain"]))
    return texts


def test_the_book_shows_the_chapters_stored_outputs(book: BuiltBook) -> None:
    """The build does not execute the chapters (_config.yml, ``execute.exclude_patterns``):
    each chapter page shows the outputs stored in its notebook, which nbval compares with a
    fresh run in ``make test``, and `make notebooks` keeps current. Every printed line of
    every stored output is on the page (whitespace aside)."""
    executed = re.findall(r"^(\S+): Executed notebook in ", book.output, flags=re.MULTILINE)
    assert not [path for path in executed if "chapters" in Path(path).parts], (
        f"the build executed chapter notebooks: {executed}")
    problems = []
    for notebook in CHAPTERS:
        page = " ".join(" ".join(parse(chapter_page(book, notebook)).text).split())
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            for text in _shown_outputs(cell):
                for line in text.splitlines():
                    line = " ".join(line.split())
                    if line and line not in page:
                        problems.append(f"{notebook.name} cell {i}: {line!r}")
    assert not problems, ("stored outputs missing from their page (rebuild the book after "
                          "`make notebooks`):\n" + "\n".join(problems[:20]))


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
    assert any(r"w_t = w_{t-1} - \alpha g_t" in block for block in page.math_blocks)


def test_bibliography_lists_references(book: BuiltBook) -> None:
    bib = book.html / "bibliography.html"
    assert bib.is_file()
    text = text_of(parse(bib))
    for name in (
        "Polyak", "Nesterov", "Goh", "Duchi", "Tieleman", "Kingma",
        "Loshchilov", "Reddi", "Nocedal", "Goodfellow", "Ruder", "Sutskever",
    ):
        assert name in text, f"{name} missing from the bibliography"
    # the list's labels are the names the text cites by (author-year), not pybtex's
    # alphabetic labels ("[KB15]")
    for label in ("Kingma and Ba, 2015", "Duchi et al., 2011", "Polyak, 1964"):
        assert re.search(rf"\[\s*{re.escape(label)}\s*\]", text), f"no bibliography label [{label}]"
    assert not re.search(r"\[\s*[A-Z][A-Za-z+]*\d\d\s*\]", text), "alphabetic labels such as [KB15]"
    assert "{O}" not in text and "k^2" not in text, "raw TeX in a title"


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


# --------------------------------------------------------------------------- helpers (pages)


def landing_page(book: BuiltBook) -> Path:
    """The root page (index.html, or the page it redirects to)."""
    index = book.html / "index.html"
    redirect = parse(index).refresh
    return resolve(index, redirect)[0] if redirect is not None else index


def chapter_page(book: BuiltBook, notebook: Path) -> Path:
    return book.html / "chapters" / f"{notebook.stem}.html"


def links_to(page: Page, prefix: str) -> list[str]:
    return [a["href"] for a in page.anchors if a.get("href", "").startswith(prefix)]


def squash(tex: str) -> str:
    """An equation without its white space (MathJax does not care about it)."""
    return re.sub(r"\s+", "", tex)


def docstring_equations(obj) -> list[str]:
    """The equations of the ``.. math::`` blocks in ``obj``'s docstring.

    A block's equations are separated by blank lines (Sphinx renders them as one
    ``aligned`` display).
    """
    doc = inspect.getdoc(obj) or ""
    equations = []
    for m in re.finditer(r"^( *)\.\. math::[^\n]*\n((?:\1 +\S[^\n]*\n|[ \t]*\n)+)", doc + "\n",
                         re.MULTILINE):
        block = textwrap.dedent(m.group(2)).strip()
        equations += [eq.strip() for eq in re.split(r"\n\s*\n", block) if eq.strip()]
    return equations


def check_exploration_data(where: str, page: Page) -> None:
    """Every static exploration carries its frames: one per point of its slider grid."""
    assert page.explorations, f"{where}: no static exploration (<div class=\"optlib-exploration\">)"
    assert len(page.exploration_data) == len(page.explorations), (
        f"{where}: {len(page.explorations)} explorations but {len(page.exploration_data)} "
        "<script class=\"optlib-data\"> blocks")
    for name, text in zip(page.explorations, page.exploration_data):
        spec = json.loads(text)
        assert len(spec["frames"]) == math.prod(spec["sizes"]) >= 2, (
            f"{where}: exploration {name!r} has {len(spec['frames'])} frames for the grid "
            f"{spec['sizes']}")


# --------------------------------------------------------------------------- tests (content)


def test_there_are_chapters() -> None:
    assert CHAPTERS, "chapters/ has no notebooks"


def test_every_chapter_page_has_equations_figures_and_explorations(book: BuiltBook) -> None:
    problems = []
    for notebook in CHAPTERS:
        path = chapter_page(book, notebook)
        where = f"chapters/{notebook.name}"
        if not path.is_file():
            problems.append(f"{where}: no page {path.relative_to(book.html)}")
            continue
        page = parse(path)
        if not any(r"\[" in block for block in page.math_blocks):
            problems.append(f"{where}: no display equation")
        figures = [src for src in page.imgs if "_images/" in src]
        if not figures:
            problems.append(f"{where}: no figure (<img> of a plot in _images/)")
        try:
            check_exploration_data(where, page)
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


def test_solution_toggles_say_show_solution(book: BuiltBook) -> None:
    """Each exercise's hidden solution opens with a toggle that says "Show solution" (not
    myst-nb's default "Show code cell content"), one per solution cell of the notebook."""
    problems = []
    for notebook in CHAPTERS:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        solutions = sum(1 for c in cells if c["cell_type"] == "code"
                        and "hide-cell" in c.get("metadata", {}).get("tags", [])
                        and 'check("' in "".join(c["source"]))
        html_text = chapter_page(book, notebook).read_text(encoding="utf-8")
        shown = html_text.count(">Show solution<")
        if solutions == 0 or shown != solutions:
            problems.append(f"chapters/{notebook.name}: {solutions} solutions, {shown} toggles "
                            "saying 'Show solution'")
    assert not problems, "\n".join(problems)


def test_landing_page_opens_with_a_static_exploration(book: BuiltBook) -> None:
    landing = landing_page(book)
    page = parse(landing)
    check_exploration_data(landing.name, page)
    source = landing.read_text(encoding="utf-8")
    first = source.index('class="optlib-exploration"')
    assert first < source.index('id="what-you-will-learn"'), (
        "the landing page's exploration must come before 'What you will learn'")
    # The exploration replaced its live widget: no widget state, no kernel needed.
    assert "application/vnd.jupyter.widget-state+json" not in source
    text = text_of(page)
    for phrase in ("Binder", "Colab", "make lab"):
        assert phrase in text, f"the landing page does not say how to run the book ({phrase})"


def test_notation_page_lists_the_symbols(book: BuiltBook) -> None:
    path = book.html / "notation.html"
    assert path.is_file(), "notation.md was not built"
    page = parse(path)
    text = text_of(page)
    for symbol in (r"\alpha", r"\beta_1", r"\beta_2", r"\varepsilon", r"\kappa",
                   r"\lambda_{\max}", r"\lambda_{\min}", r"\rho", r"\hat v_t", r"\hat s_t", r"s_{\max}", r"\delta", r"G(\omega)",
                   r"v_{dW}", r"v_{db}", r"s_{dW}", r"\nabla f", "dW", "db",
                   "momentum_buffer", "exp_avg", "exp_avg_sq", "square_avg", "weight_decay",
                   "Momentum(lr=α, beta=β)"):
        assert symbol in text, f"the notation page does not explain {symbol}"
    assert page.table_rows >= 40, f"only {page.table_rows} table rows on the notation page"
    to_api = [link for link in internal_links(page) if urlsplit(link).path == "api.html"]
    assert len(to_api) >= 20, "the notation page should link its optlib names to the API reference"


def test_api_reference_documents_every_public_name(book: BuiltBook) -> None:
    path = book.html / "api.html"
    assert path.is_file(), "api.md was not built"
    ids = parse(path).ids
    missing = []
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        if f"module-{module_name}" not in ids:
            missing.append(module_name)
        missing += [f"{module_name}.{name}" for name in module.__all__
                    if f"{module_name}.{name}" not in ids]
    assert not missing, "not in the API reference: " + ", ".join(missing)
    # A private name must not be documented.
    private = [i for i in ids if i.startswith("optlib.") and
               any(part.startswith("_") and not part.startswith("__") for part in i.split("."))]
    assert not private, f"private names in the API reference: {private}"


def test_api_reference_shows_each_update_rule(book: BuiltBook) -> None:
    """Every optimizer's section renders the equations of its docstring."""
    optimizers = importlib.import_module("optlib.optimizers")
    page = parse(book.html / "api.html")
    rendered: dict[str, str] = {}
    for owner, text in page.owned_math:
        rendered[owner] = rendered.get(owner, "") + squash(text)
    names = [n for n in optimizers.__all__ if n != "Optimizer"]
    assert len(names) >= 6
    problems = []
    for name in names:
        equations = docstring_equations(getattr(optimizers, name))
        if not equations:
            problems.append(f"{name}: its docstring has no .. math:: block")
        shown = rendered.get(f"optlib.optimizers.{name}", "")
        problems += [f"{name}: equation not rendered: {eq}" for eq in equations
                     if squash(eq) not in shown]
    assert not problems, "\n".join(problems)
    text = text_of(page)
    for section in ("Parameters", "State"):   # napoleon turned Args: / State: into sections
        assert section in text


def test_launch_buttons_open_the_chapter_notebooks(book: BuiltBook) -> None:
    problems = []
    for notebook in CHAPTERS:
        page = parse(chapter_page(book, notebook))
        path = notebook.relative_to(REPO).as_posix()
        assert (REPO / path).is_file()
        binder = f"{BINDER}/{BRANCH}?urlpath=lab/tree/{path}"
        colab = f"{COLAB}/blob/{BRANCH}/{path}"
        for name, url in (("Binder", binder), ("Colab", colab)):
            if url not in [a.get("href") for a in page.anchors]:
                host = "/".join(url.split("/")[:3])
                problems.append(f"{path}: no {name} link {url}; its {host} links: "
                                f"{links_to(page, host)}")
        if "initThebeSBT()" not in chapter_page(book, notebook).read_text(encoding="utf-8"):
            problems.append(f"{path}: no Live Code (Thebe) button")
    assert not problems, "\n".join(problems)
    # Colab cannot open a MyST text notebook: the landing page offers no Colab link.
    assert not links_to(parse(landing_page(book)), "https://colab.research.google.com")


def test_source_download_and_repository_links(book: BuiltBook) -> None:
    problems = []
    pages = [(chapter_page(book, nb), nb.relative_to(REPO).as_posix(), [".ipynb"])
             for nb in CHAPTERS]
    pages.append((landing_page(book), "intro.md", [".md", ".ipynb"]))
    for path, source, suffixes in pages:
        page = parse(path)
        rel = path.relative_to(book.html).as_posix()
        downloads = [link for link in internal_links(page) if "_sources/" in link]
        for suffix in suffixes:
            wanted = [d for d in downloads if d.endswith(Path(source).with_suffix(suffix).name)]
            if not wanted:
                problems.append(f"{rel}: no download link to its {suffix} source ({downloads})")
                continue
            target, _ = resolve(path, wanted[0])
            if not target.is_file():
                problems.append(f"{rel}: download link {wanted[0]} leads nowhere")
            elif suffix == ".ipynb" and not json.loads(target.read_text(encoding="utf-8"))["cells"]:
                problems.append(f"{rel}: the downloadable notebook has no cells")
        if REPOSITORY not in [a.get("href") for a in page.anchors]:
            problems.append(f"{rel}: no repository button ({REPOSITORY})")
        if not links_to(page, f"{REPOSITORY}/issues/new"):
            problems.append(f"{rel}: no 'open an issue' button")
        on_github = f"{REPOSITORY}/blob/{BRANCH}/{source}"
        if not any(urlsplit(link)._replace(query="").geturl() == on_github
                   for link in links_to(page, on_github)):
            problems.append(f"{rel}: no link to its source on GitHub ({on_github})")
    assert not problems, "\n".join(problems)


def test_no_inline_script_twice(book: BuiltBook) -> None:
    """Each inline <script> of a page's <head> once (a second `const THEBE_JS_URL` throws)."""
    problems = []
    for path in html_files(book):
        scripts = [s.strip() for s in parse(path).head_scripts if s.strip()]
        twice = sorted({s[:60] for s in scripts if scripts.count(s) > 1})
        if twice:
            problems.append(f"{path.relative_to(book.html)}: {twice}")
    assert not problems, "inline scripts written twice:\n" + "\n".join(problems)
    landing = landing_page(book).read_text(encoding="utf-8")
    assert landing.count("const THEBE_JS_URL") == 1
    assert 'data-default-mode="auto"' in landing   # no "invalid theme mode" on a first visit
