"""Every figure of the book: drawn in the book's style, numbered, captioned, described.

In the stored notebooks, every cell whose output is an image

* draws with ``optlib.plotting`` (no pyplot) and displays with ``plotting.show``, which
  refuses a figure wider than the column or with text below 11 pt (nbval re-runs it);
* is stored as a PNG at twice its display size, and displayed at most a column wide;
* has a caption and a name (``mystnb.figure``) and an alt text (``mystnb.image.alt``)
  that says what it shows, and folds its code in the book (``hide-input``);
* is referenced from its chapter's prose with ``{numref}``.

In the built book, each such figure is a numbered ``<figure>`` ("Fig. 2.3") with that
caption, and its image carries that alt text; a static exploration is at most a column wide.
"""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from optlib import plotting
from test_browser import chromium, require_browser  # noqa: F401  (fixtures)
from test_rendering import html_root, pages  # noqa: F401  (html_root is a fixture)

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((REPO / "chapters").glob("*.ipynb"))
COLUMN_PX = round(plotting.COLUMN_WIDTH * plotting.SCREEN_DPI)


def _figure_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"
            and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else source


def figure_problems(nb: dict) -> list[str]:
    """What is wrong with a notebook's figures (an empty list: nothing)."""
    problems, names = [], []
    prose = "\n".join(_text(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for cell in _figure_cells(nb):
        source = _text(cell["source"])
        where = f"cell {cell.get('id')}"
        if "plotting.show(" not in source:
            problems.append(f"{where}: not displayed with plotting.show")
        if re.search(r"\bplt\.", source):
            problems.append(f"{where}: uses pyplot")
        own = re.findall(r"""\b(?:color|c|colors|mfc|mec|facecolor|edgecolor)\s*=\s*["']"""
                         r"""(C\d|tab:\w+|#[0-9a-fA-F]{3,8}|red|blue|green|orange|purple|"""
                         r"""black|gr[ae]y|cyan|magenta|brown|pink)["']""", source)
        if own:
            problems.append(f"{where}: colours outside optlib.plotting's palette: {own}")
        meta = cell.get("metadata", {})
        if "hide-input" not in meta.get("tags", []):
            problems.append(f"{where}: the plotting code is not folded (tag hide-input)")
        mystnb = meta.get("mystnb", {})
        figure = mystnb.get("figure", {})
        caption, name = figure.get("caption", ""), figure.get("name", "")
        alt = mystnb.get("image", {}).get("alt", "")
        if len(caption.split()) < 5:
            problems.append(f"{where}: no caption (mystnb.figure.caption)")
        if not re.fullmatch(r"fig-ch\d\d-[a-z0-9-]+", name):
            problems.append(f"{where}: no figure name fig-chNN-... (mystnb.figure.name)")
        names.append(name)
        if len(alt.split()) < 8 or re.search(r"[\w.-]+\.(png|svg|jpe?g)\b|^\s*(_build|_images|/)",
                                             alt):
            problems.append(f"{where}: no alt text that says what the figure shows")
        if name and not re.search(r"\{numref\}`[^`]*\b" + re.escape(name) + r">?`", prose):
            problems.append(f"{where}: figure {name} is not referenced with {{numref}}")
        for out in cell.get("outputs", []):
            if "image/png" not in out.get("data", {}):
                continue
            size = out.get("metadata", {}).get("image/png", {})
            png = Image.open(io.BytesIO(base64.b64decode(out["data"]["image/png"])))
            if not size.get("width") or size["width"] > COLUMN_PX:
                problems.append(f"{where}: displayed {size.get('width')} px wide, not ≤ "
                                f"{COLUMN_PX} px (the column)")
            elif png.size[0] < 2 * size["width"]:
                problems.append(f"{where}: PNG {png.size[0]} px for {size['width']} px on "
                                "screen (not 2×)")
            if "height" in size:
                problems.append(f"{where}: a fixed display height ({size['height']} px) "
                                "squashes the figure on a narrow screen")
    duplicates = {n for n in names if n and names.count(n) > 1}
    if duplicates:
        problems.append(f"figure names used twice: {sorted(duplicates)}")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_is_in_the_books_style_captioned_and_referenced(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert _figure_cells(nb), f"{path.name} has no figure"
    assert figure_problems(nb) == []


def test_the_figure_check_catches_each_defect():
    png = Image.new("RGB", (1344, 480))
    buf = io.BytesIO()
    png.save(buf, format="png")
    good = {
        "cell_type": "code", "id": "a",
        "source": ["fig, ax = plotting.figure()\n", "plotting.show(fig)"],
        "metadata": {"tags": ["nbval-ignore-output", "hide-input"],
                     "mystnb": {"figure": {"caption": "The path of gradient descent on a bowl.",
                                           "name": "fig-ch01-path"},
                                "image": {"alt": "A contour plot with a zigzag path that "
                                                 "ends near the minimum."}}},
        "outputs": [{"output_type": "display_data",
                     "data": {"image/png": base64.b64encode(buf.getvalue()).decode()},
                     "metadata": {"image/png": {"width": 672}}}],
    }
    text = {"cell_type": "markdown", "source": "As {numref}`fig-ch01-path` shows, ..."}
    assert figure_problems({"cells": [text, good]}) == []

    def broken(change) -> list[str]:
        cell = json.loads(json.dumps(good))
        change(cell)
        return figure_problems({"cells": [text, cell]})

    assert broken(lambda c: c.update(source=["plt.plot([0])\n", "plt.show()"]))
    assert broken(lambda c: c.update(source=["ax.plot(x, color='C0')\n", "plotting.show(fig)"]))
    assert broken(lambda c: c["metadata"]["tags"].remove("hide-input"))
    assert broken(lambda c: c["metadata"]["mystnb"].pop("figure"))
    assert broken(lambda c: c["metadata"]["mystnb"]["image"].update(alt="_build/fig1.png"))
    assert broken(lambda c: c["metadata"]["mystnb"]["image"].update(
        alt="../_images/8d2f1c3a9b7e4f60a1c2d3e4f5a6b7c8.png is the figure of this cell"))
    assert not broken(lambda c: c["metadata"]["mystnb"]["image"].update(
        alt="The rate is above 1 beyond 2/λ_max, where the path leaves the bowl."))
    assert broken(lambda c: c["metadata"]["mystnb"]["figure"].update(name="fig-ch01-other"))
    assert broken(lambda c: c["outputs"][0]["metadata"]["image/png"].update(width=1000))
    assert broken(lambda c: c["outputs"][0]["metadata"]["image/png"].update(width=700))
    assert broken(lambda c: c["outputs"][0]["metadata"]["image/png"].update(height=240))
    assert figure_problems({"cells": [text, good, good]})     # a name used twice


# --------------------------------------------------------------------------- the built book
class _Figures(HTMLParser):
    """Each <figure>: its <img> alt and its caption's text; each exploration's style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[dict] = []
        self.explorations: list[str] = []
        self._in_figure = 0
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "figure":
            self._in_figure += 1
            self.figures.append({"alt": None, "caption": "", "id": a.get("id", "")})
        elif tag == "img" and self._in_figure:
            self.figures[-1]["alt"] = a.get("alt")
        elif tag == "figcaption" and self._in_figure:
            self._in_caption = True
        elif tag == "div" and "optlib-exploration" in (a.get("class") or "").split():
            self.explorations.append(a.get("style", ""))

    def handle_endtag(self, tag):
        if tag == "figure":
            self._in_figure -= 1
        elif tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data):
        if self._in_caption:
            self.figures[-1]["caption"] += data


def test_built_figures_are_numbered_with_caption_and_alt_text(html_root):  # noqa: F811
    checked = 0
    for path in CHAPTERS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        page = html_root / "chapters" / f"{path.stem}.html"
        parser = _Figures()
        parser.feed(page.read_text(encoding="utf-8"))
        by_id = {f["id"]: f for f in parser.figures}
        number = int(path.stem[:2])
        for cell in _figure_cells(nb):
            mystnb = cell["metadata"]["mystnb"]
            name = mystnb["figure"]["name"]
            built = by_id.get(name)
            assert built is not None, f"{path.name}: no <figure id={name!r}> in the page"
            assert re.match(rf"\s*Fig\. {number}\.\d+\s", built["caption"]), built["caption"]
            assert built["alt"] == mystnb["image"]["alt"], name
            checked += 1
        for style in parser.explorations:
            width = int(re.search(r"max-width:(\d+)px", style).group(1))
            assert width <= COLUMN_PX, f"{path.name}: an exploration {width} px wide"
    assert checked >= 15


def test_figures_keep_their_shape_on_a_phone(html_root, chromium):  # noqa: F811
    """At 390 px a figure is scaled down whole: its displayed height/width is the image's."""
    browser = require_browser(chromium)
    page = browser.new_page(viewport={"width": 390, "height": 800})
    try:
        wrong = []
        for path in CHAPTERS:
            page.goto((html_root / "chapters" / f"{path.stem}.html").as_uri())
            shapes = page.eval_on_selector_all(
                "figure img", "els => els.map(e => [e.naturalWidth, e.naturalHeight, "
                "e.getBoundingClientRect().width, e.getBoundingClientRect().height])")
            assert shapes, path.name
            for nw, nh, w, h in shapes:
                assert w <= 390, f"{path.name}: a figure {w} px wide on a 390 px screen"
                if abs((h / w) / (nh / nw) - 1) > 0.02:
                    wrong.append(f"{path.name}: {w:.0f}×{h:.0f} px for a {nw}×{nh} image")
        assert not wrong, wrong
    finally:
        page.close()
