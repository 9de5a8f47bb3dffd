r"""Exercise checks: ``check("1.2", answer)`` tells a reader whether an answer is right.

Each chapter registers its exercises in a module of this package
(``ch01.py``, ``ch02.py``, ...). An exercise computes its expected answer with
optlib itself — nothing is hard-coded — and compares the reader's answer with
a tolerance. A check never raises for a wrong or malformed answer: it returns
a :class:`Feedback` whose message says what was expected, so a learner sees a
sentence, not a traceback. Only an unknown exercise id is an error.

A chapter's worked solution runs inside ``with solution("1.2"):``
(``optlib/exercises/solutions.py``): its output, checks included, is shown folded.

Examples:
    >>> from optlib.exercises import check
    >>> check("1.2", 1 / 22).correct
    True
"""

from __future__ import annotations

import html
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._validate import describe

__all__ = ["Exercise", "Feedback", "check", "register", "exercises", "solution"]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer; true when correct. Displays as a coloured box."""

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return ("✔ " if self.correct else "✘ ") + self.message

    def _repr_html_(self) -> str:
        color, mark = ("#1a7f37", "✔") if self.correct else ("#b35900", "✘")
        return (f'<div style="border-left:4px solid {color};padding:0.2em 0.6em">'
                f"{mark} {html.escape(self.message)}</div>")

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise.

    Args:
        id: ``"<chapter>.<number>"``, e.g. ``"2.3"``.
        question: one line saying what is asked.
        expected: zero-argument function computing the answer with optlib:
            a number, a tuple of numbers, or a string (one of ``choices``).
        rtol, atol: tolerance for numeric answers.
        choices: allowed strings for a multiple-choice answer.
        hint: shown with a wrong answer.
    """

    id: str
    question: str
    expected: Callable[[], object]
    rtol: float = 1e-3
    atol: float = 0.0
    choices: tuple[str, ...] = field(default=())
    hint: str = ""

    def check(self, answer) -> Feedback:
        """The verdict on ``answer``; never raises for a wrong or malformed answer.

        Args:
            answer: the reader's answer: a number, a sequence of numbers or a
                string (one of ``choices``), as the question asks.

        Returns:
            A :class:`Feedback`. A malformed answer (wrong type, wrong number of
            values, not finite) gets one that says what was expected and what was
            given.
        """
        want = self.expected()
        if isinstance(want, str):
            return self._check_choice(answer, want)
        return self._check_numbers(answer, want)

    def _wrong(self, message: str) -> Feedback:
        return Feedback(False, f"{message} {self.hint}".strip())

    def _check_choice(self, answer, want: str) -> Feedback:
        choices = list(self.choices)
        if not isinstance(answer, str):
            return self._wrong(f"Exercise {self.id} expects one of {choices} as a string "
                               f"(in quotes), got {_shown(answer)}.")
        given = answer.strip().lower()
        if self.choices and given not in [c.lower() for c in self.choices]:
            return self._wrong(f"Exercise {self.id}: {_shown(answer)} is not one of {choices}.")
        if given == want.lower():
            return Feedback(True, f"Exercise {self.id}: correct, {want}.")
        return self._wrong(f"Exercise {self.id}: {_shown(answer)} is not right.")

    def _check_numbers(self, answer, want) -> Feedback:
        want_arr = np.atleast_1d(np.asarray(want, dtype=float))
        kind = self._kind(want_arr)
        if isinstance(answer, str) and _is_number(answer):
            return self._wrong(f"Exercise {self.id} expects {kind}, got the string "
                               f"{_shown(answer)}: write the number without quotes.")
        if answer is None or isinstance(answer, (bool, np.bool_, str, bytes, dict)):
            return self._wrong(f"Exercise {self.id} expects {kind}, got {_shown(answer)}.")
        try:
            got = _as_floats(answer)
        except OverflowError:                # an integer beyond the floating-point range
            return self._wrong(f"Exercise {self.id} expects {kind}, got {_shown(answer)}, "
                               "which is too large for a floating-point number.")
        except Exception:  # anything numpy cannot read as real numbers: a sentence, not a traceback
            return self._wrong(f"Exercise {self.id} expects {kind}, got {_shown(answer)}, "
                               "which is not a number or a flat sequence of numbers.")
        if got.shape != want_arr.shape:
            if got.size == want_arr.size:
                given = f"an array of shape {got.shape}"
            else:
                given = _count(got.size)
            return self._wrong(f"Exercise {self.id} expects {kind}, got {given}: "
                               f"{_shown(answer)}.")
        if not np.all(np.isfinite(got)):
            return self._wrong(f"Exercise {self.id}: the answer must be finite, got "
                               f"{_shown(answer)}.")
        with np.errstate(all="ignore"):      # |got − want| may overflow: then it is far off
            close = bool(np.all(np.abs(got - want_arr) <= self.atol + self.rtol * np.abs(want_arr)))
        if close:
            return Feedback(True, f"Exercise {self.id}: correct.")
        return self._wrong(f"Exercise {self.id}: {_shown(answer)} is not right "
                           f"(tolerance {self.rtol:g} relative).")

    @staticmethod
    def _kind(want: np.ndarray) -> str:
        return "a number" if want.size == 1 else f"{want.size} numbers"


