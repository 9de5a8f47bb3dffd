"""Every chapter lays out its learning goals and its exercises the same way, and no exercise's
answer can be read elsewhere in the chapter.

The layout (the book's convention, see DESIGN.md "Chapters"):

* the first markdown cell holds the ``Learning goals`` admonition (numbered goals after
  "After this chapter you can") followed by a **Prerequisites.** paragraph;
* the last section is ``## Exercises`` with the common introduction, then the levels
  ``### Warm-up``, ``### Core``, ``### Challenge`` in this order; each exercise is a markdown
  cell ``#### Exercise N.k — title`` whose next line starts with its kind in italics, followed by
  exactly one hidden solution cell (collapsed source and output) that calls ``check("N.k", ...)``
  and whose stored output is ✔;
* 6–8 exercises per chapter, at least two warm-up, two core and one challenge, among them a
  derivation, an implement-it-yourself and a predict-then-run; the ids registered in
  ``optlib.exercises`` for the chapter are exactly those of the notebook.

"Not printed elsewhere": every numeric answer is searched for, at the precisions a reader would
print it (3 and 4 significant digits, 2–4 decimals, and its exact short form), in every other
cell's source and text output (markdown, code, printed streams; not the HTML of explorations,
whose frames are data). Integers below 10 and decimals with fewer than two significant digits
(other than exact values below 0.1) are too common to search for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from optlib.exercises import exercises

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
LEVELS = ("Warm-up", "Core", "Challenge")
KINDS = ("Derivation", "Implement it yourself", "Predict, then run", "Computation")
REQUIRED_KINDS = ("Derivation", "Implement it yourself", "Predict, then run")
HIDDEN = {"outputs_hidden": True, "source_hidden": True}
# the book's toggle of a hidden solution (myst-nb's cell-level prompts; the default says
# "Show code cell content")
SOLUTION_PROMPTS = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}

INTRO = """The exercises come in three levels: **warm-up** (one idea, a few lines), **core** (the
chapter's main results) and **challenge** (longer, beyond the text). Each says what kind it
is: a *derivation*, *implement it yourself* (your code, checked against optlib), *predict,
then run* (write your prediction down first), or a *computation*. Check an answer with

```python
from optlib.exercises import check
check("{n}.1", your_answer)
```

which answers ✔ or ✘ with a hint. Each solution is hidden below its exercise (click to
show it): it works the answer out by hand first and confirms it with optlib after."""

HEADING = re.compile(r"^#### Exercise (\d+)\.(\d+) — \S.*$", re.M)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def _words(text: str) -> str:
    return " ".join(text.split())


def _chapter_number(path: Path) -> int:
    return int(path.name[:2])


def _outputs_text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append("".join(out.get("text", "")))
        data = out.get("data", {})
        if "text/plain" in data:
            parts.append("".join(data["text/plain"]))
    return "\n".join(parts)


def _exercise_section(nb: dict) -> tuple[int, list[dict]]:
    cells = nb["cells"]
    starts = [i for i, c in enumerate(cells)
              if c["cell_type"] == "markdown" and _src(c).lstrip().startswith("## Exercises")]
    assert len(starts) == 1, f"{len(starts)} '## Exercises' cells"
    return starts[0], cells[starts[0]:]


def _exercises_in(nb: dict) -> list[dict]:
    """[{id, level, kind, question index, solution index}] in the order of the notebook."""
    start, section = _exercise_section(nb)
    found, level = [], None
    for offset, cell in enumerate(section):
        if cell["cell_type"] != "markdown":
            continue
        text = _src(cell)
        for line in text.splitlines():
            if line.startswith("### "):
                level = line[4:].strip()
        match = HEADING.search(text)
        if not match:
            continue
        rest = text[match.end():].lstrip("\n")
        kind = next((k for k in KINDS if rest.startswith(f"*{k}.*")), None)
        found.append({"id": f"{match.group(1)}.{match.group(2)}", "level": level, "kind": kind,
                      "question": start + offset, "cell": cell})
    return found


@pytest.fixture(params=CHAPTERS, ids=lambda p: p.stem)
def chapter(request):
    return request.param, _load(request.param)


def test_learning_goals_and_prerequisites(chapter):
    path, nb = chapter
    first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    text = _src(first)
    assert text.startswith("# "), f"{path.name}: the first cell does not start with the title"
    # a colon fence without option lines: it reads as text where MyST is not rendered
    # (tests/test_plain_markdown.py); the fence lines stand alone between blank lines
    opening = "\n\n:::{admonition} Learning goals\n\nAfter this chapter you can\n\n1. "
    assert opening in text, f"{path.name}: no 'Learning goals' admonition in the common form"
    goals = text[text.index(opening):]
    end = goals.index("\n\n:::\n", len(opening))
    numbered = re.findall(r"^(\d+)\. ", goals[:end], re.M)
    assert numbered == [str(k) for k in range(1, len(numbered) + 1)] and len(numbered) >= 3, \
        f"{path.name}: learning goals are not numbered 1, 2, 3, ...: {numbered}"
    after = goals[end + 6:]
    assert re.search(r"^\*\*Prerequisites\.\*\* \S", after, re.M), \
        f"{path.name}: no '**Prerequisites.**' paragraph after the learning goals"


def test_exercise_section_is_last_and_introduced_alike(chapter):
    path, nb = chapter
    start, section = _exercise_section(nb)
    later_h2 = [_src(c).splitlines()[0] for c in section[1:] if c["cell_type"] == "markdown"
                and re.search(r"^## ", _src(c), re.M)]
    assert not later_h2, f"{path.name}: sections after the exercises: {later_h2}"
    intro = _words(_src(section[0]))
    want = _words(INTRO.format(n=_chapter_number(path)))
    assert want in intro, f"{path.name}: the exercise introduction differs from the common text"


def test_levels_kinds_and_hidden_checked_solutions(chapter):
    path, nb = chapter
    n = _chapter_number(path)
    found = _exercises_in(nb)
    ids = [e["id"] for e in found]
    assert ids == [f"{n}.{k}" for k in range(1, len(ids) + 1)], f"{path.name}: ids {ids}"
    assert 6 <= len(found) <= 8, f"{path.name}: {len(found)} exercises (6–8 wanted)"
    levels = [e["level"] for e in found]
    assert all(level in LEVELS for level in levels), f"{path.name}: levels {levels}"
    assert levels == sorted(levels, key=LEVELS.index), f"{path.name}: levels out of order"
    for level, least in zip(LEVELS, (2, 2, 1)):
        assert levels.count(level) >= least, f"{path.name}: {levels.count(level)} {level}"
    kinds = [e["kind"] for e in found]
    assert None not in kinds, f"{path.name}: an exercise without its kind: {list(zip(ids, kinds))}"
    for kind in REQUIRED_KINDS:
        assert kind in kinds, f"{path.name}: no '{kind}' exercise"
    cells = nb["cells"]
    bounds = [e["question"] for e in found] + [len(cells)]
    for e, stop in zip(found, bounds[1:]):
        code = [c for c in cells[e["question"] + 1:stop] if c["cell_type"] == "code"]
        assert len(code) == 1, f"{path.name} {e['id']}: {len(code)} code cells (one solution)"
        solution = code[0]
        meta = solution.get("metadata", {})
        assert "hide-cell" in meta.get("tags", []), f"{path.name} {e['id']}: not hide-cell"
        assert meta.get("jupyter", {}) == HIDDEN, \
            f"{path.name} {e['id']}: solution not collapsed (source and output) in JupyterLab"
        assert meta.get("mystnb", {}) == SOLUTION_PROMPTS, \
            f"{path.name} {e['id']}: the book's toggle does not say 'Show solution'"
        assert f'check("{e["id"]}"' in _src(solution), f"{path.name} {e['id']}: no check()"
        shown = _outputs_text(solution) + json.dumps(solution.get("outputs", []),
                                                     ensure_ascii=False)
        assert "✔" in shown and "✘" not in shown, \
            f"{path.name} {e['id']}: the stored solution does not pass its check"


def test_registered_ids_match_the_notebook(chapter):
    path, nb = chapter
    n = _chapter_number(path)
    registered = sorted((k for k in exercises() if k.split(".")[0] == str(n)),
                        key=lambda k: int(k.split(".")[1]))
    assert registered == [e["id"] for e in _exercises_in(nb)], \
        f"{path.name}: optlib.exercises registers {registered}"


def _representations(x: float) -> set[str]:
    """The ways a reader might see ``x`` printed (see the module docstring)."""
    x = abs(float(x))
    if x == 0 or x != x:
        return set()
    if x == round(x):
        return {str(int(round(x)))} if x >= 10 else set()
    reps = {f"{x:.3g}", f"{x:.4g}", f"{x:.2f}", f"{x:.3f}", f"{x:.4f}"}
    exact = repr(x)
    if len(exact) <= 7 and "e" not in exact:
        reps.add(exact)

    def significant(rep: str) -> int:
        return len(rep.replace(".", "").lstrip("0").rstrip("0")) if "e" not in rep else 3

    keep = set()
    for rep in reps:
        if "e" in rep or float(rep) == 0:
            continue
        is_exact = abs(float(rep) - x) <= 1e-12 * x
        if significant(rep) >= 2 or (is_exact and x < 0.1):
            keep.add(rep)
    return keep


def _mention(rep: str) -> re.Pattern:
    """``rep`` as a whole number in a text: not inside 10.08, 0.085 or 29.33."""
    return re.compile(rf"(?<![\d.]){re.escape(rep)}(?!\d|\.\d)")


def _answer_values(exercise) -> list[float]:
    want = exercise.expected()
    if isinstance(want, str):
        return []
    import numpy as np
    return [float(v) for v in np.atleast_1d(np.asarray(want, dtype=float)).ravel()]


def test_no_answer_is_printed_elsewhere(chapter):
    path, nb = chapter
    found = _exercises_in(nb)
    registry = exercises()
    cells = nb["cells"]
    bounds = [e["question"] for e in found] + [len(cells)]
    leaks = []
    for e, stop in zip(found, bounds[1:]):
        own = set(range(e["question"], stop))
        for value in _answer_values(registry[e["id"]]):
            for rep in _representations(value):
                pattern = _mention(rep)
                for i, cell in enumerate(cells):
                    if i in own:
                        continue
                    text = _src(cell) + "\n" + _outputs_text(cell)
                    match = pattern.search(text)
                    if match:
                        context = text[max(0, match.start() - 50):match.end() + 30]
                        leaks.append(f"{e['id']}: answer {value:g} appears as {rep!r} in cell "
                                     f"{i}: …{' '.join(context.split())}…")
                        break
    assert not leaks, f"{path.name}:\n" + "\n".join(leaks)


def test_representations_catch_the_usual_printings():
    # The defect this file guards against: the answer 2/25 of a "largest stable α" printed in
    # the prose as 0.08, or a count printed in a table.
    assert "0.08" in _representations(2 / 25)
    assert "0.0800" in _representations(2 / 25)
    assert "345" in _representations(345.0)
    assert {"0.41", "0.410", "0.4095"} <= _representations(1 - 0.9 ** 5)
    assert _representations(3.0) == set() and _representations(0.5) == set()
    text = "the limit is 0.08 for curvatures 1 and 25"
    assert any(_mention(r).search(text) for r in _representations(0.08))
    assert not any(_mention(r).search("α = 0.085") for r in _representations(0.08))
    assert not any(_mention(r).search("a slope of −29.3333") for r in _representations(29.0))
    assert any(_mention(r).search("after 29 steps.") for r in _representations(29.0))
