"""The live view (``optlib.explore.live``): moving a control redraws the same frames, and
whatever a learner triggers gets a sentence back, never a traceback.

* **live updates in place**: moving a widget slider keeps the figure, its axes
  and its Line2D objects, sets their data to the new frame (which is the
  independent computation of ``conftest.py``), and produces a new valid PNG and
  readout;
* **errors**: every grid position of every kind of exploration is shown without
  an exception escaping the callback, also with ``np.seterr(all="raise")`` and
  ``warnings.simplefilter("error")`` active; each slider's value is shown in a
  read-only label (the readout of an ipywidgets ``SelectionSlider`` accepts
  typed text and ignores it); a frame that cannot be shown (a note that
  overflows under strict settings, a failing frame or render) leaves the
  previous frame in place and shows a one-line message in the status line
  naming the slider values and what went wrong, which the next good change
  clears; a diverged run is not an error but a readout that quotes the bound
  the loss exceeded, checked against independent runs;
* the notebook display offers the static view and the widget.
"""

from __future__ import annotations

import contextlib
import html
import io
import re
import warnings

import numpy as np
import pytest
from learner_settings import assert_readable, strict
from PIL import Image

import optlib
from optlib.explore.model import WIDGET_VIEW
from optlib.explore.static import FALLBACK_NOTE
from optlib.explore import (
    STATIC_ONLY_ENV,
    ComparisonExplorer,
    EMAExplorer,
    MomentumRateExplorer,
    Slider,
    TrajectoryExplorer,
)
from optlib.objectives import Quadratic, Rosenbrock

ipywidgets = pytest.importorskip("ipywidgets")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(data)) as img:
        img.verify()
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.size


def png_ok(data: bytes) -> bool:
    return png_size(data) is not None


def equal_with_nan(a, b) -> bool:
    return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


def assert_status_hidden(view) -> None:
    assert view.status.value == ""
    assert view.status.layout.display == "none"


# --------------------------------------------------------------------------- in place
LIVE_MOVES = {  # (slider, value) moves to make in order, per case of conftest.py
    "gd": [("lr", 0.01), ("lr", 0.12), ("lr", 0.07)],
    "momentum": [("lr", 0.02), ("beta", 0.9), ("lr", 0.3), ("beta", 0.0)],
    "rotated": [("lr", 0.08), ("lr", 0.01)],
    "rate": [("lr", 0.004), ("beta", 0.0), ("lr", 1.6)],
    "ema": [("beta", 0.0), ("beta", 0.98)],
}


def test_live_slider_updates_existing_artists(explorer, case, case_name):
    ex = explorer
    w = ex.widget()
    assert ex.widget() is w
    fig = ex.figure
    axes = list(fig.axes)
    lines = {id(ax): list(ax.lines) for ax in axes}
    artists = dict(ex._artists)
    assert len(w.controls) == len(ex.sliders)
    width, height = fig.canvas.get_width_height()       # figure pixels
    assert (width, height) == (round(ex.figure.get_figwidth() * 96),
                               round(ex.figure.get_figheight() * 96))
    # the PNG has twice the pixels (crisp on a high-density screen) ...
    assert png_size(w.image.value) == (2 * width, 2 * height)
    # ... and is shown at the figure's own width, never stretched to the output area's
    assert (w.image.layout.width, w.image.layout.max_width) == (f"{width}px", "100%")

    for slider_name, value in LIVE_MOVES[case_name]:
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
        expected = case.expected(ex, ex.values(index))
        for n, artist in artists.items():
            x, y = artist.get_data()
            assert equal_with_nan(x, data[n][0]) and equal_with_nan(y, data[n][1]), n
            np.testing.assert_allclose(np.asarray(x, float), np.asarray(expected[n][0], float),
                                       rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=n)
            np.testing.assert_allclose(np.asarray(y, float), np.asarray(expected[n][1], float),
                                       rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=n)

        # a new, valid PNG of twice the figure's pixel size
        assert w.image.value != png_before
        assert png_size(w.image.value) == (2 * width, 2 * height)

        # a new readout that names the slider value
        assert w.readout.value == readout
        assert w.readout.value != text_before
        s = ex.sliders[i]
        assert f"{s.label} = {s.text(k)}" in plain(w.readout.value)


