"""The static view (``optlib.explore.static``): the HTML page draws exactly the right frames.

* **static = independent computation**: every frame of the static HTML view,
  decoded and mapped back through the artist's axes transform, draws exactly
  the points of a fresh single run (or, for the EMA, of the closed-form weights
  and a direct recurrence; see ``conftest.py``) — compared in pixel space to
  0.1 px (the encoding keeps tenths of a pixel);
* the page is self-contained, has the DOM structure ``static.js`` and the
  browser test rely on, embeds ``static.js`` (package data) inline, and escapes
  every text it contains (labels, names, formats, notes, choices, readouts);
* the clipping and the encoding.
"""

from __future__ import annotations

import collections
import html
import importlib.resources
import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import optlib
from optlib.explore import (
    STATIC_ONLY_ENV,
    ComparisonExplorer,
    Slider,
    TrajectoryExplorer,
    decode,
)
from optlib.explore import static as static_module
from optlib.explore.model import MAX_PIXELS
from optlib.explore.static import _clip_polyline, _encode
from optlib.objectives import Quadratic, Rosenbrock

PIXEL_TOL = 0.1      # px: the static encoding rounds to tenths of a pixel
EDGE_MARGIN = 0.25   # px: vertices this close to the axes edge may be clip points
REPO = Path(__file__).resolve().parents[2]


def strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def spec_of(page: str) -> dict:
    blocks = re.findall(r'<script type="application/json" class="optlib-data">(.*?)</script>',
                        page, re.DOTALL)
    assert len(blocks) == 1
    return json.loads(blocks[0])


# --------------------------------------------------------------------------- pixels
Box = collections.namedtuple("Box", "x0 y0 x1 y1")


def figure_px(ax):
    """The axes' box in figure pixels (x0, y0, x1, y1), origin bottom-left: the canvas draws
    ``device_pixel_ratio`` device pixels per figure pixel (optlib.explore.model.PIXEL_RATIO)."""
    r = ax.figure.canvas.device_pixel_ratio
    return tuple(v / r for v in ax.bbox.extents)


def to_display(ax, x, y) -> np.ndarray:
    """Data → figure pixels (origin bottom-left); log axes drop ≤ 0."""
    xy = np.column_stack([np.asarray(x, float).ravel(), np.asarray(y, float).ravel()])
    with np.errstate(all="ignore"):
        if ax.get_yscale() == "log":
            xy[xy[:, 1] <= 0, 1] = np.nan
        if ax.get_xscale() == "log":
            xy[xy[:, 0] <= 0, 0] = np.nan
        return ax.transData.transform(xy) / ax.figure.canvas.device_pixel_ratio


def svg_to_display(fig, pieces) -> np.ndarray:
    """Decoded SVG pixel polylines (origin top-left) → figure pixels (origin bottom-left)."""
    pts = np.concatenate(pieces) if pieces else np.zeros((0, 2))
    height = fig.canvas.get_width_height()[1]
    return np.column_stack([pts[:, 0], height - pts[:, 1]])


def strictly_inside(ax, px: np.ndarray, margin: float = EDGE_MARGIN) -> np.ndarray:
    b = Box(*figure_px(ax))
    with np.errstate(invalid="ignore"):
        return (np.all(np.isfinite(px), axis=1)
                & (px[:, 0] > b.x0 + margin) & (px[:, 0] < b.x1 - margin)
                & (px[:, 1] > b.y0 + margin) & (px[:, 1] < b.y1 - margin))


def distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Distance of each point to the nearest finite segment (or vertex) of ``line``."""
    a, b = line[:-1], line[1:]
    ok = np.all(np.isfinite(a), axis=1) & np.all(np.isfinite(b), axis=1)
    a, b = a[ok], b[ok]
    verts = line[np.all(np.isfinite(line), axis=1)]
    best = np.full(len(points), np.inf)
    if len(verts):
        best = np.min(np.linalg.norm(points[:, None, :] - verts[None], axis=-1), axis=1)
    if len(a):
        d = b - a
        len2 = np.maximum((d ** 2).sum(axis=1), 1e-300)
        t = np.clip(((points[:, None, :] - a[None]) * d[None]).sum(-1) / len2, 0.0, 1.0)
        nearest = a[None] + t[..., None] * d[None]
        best = np.minimum(best, np.linalg.norm(points[:, None, :] - nearest, axis=-1).min(1))
    return best


def check_static_frame(ex, frames, index: tuple, expected: dict) -> int:
    """Assert the static frame at ``index`` draws ``expected``; returns #points compared."""
    frame = frames[int(np.ravel_multi_index(index, ex.shape))]
    names = list(ex._artists)          # the order of frame["lines"] and of the styles
    assert len(frame["lines"]) == len(names)
    assert set(expected) == set(names)
    fig = ex.figure
    compared = 0
    for j, artist_name in enumerate(names):
        artist = ex._artists[artist_name]
        ax = artist.axes
        static_px = svg_to_display(fig, decode(frame["lines"][j]))
        # back to data coordinates through the artist's own axes transform
        static_data = (ax.transData.inverted().transform(static_px * fig.canvas.device_pixel_ratio)
                       if len(static_px) else static_px)
        want_px = to_display(ax, *expected[artist_name])

        got_in = static_px[strictly_inside(ax, static_px)]
        want_in = want_px[strictly_inside(ax, want_px)]
        where = f"{artist_name} at {ex.values(index)}"
        # A point within PIXEL_TOL of the margin may fall on either side of it after the
        # static view's rounding to tenths of a pixel: the counts may differ by those only.
        band = (strictly_inside(ax, want_px, EDGE_MARGIN - PIXEL_TOL)
                & ~strictly_inside(ax, want_px, EDGE_MARGIN + PIXEL_TOL))
        assert abs(len(got_in) - len(want_in)) <= band.sum(), (
            f"{where}: the static frame has {len(got_in)} points inside the axes, the "
            f"independent computation {len(want_in)}; static (data) = {static_data.tolist()}")
        if len(got_in) == len(want_in) and len(want_in):
            err = np.abs(got_in - want_in).max()
            assert err <= PIXEL_TOL, f"{where}: off by {err:.3f} px"
        # either way, every point well inside is drawn where the computation puts it
        for a, b in ((want_px, static_px), (static_px, want_px)):
            core = a[strictly_inside(ax, a, EDGE_MARGIN + PIXEL_TOL)]
            others = b[np.all(np.isfinite(b), axis=1)]
            if len(core):
                near = np.min(np.linalg.norm(core[:, None] - others[None], axis=-1), axis=1)
                assert near.max() <= PIXEL_TOL, f"{where}: a point off by {near.max():.3f} px"
        compared += len(want_in)

        # every drawn vertex (also the clip points on the axes edge) lies on the
        # independent polyline (a line) or on one of its points (markers only)
        b = Box(*figure_px(ax))
        if len(static_px):
            assert np.all(static_px[:, 0] >= b.x0 - PIXEL_TOL), where
            assert np.all(static_px[:, 0] <= b.x1 + PIXEL_TOL), where
            assert np.all(static_px[:, 1] >= b.y0 - PIXEL_TOL), where
            assert np.all(static_px[:, 1] <= b.y1 + PIXEL_TOL), where
            marker_only = artist.get_linestyle() in ("None", "none", "", " ")
            if marker_only:
                dist = np.nanmin(np.linalg.norm(static_px[:, None] - want_px[None], axis=-1),
                                 axis=1)
            else:
                dist = distance_to_polyline(static_px, want_px)
            assert np.all(dist <= PIXEL_TOL + 0.01), (
                f"{where}: a drawn vertex is {dist.max():.3f} px off the expected line")
    return compared


# --------------------------------------------------------------------------- static = independent
def test_static_frames_equal_independent_runs(explorer, case, frames):
    compared = 0
    indices = list(np.ndindex(*explorer.shape))
    assert len(frames) == int(np.prod(explorer.shape)) == len(indices)
    for index in indices:
        compared += check_static_frame(explorer, frames, index,
                                       case.expected(explorer, explorer.values(index)))
    # the comparison is not vacuous: most points of most frames are inside the axes
    assert compared >= 10 * len(indices)


def test_static_readouts_are_the_frames_and_name_the_slider_values(explorer, frames):
    for index in np.ndindex(*explorer.shape):
        stored = frames[int(np.ravel_multi_index(index, explorer.shape))]["readout"]
        assert stored == explorer.frame(index)[1]
        for s, i in zip(explorer.sliders, index):
            assert f"{s.label} = {s.text(i)}" in strip_tags(stored)


