"""The exercise-check machinery, over every registered exercise of every chapter.

Per-chapter test files (tests/exercises/test_chNN.py) confirm each expected answer by an
independent computation; this file checks what every exercise must do for a
learner: accept the right answer, reject a wrong one with a readable message and a
hint, and answer malformed input with a failing Feedback instead of a traceback.
"""

from __future__ import annotations

import numpy as np
import pytest

from optlib.exercises import Exercise, Feedback, check, exercises, register

ALL = exercises()
IDS = sorted(ALL, key=lambda i: tuple(int(p) for p in i.split(".")))


def _wrong(exercise: Exercise):
    """An answer that is certainly wrong: another choice, or every number moved well off."""
    want = exercise.expected()
    if isinstance(want, str):
        return next(c for c in exercise.choices if c.lower() != want.lower())
    arr = np.atleast_1d(np.asarray(want, dtype=float))
    moved = arr * 1.5 + 1.0
    return float(moved[0]) if arr.size == 1 else moved.tolist()


def test_every_chapter_with_a_notebook_registers_at_least_three_exercises():
    """Each chapter N that has exercises has at least 3 (ids N.1, N.2, N.3)."""
    chapters = {i.split(".")[0] for i in IDS}
    assert chapters, "no exercises registered"
    for chapter in chapters:
        assert {f"{chapter}.1", f"{chapter}.2", f"{chapter}.3"} <= set(ALL)


@pytest.mark.parametrize("exercise_id", IDS)
def test_every_exercise_has_a_question_and_a_hint(exercise_id):
    """What the reader is asked, and what a wrong answer suggests, are filled in."""
    assert ALL[exercise_id].question.strip() and ALL[exercise_id].hint.strip()


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id):
    """The expected answer (computed by optlib) is accepted, with a ✔ message."""
    feedback = check(exercise_id, ALL[exercise_id].expected())
    assert feedback.correct, feedback.message
    assert bool(feedback) is True
    assert str(feedback).startswith(f"✔ Exercise {exercise_id}")


@pytest.mark.parametrize("exercise_id", IDS)
def test_wrong_answer_fails_readably(exercise_id):
    """A wrong answer fails, names the exercise, and says so in a sentence."""
    feedback = check(exercise_id, _wrong(ALL[exercise_id]))
    assert not feedback.correct
    assert str(feedback).startswith("✘ ")
    assert f"Exercise {exercise_id}" in feedback.message
    assert "not right" in feedback.message
    assert "✘" in feedback._repr_html_()


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("answer", [None, "abc", [1.0, 2.0, 3.0, 4.0, 5.0], [], float("nan"),
                                    {"a": 1}, object(), True, 1j])
def test_malformed_answer_returns_failing_feedback(exercise_id, answer):
    """Malformed input never raises: it returns a failing Feedback naming the exercise."""
    feedback = check(exercise_id, answer)
    assert isinstance(feedback, Feedback)
    assert not feedback.correct
    assert f"Exercise {exercise_id}" in feedback.message


def test_unknown_exercise_id_is_an_error_naming_it():
    """Only a programming error (an unknown id) raises."""
    with pytest.raises(ValueError, match="exercise_id='9.99'"):
        check("9.99", 1.0)


def test_an_id_cannot_be_registered_twice():
    """Registering an existing id is refused."""
    with pytest.raises(ValueError, match="registered twice"):
        register(Exercise(id=IDS[0], question="duplicate", expected=lambda: 1.0))


def test_tolerance_is_relative():
    """A numeric answer within rtol passes, outside fails (tolerance stated in the message)."""
    ex = Exercise(id="0.1", question="two", expected=lambda: 2.0, rtol=1e-3)
    assert ex.check(2.0015).correct
    wrong = ex.check(2.01)
    assert not wrong.correct and "tolerance 0.001" in wrong.message


@pytest.mark.parametrize("exercise_id", [i for i in IDS
                                         if not isinstance(ALL[i].expected(), str)])
def test_numeric_answer_of_the_wrong_length_says_how_many_numbers(exercise_id):
    """Too many numbers: the message says how many are expected."""
    n = np.atleast_1d(ALL[exercise_id].expected()).size
    feedback = check(exercise_id, [0.5] * (n + 1))
    assert not feedback.correct
    assert ("a number" if n == 1 else f"{n} numbers") in feedback.message


@pytest.mark.parametrize("exercise_id", [i for i in IDS if isinstance(ALL[i].expected(), str)])
def test_choice_answers_ignore_case_and_spaces_and_must_be_a_choice(exercise_id):
    """'  Oscillating ' counts as 'oscillating'; a word that is no choice is refused."""
    want = ALL[exercise_id].expected()
    assert check(exercise_id, f"  {want.upper()} ").correct
    feedback = check(exercise_id, "certainly-not-a-choice")
    assert not feedback.correct and "is not one of" in feedback.message