def test_live_readout_of_a_diverged_run(diverged_case_name, cases):
    all_cases, build = cases
    ex = build(diverged_case_name)
    w = ex.widget()
    target = ex.index_of(**all_cases[diverged_case_name].diverged)
    for i, k in enumerate(target):
        w.controls[i].value = k
    opt_cls = optlib.Momentum if diverged_case_name == "rate" else ex.optimizer.__class__
    values = {n: float(v) for n, v in ex.values(target).items()}
    traj = optlib.run(opt_cls(**values), Quadratic(), Quadratic().start, ex.steps)
    assert traj.diverged
    assert f"diverged at step {traj.diverged_at}" in plain(w.readout.value)


def test_comparison_live_dropdown_switches_background_and_limits(comparison):
    """The objective dropdown redraws on that objective's background with its axes limits."""
    ex, objectives, _ = comparison
    view = ex.widget()
    assert isinstance(view.controls[0], ipywidgets.Dropdown)
    before = view.image.value
    view.controls[0].value = 1
    assert view.image.value != before
    ax = ex._artists["path:GD"].axes
    (x0, x1), (y0, y1) = objectives["banana"].bounds
    assert ax.get_xlim() == pytest.approx((x0, x1)) and ax.get_ylim() == pytest.approx((y0, y1))
    assert ax.get_title() == "banana"
    assert "banana" in view.readout.value


def displayed(exploration, monkeypatch, *, in_kernel: bool) -> list[dict]:
    """The bundles ``exploration._ipython_display_()`` displays (in a kernel or not)."""
    import IPython.display

    from optlib.explore import model

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, raw=False, **kw: shown.append((obj, raw)))
    monkeypatch.setattr(model, "_in_kernel", lambda: in_kernel)
    exploration._ipython_display_()
    assert all(raw for _, raw in shown)
    return [obj for obj, _ in shown]


def test_a_kernel_displays_the_live_view_then_its_static_stand_in(explorer, monkeypatch):
    monkeypatch.delenv(STATIC_ONLY_ENV, raising=False)
    live, stand_in = displayed(explorer, monkeypatch, in_kernel=True)
    # the live view names the widget; a front end that cannot show it prints its text
    assert set(live) == {WIDGET_VIEW, "text/plain"}
    assert live[WIDGET_VIEW]["model_id"] == explorer.widget().model_id
    assert live["text/plain"] == f"{explorer!r}: run this cell to make it live."
    # the stand-in is the static page, hidden, marked for static.js, with its note
    assert set(stand_in) == {"text/html"}
    page = stand_in["text/html"]
    assert page == explorer.static_html(fallback=True) != explorer.static_html()
    opening = page[:page.index(">") + 1]
    assert 'data-optlib-fallback="1"' in opening and "display:none" in opening
    assert FALLBACK_NOTE in html.unescape(page)
    plain_page = explorer.static_html()
    plain_opening = plain_page[:plain_page.index(">") + 1]
    assert "data-optlib-fallback" not in plain_opening and "display:none" not in plain_opening
    assert FALLBACK_NOTE not in html.unescape(plain_page)
    # both pages carry the same frames (computed once)
    assert spec_json(page) == spec_json(plain_page)


def test_outside_a_kernel_or_in_the_book_build_only_the_static_view(explorer, monkeypatch):
    monkeypatch.delenv(STATIC_ONLY_ENV, raising=False)
    assert displayed(explorer, monkeypatch, in_kernel=False) == [explorer._repr_mimebundle_()]
    monkeypatch.setenv(STATIC_ONLY_ENV, "1")
    assert displayed(explorer, monkeypatch, in_kernel=True) == [explorer._repr_mimebundle_()]
    bundle = explorer._repr_mimebundle_()
    assert bundle == {"text/plain": repr(explorer), "text/html": explorer.static_html()}