@pytest.mark.parametrize("lr, steps", [
    pytest.param(0.085, 25, id="leaves-the-axes"),
    pytest.param(100.0, 5, id="diverged-at-step-1"),
])
def test_static_markers_are_the_visible_data_points(lr, steps):
    ex = TrajectoryExplorer(Quadratic(), optlib.GradientDescent, [Slider("lr", [lr])],
                            steps=steps, name="markers")
    path = ex._artists["path"]
    assert path.get_marker() == "o"     # drawn by the static JS as one dot per vertex
    (frame,) = ex.static_frames()
    names = list(ex._artists)
    dots = svg_to_display(ex.figure, decode(frame["lines"][names.index("path")], data_only=True))
    objective = Quadratic()
    traj = optlib.run(optlib.GradientDescent(lr=lr), objective, objective.start, steps)
    want = to_display(path.axes, traj.points[:, 0], traj.points[:, 1])
    b = Box(*figure_px(path.axes))
    visible = want[np.all(np.isfinite(want), axis=1) & (want[:, 0] >= b.x0) & (want[:, 0] <= b.x1)
                   & (want[:, 1] >= b.y0) & (want[:, 1] <= b.y1)]
    assert dots.shape == visible.shape, (
        f"static dots: {len(dots)}, visible data points: {len(visible)}")
    assert np.abs(dots - visible).max() <= PIXEL_TOL


def test_comparison_static_frames_follow_each_background_and_equal_independent_runs(comparison):
    """Per objective (background) and step t, the drawn path is the independent run's prefix."""
    ex, objectives, optimizers = comparison
    frames = ex.static_frames()
    names = list(ex._artists)
    for k, (key, objective) in enumerate(objectives.items()):
        for i, t in enumerate(ex.sliders[1].values):
            frame = frames[k * len(ex.sliders[1].values) + i]
            for label, make in optimizers.items():
                traj = optlib.run(make(objective), objective, objective.start, 20)
                ex._use_background(k)      # the transforms of background k
                artist = ex._artists[f"path:{label}"]
                want = to_display(artist.axes, traj.points[:int(t) + 1, 0],
                                  traj.points[:int(t) + 1, 1])
                want = want[strictly_inside(artist.axes, want)]
                got = svg_to_display(ex.figure, decode(frame["lines"][names.index(
                    f"path:{label}")], data_only=True))
                assert got.shape == want.shape
                assert np.abs(got - want).max(initial=0.0) <= PIXEL_TOL
            gap = traj.losses[int(t)] - objective.min_value
            assert f"{gap:.3g}" in frame["readout"] and key in frame["readout"]


def test_comparison_static_html_has_a_select_and_each_background_once(comparison):
    """A <select> for the objective; the start background is the <img> src, others in the spec."""
    ex, objectives, _ = comparison
    page = ex.static_html()
    assert page.count("<option") == len(objectives)
    spec = spec_of(page)
    assert spec["background"] == 0
    assert spec["images"][0] is None and spec["images"][1].startswith("data:image/png;base64,")
    assert page.count("data:image/png;base64,") == len(objectives)


# --------------------------------------------------------------------------- the page
_ALLOWED_URIS = {"http://www.w3.org/2000/svg"}   # the SVG namespace name, never fetched


