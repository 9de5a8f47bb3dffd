"""What a learner can trigger from an exploration or an exercise check gets a sentence back.

* **live widgets**: every grid position of every kind of exploration is shown
  without an exception escaping the callback, also with ``np.seterr(all="raise")``
  and ``warnings.simplefilter("error")`` active; each slider's value is shown in
  a read-only label (the readout of an ipywidgets ``SelectionSlider`` accepts
  typed text and ignores it); a frame that cannot be shown (a note that
  overflows under strict settings, a failing frame or render) leaves the
  previous frame in place and shows a one-line message in the status line
  naming the slider values and what went wrong, which the next good change
  clears; a diverged run is not an error but a readout that quotes the bound
  the loss exceeded, checked against independent runs;
* **direct calls**: a bad ``update`` index or ``index_of`` value is a
  ``TypeError``/``ValueError`` naming the value and the allowed range, and the
  figure stays as it was;
* **exercise checks**: for every registered exercise, malformed answers
  (strings, ``None``, wrong counts and shapes, ``nan``, huge integers, complex
  numbers, dicts, ...) give a failing :class:`~optlib.exercises.Feedback` with a
  one-line message saying what was expected and what was given, also under
  strict numpy and warning settings; only an unknown exercise id raises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import io
import re
import warnings

import numpy as np
import pytest
from PIL import Image

import optlib
import optlib.exercises as exercises_module
from optlib.explore import (
    ComparisonExplorer,
    EMAExplorer,
    MomentumRateExplorer,
    Slider,
    TrajectoryExplorer,
)
from optlib.exercises import Exercise, Feedback, check, exercises
from optlib.network import MLP, Digits, LearningRateExplorer, load_digits_split
from optlib.objectives import Quadratic, Rosenbrock

ipywidgets = pytest.importorskip("ipywidgets")


@contextlib.contextmanager
def strict():
    """What a learner may have set in the notebook: every float problem and warning raises."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def png_ok(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as img:
        img.verify()
    return data[:8] == b"\x89PNG\r\n\x1a\n"


def assert_readable(message: str, *words: str) -> None:
    """One short line, no traceback, and the given words in it."""
    assert message, "empty message"
    assert "\n" not in message, message
    assert "Traceback" not in message and 'File "' not in message, message
    assert len(message) < 500, message
    for word in words:
        assert word in message, (word, message)


def assert_status_hidden(view) -> None:
    assert view.status.value == ""
    assert view.status.layout.display == "none"


# --------------------------------------------------------------------------- explorations
GD_LRS = [0.01, 0.05, 0.085, 0.12]      # 0.085 > 2/25 grows without being stopped; 0.12 diverges
GD_STEPS = 25


def _gd(**kwargs):
    return TrajectoryExplorer(Quadratic(), optlib.GradientDescent,
                              [Slider("lr", GD_LRS, initial=0.05)], steps=GD_STEPS,
                              name="gd_errors", **kwargs)


def _network():
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


def explorer(name: str):
    if name not in _built:
        _built[name] = BUILDERS[name]()
    return _built[name]


@pytest.mark.parametrize("name", list(BUILDERS))
def test_slider_values_are_read_only_labels_not_editable_readouts(name):
    """The SelectionSlider readout is off (typed text there is ignored by ipywidgets); a Label
    beside each slider shows its value and follows it."""
    ex = explorer(name)
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
    ex = explorer(name)
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
    ex = explorer("gd")
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