def spec_json(page: str) -> str:
    return re.search(r'<script type="application/json" class="optlib-data">(.*?)</script>',
                     page, re.S).group(1)


def test_live_readout_and_status_show_a_hostile_label_as_text():
    """A label with markup is text in the readout and in the status line of a failing frame."""
    label = "<img src=x onerror=alert(1)> & 'α'"
    ex = TrajectoryExplorer(Quadratic(), optlib.GradientDescent,
                            [Slider("lr", [0.01, 0.05], label=label)], steps=5, name="hostile")
    view = ex.widget()
    assert "<img" not in view.readout.value
    assert plain(view.readout.value).startswith(f"{label} = 0.05:")
    real_frame = ex.frame

    def frame(index):
        if index == (0,):
            raise ValueError("<b>broken</b>")
        return real_frame(index)

    ex.frame = frame
    view.controls[0].value = 0
    assert "<img" not in view.status.value and "<b>broken" not in view.status.value
    assert_readable(plain(view.status.value), f"Cannot show {label} = 0.01",
                    "ValueError: <b>broken</b>")


# --------------------------------------------------------------------------- errors
GD_LRS = [0.01, 0.05, 0.085, 0.12]      # 0.085 > 2/25 grows without being stopped; 0.12 diverges
GD_STEPS = 25


def _gd(**kwargs):
    return TrajectoryExplorer(Quadratic(), optlib.GradientDescent,
                              [Slider("lr", GD_LRS, initial=0.05)], steps=GD_STEPS,
                              name="gd_errors", **kwargs)


def _network():
    from optlib.network import MLP, Digits, LearningRateExplorer, load_digits_split

    digits = load_digits_split()
    small = Digits(digits.X_train[:200], digits.y_train[:200], digits.X_test[:60],
                   digits.y_test[:60])
    return LearningRateExplorer(MLP(sizes=(64, 6, 10)),
                                {"GradientDescent": lambda: optlib.GradientDescent(lr=0.5)},
                                small, scales=(1.0, 1e4), epochs=2, batch_size=50,
                                progress=False, name="network_errors")


BUILDERS = {
    "gd": _gd,
    "momentum_eigen": lambda: TrajectoryExplorer(
        Quadratic(angle=np.pi / 6), optlib.Momentum,
        [Slider("lr", [0.02, 0.3], initial=0.02), Slider("beta", [0.0, 0.5], fmt="{:.2f}")],
        steps=30, eigenbasis=True, name="momentum_errors"),
    "rmsprop_steps": lambda: TrajectoryExplorer(
        Quadratic(), optlib.RMSprop,
        [Slider("lr", [0.02, 0.5]), Slider("beta", [0.5, 0.99], fmt="{:.2f}")],
        steps=40, panel="steps", name="rmsprop_errors"),
    "rate": lambda: MomentumRateExplorer(lrs=np.round(np.geomspace(0.004, 1.6, 4), 4),
                                         betas=(0.0, 0.9), steps=30, fine=30),
    "ema": lambda: EMAExplorer(betas=(0.0, 0.5, 0.9), steps=30, lags=15),
    "comparison": lambda: ComparisonExplorer(
        {"bowl": Quadratic(), "rosenbrock": Rosenbrock()},
        {"GradientDescent": lambda f: optlib.GradientDescent(lr=0.09),
         "Adam": lambda f: optlib.Adam(lr=0.1)}, steps=(0, 5, 20), name="comparison_errors"),
    "network": _network,
}
_built: dict = {}


def built(name: str):
    if name not in _built:
        _built[name] = BUILDERS[name]()
    return _built[name]