def test_static_html_is_self_contained(explorer):
    ex = explorer
    page = ex.static_html()
    assert ex.static_html() is page          # built once
    uris = re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)]*", page)
    assert set(uris) <= _ALLOWED_URIS, f"external URLs in the static HTML: {set(uris)}"
    assert 'createElementNS' in page and '"http://www.w3.org/2000/svg"' in page
    assert "//cdn" not in page.lower()
    assert not re.search(r"<(?:link|iframe|object|embed)\b", page, re.IGNORECASE)
    assert "@import" not in page
    srcs = re.findall(r"""\bsrc\s*=\s*["']?([^"'\s>]*)""", page, re.IGNORECASE)
    assert srcs, "the background image is missing"
    assert all(s.startswith("data:") for s in srcs), srcs
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)

    assert page.count("optlib-data") == 2   # the block and the script that reads it
    spec = spec_of(page)
    assert spec["sizes"] == [len(s.values) for s in ex.sliders] == list(ex.shape)
    assert len(spec["frames"]) == int(np.prod(spec["sizes"]))
    assert [len(labels) for labels in spec["labels"]] == spec["sizes"]
    assert spec["labels"] == [[s.text(k) for k in range(len(s.values))] for s in ex.sliders]
    assert (spec["width"], spec["height"]) == (round(ex.figure.get_figwidth() * 96),
                                               round(ex.figure.get_figheight() * 96))
    assert len(spec["styles"]) == len(ex._artists)
    assert all(len(f["lines"]) == len(ex._artists) for f in spec["frames"])
    # the sliders start where the live view starts, and show that label
    inputs = re.findall(r'<input type="range" min="0" max="(\d+)" step="1" value="(\d+)"', page)
    assert [(int(a), int(b)) for a, b in inputs] == [
        (len(s.values) - 1, s.start_index) for s in ex.sliders]
    outputs = re.findall(r"<output[^>]*>(.*?)</output>", page)
    assert [html.unescape(o) for o in outputs] == [s.text(s.start_index) for s in ex.sliders]


def test_repr_mimebundle_is_static_only_in_the_book_build(monkeypatch, cases):
    """The book build sets OPTLIB_STATIC_EXPLORATIONS=1 (_ext/optlib_book.py)."""
    monkeypatch.setenv(STATIC_ONLY_ENV, "1")
    _, build = cases
    ex = build("ema")
    bundle = ex._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/html"] == ex.static_html()
    assert bundle["text/html"].startswith('<div class="optlib-exploration"')


