"""The book as one PDF (`make pdf`): the single-page HTML build printed by Chromium.

    .venv/bin/python scripts/pdf.py [OUTPUT]          # default _build/pdf/book.pdf

1. ``jupyter-book build . --builder custom --custom-builder singlehtml`` writes the whole
   book as one HTML page (``<path-output>/_build/singlehtml/intro.html``) with the same
   strict flags as ``make book`` (``-W -n --keep-going``). It shares the notebooks' cache
   and Sphinx's doctrees with the HTML build in the same output folder, so after
   ``make book`` it only writes (11-25 s measured).
2. Headless Chromium (``/usr/bin/chromium`` through Playwright, as the browser tests) opens
   that page from ``file://``, waits until MathJax has typeset every formula and every image
   has loaded, adds a printed table of contents, and calls
   ``window.optlibPreparePrint()`` (``_ext/static/optlib_print.js``): each static exploration
   becomes small multiples, the picture at a few representative slider settings. In print
   layout, display equations and tables wider than the column are scaled down to fit.
3. ``page.pdf`` prints it (A4, the print styles of ``_ext/static/optlib_print.css``) with
   page numbers in the footer, PDF bookmarks from the headings (``outline``) and a tagged
   PDF (``tagged``). It prints twice: the first PDF's named destinations say on which page
   each heading landed (read by :func:`anchor_pages`, no PDF library needed), the table of
   contents gets those page numbers (their width was reserved, so nothing moves), and the
   second printing is the book; the script fails if a heading moved between the two.

Why Chromium and not LaTeX: the formulas, figures and explorations print as readers see them
(MathJax, the exploration's own drawing code), with the browser the tests already use;
jupyter-book's LaTeX builder would need about 340-1700 MB of TeX Live packages and cannot
print the HTML explorations.

Options: ``--path-output DIR`` (where jupyter-book writes, default the repository, i.e.
``_build/singlehtml``); ``--html FILE`` prints an already built single page instead of
building it. Exits non-zero with a message when the build, the browser or the page fails.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("OPTLIB_CHROMIUM", "/usr/bin/chromium")
DEFAULT_OUTPUT = REPO / "_build" / "pdf" / "book.pdf"
BUILD_TIMEOUT_S = 3600
PAGE_TIMEOUT_MS = 180_000
# The width of the printed column in CSS pixels: A4 (210 mm) less the 16 mm side margins.
PRINT_WIDTH_PX = round((210 - 2 * 16) / 25.4 * 96)

FOOTER = ('<div style="width:100%;font-size:8pt;color:#555;text-align:center;'
          'font-family:sans-serif"><span class="pageNumber"></span> / '
          '<span class="totalPages"></span></div>')
HEADER = ('<div style="width:100%;font-size:7pt;color:#777;text-align:right;'
          'margin-right:16mm;font-family:sans-serif"><span class="title"></span></div>')

# In the page, once MathJax and the images are done: a printed table of contents after the
# book's title (chapters numbered as in the book, with their sections), linked to the
# headings, so the PDF's links lead there too.
TOC_JS = r"""
() => {
  if (document.querySelector('.optlib-print-toc')) return 0;
  const title = document.querySelector('.bd-article h1') || document.querySelector('h1');
  const docs = [...document.querySelectorAll('span[id^="document-"] + section')];
  const nav = document.createElement('nav');
  nav.className = 'optlib-print-toc optlib-print-only';
  nav.setAttribute('aria-label', 'Contents');
  const h = document.createElement('h2');
  h.textContent = 'Contents';
  nav.appendChild(h);
  const list = document.createElement('ol');
  let targets = 0;
  const entry = (heading, cls) => {
    const li = document.createElement('li');
    if (cls) li.className = cls;
    const a = document.createElement('a');
    // the sections' ids repeat across chapters ("summary", "exercises"): each entry gets a
    // target of its own
    if (!heading.id) heading.id = 'optlib-toc-' + (++targets);
    const target = heading.id;
    a.href = '#' + target;
    const clone = heading.cloneNode(true);
    clone.querySelectorAll('.headerlink').forEach(e => e.remove());
    const title = document.createElement('span');
    title.className = 'optlib-toc-title';
    title.textContent = clone.textContent.trim();
    // the page number, filled in after a first printing (its width is reserved now, so that
    // filling it in moves nothing)
    const number = document.createElement('span');
    number.className = 'optlib-toc-page';
    number.dataset.target = target;
    a.append(title, number);
    li.appendChild(a);
    return li;
  };
  let count = 0;
  for (const doc of docs) {
    const heading = doc.querySelector(':scope > h1, :scope > h2');
    if (!heading) continue;
    const li = entry(heading, 'optlib-toc-top');
    const subs = [...doc.querySelectorAll(':scope > section > h2, :scope > section > h3')];
    if (subs.length && heading.querySelector('.section-number')) {
      const sub = document.createElement('ol');
      subs.forEach(s => sub.appendChild(entry(s, '')));
      li.appendChild(sub);
    }
    list.appendChild(li);
    count += 1;
  }
  nav.appendChild(list);
  if (title) title.insertAdjacentElement('afterend', nav);
  else document.body.prepend(nav);
  return count;
}
"""

# Fills in the printed table of contents' page numbers: {anchor: page}.
TOC_PAGES_JS = r"""
(pages) => {
  const spans = [...document.querySelectorAll('.optlib-toc-page')];
  let filled = 0;
  for (const span of spans) {
    const page = pages[span.dataset.target];
    span.textContent = page ? String(page) : '';
    if (page) filled += 1;
  }
  return [filled, spans.length];
}
"""


def anchor_pages(pdf: bytes) -> dict[str, int]:
    """The page (from 1) of every named destination of a PDF that Chromium printed.

    Chromium (Skia) writes PDF 1.4: no object streams, so the catalog, the page tree and the
    /Dests dictionary (``/anchor [N 0 R /XYZ x y 0]`` for every element id linked to) are
    plain text between ``N 0 obj`` and ``endobj``; no PDF library is needed.
    """
    objects = {int(m.group(1)): m.group(2)
               for m in re.finditer(rb"(?m)^(\d+) 0 obj\s*(.*?)endobj", pdf, re.S)}
    catalog = next(body for body in objects.values() if b"/Type /Catalog" in body[:400])
    order: list[int] = []

    def walk(number: int) -> None:
        body = objects[number]
        kids = re.search(rb"/Kids \[([^\]]*)\]", body)
        if b"/Type /Pages" in body and kids:
            for kid in re.findall(rb"(\d+) 0 R", kids.group(1)):
                walk(int(kid))
        else:
            order.append(number)

    walk(int(re.search(rb"/Pages (\d+) 0 R", catalog).group(1)))
    page_of = {number: index + 1 for index, number in enumerate(order)}
    dests = re.search(rb"/Dests (\d+) 0 R", catalog)
    if not dests:
        return {}
    pages = {}
    for name, ref in re.findall(rb"/([^\s/\[\]()<>]+) \[(\d+) 0 R /XYZ", objects[int(dests.group(1))]):
        text = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), name)
        if int(ref) in page_of:
            pages[text.decode("utf-8", "replace")] = page_of[int(ref)]
    return pages


# Resolves when MathJax has typeset the page (or at once on a page without MathJax), then
# when every image has loaded (lazy images are made eager first) and the fonts are ready.
READY_JS = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const images = [...document.images];
  images.forEach(img => { if (img.loading === 'lazy') img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })));
  const broken = images.filter(img => !img.naturalWidth).map(img => img.getAttribute('src').slice(0, 80));
  await document.fonts.ready;
  const raw = [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length;
  return {images: images.length, broken, math: document.querySelectorAll('mjx-container').length, raw};
}
"""


