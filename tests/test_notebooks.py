"""Hygiene of the stored chapter notebooks (nbval compares their outputs; the book renders them).

Each chapter notebook must be deterministic and portable as stored: no widget state,
no machine paths or memory addresses, no stderr, image/widget cells excluded from
nbval's comparison, numeric claims in compared text outputs, at least three exercises
whose hidden solutions pass their check, and a place in the table of contents.

Each chapter must also work when opened on its own (Colab, Binder): its first code cell
is the same setup cell everywhere, which finds or installs optlib and prints one line
saying what it did. The book hides its source; nbval compares its output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from notebook_outputs import output_text

import optlib

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
LEAKS = re.compile(r"(/work/|/tmp/|/root/|/home/|\bat 0x[0-9a-f]{6,})")
UNCOMPARABLE = ("image/png", "application/vnd.jupyter.widget-view+json")
# The setup cell: hidden source in the book, output compared by nbval (also under --nbval-lax).
SETUP_TAGS = {"hide-input", "nbval-check-output"}
SETUP_FORBIDDEN_TAGS = {"nbval-ignore-output", "nbval-skip", "raises-exception", "remove-cell",
                        "remove-output", "hide-output", "hide-cell"}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _setup_cell(nb: dict) -> dict:
    """The notebook's first code cell."""
    return next(c for c in nb["cells"] if c["cell_type"] == "code")


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
            leak = LEAKS.search(output_text(out))
            assert leak is None, f"{path.name} cell {i} output contains {leak.group(0)!r}"
            # an exploration is stored as its static view alone (a live view would name a
            # widget model that no kernel has; its stand-in would start hidden)
            data = out.get("data", {})
            page = "".join(data.get("text/html", ""))
            assert "application/vnd.jupyter.widget-view+json" not in data, (
                f"{path.name} cell {i} stores a widget view; re-execute with `make notebooks`")
            if 'class="optlib-exploration"' in page:
                assert 'data-optlib-fallback="1"' not in page.split(">", 1)[0], (
                    f"{path.name} cell {i} stores an exploration's hidden stand-in")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_and_explorations_are_excluded_from_nbval(path):
    """Cells with PNG or widget outputs carry nbval-ignore-output; numeric text is compared."""
    nb = _load(path)
    compared_text = 0
    setup = _setup_cell(nb)
    for i, cell in enumerate(nb["cells"]):
        outputs = cell.get("outputs", [])
        if cell is setup:       # its version number is not a numeric claim
            continue
        heavy = any(k in out.get("data", {}) for out in outputs for k in UNCOMPARABLE)
        if heavy:
            assert "nbval-ignore-output" in _tags(cell), (
                f"{path.name} cell {i} has image/widget output but no nbval-ignore-output tag")
        elif "nbval-ignore-output" not in _tags(cell) and any(
                re.search(r"\d\.\d", output_text(out)) for out in outputs):
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
        shown = "".join(output_text(out) for out in cell.get("outputs", []))
        assert "✔" in shown and "✘" not in shown, f"a solution in {path.name} fails its check"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_is_in_the_table_of_contents(path):
    """Every chapter notebook is listed in _toc.yml (only listed files are built)."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert re.search(rf"^\s*-\s*file:\s*chapters/{re.escape(path.stem)}\s*$", toc, re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_setup_cell(path):
    """The first code cell sets optlib up, is tagged, and printed exactly one line (nbval checks it)."""
    nb = _load(path)
    cell = _setup_cell(nb)
    source = "".join(cell["source"])
    assert source.startswith("# Setup: find or install optlib"), (
        f"{path.name}: the first code cell is not the setup cell")
    first_import = min(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
                       and re.search(r"^\s*(from|import) optlib\b", "".join(c["source"]), re.M))
    assert nb["cells"][first_import] is cell, f"{path.name} imports optlib before the setup cell"
    tags = set(_tags(cell))
    assert SETUP_TAGS <= tags, f"{path.name}: the setup cell lacks the tags {SETUP_TAGS - tags}"
    assert not tags & SETUP_FORBIDDEN_TAGS, (
        f"{path.name}: the setup cell must be shown and compared, but is tagged {tags & SETUP_FORBIDDEN_TAGS}")
    outputs = cell.get("outputs", [])
    assert [(o.get("output_type"), o.get("name")) for o in outputs] == [("stream", "stdout")], (
        f"{path.name}: the setup cell must print (only) to stdout")
    assert output_text(outputs[0]) == f"optlib {optlib.__version__} is installed.\n", (
        f"{path.name}: the setup cell printed {output_text(outputs[0])!r}; re-execute with `make notebooks`")


def test_setup_cell_is_the_same_in_every_chapter():
    """One setup cell, copied verbatim: a fix in one chapter must reach all of them."""
    sources = {p.name: "".join(_setup_cell(_load(p))["source"]) for p in NOTEBOOKS}
    first = sources[NOTEBOOKS[0].name]
    differ = [name for name, source in sources.items() if source != first]
    assert not differ, f"the setup cell of {differ} differs from {NOTEBOOKS[0].name}'s"


def test_setup_cell_uses_a_checkout_when_optlib_is_not_installed():
    """Without an installed optlib, a clone's chapters/ folder finds the repository's copy.

    The cell runs in a fresh interpreter started with -S (no site-packages, so no installed
    optlib) and PYTHONPATH pointing at numpy's folder (so optlib's dependencies import),
    from chapters/: it must add the repository to sys.path and say so in one line that
    names no machine path. Nothing is written (-B: no bytecode).
    """
    import numpy

    site = Path(numpy.__file__).resolve().parent.parent
    if (site / "optlib").is_dir():
        pytest.skip("optlib is installed into site-packages (not editable): -S cannot hide it")
    source = "".join(_setup_cell(_load(NOTEBOOKS[0]))["source"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(site)
    proc = subprocess.run([sys.executable, "-S", "-B", "-c", source], cwd=ROOT / "chapters",
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (f"optlib {optlib.__version__} is not installed; "
                           "using the copy in this repository.\n"), proc.stdout
    assert proc.stderr == ""


def _run_setup_cell(cwd: Path, extra_path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """The setup cell in a fresh interpreter without site-packages (-S), with numpy's folder
    and ``extra_path`` on PYTHONPATH; git may not reach any server (no network in tests)."""
    import numpy

    site = Path(numpy.__file__).resolve().parent.parent
    source = "".join(_setup_cell(_load(NOTEBOOKS[0]))["source"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(PYTHONPATH=f"{extra_path}{os.pathsep}{site}", GIT_ALLOW_PROTOCOL="file",
               PIP_NO_INDEX="1", PIP_CACHE_DIR=str(tmp_path / "pip-cache"))
    return subprocess.run([sys.executable, "-S", "-B", "-c", source], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def stranger(tmp_path) -> Path:
    """A folder holding another project's package that is also called optlib."""
    folder = tmp_path / "stranger"
    (folder / "optlib").mkdir(parents=True)
    (folder / "optlib" / "__init__.py").write_text('__version__ = "9.9.9"\n')
    return folder


