"""Explorations (``optlib.explore``): the static and live views show the right numbers.

* **static = independent computation**: every frame of the static HTML view,
  decoded and mapped back through the artist's axes transform, draws exactly
  the points of a fresh single run (``optlib.run`` with scalar hyperparameters)
  or, for the EMA, of :func:`optlib.analysis.ema_weights` and a direct
  recurrence — compared in pixel space to 0.1 px (the encoding keeps tenths of
  a pixel);
* **live updates in place**: moving a widget slider keeps the figure, its axes
  and its Line2D objects, sets their data to the new frame, and produces a new
  valid PNG and readout;
* the display bundle, the self-containedness of the static HTML, the clipping
  helper and bad input.

Grids and step counts are small so that the file runs in seconds.
"""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from PIL import Image

import optlib
from optlib.explore import (
    STATIC_ONLY_ENV,
    EMAExplorer,
    MomentumRateExplorer,
    Slider,
    TrajectoryExplorer,
    _clip_polyline,
    decode,
)
from optlib.objectives import Quadratic

PIXEL_TOL = 0.1      # px: the static encoding rounds to tenths of a pixel
EDGE_MARGIN = 0.25   # px: vertices this close to the axes edge may be clip points
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- cases
@dataclass
class Case:
    """One exploration, and an independent computation of what it must draw."""

    build: Callable[[], object]
    # expected(ex, values) -> {artist name: (x, y)} in data coordinates
    expected: Callable[[object, dict], dict]
    # slider values of a run that diverges, if the grid has one
    diverged: dict | None = None


def _single_run(optimizer_cls, objective_factory, steps, values):
    """A fresh optimizer with scalar hyperparameters on a fresh objective."""
    objective = objective_factory()
    opt = optimizer_cls(**{k: float(v) for k, v in values.items()})
    return objective, optlib.run(opt, objective, objective.start, steps)


def _trajectory_expected(optimizer_cls, objective_factory, steps, eigen_angle=None):
    def expected(_ex, values):
        objective, traj = _single_run(optimizer_cls, objective_factory, steps, values)
        pts = traj.points
        finite = np.all(np.isfinite(pts), axis=1)
        last = pts[finite][-1]
        gap = traj.losses - objective.min_value
        out = {
            "path": (pts[:, 0], pts[:, 1]),
            "end": ([last[0]], [last[1]]),
            "loss": (np.arange(steps + 1), gap),
        }
        if eigen_angle is not None:
            c, s = np.cos(eigen_angle), np.sin(eigen_angle)
            rotation = np.array([[c, -s], [s, c]])      # eigenvectors as columns
            u = (pts - np.asarray(objective.center)) @ rotation
            out["eigen"] = (u[:, 0], u[:, 1])
        return out
    return expected


def _rate_expected(steps):
    def expected(_ex, values):
        _, traj = _single_run(optlib.Momentum, Quadratic, steps, values)
        return {"probe": ([values["lr"]], [values["beta"]]),
                "path": (traj.points[:, 0], traj.points[:, 1])}
    return expected


def _ema_direct(signal, beta):
    """v_t = β v_{t-1} + (1-β) g_t from v_0 = 0, written out."""
    v, out = 0.0, []
    for g in signal:
        v = beta * v + (1.0 - beta) * g
        out.append(v)
    return np.array(out)


def _ema_expected(ex, values):
    beta = values["beta"]
    lags, steps = ex.lags, ex.steps
    # the weight of g_{t-k} in v_t, k = 0..lags (ema_weights lists the oldest first)
    w = optlib.analysis.ema_weights(beta, lags + 1)[::-1]
    k = np.arange(lags + 1, dtype=float)
    nan = np.full_like(k, np.nan)
    stems_x = np.column_stack([k, k, nan]).ravel()
    stems_y = np.column_stack([np.zeros_like(w), w, nan]).ravel()
    average = _ema_direct(ex.signal, beta)
    # the same average as a weighted sum with ema_weights, for every t
    by_weights = np.array([optlib.analysis.ema_weights(beta, t) @ ex.signal[:t]
                           for t in range(1, steps + 1)])
    np.testing.assert_allclose(average, by_weights, rtol=1e-12, atol=1e-12)
    t = np.arange(1, steps + 1)
    corrected = average / (1.0 - beta ** t)
    window = 1.0 / (1.0 - beta)
    return {"weights": (stems_x, stems_y), "window": ([window, window], [0.0, 1.05]),
            "average": (t, average), "corrected": (t, corrected)}