# In print layout: display equations and tables wider than the column are scaled down to fit
# (on screen they scroll sideways; paper cannot). Returns how many were shrunk, and the
# smallest scale used.
FIT_JS = r"""
() => {
  let shrunk = 0, smallest = 1;
  const fit = (have, need, target) => {
    if (have > 0 && need > have + 1) {
      const scale = Math.max(0.5, have / need * 0.98);
      target.style.fontSize = (100 * scale).toFixed(1) + '%';
      shrunk += 1;
      smallest = Math.min(smallest, scale);
    }
  };
  // a display equation's box grows with its content: compare with the column it sits in
  for (const c of document.querySelectorAll('mjx-container[display="true"]')) {
    const math = c.querySelector(':scope > mjx-math');
    if (math && c.parentElement) {
      fit(c.parentElement.clientWidth, math.getBoundingClientRect().width, c);
    }
  }
  for (const box of document.querySelectorAll('.pst-scrollable-table-container, .table-wrapper')) {
    const table = box.querySelector('table');
    if (table) fit(box.clientWidth, table.getBoundingClientRect().width, table);
  }
  return {shrunk, smallest};
}
"""


def log(message: str) -> None:
    print(f"[pdf] {message}", flush=True)


def fail(message: str) -> None:
    print(f"pdf.py: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def jupyter_book() -> list[str]:
    script = Path(sys.executable).with_name("jupyter-book")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]


