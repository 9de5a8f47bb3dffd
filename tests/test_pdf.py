"""The PDF edition (`make pdf`, scripts/pdf.py): one PDF of the whole book, checked.

The PDF is built once per module from the session's book (the ``book`` fixture of
``conftest.py``): ``scripts/pdf.py --path-output <the book's output folder>`` runs
jupyter-book's singlehtml builder there, which reuses that build's executed notebooks and
doctrees (it only writes, about 25 s), and prints the single page in headless Chromium.

What is checked, with poppler's command-line tools (Debian ``poppler-utils``: pdfinfo,
pdftotext, pdfimages, pdftohtml for the bookmarks):

- the page count is sane, for the book and for each chapter, and each chapter's pages are
  filled (characters per page): a chapter's missing content, a layout that starts a page at
  every cell or a shrunken font leaves the ranges;
- every chapter of ``_toc.yml`` is in the bookmarks (the PDF's outline), numbered as in the
  book, and its title is printed on its first page and in the printed table of contents,
  with the page where it starts;
- every numbered chapter has figures, and every figure of the single page is printed
  (its raster images are in the PDF, on the pages of its chapter);
- the bibliography is there, with its author-year labels;
- every static exploration of the book is printed as small multiples: at least 4 settings,
  each a picture with a caption (a), (b), ...;
- hidden cells are not printed: neither a solution's code nor hidden plotting code, nor the
  toggles' "Show ..." labels.

Without Chromium or poppler's tools the tests are skipped, except under CI (``CI=true``),
where that is a failure (``.ci/run`` installs both).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
POPPLER = ("pdfinfo", "pdftotext", "pdfimages", "pdftohtml")
PDF_TIMEOUT_S = 1800

# Pages. Measured 2026-11-30: 216 A4 pages at 10 pt for 5 chapters (19-33 pages each), the
# notation (8), the API reference (74) and the bibliography (2). A chapter under 8 pages has
# lost its content (cells or figures not printed); over 70, the layout has gone wrong (a
# figure or a multiple per page). The book's total, with room for the chapters to come and
# nothing that doubles it: 100-450.
# And a chapter's pages are filled. Its printed characters (without spaces) per page were
# 1340-1900 at 10 pt (the lower values with the larger figures of issue 12); a font at 7 pt
# would give about 3900. Pages less than half full (under 700 characters) without a picture,
# its last page aside, were 0-2 per chapter (at most 8 %); the layout that starts a page at
# every cell gives 25-33 % of them (and 980-1150 characters per page).
TOTAL_PAGES = (100, 450)
CHAPTER_PAGES = (8, 70)
CHARACTERS_PER_PAGE = (1000, 3500)
SPARSE_PAGE_CHARACTERS = 700
MAX_SPARSE_FRACTION = 0.2
MIN_MULTIPLES = 4

pytestmark = pytest.mark.browser


# --------------------------------------------------------------------------- the book's parts
@dataclass(frozen=True)
class Part:
    file: str
    title: str       # as printed: "3. RMSprop: a step size for every parameter"
    numbered: bool


def _first_heading(path: Path) -> str:
    """The first level-1 heading of a notebook or a MyST page, as plain text."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        lines = [line for c in cells if c["cell_type"] == "markdown"
                 for line in "".join(c["source"]).splitlines()]
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        if line.startswith("# "):
            return re.sub(r"[`*]", "", line[2:]).strip()
    raise AssertionError(f"{path} has no '# ' heading")


def book_parts() -> list[Part]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    parts, number = [], 0
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            name = chapter["file"]
            path = next(p for p in (REPO / f"{name}.ipynb", REPO / f"{name}.md")
                        if p.is_file())
            title = _first_heading(path)
            if part.get("numbered"):
                number += 1
                title = f"{number}. {title}"
            parts.append(Part(name, title, bool(part.get("numbered"))))
    return parts