GD_STEPS, MOMENTUM_STEPS, RATE_STEPS = 25, 30, 30
ROTATION = np.pi / 6

CASES = {
    # lr = 0.085 oscillates out of the axes without diverging; 0.12 diverges.
    "gd": Case(
        build=lambda: TrajectoryExplorer(
            Quadratic(), optlib.GradientDescent,
            [Slider("lr", [0.01, 0.03, 0.05, 0.07, 0.085, 0.12], initial=0.05)],
            steps=GD_STEPS, name="gd_test"),
        expected=_trajectory_expected(optlib.GradientDescent, Quadratic, GD_STEPS),
        diverged={"lr": 0.12}),
    "momentum": Case(
        build=lambda: TrajectoryExplorer(
            Quadratic(), optlib.Momentum,
            [Slider("lr", [0.02, 0.1, 0.3], initial=0.1),
             Slider("beta", [0.0, 0.5, 0.9], initial=0.5)],
            steps=MOMENTUM_STEPS, name="momentum_test"),
        expected=_trajectory_expected(optlib.Momentum, Quadratic, MOMENTUM_STEPS),
        diverged={"lr": 0.3, "beta": 0.0}),
    "rotated": Case(
        build=lambda: TrajectoryExplorer(
            Quadratic(angle=ROTATION), optlib.GradientDescent,
            [Slider("lr", [0.01, 0.05, 0.08])], steps=GD_STEPS, eigenbasis=True,
            name="rotated_test"),
        expected=_trajectory_expected(optlib.GradientDescent,
                                      lambda: Quadratic(angle=ROTATION), GD_STEPS,
                                      eigen_angle=ROTATION)),
    "rate": Case(
        build=lambda: MomentumRateExplorer(
            lrs=np.round(np.geomspace(0.004, 1.6, 5), 4), betas=(0.0, 0.5, 0.9),
            steps=RATE_STEPS, fine=40),
        expected=_rate_expected(RATE_STEPS),
        diverged={"lr": 1.6, "beta": 0.5}),
    "ema": Case(
        build=lambda: EMAExplorer(betas=(0.0, 0.5, 0.9, 0.98), steps=40, lags=20),
        expected=_ema_expected),
}

_built: dict[str, object] = {}
_frames: dict[str, list] = {}


def explorer(name: str):
    """Each exploration is built once per session (building draws contours)."""
    if name not in _built:
        _built[name] = CASES[name].build()
    return _built[name]


def static_frames(name: str) -> list:
    if name not in _frames:
        _frames[name] = explorer(name).static_frames()
    return _frames[name]


def all_indices(ex):
    return list(np.ndindex(*ex.shape))


def strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


# --------------------------------------------------------------------------- pixels
def to_display(ax, x, y) -> np.ndarray:
    """Data → display pixels (origin bottom-left) of the figure; log axes drop ≤ 0."""
    xy = np.column_stack([np.asarray(x, float).ravel(), np.asarray(y, float).ravel()])
    with np.errstate(all="ignore"):
        if ax.get_yscale() == "log":
            xy[xy[:, 1] <= 0, 1] = np.nan
        if ax.get_xscale() == "log":
            xy[xy[:, 0] <= 0, 0] = np.nan
        return ax.transData.transform(xy)


def svg_to_display(fig, pieces) -> np.ndarray:
    """Decoded SVG pixel polylines (origin top-left) → display pixels, all vertices."""
    pts = np.concatenate(pieces) if pieces else np.zeros((0, 2))
    return np.column_stack([pts[:, 0], fig.bbox.height - pts[:, 1]])


