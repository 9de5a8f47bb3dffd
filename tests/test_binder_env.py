"""Binder-like check: a fresh environment with nothing but requirements.txt runs every chapter.

Binder (repo2docker) clones the repository, runs ``pip install -r requirements.txt`` at its
root and opens the notebooks in ``chapters/``. This test does the same with nothing from the
test environment: it copies the working tree (without .git, .venv and build output) into a
temporary directory, creates a fresh virtual environment there from the same base
interpreter, installs ``-r requirements.txt`` into it (pip's download cache may be reused),
and executes every chapter with that environment's own python and ipykernel. Then, per
chapter: it ran without error, its setup cell printed ``optlib <version> is installed.``,
no cell wrote a Python traceback, and the kernel really was the fresh environment's, with
optlib from the copy.

Nothing outside the temporary directory is written except pip's download cache: Jupyter's
and IPython's config, data and runtime folders and matplotlib's cache all point into it, and
the user site-packages, PYTHONPATH and JUPYTER_PATH are switched off. The new environment
(some 700 MB) is removed afterwards; the executed notebooks stay for inspection. A missing
dependency in requirements.txt fails this test, which is its point.

It takes a few minutes (the install, then the chapters). Locally,
``OPTLIB_SKIP_BINDER_TEST=1`` skips it; under ``CI=true`` it always runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from notebook_outputs import output_text

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p.name for p in (ROOT / "chapters").glob("*.ipynb"))
NOT_COPIED = (".git", ".venv", "_build", "*.egg-info", "__pycache__", ".pytest_cache",
              ".hypothesis", ".ipynb_checkpoints", ".jupyter_cache")
INSTALL_TIMEOUT_S = 1800      # pip, all of requirements.txt (cold download cache)
CELL_TIMEOUT_S = 600          # per cell, as generous as the book build
RUN_TIMEOUT_S = 3600          # all chapters
TRACEBACK = "Traceback (most recent call last)"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PROBE_TAG = "binder-test-probe"

# Run by the fresh environment's python: execute each chapter (working directory: its
# folder, as Binder's Jupyter does) with a last probe cell appended that reports which
# interpreter and which optlib the kernel used; write the executed notebooks and a summary.
RUNNER = r'''
import json, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient

chapters, out = Path(sys.argv[1]), Path(sys.argv[2])
probe = ("import sys, optlib\n"
         "print(sys.prefix)\n"
         "print(optlib.__file__)")
summary = {}
for path in sorted(chapters.glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(probe)
    cell.metadata["tags"] = [sys.argv[4]]
    nb.cells.append(cell)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=int(sys.argv[3]), kernel_name="python3",
                       resources={"metadata": {"path": str(chapters)}}).execute()
        error = None
    except Exception as exc:            # a cell raised, a timeout, a dead kernel
        error = f"{type(exc).__name__}: {exc}"
    summary[path.name] = {"error": error, "seconds": round(time.perf_counter() - start, 1)}
    nbformat.write(nb, out / path.name)
(out / "summary.json").write_text(json.dumps(summary))
'''


@dataclass
class BinderRun:
    copy: Path              # the copy of the repository
    venv: Path              # the fresh environment
    executed: Path          # the executed notebooks and summary.json
    summary: dict
    seconds: dict           # venv, install, execute
    env: dict               # the isolated environment variables the commands ran with


def _isolated_env(tmp: Path, venv: Path) -> dict[str, str]:
    """The user's environment (proxy, pip index settings) without anything Python or Jupyter."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV",
               "CONDA_PREFIX", "MPLBACKEND")
    env = {k: v for k, v in os.environ.items()
           if k not in dropped and not k.startswith(("JUPYTER", "IPYTHON", "OPTLIB_"))}
    for name, sub in (("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_DATA_DIR", "jupyter-data"),
                      ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython"),
                      ("MPLCONFIGDIR", "matplotlib")):
        (tmp / sub).mkdir()
        env[name] = str(tmp / sub)
    env["PYTHONNOUSERSITE"] = "1"
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = str(venv / "bin") + os.pathsep + env.get("PATH", "")
    return env


def _run(cmd: list, what: str, timeout: float, **kwargs) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                              **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} did not finish within {timeout:.0f} s")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
        pytest.fail(f"{what} failed (exit code {proc.returncode}):\n{tail}")