def test_comparison_and_rate_readouts_quote_the_bound():
    rosen = Rosenbrock()
    bound = 1e6 * max(1.0, abs(float(rosen.value(rosen.start))))
    ex = explorer("comparison")
    traj = optlib.run(optlib.GradientDescent(lr=0.09), rosen, rosen.start, 20)
    assert traj.diverged
    text = plain(ex.frame((1, 2))[1])
    assert f"GradientDescent diverged at step {traj.diverged_at} (f(w) > {bound:.3g})" in text

    rate = explorer("rate")
    i, j = rate.index_of(lr=1.6, beta=0.0)
    bowl = Quadratic()
    traj = optlib.run(optlib.Momentum(lr=1.6, beta=0.0), bowl, bowl.start, 30)
    bound = 1e6 * max(1.0, abs(float(bowl.value(bowl.start))))
    assert traj.diverged
    assert f"diverged at step {traj.diverged_at}: f(w) exceeded {bound:.3g}" in plain(
        rate.frame((i, j))[1])


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


def test_bad_update_index_is_a_readable_error_and_changes_nothing():
    ex = _gd()
    ex.update((1,))
    before = {n: a.get_data() for n, a in ex._artists.items()}
    cases = [((99,), ValueError, ["index 99 is out of range for slider 'lr'", "0 to 3"]),
             ((-1,), ValueError, ["index -1 is out of range", "0 to 3"]),
             ((1.5,), TypeError, ["index must be 1 whole number(s)", "'lr'", "1.5"]),
             (("a",), TypeError, ["index must be", "'a'"]),
             ((0, 1), TypeError, ["index must be 1 whole number(s)"]),
             (None, TypeError, ["index must be", "None"])]
    for index, error, words in cases:
        with pytest.raises(error) as info:
            ex.update(index)
        for word in words:
            assert word in str(info.value), (word, str(info.value))
        assert ex._index == (1,)
        for n, a in ex._artists.items():
            np.testing.assert_array_equal(np.asarray(a.get_data()[1], float),
                                          np.asarray(before[n][1], float))


def test_index_of_names_the_value_and_the_grid():
    ex = _gd()
    with pytest.raises(TypeError, match=r"lr must be a number on the grid of slider 'lr' "
                                        r"\(one of 0\.01, 0\.05, 0\.085, 0\.12\), got lr='0\.05'"):
        ex.index_of(lr="0.05")
    with pytest.raises(ValueError, match=r"lr=nan is not on the grid"):
        ex.index_of(lr=float("nan"))
    with pytest.raises(ValueError, match=r"lr=-0\.05 is not on the grid"):
        ex.index_of(lr=-0.05)
    assert ex.index_of(lr=0.085) == (2,)


# --------------------------------------------------------------------------- exercises
ALL = exercises()
IDS = sorted(ALL, key=lambda i: tuple(int(p) for p in i.split(".")))
WANT = {i: ALL[i].expected() for i in IDS}       # computed once: the checks are what is tested


class _Unprintable:
    def __repr__(self):
        raise RuntimeError("no repr")


def bad_answers(exercise_id: str) -> list:
    """Malformed and wrong answers a learner might type, for this exercise."""
    want = WANT[exercise_id]
    answers = [None, "", "abc", "<script>alert(1)</script>", {"a": 1}, {1.0}, object(),
               _Unprintable(), True, 1j, np.array([1j, 2j]), float("nan"), float("inf"),
               10 ** 400, [10 ** 400, 1], [1, [2, 3]], [], b"0.1", ["0.1", "0.2"],
               np.ma.masked_array([1.0, 2.0], mask=[True, False]), np.zeros((3, 3)),
               (x for x in [1.0]), np.datetime64("2020-01-01")]
    if isinstance(want, str):
        answers += [0.5, [want], want + "s", ALL[exercise_id].choices]
    else:
        n = np.atleast_1d(want).size
        answers += [[0.5] * (n + 1), "0.5", np.full(n, np.nan), np.full(n, 1e308) * -1.7,
                    np.atleast_1d(np.asarray(want, float))[None, :] if n > 1 else [[want]]]
    return answers


@pytest.fixture
def fast_registry(monkeypatch):
    """Every registered exercise, with its expected answer computed once (speed only)."""
    for i in IDS:
        monkeypatch.setitem(exercises_module._REGISTRY, i,
                            dataclasses.replace(ALL[i], expected=lambda w=WANT[i]: w))