def hidden_lines() -> list[str]:
    """A distinctive line of each hidden cell of the chapters: none may be printed.

    Distinctive: 25-60 characters and found nowhere in the text or the code that is shown
    (a hidden solution may repeat a name that the exercise's text quotes).
    """
    hidden, shown = [], []
    for nb in sorted((REPO / "chapters").glob("*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            tags = set(cell.get("metadata", {}).get("tags", []))
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and tags & {"hide-cell", "hide-input",
                                                       "remove-input", "remove-cell"}:
                hidden.append([" ".join(line.split()) for line in source.splitlines()])
            else:
                shown.append(source)
    shown_text = key("\n".join(shown))
    picked = []
    for lines in hidden:
        candidates = [line for line in lines
                      if 25 <= len(line) <= 60 and key(line) not in shown_text]
        if candidates:
            picked.append(candidates[0])
    return picked


# --------------------------------------------------------------------------- reading the PDF
def key(text: str) -> str:
    """Text to compare: Unicode-normalised, without whitespace and hyphens (line breaks, the
    spaces that the PDF's text or bookmarks drop at a wrapped line, and the hyphen that text
    extraction drops when a word like "bias-corrected" is broken at it)."""
    return re.sub(r"[\s\-\u00ad\u2010\u2011]+", "", unicodedata.normalize("NFKC", text))


@dataclass
class Pdf:
    path: Path
    pages: int
    text: list[str]                 # per page
    images: Counter                 # page -> pictures drawn on it (images >= 64 px)
    outline: list[tuple[int, str]]  # (page, title) of every bookmark


def read_pdf(path: Path) -> Pdf:
    def run(*cmd):
        return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.DEVNULL, timeout=600).stdout
    info = run("pdfinfo", str(path))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    text = run("pdftotext", "-enc", "UTF-8", str(path), "-").split("\f")[:pages]
    images: Counter = Counter()
    for line in run("pdfimages", "-list", str(path)).splitlines()[2:]:
        fields = line.split()
        # "image" rows (not soft masks) of a picture's size: not a rasterised rule or dot
        if len(fields) > 4 and fields[2] == "image" and min(int(fields[3]), int(fields[4])) >= 64:
            images[int(fields[0])] += 1
    xml = run("pdftohtml", "-xml", "-i", "-q", "-stdout", "-f", "1", "-l", "1", str(path))
    outline = [(int(p), html.unescape(re.sub(r"<[^>]+>", "", t)))
               for p, t in re.findall(r'<item page="(\d+)">(.*?)</item>', xml, re.S)]
    return Pdf(path, pages, text, images, outline)


# --------------------------------------------------------------------------- the checks
NOTE = re.compile(r"printed\s+at\s+(\d+)\s+settings")   # the note under each exploration

# Each returns the list of what is wrong (empty: fine), so that it can be shown to fail on a
# broken PDF as well as pass on the real one.
def chapter_pages(pdf: Pdf, parts: list[Part]) -> tuple[dict[str, range], list[str]]:
    """Each part's pages (from its bookmark to the next part's), and what is missing."""
    problems, starts = [], []
    for part in parts:
        found = [page for page, title in pdf.outline if key(part.title) in key(title)]
        if not found:
            problems.append(f"{part.title!r} is not in the PDF's bookmarks")
            continue
        starts.append((found[0], part))
    ranges = {}
    for (page, part), following in zip(starts, [*starts[1:], (pdf.pages + 1, None)]):
        ranges[part.file] = range(page, max(page + 1, following[0]))
    return ranges, problems


def check_page_count(pdf: Pdf, parts: list[Part]) -> list[str]:
    problems = []
    low, high = TOTAL_PAGES
    if not low <= pdf.pages <= high:
        problems.append(f"the PDF has {pdf.pages} pages, expected {low}-{high}")
    ranges, missing = chapter_pages(pdf, parts)
    low, high = CHAPTER_PAGES
    for part in parts:
        pages = ranges.get(part.file)
        if not part.numbered or pages is None:
            continue
        if not low <= len(pages) <= high:
            problems.append(f"{part.title!r} spans {len(pages)} pages (p. {pages.start}-"
                            f"{pages.stop - 1}), expected {low}-{high}")
        density = sum(len(key(pdf.text[p - 1])) for p in pages) / len(pages)
        if not CHARACTERS_PER_PAGE[0] <= density <= CHARACTERS_PER_PAGE[1]:
            problems.append(f"{part.title!r} prints {density:.0f} characters per page, expected "
                            f"{CHARACTERS_PER_PAGE[0]}-{CHARACTERS_PER_PAGE[1]}: the layout "
                            "wastes or crams the pages")
        sparse = [p for p in pages[:-1] if not pdf.images[p]
                  and len(key(pdf.text[p - 1])) < SPARSE_PAGE_CHARACTERS]
        if len(sparse) > MAX_SPARSE_FRACTION * len(pages):
            problems.append(f"{part.title!r}: {len(sparse)} of its {len(pages)} pages are less "
                            f"than half full without a picture (p. {sparse[:8]}...)")
    return problems + missing


def check_titles(pdf: Pdf, parts: list[Part]) -> list[str]:
    ranges, problems = chapter_pages(pdf, parts)
    first = min((r.start for r in ranges.values()), default=pdf.pages + 1)
    contents = key("".join(pdf.text[:first - 1]))
    if "Contents" not in contents:
        problems.append("no table of contents ('Contents') before the first chapter")
    # without the running footers ("2 / 311"): an entry at the foot of a page is read as its
    # title, the footer, then its page number
    spaced = " ".join("\n".join(re.sub(r"(?m)^\s*\d+ / \d+\s*$", "", page)
                                for page in pdf.text[:first - 1]).split())
    for part in parts:
        if key(part.title) not in contents:
            problems.append(f"{part.title!r} is not in the table of contents")
        else:
            number = re.search(re.escape(" ".join(part.title.split())) + r"\s+(\d+)\b", spaced)
            start = ranges[part.file].start if part.file in ranges else None
            if not number or int(number.group(1)) != start:
                problems.append(f"the table of contents gives {part.title!r} the page "
                                f"{number.group(1) if number else None}, its bookmark {start}")
        pages = ranges.get(part.file)
        if pages is not None and key(part.title) not in key(pdf.text[pages.start - 1]):
            problems.append(f"{part.title!r} is not printed on its first page, p. {pages.start}")
    return problems


def expected_pictures(single_page: str) -> dict[str, int]:
    """Per part of the single-page HTML: the raster pictures its printed pages must show.

    Every ``<img>`` outside a hidden cell (``<details>``) except the explorations' own (in print
    each is replaced by its small multiples, counted from the PDF) and SVG images (Chromium
    draws those as vectors, which pdfimages does not list).
    """
    chunks = re.split(r'<span id="document-([^"]+)"></span>', single_page)
    counts = {}
    for name, body in zip(chunks[1::2], chunks[2::2]):
        shown = re.sub(r"<details\b.*?</details>", "", body, flags=re.S)
        images = [src for src in re.findall(r'<img\b[^>]*?\bsrc="([^"]*)"', shown)
                  if not src.lower().split("?")[0].endswith(".svg")
                  and not src.startswith("data:image/svg")]
        counts[name] = len(images) - shown.count('class="optlib-exploration"')
    return counts


def check_figures(pdf: Pdf, parts: list[Part], single_page: str) -> list[str]:
    """Each numbered chapter shows pictures, and every figure of each part is printed."""
    ranges, problems = chapter_pages(pdf, parts)
    expected = expected_pictures(single_page)
    for part in parts:
        pages = ranges.get(part.file)
        if pages is None:
            continue
        printed = sum(pdf.images[p] for p in pages)
        multiples = sum(int(n) for p in pages
                        for n in NOTE.findall(" ".join(pdf.text[p - 1].split())))
        want = expected.get(part.file, 0) + multiples
        where = f"{part.title!r} (p. {pages.start}-{pages.stop - 1})"
        if part.numbered and not printed:
            problems.append(f"{where} has no figure (no image in the PDF on its pages)")
        elif printed < want:
            problems.append(f"{where} prints {printed} pictures, expected {want}: "
                            f"{expected.get(part.file, 0)} figures and {multiples} small "
                            "multiples of its explorations")
    return problems


def check_bibliography(pdf: Pdf) -> list[str]:
    pages = [page for page, title in pdf.outline if key(title) == "Bibliography"]
    if not pages:
        return ["no 'Bibliography' in the PDF's bookmarks"]
    text = "\n".join(pdf.text[pages[0] - 1:])
    labels = re.findall(r"\[[^\[\]\n]{2,80}?,\s*(?:19|20)\d\d[a-z]?\]", text)
    if "Bibliography" not in text or len(labels) < 3:
        return [f"the bibliography (p. {pages[0]}) has {len(labels)} author-year entries"]
    return []


def check_multiples(pdf: Pdf, explorations: int) -> list[str]:
    """Every exploration printed as >= 4 multiples: a note, captions (a)..., pictures."""
    problems, notes = [], []
    for page, text in enumerate(pdf.text, 1):
        notes += [(page, int(n)) for n in NOTE.findall(" ".join(text.split()))]
    if len(notes) != explorations:
        problems.append(f"{len(notes)} explorations printed as small multiples, but the book "
                        f"has {explorations}")
    for page, count in notes:
        # a grid of multiples may begin on the page before its note
        near = range(max(1, page - 1), page + 1)
        text = " ".join(" ".join(pdf.text[p - 1] for p in near).split())
        captions = [c for c in "abcdefgh"[:count] if f"({c}) " in text]
        images = sum(pdf.images[p] for p in near)
        if count < MIN_MULTIPLES or len(captions) < count or images < count:
            problems.append(f"p. {page}: an exploration printed at {count} settings with "
                            f"{len(captions)} captions and {images} pictures "
                            f"(expected >= {MIN_MULTIPLES} of each)")
    return problems


def check_hidden_cells(pdf: Pdf) -> list[str]:
    text = key("".join(pdf.text))
    problems = [f"a toggle's label {label!r} is printed" for label in
                ("Show code cell", "Hide code cell", "Show solution", "Hide solution")
                if key(label) in text]
    printed = [line for line in hidden_lines() if key(line) in text]
    if printed:
        problems.append(f"{len(printed)} hidden cells are printed, e.g. {printed[:3]}")
    return problems


# --------------------------------------------------------------------------- fixtures
def _required(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the PDF test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def built_pdf(request, tmp_path_factory) -> tuple[Path, Path]:
    """The PDF printed from the session's book, and the single page it was printed from."""
    # the tools first, so that a skip does not build the book
    if not CHROMIUM.exists():
        _required(f"Chromium is not installed at {CHROMIUM} (.ci/run installs it)")
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
        if "poppler-utils" not in ci:
            pytest.fail(f"{', '.join(missing)} missing and .ci/run does not install "
                        "poppler-utils: CI would never run this test", pytrace=False)
        _required(f"{', '.join(missing)} not installed (Debian poppler-utils; .ci/run "
                  "installs it)")
    book = request.getfixturevalue("book")
    if book.returncode != 0:
        pytest.fail(f"the book did not build:\n{book.output[-3000:]}", pytrace=False)
    output = tmp_path_factory.mktemp("pdf") / "book.pdf"
    path_output = book.html.parent.parent
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "pdf.py"), str(output),
                           "--path-output", str(path_output)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=PDF_TIMEOUT_S, check=False)
    print(proc.stdout)   # scripts/pdf.py's progress lines and timings (pytest -rP shows them)
    if proc.returncode != 0 or not output.is_file():
        pytest.fail(f"scripts/pdf.py failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}",
                    pytrace=False)
    return output, path_output / "_build" / "singlehtml" / "intro.html"