def _shown(answer) -> str:
    """A short one-line rendering of an answer for a message (never raises)."""
    try:
        text = describe(answer)
    except Exception:  # a repr that fails: name the type instead
        return f"a {type(answer).__name__}"
    return " ".join(text.split())


def _count(n: int) -> str:
    return "no number" if n == 0 else ("1 number" if n == 1 else f"{n} numbers")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _as_floats(answer) -> np.ndarray:
    """``answer`` as an at-least-1-d float array; masked entries become ``nan``."""
    raw = np.asarray(answer)
    if raw.dtype.kind not in "iufO":   # booleans, complex, text, dates: not converted
        raise TypeError(f"not real numbers: dtype {raw.dtype}")
    if isinstance(answer, np.ma.MaskedArray):
        return np.atleast_1d(answer.astype(float).filled(np.nan))
    return np.atleast_1d(np.asarray(raw, dtype=float))


_REGISTRY: dict[str, Exercise] = {}


def register(*items: Exercise) -> None:
    """Add exercises to the registry (each id once)."""
    for item in items:
        if item.id in _REGISTRY:
            raise ValueError(f"exercise id {item.id!r} is registered twice")
        _REGISTRY[item.id] = item


def _load() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def exercises() -> dict[str, Exercise]:
    """All registered exercises by id."""
    return dict(_REGISTRY)


def check(exercise_id: str, answer) -> Feedback:
    """Check ``answer`` to exercise ``exercise_id`` (e.g. ``"1.2"``).

    A wrong or malformed answer (a string where a number is expected, ``None``,
    too many numbers, ``nan``, ...) is not an error: the returned
    :class:`Feedback` says what was expected and what was given.

    Args:
        exercise_id: the exercise, a string such as ``"1.2"``.
        answer: the reader's answer.

    Returns:
        A :class:`Feedback`, true when the answer is right.

    Raises:
        TypeError: if ``exercise_id`` is not a string.
        ValueError: if there is no such exercise.
    """
    exercise = _REGISTRY[_known_exercise(exercise_id)]
    try:
        feedback = exercise.check(answer)
    except Exception as error:  # noqa: BLE001 -- a learner must see a sentence, not a traceback
        feedback = Feedback(False, f"Exercise {exercise_id}: the check itself failed "
                                   f"({type(error).__name__}: {_first_line(error)}); this "
                                   "says nothing about your answer.")
    _record(feedback)          # inside ``with solution(...)``: part of its folded output
    return feedback


def _known_exercise(exercise_id) -> str:
    """``exercise_id`` if it names a registered exercise; else ``TypeError``/``ValueError``."""
    known = sorted(_REGISTRY, key=_order)
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a string such as '1.1', one of {known}, got "
                        f"exercise_id={describe(exercise_id)}")
    if exercise_id not in _REGISTRY:
        raise ValueError(f"exercise_id must be one of {known}, got "
                         f"exercise_id={exercise_id!r}")
    return exercise_id


def _order(exercise_id: str) -> tuple:
    """Sort key: "1.2" before "1.10"; ids that are not numbers last."""
    parts = exercise_id.split(".")
    if all(p.isdigit() for p in parts):
        return (0, tuple(int(p) for p in parts))
    return (1, (exercise_id,))


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= 160 else line[:157] + "..."


_load()

from .solutions import _record, solution  # noqa: E402 -- after the registry it checks against
