"""What a learner can trigger from an exercise check gets a sentence back.

**Exercise checks**: for every registered exercise, malformed answers (strings,
``None``, wrong counts and shapes, ``nan``, huge integers, complex numbers,
dicts, ...) give a failing :class:`~optlib.exercises.Feedback` with a one-line
message saying what was expected and what was given, also under strict numpy
and warning settings; only an unknown exercise id raises.

The same guarantees for the explorations' live widgets are tested in
``tests/explore/test_live.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from learner_settings import assert_readable, strict

import optlib.exercises as exercises_module
from optlib.exercises import Exercise, Feedback, check, exercises


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