@pytest.mark.parametrize("name", list(BUILDERS))
def test_slider_values_are_read_only_labels_not_editable_readouts(name):
    """The SelectionSlider readout is off (typed text there is ignored by ipywidgets); a Label
    beside each slider shows its value and follows it."""
    ex = built(name)
    view = ex.widget()
    assert len(view.labels) == len(view.controls) == len(ex.sliders)
    for s, control, label in zip(ex.sliders, view.controls, view.labels):
        if s.choices is not None:
            assert isinstance(control, ipywidgets.Dropdown) and label is None
            continue
        assert isinstance(control, ipywidgets.SelectionSlider)
        assert control.readout is False
        assert type(label) is ipywidgets.Label           # not a Text box: nothing to type into
        assert label.value == s.text(control.value)
    for s, control, label in zip(ex.sliders, view.controls, view.labels):
        if label is None:
            continue
        for k in (len(s.values) - 1, 0):
            control.value = k
            assert label.value == s.text(k)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_position_under_strict_settings_shows_its_frame(name):
    """With np.seterr(all="raise") and warnings as errors, every grid position (diverged runs
    included) is shown: nothing escapes, no status message, readout and PNG are the frame's."""
    ex = built(name)
    view = ex.widget()
    with strict():
        for index in np.ndindex(*ex.shape):
            for control, k in zip(view.controls, index):
                control.value = k
            assert tuple(c.value for c in view.controls) == index
            assert_status_hidden(view)
            assert ex._index == index
            assert view.readout.value == ex.frame(index)[1]
            assert png_ok(view.image.value)


def test_diverged_run_readout_quotes_the_bound_the_loss_exceeded():
    """lr = 0.12 diverges: the readout names the step and the bound, as an independent run
    (optlib.run's default bound) finds them; it is a readout, not an error."""
    ex = built("gd")
    view = ex.widget()
    bowl = Quadratic()
    f0 = float(bowl.value(bowl.start))
    bound = 1e6 * max(1.0, abs(f0))
    view.controls[0].value = GD_LRS.index(0.12)
    traj = optlib.run(optlib.GradientDescent(lr=0.12), bowl, bowl.start, GD_STEPS)
    assert traj.diverged
    # the loss really exceeded the bound at that step (an unstopped run shows it)
    free = optlib.run(optlib.GradientDescent(lr=0.12), bowl, bowl.start, GD_STEPS,
                      max_loss=1e300)
    assert free.losses[traj.diverged_at] > bound >= free.losses[traj.diverged_at - 1]
    text = plain(view.readout.value)
    assert f"diverged at step {traj.diverged_at}: f(w) exceeded {bound:.3g}" in text, text
    assert_status_hidden(view)

    # lr = 0.085 is past 2/λ_max but not stopped in 25 steps: the readout says it grew
    view.controls[0].value = GD_LRS.index(0.085)
    grow = optlib.run(optlib.GradientDescent(lr=0.085), bowl, bowl.start, GD_STEPS)
    assert not grow.diverged and grow.losses[-1] > grow.losses[0]
    text = plain(view.readout.value)
    assert (f"f(w) − f* = {grow.losses[-1]:.3g}, up from {grow.losses[0]:.3g} at the start"
            in text), text
    view.controls[0].value = GD_LRS.index(0.05)
    assert "up from" not in plain(view.readout.value)


def _overflowing_note(values):
    """A learner's note: e^(10⁴α) overflows for α ≥ 0.071 (a warning by default, an error under
    strict settings); fine at the start, α = 0.05."""
    return f"e^(10⁴α) = {np.exp(np.float64(1e4 * values['lr'])):.3g}"