class _Page(HTMLParser):
    """The elements of a static page, as a browser's parser sees them."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, list[str]]] = []   # (tag, attrs, path of tags)
        self.text: dict[int, str] = {}                          # element number -> its text
        self.stack: list[tuple[str, int]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), [t for t, _ in self.stack]))
        if tag not in ("input", "img"):                          # void elements
            self.stack.append((tag, len(self.elements) - 1))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        for _, k in self.stack:
            self.text[k] = self.text.get(k, "") + data

    def find(self, tag, **attrs) -> list[int]:
        return [k for k, (t, a, _) in enumerate(self.elements)
                if t == tag and all(a.get(n) == v for n, v in attrs.items())]


def test_static_page_has_the_structure_its_script_and_the_browser_test_use(comparison):
    """One root div (data-exploration) whose last child is the inline script; the JSON block;
    per slider an <input type=range> with an <output> in the same <label> (or a <select>);
    in the figure the background <img> (first: the script's), the starting frame's paths as
    a second <img> (removed by the script) and the <svg>; the readout region."""
    ex = comparison[0]
    page = ex.static_html()
    assert page.startswith('<div class="optlib-exploration" id="optlib-x-')
    assert page.endswith("</script></div>")
    parsed = _Page(page)
    assert not parsed.stack, "unclosed elements"
    root = parsed.elements[0]
    assert root[0] == "div" and root[1]["class"] == "optlib-exploration"
    assert root[1]["data-exploration"] == "cmp"
    assert all(path[:1] == ["div"] for _, _, path in parsed.elements[1:])  # all inside root
    scripts = parsed.find("script")
    assert len(scripts) == 2
    data_block, code = scripts
    assert parsed.elements[data_block][1] == {"type": "application/json", "class": "optlib-data"}
    assert parsed.elements[code][1] == {} and parsed.elements[code][2] == ["div"]
    assert parsed.text[code] == static_module.script()
    assert json.loads(parsed.text[data_block]) == spec_of(page)
    for k in parsed.find("input"):
        assert parsed.elements[k][1]["type"] == "range"
        assert parsed.elements[k][2][-1] == "label"
        assert parsed.elements[k + 1][0] == "output" and parsed.elements[k + 1][2][-1] == "label"
    kinds = [parsed.elements[k][0] for k, (t, _, _) in enumerate(parsed.elements)
             if t in ("input", "select")]
    assert kinds == ["select" if s.choices else "input" for s in ex.sliders]
    background, start = parsed.find("img")
    assert parsed.elements[background][1]["alt"] == static_module.description(ex)
    assert parsed.elements[start][1]["class"] == "optlib-start"
    assert parsed.elements[start][1]["alt"] == ""
    assert parsed.elements[background][2][-1] == parsed.elements[start][2][-1] == "div"
    # one picture (the SVG over the image); every other SVG is a colour key, of the legend
    # (in a list item) or of the starting readout's table (in a cell)
    figures = parsed.find("div", **{"class": "optlib-figure"})
    assert len(figures) == 1
    pictures = [k for k in parsed.find("svg")
                if not {"li", "td", "th"} & set(parsed.elements[k][2])]
    assert len(pictures) == 1 and parsed.elements[pictures[0]][2][-1] == "div"
    keys = [k for k in parsed.find("svg") if "li" in parsed.elements[k][2]]
    assert len(keys) == len(ex.legend()) == len(ex.labels)     # one key per optimizer
    assert len(parsed.find("ul", **{"class": "optlib-legend"})) == 1
    assert len(parsed.find("div", **{"class": "optlib-readout"})) == 1


def test_static_js_is_package_data_embedded_inline():
    """static.js ships with the package (pyproject: *.js package data) and is the page's script."""
    shipped = importlib.resources.files("optlib.explore").joinpath("static.js")
    text = shipped.read_text(encoding="utf-8")
    assert static_module.script() == text
    assert "document.currentScript.parentElement" in text and "optlib-data" in text
    assert "</script" not in text.lower() and "<!--" not in text
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "*.js" in package_data["tool"]["setuptools"]["package-data"]["*"]


HOSTILE = """<script>alert(1)</script> & "double" 'single' <!-- </b>"""


def _hostile_explorations():
    trajectory = TrajectoryExplorer(
        Quadratic(), optlib.GradientDescent,
        [Slider("lr", [0.01, 0.05], label=HOSTILE, fmt="{:.2f} </script><img src=x>")],
        steps=5, name=HOSTILE, note=lambda values: HOSTILE)
    comparison = ComparisonExplorer(
        {HOSTILE: Quadratic(), "bowl & <b>": Rosenbrock()},
        {HOSTILE: lambda f: optlib.GradientDescent(lr=1e-3)}, steps=(0, 3), name="x'\"<y>")
    return trajectory, comparison


def _readout_text(readout: str) -> tuple[set, str]:
    """The tags of a readout and its text, as ``innerHTML = readout`` would make them."""
    parsed = _Page(f"<div>{readout}</div>")
    return {t for t, _, _ in parsed.elements[1:]}, parsed.text.get(0, "")


def test_static_html_escapes_labels_names_formats_notes_and_choices():
    """Every text in the page is escaped: labels, names, slider texts, notes, objective and
    optimizer names reach the reader as text; only the page's own elements are elements."""
    for ex in _hostile_explorations():
        page = ex.static_html()
        assert len(re.findall(r"<script\b", page, re.I)) == 2
        assert len(re.findall(r"</script", page, re.I)) == 2
        assert "<img src=x" not in page and "<!--" not in page
        parsed = _Page(page)
        assert not parsed.stack
        assert {t for t, _, _ in parsed.elements} <= {
            "div", "label", "input", "output", "select", "option", "img", "svg", "script",
            "ul", "li", "line", "circle", "p",
            # the starting frame's readout, written into the page for viewers without script
            "b", "table", "caption", "thead", "tbody", "tr", "th", "td"}
        root = parsed.elements[0][1]
        assert root["data-exploration"] == ex.name
        assert parsed.elements[parsed.find("img")[0]][1]["alt"] == static_module.description(ex)
        spec = spec_of(page)
        assert spec["labels"] == [[s.text(k) for k in range(len(s.values))] for s in ex.sliders]
        for k in parsed.find("label"):
            assert any(parsed.text[k].startswith(s.label) for s in ex.sliders)
        outputs = [parsed.text.get(k, "") for k in parsed.find("output")]
        assert outputs == [s.text(s.start_index) for s in ex.sliders if s.choices is None]
        options = [parsed.text[k] for k in parsed.find("option")]
        assert options == [c for s in ex.sliders if s.choices for c in s.choices]
        for index, frame in zip(np.ndindex(*ex.shape), spec["frames"]):
            assert frame["readout"] == ex.frame(index)[1]
            tags, text = _readout_text(frame["readout"])
            assert tags <= {"b", "table", "caption", "thead", "tbody", "tr", "th", "td", "svg",
                            "line"}, frame["readout"]
            assert HOSTILE in text
            if isinstance(ex, ComparisonExplorer):      # a table: "objective, step t", ...
                assert text.startswith(f"{list(ex.objectives)[index[0]]}, step ")
            else:                                        # "label = value: ..."
                assert text.startswith(f"{ex.setting(index)}: ")


# --------------------------------------------------------------------------- encoding
def test_encode_and_decode_round_trip_with_clip_marks():
    pieces = [np.array([[1.04, 2.0], [3.5, 4.26], [5.0, 6.0]]), np.array([[7.0, 8.0]])]
    flags = [np.array([False, True, True]), np.array([True])]
    text = _encode(pieces, flags)
    back = decode(text)
    assert len(back) == 2
    np.testing.assert_allclose(back[0], [[1.0, 2.0], [3.5, 4.3], [5.0, 6.0]])
    np.testing.assert_allclose(back[1], [[7.0, 8.0]])
    data_only = decode(text, data_only=True)
    np.testing.assert_allclose(data_only[0], [[3.5, 4.3], [5.0, 6.0]])


def test_the_largest_figure_fits_the_int16_encoding():
    """MAX_PIXELS in tenths of a pixel stays below the sentinels' neighbourhood (int16)."""
    assert MAX_PIXELS * static_module._SCALE <= np.iinfo(np.int16).max
    edge = np.array([[0.0, 0.0], [MAX_PIXELS, MAX_PIXELS]])
    np.testing.assert_allclose(decode(_encode([edge]))[0], edge)


# --------------------------------------------------------------------------- _clip_polyline
BOX = (0.0, 0.0, 10.0, 10.0)


def test_clip_cuts_a_crossing_segment_exactly_at_the_edges():
    pieces = _clip_polyline(np.array([[-5.0, 2.0], [15.0, 7.0]]), BOX)
    assert len(pieces) == 1
    np.testing.assert_allclose(pieces[0], [[0.0, 3.25], [10.0, 5.75]], rtol=0, atol=1e-12)


def test_clip_leaving_and_reentering_makes_two_pieces():
    pieces = _clip_polyline(np.array([[5.0, 5.0], [5.0, 15.0], [8.0, 5.0]]), BOX)
    assert len(pieces) == 2
    np.testing.assert_allclose(pieces[0], [[5.0, 5.0], [5.0, 10.0]], atol=1e-12)
    np.testing.assert_allclose(pieces[1], [[6.5, 10.0], [8.0, 5.0]], atol=1e-12)


def test_clip_nan_breaks_the_line():
    pts = np.array([[1.0, 1.0], [2.0, 2.0], [np.nan, np.nan], [3.0, 3.0], [4.0, 4.0]])
    pieces = _clip_polyline(pts, BOX)
    assert len(pieces) == 2
    np.testing.assert_array_equal(pieces[0], [[1.0, 1.0], [2.0, 2.0]])
    np.testing.assert_array_equal(pieces[1], [[3.0, 3.0], [4.0, 4.0]])


def test_clip_drops_segments_entirely_outside():
    # beside the box, across a corner without touching it, and far away
    assert _clip_polyline(np.array([[11.0, 1.0], [12.0, 9.0]]), BOX) == []
    assert _clip_polyline(np.array([[-1.0, 9.0], [1.0, 12.0]]), BOX) == []
    pieces = _clip_polyline(np.array([[20.0, 20.0], [30.0, 30.0], [5.0, 5.0]]), BOX)
    assert len(pieces) == 1
    np.testing.assert_allclose(pieces[0], [[10.0, 10.0], [5.0, 5.0]], atol=1e-12)


def test_clip_keeps_an_inside_line_unchanged():
    pts = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 10.0]])
    pieces = _clip_polyline(pts, BOX)
    assert len(pieces) == 1
    np.testing.assert_array_equal(pieces[0], pts)


