r"""Worked solutions whose output stays folded until a learner opens it.

A chapter's solution cell reads::

    with solution("2.1"):
        t = ...
        print(f"t = {t}")
        check("2.1", t)

Everything the block prints, and the verdict of every :func:`~optlib.exercises.check`
it makes, is collected and shown when the block ends as *one* folded block: an HTML
``<details>`` whose summary names the exercise, closed until the learner opens it. So a
learner who runs the whole notebook (JupyterLab's Run All, Colab's Run all) does not
see the answers under the questions; JupyterLab unfolds a cell's outputs whenever it
runs the cell, so folding the cell alone would not do. The plain-text form of the
same output carries every line, for viewers that show no HTML.

If the block raises, what it printed so far is printed as usual, unfolded, and the
error propagates: nothing is lost.
"""

from __future__ import annotations

import contextlib
import html
import io
import sys

__all__ = ["solution", "SUMMARY"]

#: The folded block's summary line; ``{id}`` is the exercise.
SUMMARY = "Show the output of the solution to exercise {id}"

_OPEN: list["solution"] = []       # the blocks running now (innermost last)


class solution(contextlib.AbstractContextManager):  # noqa: N801 -- reads as a statement
    """``with solution("2.1"): ...`` runs a worked solution with its output folded.

    Args:
        exercise_id: the exercise the block solves, e.g. ``"2.1"`` (a registered id).

    Raises:
        TypeError: if ``exercise_id`` is not a string.
        ValueError: if there is no such exercise.
    """

    def __init__(self, exercise_id: str):
        from . import _known_exercise

        self.id = _known_exercise(exercise_id)
        self._pieces: list = []           # str (printed text) and Feedback, in order
        self._buffer: io.StringIO | None = None
        self._redirect = None

    def __enter__(self) -> "solution":
        self._buffer = io.StringIO()
        self._redirect = contextlib.redirect_stdout(self._buffer)
        self._redirect.__enter__()
        _OPEN.append(self)
        return self

    def _flush(self) -> None:
        text = self._buffer.getvalue()
        if text:
            self._pieces.append(text)
            self._buffer.seek(0)
            self._buffer.truncate()

    def _add(self, feedback) -> None:
        """A check made inside the block: its verdict joins the output, in order."""
        self._flush()
        self._pieces.append(feedback)

    def __exit__(self, kind, error, tb) -> bool:
        self._flush()
        _OPEN.remove(self)
        self._redirect.__exit__(kind, error, tb)
        if kind is not None:
            sys.stdout.write(self.plain())     # what ran so far, unfolded; then the error
            return False
        _display({"text/plain": self.plain(), "text/html": self.html()})
        return False

    def plain(self) -> str:
        """The block's output as text: the printed lines and each check's verdict."""
        return "".join(p if isinstance(p, str) else f"{p}\n" for p in self._pieces)

    def html(self) -> str:
        """The block's output folded: ``<details>`` (closed) with the lines and verdicts."""
        body = "".join(
            f'<pre style="margin:0.3em 0">{html.escape(p.rstrip(chr(10)))}</pre>'
            if isinstance(p, str) else p._repr_html_() for p in self._pieces)
        return (f'<details class="optlib-solution"><summary>'
                f"{html.escape(SUMMARY.format(id=self.id))}</summary>{body}</details>")


def _record(feedback) -> None:
    """Called by :func:`~optlib.exercises.check`: inside a solution block, the verdict is
    part of the block's folded output."""
    if _OPEN:
        _OPEN[-1]._add(feedback)


def _display(bundle: dict) -> None:
    """Show ``bundle`` in a notebook; print its text elsewhere (plain Python)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(bundle, raw=True)
    else:
        sys.stdout.write(bundle["text/plain"])