@pytest.fixture(scope="module")
def pdf(built_pdf) -> Pdf:
    return read_pdf(built_pdf[0])


@pytest.fixture(scope="module")
def parts() -> list[Part]:
    return book_parts()


# --------------------------------------------------------------------------- the tests
def test_page_count(pdf, parts):
    assert not check_page_count(pdf, parts), check_page_count(pdf, parts)


def test_every_chapter_title_is_printed_and_bookmarked(pdf, parts):
    assert len([p for p in parts if p.numbered]) >= 1
    assert not check_titles(pdf, parts), check_titles(pdf, parts)


def test_every_figure_is_printed(pdf, parts, built_pdf):
    single_page = built_pdf[1].read_text(encoding="utf-8")
    problems = check_figures(pdf, parts, single_page)
    assert not problems, problems


def test_bibliography(pdf):
    assert not check_bibliography(pdf), check_bibliography(pdf)


def test_explorations_are_printed_as_small_multiples(pdf, built_pdf):
    explorations = built_pdf[1].read_text(encoding="utf-8").count('class="optlib-exploration"')
    assert explorations >= 1, "the single page has no exploration"
    assert not check_multiples(pdf, explorations), check_multiples(pdf, explorations)


def test_hidden_cells_are_not_printed(pdf):
    assert hidden_lines(), "no hidden cell found in the chapters: the check would be empty"
    assert not check_hidden_cells(pdf), check_hidden_cells(pdf)
