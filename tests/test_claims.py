"""`make claims` (scripts/claims.py): the numbers of the prose are declared and right.

The checker itself is tested on small texts and on a copy of chapter 1 with one prose
number changed; then every chapter is checked as stored. A chapter without
declarations is reported as such (its numbers counted), not passed silently.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("claims", ROOT / "scripts" / "claims.py")
claims = importlib.util.module_from_spec(spec)
sys.modules["claims"] = claims          # dataclasses look their module up
spec.loader.exec_module(claims)

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
DECLARED = [p for p in CHAPTERS if claims.check(p).declared]


@pytest.mark.parametrize("text, value, ok", [
    ("0.08", 0.08000000000000002, True), ("0.08", 0.0849, True), ("0.08", 0.0851, False),
    ("2303", 2302.6, True), ("2303", 2302.4, False), ("96%", 0.9615, True),
    ("95.5%", 0.9551, True), ("95.5%", 0.956, False), ("7.3e-3", 0.00731, True),
    ("7.3e-3", 0.0074, False), ("-8", -8.0, True), ("0.25", -0.25, True),
    ("-0.25", 0.25, False), ("1", float("nan"), False), ("2,303", 2303.2, True),
])
def test_a_result_agrees_at_its_printed_precision(text, value, ok):
    assert claims.agrees(text, value) is ok


def test_numbers_of_code_formulas_roles_and_structure_are_not_claims():
    text = (
        "## Exercise 1.4: chapter 2 again\n"
        "Run `Momentum(lr=0.5)` (see {cite}`polyak1964`, 1964) or [this](#optlib.runs.run).\n"
        "The limit is $\\alpha < 2/\\lambda_{\\max} = 0.08$ and $t \\approx \\frac{\\kappa}{2}"
        " \\ln(1/\\text{tol})$; with $\\kappa = 25$ it needs 213 steps, 96 % of them.\n"
        "```python\nx = 12345\n```\n"
        "1. a list item with 3.5 in it\n"
    )
    found, structural = claims.tokens(text)
    assert [t.text for t in found] == ["0.08", "25", "213", "96%", "3.5"]
    assert structural >= 4


@pytest.mark.parametrize("text, numbers", [
    # a space (plain, thin or no-break) as the thousands separator: one number, 20 000
    ("the runs are 20 000 steps long, 1\u2009000\u2009000 in all", ["20 000", "1\u2009000\u2009000"]),
    ("between 1 and 25 000", ["1", "25 000"]),
    # theorem and fact numbers are structure
    ("by Theorem 1 and facts 1 and 2 the rate is 0.5", ["0.5"]),
    # summation limits and indices inside a formula are the formula's own
    ("$\\sum_{k=0}^{t-1} (1-\\beta)\\beta^{k=2} = 1 - \\beta^t$ and $x_{t=3}$ with 0.25",
     ["0.25"]),
    # ... but a result after "=" still counts, 0 included
    ("$|1 - \\alpha\\lambda_2| = 0$ and $\\rho = 0.93$", ["0", "0.93"]),
])
def test_thousands_theorems_and_formula_indices(text, numbers):
    found, _ = claims.tokens(text)
    assert [t.text for t in found] == numbers
    assert [t.value for t in found][:1] == [float(numbers[0].replace("\u2009", "").replace(" ", ""))]


def test_a_space_separated_result_agrees_at_its_precision():
    assert claims.agrees("20 000", 20000.4) and not claims.agrees("20 000", 20001)
    assert claims.agrees("1\u2009347", 1347)


def chapter_one_with(change) -> Path:
    nb = json.loads((ROOT / "chapters" / "01_oscillation.ipynb").read_text(encoding="utf-8"))
    nb = copy.deepcopy(nb)
    change(nb)
    return nb


def write(nb, tmp_path) -> Path:
    path = tmp_path / "01_oscillation.ipynb"
    path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return path


def replace_in_prose(nb, old, new):
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and old in source:
            cell["source"] = source.replace(old, new, 1)
            return
    raise AssertionError(f"{old!r} is not in chapter 1's prose")


def test_a_changed_result_fails_naming_chapter_cell_and_sentence(tmp_path):
    nb = chapter_one_with(lambda nb: replace_in_prose(nb, "about $0.92$", "about $0.93$"))
    report = claims.check(write(nb, tmp_path))
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert "01_oscillation.ipynb, cell 10: '0.93'" in problem
    assert "factor is still about" in problem and "gives 0.92" in problem


def test_an_undeclared_number_fails(tmp_path):
    nb = chapter_one_with(lambda nb: replace_in_prose(
        nb, "over\n500 steps.", "over\n500 steps, about 7.5 times the 60 of the figure."))
    problems = claims.check(write(nb, tmp_path)).problems
    assert any("'7.5'" in p and "not declared" in p for p in problems), problems


def test_a_declared_result_that_left_the_prose_fails(tmp_path):
    nb = chapter_one_with(lambda nb: replace_in_prose(nb, "96 % of it here", "most of it here"))
    problems = claims.check(write(nb, tmp_path)).problems
    assert any("'96%'" in p and "is not in the prose" in p for p in problems), problems


def test_every_chapter_is_declared():
    """No chapter is left out: `make claims` runs with --strict, so one without
    declarations fails (as a new chapter does until its numbers are declared)."""
    assert DECLARED == CHAPTERS and len(CHAPTERS) >= 5
    assert claims.main(["--strict"]) == 0


def test_strict_fails_on_a_chapter_without_declarations(tmp_path, capsys):
    nb = {"metadata": {}, "nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "It takes 12 steps."}]}
    path = tmp_path / "09_x.ipynb"
    path.write_text(json.dumps(nb))
    assert claims.main([str(path)]) == 0
    assert claims.main(["--strict", str(path)]) == 1
    assert "not declared yet: 1 prose numbers" in capsys.readouterr().out


@pytest.mark.parametrize("path", DECLARED, ids=lambda p: p.name)
def test_every_prose_number_of_a_declared_chapter_is_right(path):
    report = claims.check(path)
    print(f"{path.name}: {report.checked} results checked, {report.inputs} inputs, "
          f"{report.structural} structural")
    assert report.checked > 0
    assert not report.problems, "\n".join(report.problems)


def test_a_result_can_be_read_from_a_stored_output(tmp_path):
    """Results of long computations (a training run) are read from the stored outputs."""
    nb = {"metadata": {"claims_setup": ""}, "nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "code", "metadata": {}, "source": "print(...)", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "test accuracy 0.9612\n"}]},
        {"cell_type": "markdown", "source": "The network reaches 96.1 % on the test set.",
         "metadata": {"claims": {"results": [["96.1%", "num(0, r'accuracy ([\\d.]+)')"]]}}},
    ]}
    path = tmp_path / "09_x.ipynb"
    path.write_text(json.dumps(nb))
    report = claims.check(path)
    assert report.checked == 1 and not report.problems, report.problems
    nb["cells"][1]["source"] = "The network reaches 96.3 % on the test set."
    path.write_text(json.dumps(nb))
    assert any("gives 0.9612" in p for p in claims.check(path).problems)


def test_a_stated_bound_is_checked_as_a_bound(tmp_path):
    nb = {"metadata": {"claims_setup": "accs = [0.9926, 0.9941, 1.0]"}, "nbformat": 4,
          "nbformat_minor": 5, "cells": [
              {"cell_type": "markdown", "source": "All reach a training accuracy above 99 %.",
               "metadata": {"claims": {"results": [["99%", "at_least(min(accs), 0.99)"]]}}}]}
    path = tmp_path / "09_x.ipynb"
    path.write_text(json.dumps(nb))
    assert not claims.check(path).problems
    nb["metadata"]["claims_setup"] = "accs = [0.9826, 0.9941, 1.0]"
    path.write_text(json.dumps(nb))
    assert any("gives 0.9826" in p for p in claims.check(path).problems)
