"""Hygiene of the stored chapter notebooks (nbval compares their outputs; the book renders them).

Each chapter notebook must be deterministic and portable as stored: no widget state,
no machine paths or memory addresses, no stderr, image/widget cells excluded from
nbval's comparison, numeric claims in compared text outputs, at least three exercises
whose hidden solutions pass their check, and a place in the table of contents.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
LEAKS = re.compile(r"(/work/|/tmp/|/root/|/home/|\bat 0x[0-9a-f]{6,})")
UNCOMPARABLE = ("image/png", "application/vnd.jupyter.widget-view+json")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    data = output.get("data", {})
    return "".join("".join(v) if isinstance(v, list) else str(v)
                   for k, v in data.items() if k.startswith("text/"))


def test_there_are_chapters():
    """The book has chapter notebooks to test."""
    assert NOTEBOOKS, "no notebooks in chapters/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_clean(path):
    """No widget state, python3 kernel, no stderr, no machine paths or addresses."""
    nb = _load(path)
    assert "widgets" not in nb["metadata"], (
        f"{path.name} stores widget state; re-execute with `make notebooks`")
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            assert not (out.get("output_type") == "stream" and out.get("name") == "stderr"), (
                f"{path.name} cell {i} writes to stderr")
            assert out.get("output_type") != "error", f"{path.name} cell {i} raised"
            leak = LEAKS.search(_text(out))
            assert leak is None, f"{path.name} cell {i} output contains {leak.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_and_explorations_are_excluded_from_nbval(path):
    """Cells with PNG or widget outputs carry nbval-ignore-output; numeric text is compared."""
    nb = _load(path)
    compared_text = 0
    for i, cell in enumerate(nb["cells"]):
        outputs = cell.get("outputs", [])
        heavy = any(k in out.get("data", {}) for out in outputs for k in UNCOMPARABLE)
        if heavy:
            assert "nbval-ignore-output" in _tags(cell), (
                f"{path.name} cell {i} has image/widget output but no nbval-ignore-output tag")
        elif "nbval-ignore-output" not in _tags(cell) and any(
                re.search(r"\d\.\d", _text(out)) for out in outputs):
            compared_text += 1
    assert compared_text >= 5, f"{path.name}: only {compared_text} compared numeric outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_have_hidden_checked_solutions(path):
    """At least three exercises; each hidden solution cell calls check() and passes it."""
    nb = _load(path)
    solutions = [c for c in nb["cells"] if c["cell_type"] == "code" and "hide-cell" in _tags(c)
                 and "check(" in "".join(c["source"])]
    assert len(solutions) >= 3, f"{path.name}: {len(solutions)} exercise solutions"
    for cell in solutions:
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True
        shown = "".join(_text(out) for out in cell.get("outputs", []))
        assert "✔" in shown and "✘" not in shown, f"a solution in {path.name} fails its check"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_is_in_the_table_of_contents(path):
    """Every chapter notebook is listed in _toc.yml (only listed files are built)."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert re.search(rf"^\s*-\s*file:\s*chapters/{re.escape(path.stem)}\s*$", toc, re.M)