@pytest.mark.parametrize("setting, words", [
    ("seterr", ("FloatingPointError", "overflow")),
    ("warnings", ("RuntimeWarning", "overflow")),
])
def test_a_failing_frame_shows_a_message_and_keeps_the_previous_frame(setting, words):
    ex = _gd(note=_overflowing_note)
    view = ex.widget()
    start = ex._index
    before_png, before_readout = view.image.value, view.readout.value
    before_data = {n: a.get_data() for n, a in ex._artists.items()}
    assert "e^(10⁴α) = 1.4e+217" in plain(before_readout)       # α = 0.05 is fine
    k_bad = GD_LRS.index(0.12)                                  # e^1200 overflows

    @contextlib.contextmanager
    def learner_setting():
        if setting == "seterr":
            with np.errstate(all="raise"):
                yield
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                yield

    with learner_setting():
        view.controls[0].value = k_bad              # must not raise
        message = plain(view.status.value)
        assert view.status.layout.display != "none"
        assert_readable(message, "Cannot show α = 0.12", *words,
                        "The figure still shows α = 0.05")
        assert message.startswith("✘")
        # the previous frame stays: image, readout, artists' data, index
        assert view.image.value == before_png
        assert view.readout.value == before_readout
        assert ex._index == start
        for n, a in ex._artists.items():
            x, y = a.get_data()
            np.testing.assert_array_equal(np.asarray(x, float), np.asarray(before_data[n][0], float))
            np.testing.assert_array_equal(np.asarray(y, float), np.asarray(before_data[n][1], float))
        # the slider and its label show where the reader moved it
        assert view.controls[0].value == k_bad and view.labels[0].value == "0.12"

        # a good change works again and clears the message
        view.controls[0].value = GD_LRS.index(0.01)
        assert_status_hidden(view)
        assert view.readout.value == ex.frame((0,))[1]
        assert "α = 0.01" in plain(view.readout.value)
        assert view.image.value != before_png and png_ok(view.image.value)

        # and failing again, then recovering, still works
        view.controls[0].value = k_bad
        assert "Cannot show α = 0.12" in plain(view.status.value)
        assert "The figure still shows α = 0.01" in plain(view.status.value)
        view.controls[0].value = GD_LRS.index(0.05)
        assert_status_hidden(view)


def test_a_long_multi_line_error_becomes_one_short_line(monkeypatch):
    ex = _gd()
    view = ex.widget()
    real_frame = ex.frame

    def frame(index):
        if index == (3,):
            raise IndexError("frame 3 is broken\n" + "  detail line\n" * 50 + "x" * 1000)
        return real_frame(index)

    monkeypatch.setattr(ex, "frame", frame)
    view.controls[0].value = 3
    message = plain(view.status.value)
    assert_readable(message, "IndexError: frame 3 is broken", "Cannot show α = 0.12")
    assert "detail line" not in message
    view.controls[0].value = 0
    assert_status_hidden(view)


def test_a_failing_render_restores_the_figure_and_background(monkeypatch):
    """The comparison's dropdown switches backgrounds: a render that fails after the switch
    puts the previous background's axes limits back, and the next change works."""
    ex = ComparisonExplorer({"bowl": Quadratic(), "rosenbrock": Rosenbrock()},
                            {"GradientDescent": lambda f: optlib.GradientDescent(lr=1e-3)},
                            steps=(0, 5, 20), name="comparison_render_errors")
    view = ex.widget()
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in ex.figure.axes]
    before = {n: a.get_data() for n, a in ex._artists.items()}
    real_render = ex.render
    calls = {"n": 0}

    def render():
        calls["n"] += 1
        if calls["n"] == 1:
            raise MemoryError("cannot allocate the canvas")
        return real_render()

    monkeypatch.setattr(ex, "render", render)
    assert view.controls[0].value == 0
    view.controls[0].value = 1                       # the dropdown: rosenbrock
    message = plain(view.status.value)
    assert_readable(message, "Cannot show objective = rosenbrock", "MemoryError",
                    "cannot allocate the canvas", "still shows objective = bowl")
    assert [(ax.get_xlim(), ax.get_ylim()) for ax in ex.figure.axes] == limits
    for n, a in ex._artists.items():
        np.testing.assert_array_equal(np.asarray(a.get_data()[1], float),
                                      np.asarray(before[n][1], float))
    view.controls[1].value = 0                       # next change: rosenbrock, step 0
    assert_status_hidden(view)
    assert plain(view.readout.value).startswith("rosenbrock, step 0")