def build_single_page(path_output: Path) -> Path:
    """The whole book as one HTML page (jupyter-book's singlehtml builder); its path."""
    cmd = [*jupyter_book(), "build", str(REPO), "--builder", "custom", "--custom-builder",
           "singlehtml", "--path-output", str(path_output), "-W", "-n", "--keep-going"]
    log("building the single-page HTML: " + " ".join(cmd[1:]))
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=path_output, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=BUILD_TIMEOUT_S,
                          check=False)
    if proc.returncode != 0:
        print(proc.stdout[-6000:], file=sys.stderr)
        fail(f"jupyter-book's singlehtml build failed (exit {proc.returncode}); its output "
             "ends above")
    page = path_output / "_build" / "singlehtml" / "intro.html"
    if not page.is_file():
        fail(f"the singlehtml build wrote no {page}")
    log(f"single page built in {time.monotonic() - start:.0f} s: {page}")
    return page


def print_pdf(page_path: Path, output: Path) -> dict:
    """Prints the single page to ``output``; returns what the page reported."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        fail("Playwright is needed (pip install -e '.[test]', as `make` does)")
    if not Path(CHROMIUM).exists():
        fail(f"Chromium is needed at {CHROMIUM} (Debian: apt-get install chromium; or set "
             "OPTLIB_CHROMIUM)")
    output.parent.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    start = time.monotonic()
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM)
        except PlaywrightError as exc:
            fail(f"Chromium did not start: {exc}")
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.emulate_media(color_scheme="light")
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            log(f"opening {page_path.name} in Chromium")
            page.goto(page_path.as_uri(), wait_until="load")
            ready = page.evaluate(READY_JS)
            log(f"MathJax typeset {ready['math']} formulas; {ready['images']} images loaded")
            if ready["broken"]:
                fail(f"{len(ready['broken'])} images did not load: {ready['broken'][:5]}")
            if ready["raw"]:
                fail(f"{ready['raw']} formulas were not typeset by MathJax")
            if not page.evaluate("typeof window.optlibPreparePrint === 'function'"):
                fail("the page has no optlibPreparePrint (is _ext/static/optlib_print.js in "
                     "the build?)")
            summary = page.evaluate("window.optlibPreparePrint()")
            settings = sum(m["settings"] for m in summary["multiples"])
            log(f"{summary['explorations']} explorations printed as small multiples "
                f"({settings} settings)")
            chapters = page.evaluate(TOC_JS)
            log(f"table of contents: {chapters} parts")
            page.emulate_media(media="print", color_scheme="light")
            page.set_viewport_size({"width": PRINT_WIDTH_PX, "height": 1400})
            fitted = page.evaluate(FIT_JS)
            if fitted["shrunk"]:
                log(f"{fitted['shrunk']} equations or tables wider than the column shrunk to "
                    f"fit (smallest scale {fitted['smallest']:.2f})")
            if errors:
                fail("the page reported JavaScript errors: " + "; ".join(errors[:5]))
            options = dict(format="A4", print_background=True, outline=True, tagged=True,
                           display_header_footer=True, header_template=HEADER,
                           footer_template=FOOTER,
                           margin={"top": "18mm", "bottom": "20mm", "left": "16mm",
                                   "right": "16mm"})
            # twice: the first printing says on which page each heading landed, the second
            # prints them in the table of contents (whose size does not change)
            log("printing (1/2: the pages of the table of contents)")
            pages = anchor_pages(page.pdf(**options))
            filled, entries = page.evaluate(TOC_PAGES_JS, pages)
            log(f"table of contents: page numbers of {filled} of its {entries} entries")
            if filled < entries:
                fail(f"{entries - filled} entries of the table of contents have no page")
            log(f"printing (2/2) to {output}")
            page.pdf(path=str(output), **options)
            moved = {k: v for k, v in anchor_pages(output.read_bytes()).items()
                     if k in pages and pages[k] != v}
            if moved:
                fail(f"{len(moved)} headings moved between the two printings, e.g. "
                     f"{list(moved.items())[:3]}")
        except PlaywrightError as exc:
            fail(f"printing in Chromium failed: {exc}")
        finally:
            browser.close()
    summary["seconds"] = time.monotonic() - start
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT,
                        help="the PDF to write (default: _build/pdf/book.pdf)")
    parser.add_argument("--path-output", type=Path, default=REPO,
                        help="jupyter-book's --path-output (default: the repository)")
    parser.add_argument("--html", type=Path, default=None,
                        help="print this already built single page instead of building it")
    args = parser.parse_args(argv)
    start = time.monotonic()
    if args.html is not None:
        if not args.html.is_file():
            fail(f"no such page: {args.html}")
        page = args.html.resolve()
    else:
        args.path_output.mkdir(parents=True, exist_ok=True)
        page = build_single_page(args.path_output.resolve())
    output = args.output.resolve()
    summary = print_pdf(page, output)
    size = output.stat().st_size / 1e6
    log(f"wrote {output} ({size:.1f} MB) in {time.monotonic() - start:.0f} s "
        f"(printing {summary['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