def strictly_inside(ax, px: np.ndarray, margin: float = EDGE_MARGIN) -> np.ndarray:
    b = ax.bbox
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


def check_static_frame(ex, name: str, index: tuple, expected: dict) -> int:
    """Assert the static frame at ``index`` draws ``expected``; returns #points compared."""
    frame = static_frames(name)[int(np.ravel_multi_index(index, ex.shape))]
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
        static_data = ax.transData.inverted().transform(static_px) if len(static_px) else static_px
        want_px = to_display(ax, *expected[artist_name])

        got_in = static_px[strictly_inside(ax, static_px)]
        want_in = want_px[strictly_inside(ax, want_px)]
        where = f"{artist_name} at {ex.values(index)}"
        assert got_in.shape == want_in.shape, (
            f"{where}: the static frame has {len(got_in)} points inside the axes, the "
            f"independent computation {len(want_in)}; static (data) = {static_data.tolist()}")
        if len(want_in):
            err = np.abs(got_in - want_in).max()
            assert err <= PIXEL_TOL, f"{where}: off by {err:.3f} px"
        compared += len(want_in)

        # every drawn vertex (also the clip points on the axes edge) lies on the
        # independent polyline (a line) or on one of its points (markers only)
        b = ax.bbox
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
@pytest.mark.parametrize("name", list(CASES))
def test_static_frames_equal_independent_runs(name):
    ex = explorer(name)
    case = CASES[name]
    compared = 0
    indices = all_indices(ex)
    assert len(static_frames(name)) == int(np.prod(ex.shape)) == len(indices)
    for index in indices:
        compared += check_static_frame(ex, name, index, case.expected(ex, ex.values(index)))
    # the comparison is not vacuous: most points of most frames are inside the axes
    assert compared >= 10 * len(indices)


@pytest.mark.parametrize("name", list(CASES))
def test_static_readouts_name_the_slider_values(name):
    ex = explorer(name)
    for index in all_indices(ex):
        readout = strip_tags(static_frames(name)[int(np.ravel_multi_index(index, ex.shape))]
                             ["readout"])
        assert readout == strip_tags(ex.frame(index)[1])
        for s, i in zip(ex.sliders, index):
            assert f"{s.label} = {s.text(i)}" in readout


@pytest.mark.parametrize("name", ["gd", "momentum", "rotated"])
def test_trajectory_readout_numbers(name):
    """Diverged: "diverged at step N" with N = Trajectory.diverged_at; else the final gap."""
    ex = explorer(name)
    opt_cls = ex.optimizer.__class__
    saw_diverged = False
    for index in all_indices(ex):
        values = ex.values(index)
        objective = Quadratic(angle=ROTATION if name == "rotated" else 0.0)
        traj = optlib.run(opt_cls(**values), objective, objective.start, ex.steps)
        readout = strip_tags(ex.frame(index)[1])
        if traj.diverged:
            saw_diverged = True
            assert f"diverged at step {traj.diverged_at}" in readout, readout
            assert "after" not in readout
        else:
            assert "diverged" not in readout
            gap = traj.losses[-1] - objective.min_value
            assert f"after {ex.steps} steps f(w) − f* = {gap:.3g}" in readout, readout
    if CASES[name].diverged is not None:
        assert saw_diverged


def test_momentum_rate_readout_numbers():
    ex = explorer("rate")
    lam = Quadratic().curvatures
    diverged = 0
    for index in all_indices(ex):
        v = ex.values(index)
        lr, beta = v["lr"], v["beta"]
        # spectral radius of the (w, v) iteration matrix, by numpy, per curvature
        rho = max(np.abs(np.linalg.eigvals(np.array(
            [[1 - lr * (1 - beta) * l, -lr * beta], [(1 - beta) * l, beta]]))).max()
            for l in lam)
        readout = strip_tags(ex.frame(index)[1])
        assert f"predicted rate ρ = {rho:.3g}" in readout, readout
        traj = optlib.run(optlib.Momentum(lr=lr, beta=beta), Quadratic(),
                          Quadratic().start, ex.steps)
        if traj.diverged:
            diverged += 1
            assert f"diverged at step {traj.diverged_at}" in readout, readout
        else:
            assert "measured rate" in readout and "diverged" not in readout
    assert diverged >= 2