@pytest.fixture(scope="module")
def binder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BinderRun]:
    if os.environ.get("OPTLIB_SKIP_BINDER_TEST") == "1" and os.environ.get("CI") != "true":
        pytest.skip("OPTLIB_SKIP_BINDER_TEST=1 (this test always runs under CI=true)")
    tmp = tmp_path_factory.mktemp("binder")
    copy, venv, executed = tmp / "repo", tmp / "venv", tmp / "executed"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    executed.mkdir()
    env = _isolated_env(tmp, venv)
    python = venv / "bin" / "python"
    base = getattr(sys, "_base_executable", None) or sys.executable
    seconds = {}

    start = time.monotonic()
    _run([base, "-m", "venv", str(venv)], "creating the virtual environment", 300, env=env)
    seconds["venv"] = time.monotonic() - start

    start = time.monotonic()
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "-r", "requirements.txt"], "pip install -r requirements.txt", INSTALL_TIMEOUT_S,
         cwd=copy, env=env)
    seconds["install"] = time.monotonic() - start
    # then, as repo2docker does, the repository's postBuild (the book's JupyterLab defaults)
    _run(["bash", "postBuild"], "postBuild", 300, cwd=copy, env=env)

    start = time.monotonic()
    runner = tmp / "run_chapters.py"
    runner.write_text(RUNNER, encoding="utf-8")
    _run([str(python), str(runner), str(copy / "chapters"), str(executed), str(CELL_TIMEOUT_S),
          PROBE_TAG], "executing the chapters", RUN_TIMEOUT_S, cwd=tmp, env=env)
    seconds["execute"] = time.monotonic() - start
    print("Binder-like environment: " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()),
          file=sys.stderr)
    summary = json.loads((executed / "summary.json").read_text(encoding="utf-8"))
    yield BinderRun(copy, venv, executed, summary, seconds, env)
    shutil.rmtree(venv, ignore_errors=True)     # 700 MB; the executed notebooks stay


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks in chapters/"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_runs_in_a_fresh_binder_environment(binder: BinderRun, name: str):
    """The chapter executes without error in the fresh environment, with its own optlib."""
    result = binder.summary.get(name)
    assert result is not None, f"{name} was not executed"
    assert result["error"] is None, f"{name} failed in the fresh environment:\n{result['error']}"
    nb = json.loads((binder.executed / name).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]

    import optlib

    setup = "".join(output_text(o) for o in code[0].get("outputs", []))
    assert setup == f"optlib {optlib.__version__} is installed.\n", (
        f"{name}: the setup cell printed {setup!r}")

    for i, cell in enumerate(code):
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{name}, code cell {i} raised"
            text = output_text(out) + "".join(out.get("traceback", []))
            assert TRACEBACK not in text, f"{name}, code cell {i} wrote a traceback:\n{text}"

    # Colab-like: a plain kernel (no book build, no static switch) gives each exploration its
    # live view and, after it, the static stand-in; each worked solution one closed fold
    # whose check says ✔
    for i, cell in enumerate(code):
        kinds = [sorted(o.get("data", {})) for o in cell.get("outputs", [])]
        if any("optlib-exploration" in "".join(o.get("data", {}).get("text/html", ""))
               for o in cell.get("outputs", [])):
            assert kinds[-2:] == [[WIDGET_VIEW, "text/plain"], ["text/html"]], (name, i, kinds)
        if cell["metadata"].get("jupyter", {}).get("source_hidden"):
            folds = ["".join(o.get("data", {}).get("text/html", "")) for o in cell["outputs"]]
            assert len(folds) == 1 and folds[0].startswith('<details class="optlib-solution">'), (
                f"{name}, code cell {i}: the solution's output is not one fold: {kinds}")
            assert "✔" in folds[0] and "✘" not in folds[0], (name, i)

    probe = code[-1]
    assert PROBE_TAG in probe["metadata"].get("tags", [])
    prefix, optlib_file = "".join(output_text(o) for o in probe["outputs"]).split()
    assert Path(prefix).resolve() == binder.venv.resolve(), (
        f"{name} ran in {prefix}, not in the fresh environment")
    assert Path(optlib_file).resolve().is_relative_to(binder.copy.resolve()), (
        f"{name} imported optlib from {optlib_file}, not from the installed copy")


def test_binder_jupyterlab_renders_myst_and_widgets_with_the_books_defaults(binder: BinderRun):
    """The fresh environment's JupyterLab has the MyST renderer and the widget manager, and
    postBuild installed the book's defaults where that JupyterLab reads them."""
    proc = subprocess.run([str(binder.venv / "bin" / "jupyter"), "labextension", "list"],
                          capture_output=True, text=True, timeout=120, env=binder.env)
    listing = proc.stdout + proc.stderr
    for extension in ("jupyterlab-myst", "@jupyter-widgets/jupyterlab-manager"):
        line = next((l for l in listing.splitlines() if extension in l), "")
        assert "enabled" in line, f"{extension} is not an enabled extension:\n{listing}"
    installed = (binder.venv / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
                 / "optlib-textbook.json")
    assert installed.is_file(), "postBuild did not install the JupyterLab defaults"
    assert json.loads(installed.read_text()) == json.loads(
        (ROOT / "lab" / "overrides.json").read_text())

