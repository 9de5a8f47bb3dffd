"""Figures `book_build_cold` and `book_build_cached`: seconds to build the HTML book.

Both run the documented build command (``jupyter-book build . -W -n --keep-going``,
what ``make book`` runs) on this repository, writing into a fresh temporary
directory (``--path-output``), never into the repository's ``_build``:

* ``book_build_cold``: an empty output directory, so the jupyter-cache is empty
  and every chapter notebook is executed (in parallel, one kernel per CPU, by
  ``_ext/parallel_execution.py``), then every page is read and written;
* ``book_build_cached``: the HTML and Sphinx's saved environment are deleted but
  the jupyter-cache of the cold build is kept, and the book is built again: every
  page is read and written anew, every notebook comes from the cache. This is
  the cost of a rebuild after a change to the book's configuration, theme or
  text that leaves the code cells alone (an edit of one page alone rebuilds
  less, since Sphinx then re-reads only that page).

Goals on the 2-core reference machine: cold ≤ 60 s, cached ≤ 10 s. Each build
runs once (a cold build takes a minute); the JSON records the number of
notebooks executed, the number of kernels, and whether the build succeeded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import emit, log

REPO = Path(__file__).resolve().parent.parent
GOALS = {"book_build_cold": 60.0, "book_build_cached": 10.0}


def _command(out: Path) -> list[str]:
    script = Path(sys.executable).with_name("jupyter-book")
    base = ([str(script)] if script.is_file()
            else [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"])
    return [*base, "build", str(REPO), "--path-output", str(out), "-W", "-n", "--keep-going"]


def _build(out: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(_command(out), capture_output=True, text=True, cwd=REPO,
                          timeout=1800)
    return time.perf_counter() - start, proc


def _executed(output: str) -> int:
    """How many notebooks the build executed (rather than took from the cache)."""
    parallel = re.search(r"\[parallel_execution\] executing (\d+) notebooks", output)
    serial = len(re.findall(r"Executed notebook in", output))
    return (int(parallel.group(1)) if parallel else 0) + serial


def main() -> None:
    workers = os.environ.get("OPTLIB_BOOK_EXECUTION_WORKERS") or str(len(os.sched_getaffinity(0)))
    with tempfile.TemporaryDirectory(prefix="optlib-book-bench-") as tmp:
        out = Path(tmp)
        for name in ("book_build_cold", "book_build_cached"):
            if name == "book_build_cached":
                for stale in ("html", ".doctrees", "jupyter_execute"):
                    shutil.rmtree(out / "_build" / stale, ignore_errors=True)
            log(f"book: {name.removeprefix('book_build_')} build ...")
            seconds, proc = _build(out)
            if proc.returncode != 0:
                log(proc.stdout[-3000:] + proc.stderr[-3000:])
            emit(name, round(seconds, 2), "s", goal_s=GOALS[name],
                 succeeded=proc.returncode == 0, notebooks_executed=_executed(proc.stdout),
                 kernels=int(workers))