def test_ema_readout_numbers():
    ex = explorer("ema")
    for index in all_indices(ex):
        beta = ex.values(index)["beta"]
        readout = strip_tags(ex.frame(index)[1])
        assert f"window 1/(1−β) ≈ {1 / (1 - beta):.3g} steps" in readout
        assert f"(1−β)·g₁ = {1 - beta:.3g}·g₁" in readout
        assert f"1 − β¹⁰ = {1 - beta ** 10:.3g}" in readout


# --------------------------------------------------------------------------- live
def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(data)) as img:
        img.verify()
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.size


def _equal_with_nan(a, b) -> bool:
    return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


LIVE_MOVES = {  # (slider, value) moves to make in order
    "gd": [("lr", 0.01), ("lr", 0.12), ("lr", 0.07)],
    "momentum": [("lr", 0.02), ("beta", 0.9), ("lr", 0.3), ("beta", 0.0)],
    "rotated": [("lr", 0.08), ("lr", 0.01)],
    "rate": [("lr", 0.004), ("beta", 0.0), ("lr", 1.6)],
    "ema": [("beta", 0.0), ("beta", 0.98)],
}


@pytest.mark.parametrize("name", list(CASES))
def test_live_slider_updates_existing_artists(name):
    ex = explorer(name)
    w = ex.widget()
    assert ex.widget() is w
    fig = ex.figure
    axes = list(fig.axes)
    lines = {id(ax): list(ax.lines) for ax in axes}
    artists = dict(ex._artists)
    assert len(w.controls) == len(ex.sliders)
    width, height = int(round(fig.bbox.width)), int(round(fig.bbox.height))
    assert _png_size(w.image.value) == (width, height)

    for slider_name, value in LIVE_MOVES[name]:
        i = [s.name for s in ex.sliders].index(slider_name)
        k = ex.sliders[i].values.index(value)
        assert w.controls[i].value != k, "the move must change the slider"
        png_before, text_before = w.image.value, w.readout.value
        w.controls[i].value = k
        index = tuple(c.value for c in w.controls)
        assert index[i] == k

        # the same figure, axes and Line2D objects
        assert ex.figure is fig
        assert len(fig.axes) == len(axes) and all(a is b for a, b in zip(fig.axes, axes))
        for ax in axes:
            assert len(ax.lines) == len(lines[id(ax)])
            assert all(a is b for a, b in zip(ax.lines, lines[id(ax)]))
        assert all(ex._artists[n] is a for n, a in artists.items())

        # their data is the new frame, which is the independent computation
        data, readout = ex.frame(index)
        expected = CASES[name].expected(ex, ex.values(index))
        for n, artist in artists.items():
            x, y = artist.get_data()
            assert _equal_with_nan(x, data[n][0]) and _equal_with_nan(y, data[n][1]), n
            np.testing.assert_allclose(np.asarray(x, float), np.asarray(expected[n][0], float),
                                       rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=n)
            np.testing.assert_allclose(np.asarray(y, float), np.asarray(expected[n][1], float),
                                       rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=n)

        # a new, valid PNG of the figure's pixel size
        assert w.image.value != png_before
        assert _png_size(w.image.value) == (width, height)

        # a new readout that names the slider value
        assert w.readout.value == readout
        assert w.readout.value != text_before
        s = ex.sliders[i]
        assert f"{s.label} = {s.text(k)}" in strip_tags(w.readout.value)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.diverged])