def test_static_controls_say_the_symbol_and_value_and_the_readout_is_announced(explorer):
    """A screen reader hears "α = 0.050" for a slider (not its grid position or the internal
    name "lr"), the readout is a polite live region, and the picture has a description that
    names its panels and the sliders' ranges (not an internal id)."""
    for ex in explorer.values() if isinstance(explorer, dict) else [explorer]:
        parsed = _Page(ex.static_html())
        ranges = [parsed.elements[k][1] for k in parsed.find("input")]
        shown = [s for s in ex.sliders if s.choices is None]
        assert [r["aria-label"] for r in ranges] == [s.label for s in shown]
        assert [r["aria-valuetext"] for r in ranges] == [
            f"{s.label} = {s.text(s.start_index)}" for s in shown]
        readout = next(a for t, a, _ in parsed.elements if a.get("class") == "optlib-readout")
        assert readout["role"] == "status" and readout["aria-live"] == "polite"
        alt = parsed.elements[parsed.find("img")[0]][1]["alt"]
        assert ex.name not in alt.split() and "$" not in alt and "\\" not in alt
        assert alt.startswith("An interactive figure in ")
        for s in ex.sliders:
            assert s.label in alt
        assert "aria-valuetext" in static_module.script()    # kept up to date on every step


def test_plain_text_of_mathtext_labels():
    plain = static_module._plain
    assert plain(r"$f(w_t) - f^*$") == "f(wₜ) − f*"
    assert plain(r"weights $(1-\beta)\beta^k$") == "weights (1-β)βᵏ"
    assert plain(r"$v_t / (1-\beta^t)$") == "vₜ / (1-βᵗ)" and plain(r"$x^{ab}$") == "x^ab"
    assert plain(r"$W_1$") == "W₁" and plain(r"$\lambda_{\max}$") == "λₘₐₓ"