def test_setup_cell_does_not_take_another_package_called_optlib(stranger, tmp_path):
    """An unrelated ``optlib`` on the path (the name on PyPI is someone else's) is not
    accepted as the book's: in a clone, the repository's copy is used instead."""
    proc = _run_setup_cell(ROOT / "chapters", stranger, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (f"optlib {optlib.__version__} is not installed; "
                           "using the copy in this repository.\n"), proc.stdout


def test_setup_cell_outside_a_clone_gives_a_pip_command_that_names_our_distribution(
        stranger, tmp_path):
    """Outside a clone (Colab) with pip failing, the error says what to type: a pip command
    for the distribution optlib-textbook, not `pip install optlib`."""
    proc = _run_setup_cell(tmp_path, stranger, tmp_path)
    assert proc.returncode != 0
    assert 'pip install "optlib-textbook @ git+https://' in proc.stderr, proc.stderr
    assert "pip install optlib" not in proc.stderr.replace("pip install optlib-", "")


# A mention of optlib in the prose: `analysis.gd_rate`, `experiments.settling_step(...)`,
# `optlib.run`, `optlib.Adam(lr=α)`.
OPTLIB_MENTION = re.compile(r"`((?:optlib|analysis|experiments)\.[A-Za-z_][\w.]*)[^`]*`")
LINKED_MENTION = re.compile(r"\[`((?:optlib|analysis|experiments)\.[A-Za-z_][\w.]*)[^`]*`\]"
                            r"\(#(optlib\.[\w.]+)\)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_prose_links_the_optlib_names_it_mentions_to_the_api(path):
    """In every markdown cell, each optlib name the prose mentions is linked at least once to
    its entry in the API reference, ``[`analysis.gd_rate`](#optlib.analysis.gd_rate)`` (MyST
    resolves ``#target`` to the autodoc entry; the -W book build fails on a target that does
    not exist), and the link points at the object the text names."""
    import importlib

    problems = []
    for number, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        linked = {}
        for name, target in LINKED_MENTION.findall(text):
            linked[name] = target
            short = name.removeprefix("optlib.")
            if not target.endswith("." + short.split(".")[-1]):
                problems.append(f"cell {number}: `{name}` links to #{target}")
            module_name, _, attr = target.rpartition(".")
            try:
                obj = importlib.import_module(target)
            except ImportError:
                obj = getattr(importlib.import_module(module_name), attr, None)
            if obj is None:
                problems.append(f"cell {number}: #{target} is not an optlib object")
        for name in set(OPTLIB_MENTION.findall(text)) - set(linked):
            problems.append(f"cell {number}: `{name}` is not linked to the API reference")
    assert not problems, "\n".join(problems)