def test_live_readout_of_a_diverged_run(name):
    ex = explorer(name)
    w = ex.widget()
    target = ex.index_of(**CASES[name].diverged)
    for i, k in enumerate(target):
        w.controls[i].value = k
    opt_cls = optlib.Momentum if name == "rate" else ex.optimizer.__class__
    values = {n: float(v) for n, v in ex.values(target).items()}
    traj = optlib.run(opt_cls(**values), Quadratic(), Quadratic().start, ex.steps)
    assert traj.diverged
    assert f"diverged at step {traj.diverged_at}" in strip_tags(w.readout.value)


# --------------------------------------------------------------------------- display
@pytest.mark.parametrize("name", list(CASES))
def test_repr_mimebundle_offers_static_and_widget_views(name, monkeypatch):
    monkeypatch.delenv(STATIC_ONLY_ENV, raising=False)
    ex = explorer(name)
    bundle = ex._repr_mimebundle_()
    assert bundle["text/html"].startswith('<div class="optlib-exploration"')
    assert bundle["text/html"] == ex.static_html()
    assert bundle["text/plain"] == repr(ex)
    assert type(ex).__name__ in bundle["text/plain"]
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == ex.widget().model_id


def test_repr_mimebundle_is_static_only_in_the_book_build(monkeypatch):
    """The book build sets OPTLIB_STATIC_EXPLORATIONS=1 (_ext/optlib_book.py)."""
    monkeypatch.setenv(STATIC_ONLY_ENV, "1")
    ex = explorer("ema")
    bundle = ex._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/html"].startswith('<div class="optlib-exploration"')


_ALLOWED_URIS = {"http://www.w3.org/2000/svg"}   # the SVG namespace name, never fetched


@pytest.mark.parametrize("name", list(CASES))
def test_static_html_is_self_contained(name):
    ex = explorer(name)
    page = ex.static_html()
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

    blocks = re.findall(r'<script type="application/json" class="optlib-data">(.*?)</script>',
                        page, re.DOTALL)
    assert len(blocks) == 1
    assert page.count("optlib-data") == 2   # the block and the script that reads it
    spec = json.loads(blocks[0])
    assert spec["sizes"] == [len(s.values) for s in ex.sliders] == list(ex.shape)
    assert len(spec["frames"]) == int(np.prod(spec["sizes"]))
    assert [len(labels) for labels in spec["labels"]] == spec["sizes"]
    assert spec["labels"] == [[s.text(k) for k in range(len(s.values))] for s in ex.sliders]
    assert (spec["width"], spec["height"]) == (round(ex.figure.bbox.width),
                                               round(ex.figure.bbox.height))
    assert len(spec["styles"]) == len(ex._artists)
    assert all(len(f["lines"]) == len(ex._artists) for f in spec["frames"])
    # the sliders start where the live view starts, and show that label
    inputs = re.findall(r'<input type="range" min="0" max="(\d+)" step="1" value="(\d+)"', page)
    assert [(int(a), int(b)) for a, b in inputs] == [
        (len(s.values) - 1, s.start_index) for s in ex.sliders]
    outputs = re.findall(r"<output[^>]*>(.*?)</output>", page)
    assert [html.unescape(o) for o in outputs] == [s.text(s.start_index) for s in ex.sliders]


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


# --------------------------------------------------------------------------- bad input
def test_slider_rejects_empty_values():
    with pytest.raises(ValueError, match="slider 'lr'"):
        Slider("lr", [])


def test_slider_rejects_nan_values():
    with pytest.raises(ValueError, match="slider 'beta'.*nan"):
        Slider("beta", [0.1, float("nan"), 0.5])


def test_index_of_rejects_a_value_off_the_grid():
    ex = explorer("gd")
    assert ex.index_of(lr=0.07) == (3,)
    with pytest.raises(ValueError, match=r"lr=0\.06.*not on the grid of slider 'lr'"):
        ex.index_of(lr=0.06)


# --------------------------------------------------------------------------- markers & names
def test_slider_rejects_non_numeric_values_naming_the_slider():
    with pytest.raises(TypeError, match="'lr'"):
        Slider("lr", ["a", "b"])


