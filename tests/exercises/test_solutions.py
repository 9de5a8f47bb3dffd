"""``with solution("2.1"): ...``: a worked solution's output, checks included, folded."""

from __future__ import annotations

import re
import sys

import pytest

from optlib.exercises import check, solution
from optlib.exercises import solutions as solutions_module


@pytest.fixture
def shown(monkeypatch):
    """The bundles a solution block displays, as in a notebook (IPython present)."""
    bundles = []
    monkeypatch.setattr(solutions_module, "_display", bundles.append)
    return bundles


def test_the_output_is_one_closed_details_with_prints_and_checks_in_order(shown, capsys):
    with solution("1.2"):
        print("first <b>line</b>")
        ok = check("1.2", 1 / 22)
        print("between")
        wrong = check("1.2", 0.5)
        print("last")
    assert ok and not wrong                       # check still returns its verdict
    assert capsys.readouterr().out == ""          # nothing escaped the fold
    (bundle,) = shown
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"] == (f"first <b>line</b>\n{ok}\nbetween\n{wrong}\nlast\n")
    page = bundle["text/html"]
    assert page.startswith('<details class="optlib-solution"><summary>')
    assert not re.search(r"<details[^>]*\bopen\b", page), "the fold starts open"
    assert "Show the output of the solution to exercise 1.2</summary>" in page
    assert "first &lt;b&gt;line&lt;/b&gt;" in page and "<b>line" not in page
    order = [page.index(part) for part in
             ("first &lt;b&gt;", ok._repr_html_(), "between", wrong._repr_html_(), "last")]
    assert order == sorted(order)


def test_a_failing_block_prints_what_it_had_unfolded_and_raises(shown, capsys):
    stdout = sys.stdout
    with pytest.raises(ZeroDivisionError):
        with solution("2.1"):
            print("worked so far")
            check("2.1", 1.0)
            1 / 0
    assert sys.stdout is stdout and solutions_module._OPEN == []
    out = capsys.readouterr().out
    assert out.startswith("worked so far\n✘ Exercise 2.1")
    assert shown == []


def test_checks_outside_a_block_are_not_collected(shown, capsys):
    check("1.2", 1 / 22)
    with solution("1.2"):
        pass
    assert shown == [{"text/plain": "", "text/html": shown[0]["text/html"]}]
    assert "✔" not in shown[0]["text/html"]


def test_without_a_notebook_the_text_is_printed(capsys):
    with solution("1.2"):
        print("plain Python")
        check("1.2", 1 / 22)
    assert capsys.readouterr().out == "plain Python\n✔ Exercise 1.2: correct.\n"


@pytest.mark.parametrize("bad, error", [(1.2, TypeError), ("9.9", ValueError),
                                        (None, TypeError)])
def test_an_unknown_exercise_is_refused_before_anything_runs(bad, error):
    with pytest.raises(error, match="exercise_id"):
        solution(bad)
    assert solutions_module._OPEN == []
