r"""Exercise checks: ``check("1.2", answer)`` tells a reader whether an answer is right.

Each chapter registers its exercises in a module of this package
(``ch01.py``, ``ch02.py``, ...). An exercise computes its expected answer with
optlib itself — nothing is hard-coded — and compares the reader's answer with
a tolerance. A check never raises for a wrong or malformed answer: it returns
a :class:`Feedback` whose message says what was expected, so a learner sees a
sentence, not a traceback. Only an unknown exercise id is an error.

Examples:
    >>> from optlib.exercises import check
    >>> check("1.1", 0.08).correct
    True
"""

from __future__ import annotations

import html
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Exercise", "Feedback", "check", "register", "exercises"]


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
        want = self.expected()
        if isinstance(want, str):
            return self._check_choice(answer, want)
        return self._check_numbers(answer, want)

    def _wrong(self, message: str) -> Feedback:
        return Feedback(False, f"{message} {self.hint}".strip())

    def _check_choice(self, answer, want: str) -> Feedback:
        if not isinstance(answer, str):
            return self._wrong(f"Exercise {self.id} expects one of {list(self.choices)} as a "
                               f"string, got {answer!r}.")
        given = answer.strip().lower()
        if self.choices and given not in [c.lower() for c in self.choices]:
            return self._wrong(f"Exercise {self.id}: {answer!r} is not one of "
                               f"{list(self.choices)}.")
        if given == want.lower():
            return Feedback(True, f"Exercise {self.id}: correct, {want}.")
        return self._wrong(f"Exercise {self.id}: {answer!r} is not right.")

    def _check_numbers(self, answer, want) -> Feedback:
        want_arr = np.atleast_1d(np.asarray(want, dtype=float))
        if answer is None or isinstance(answer, (bool, np.bool_, str)):
            return self._wrong(f"Exercise {self.id} expects {self._kind(want_arr)}, got "
                               f"{answer!r}.")
        try:
            got = np.atleast_1d(np.asarray(answer, dtype=float))
        except (TypeError, ValueError):
            return self._wrong(f"Exercise {self.id} expects {self._kind(want_arr)}, got "
                               f"{answer!r}.")
        if got.shape != want_arr.shape:
            return self._wrong(f"Exercise {self.id} expects {self._kind(want_arr)}, got "
                               f"{got.size} value(s).")
        if not np.all(np.isfinite(got)):
            return self._wrong(f"Exercise {self.id}: the answer must be finite, got {answer!r}.")
        if np.allclose(got, want_arr, rtol=self.rtol, atol=self.atol):
            return Feedback(True, f"Exercise {self.id}: correct.")
        return self._wrong(f"Exercise {self.id}: {answer!r} is not right "
                           f"(tolerance {self.rtol:g} relative).")

    @staticmethod
    def _kind(want: np.ndarray) -> str:
        return "a number" if want.size == 1 else f"{want.size} numbers"


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

    Raises:
        ValueError: if there is no such exercise.
    """
    if exercise_id not in _REGISTRY:
        raise ValueError(f"exercise_id must be one of {sorted(_REGISTRY)}, got "
                         f"exercise_id={exercise_id!r}")
    return _REGISTRY[exercise_id].check(answer)


_load()