def test_index_of_rejects_an_unknown_slider_name():
    with pytest.raises(ValueError, match="lrr"):
        explorer("gd").index_of(lrr=0.05)


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
    b = path.axes.bbox
    visible = want[np.all(np.isfinite(want), axis=1) & (want[:, 0] >= b.x0) & (want[:, 0] <= b.x1)
                   & (want[:, 1] >= b.y0) & (want[:, 1] <= b.y1)]
    assert dots.shape == visible.shape, (
        f"static dots: {len(dots)}, visible data points: {len(visible)}")
    assert np.abs(dots - visible).max() <= PIXEL_TOL


# --------------------------------------------------------------------------- comparison
def _comparison():
    from optlib.explore import ComparisonExplorer
    from optlib.objectives import Rosenbrock

    objectives = {"bowl": Quadratic(), "banana": Rosenbrock()}
    optimizers = {"GD": lambda o: optlib.GradientDescent(lr=0.05 if isinstance(o, Quadratic)
                                                          else 0.001),
                  "Adam": lambda o: optlib.Adam(lr=0.05)}
    return ComparisonExplorer(objectives, optimizers, steps=(0, 5, 20), tol=1e-2,
                              name="cmp"), objectives, optimizers


def test_comparison_static_frames_follow_each_background_and_equal_independent_runs():
    """Per objective (background) and step t, the drawn path is the independent run's prefix."""
    ex, objectives, optimizers = _comparison()
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


def test_comparison_live_dropdown_switches_background_and_limits():
    """The objective dropdown redraws on that objective's background with its axes limits."""
    ex, objectives, _ = _comparison()
    view = ex.widget()
    import ipywidgets

    assert isinstance(view.controls[0], ipywidgets.Dropdown)
    before = view.image.value
    view.controls[0].value = 1
    assert view.image.value != before
    ax = ex._artists["path:GD"].axes
    (x0, x1), (y0, y1) = objectives["banana"].bounds
    assert ax.get_xlim() == pytest.approx((x0, x1)) and ax.get_ylim() == pytest.approx((y0, y1))
    assert ax.get_title() == "banana"
    assert "banana" in view.readout.value


def test_comparison_static_html_has_a_select_and_each_background_once():
    """A <select> for the objective; the start background is the <img> src, others in the spec."""
    ex, objectives, _ = _comparison()
    page = ex.static_html()
    assert page.count("<option") == len(objectives)
    spec = json.loads(re.search(r'class="optlib-data">(.*?)</script>', page, re.S).group(1))
    assert spec["background"] == 0
    assert spec["images"][0] is None and spec["images"][1].startswith("data:image/png;base64,")
    assert page.count("data:image/png;base64,") == len(objectives)


def test_comparison_steps_table_counts_steps_to_tolerance():
    """steps_table() agrees with Trajectory.steps_to for every optimizer and objective."""
    ex, objectives, optimizers = _comparison()
    table = ex.steps_table().splitlines()
    assert table[0].split() == list(objectives)
    for row, (label, make) in zip(table[1:], optimizers.items()):
        cells = row.split()[1:]
        for cell, objective in zip(cells, objectives.values()):
            n = optlib.run(make(objective), objective, objective.start, 20).steps_to(1e-2)
            assert cell == (str(n) if n >= 0 else "—")


def test_steps_panel_shows_the_effective_step_sizes():
    """panel='steps': for gradient descent both coordinates' effective step is α."""
    ex = TrajectoryExplorer(Quadratic(), optlib.GradientDescent,
                            [Slider("lr", [0.01, 0.05])], steps=15, panel="steps", name="steps")
    data, _ = ex.frame((1,))
    for key in ("step1", "step2"):
        t, eff = data[key]
        np.testing.assert_array_equal(t, np.arange(1, 16))
        np.testing.assert_allclose(eff, 0.05, rtol=1e-9)
    with pytest.raises(ValueError, match="panel"):
        TrajectoryExplorer(Quadratic(), optlib.GradientDescent, [Slider("lr", [0.01])],
                           panel="loss curve")