def test_the_page_shows_the_starting_frame_without_its_script(explorer):
    """A viewer that runs no script (an untrusted notebook, a file viewer) still sees the
    starting setting: its paths as an image over the background, its readout, and a note
    that says to run the cell. The image draws exactly the encoded starting frame."""
    import base64

    page = explorer.static_html()
    spec = spec_of(page)
    start = tuple(s.start_index for s in explorer.sliders)
    frame = spec["frames"][int(np.ravel_multi_index(start, explorer.shape))]
    src = re.search(r'<img class="optlib-start" src="data:image/svg\+xml;base64,([^"]+)" '
                    r'alt=""', page).group(1)
    svg = base64.b64decode(src).decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" '
                          f'viewBox="0 0 {spec["width"]} {spec["height"]}"')
    paths = re.findall(r'<path d="([^"]*)" fill="none" stroke="(#[0-9a-f]{6})"', svg)
    dots = re.findall(r'<g fill="([^"]*)"[^>]*>(.*?)</g>', svg)
    want_paths, want_dots = [], []
    for text, st in zip(frame["lines"], spec["styles"]):
        pieces = [p for p in decode(text) if len(p)]
        if st["line"] and pieces:
            if st["halo"]:
                want_paths.append((pieces, "#ffffff"))
            want_paths.append((pieces, st["color"]))
        points = [pt for p in decode(text, data_only=True) for pt in p]
        if st["marker"] > 0 and points:
            want_dots.append((st["fill"], points))
    assert len(paths) == len(want_paths) and len(dots) == len(want_dots)
    assert want_paths, "the starting frame draws no line: the check would be vacuous"
    for (d, color), (pieces, want_color) in zip(paths, want_paths):
        assert color == want_color
        got = [np.array([[float(v) for v in xy.split()] for xy in piece.split("L")])
               for piece in d.split("M")[1:]]
        assert len(got) == len(pieces)
        for g, w in zip(got, pieces):
            np.testing.assert_allclose(g, w, atol=0.051)
    for (fill, body), (want_fill, points) in zip(dots, want_dots):
        assert fill == want_fill
        got = np.array(re.findall(r'cx="([-\d.]+)" cy="([-\d.]+)"', body), float)
        np.testing.assert_allclose(got, np.array(points), atol=0.051)
    # the readout of the starting frame, and the note, in the page itself
    readout = re.search(r'<div class="optlib-readout"[^>]*>(.*?)</div><script', page, re.S)
    assert readout.group(1) == frame["readout"] != ""
    assert f'<p class="optlib-norun"' in page and html.escape(static_module.RUN_NOTE) in page