@pytest.mark.parametrize("exercise_id", IDS)
def test_every_bad_answer_gets_a_readable_failing_feedback(exercise_id, fast_registry):
    for answer in bad_answers(exercise_id):
        feedback = check(exercise_id, answer)
        assert isinstance(feedback, Feedback), answer
        assert not feedback.correct and not bool(feedback), answer
        assert_readable(feedback.message, f"Exercise {exercise_id}")
        assert "check itself failed" not in feedback.message, feedback.message
        assert str(feedback).startswith("✘ ")
        page = feedback._repr_html_()
        assert "<script>" not in page and "✘" in page


@pytest.mark.parametrize("exercise_id", IDS)
def test_bad_answer_messages_say_what_was_expected_and_what_was_given(exercise_id,
                                                                     fast_registry):
    want = WANT[exercise_id]
    if isinstance(want, str):
        choices = list(ALL[exercise_id].choices)
        message = check(exercise_id, 0.5).message
        assert "as a string" in message and "got 0.5" in message
        assert all(repr(c) in message for c in choices), message
        message = check(exercise_id, "zzz").message
        assert "'zzz' is not one of" in message
        return
    n = np.atleast_1d(want).size
    kind = "a number" if n == 1 else f"{n} numbers"
    cases = [("0.5", ["got the string '0.5'", "without quotes"]),
             (None, ["got None"]),
             ({"a": 1}, ["got {'a': 1}"]),
             (10 ** 400, ["too large for a floating-point number"]),
             (1j, ["got 1j", "not a number"]),
             ([0.5] * (n + 1), [f"got {n + 1} numbers"]),
             ([], ["got no number"]),
             (float("nan"), ["finite"] if n == 1 else ["got 1 number"])]
    if n > 1:
        cases.append((np.atleast_1d(np.asarray(want, float))[None, :], [f"shape (1, {n})"]))
    for answer, words in cases:
        message = check(exercise_id, answer).message
        assert_readable(message, *words)
        if "finite" not in words:
            assert f"expects {kind}" in message, message


@pytest.mark.parametrize("exercise_id", IDS)
def test_checks_work_under_strict_numpy_and_warning_settings(exercise_id):
    """The real checks (expected answers computed by optlib) with every float problem and
    warning raising: the right answer passes, bad ones get a Feedback."""
    want = WANT[exercise_id]
    with strict():
        assert check(exercise_id, want).correct
        for answer in (None, 10 ** 400, (1e308, -1.7e308), "0.5"):
            feedback = check(exercise_id, answer)
            assert isinstance(feedback, Feedback) and not feedback.correct
            assert_readable(feedback.message, f"Exercise {exercise_id}")


def test_an_overflowing_comparison_is_a_wrong_answer_not_an_error():
    ex = Exercise(id="0.1", question="q", expected=lambda: (1e308, -1e308), rtol=1e-3)
    with strict():
        feedback = ex.check((-1.7e308, 1.7e308))
    assert not feedback.correct and "is not right" in feedback.message


def test_a_check_that_fails_inside_says_so_instead_of_raising(monkeypatch):
    monkeypatch.setitem(exercises_module._REGISTRY, "0.9",
                        Exercise(id="0.9", question="q", expected=lambda: 1 / 0))
    feedback = check("0.9", 1.0)
    assert not feedback.correct
    assert_readable(feedback.message, "Exercise 0.9", "check itself failed",
                    "ZeroDivisionError", "nothing about your answer")


@pytest.mark.parametrize("exercise_id, error", [
    ("9.99", ValueError), ("", ValueError), (1.1, TypeError), (["1.1"], TypeError),
    (None, TypeError)])
def test_an_unknown_exercise_id_is_an_error_listing_the_known_ids(exercise_id, error):
    with pytest.raises(error) as info:
        check(exercise_id, 1.0)
    message = str(info.value)
    assert f"exercise_id={exercise_id!r}" in message
    assert all(repr(i) in message for i in IDS)
