"""Figures `book_build_cold` and `book_build_cached`: seconds to build the HTML book.

Both run the documented build command (``jupyter-book build . -W -n --keep-going``,
what ``make book`` runs) on this repository, writing into a fresh temporary
directory (``--path-output``), never into the repository's ``_build``:

* ``book_build_cold``: an empty output directory, so the jupyter-cache is empty.
  The chapters are not executed (_config.yml: they are stored with the outputs
  that nbval checks, and the book shows those); the text notebooks without
  stored outputs (intro.md) are, and then every page is read and written;
* ``book_build_cached``: a maintainer's rebuild. After the cold build, one
  chapter's source is touched (its code unchanged) and ``make book``'s command
  runs again in the same output directory: Sphinx re-reads that page, takes its
  outputs from the jupyter-cache (nothing is executed) and writes the pages that
  changed. The extra ``all_pages_s`` is the harder case: the HTML and Sphinx's
  saved environment deleted, only the jupyter-cache kept, so that every page is
  read and written anew (``nochange_s``: a rebuild with nothing changed at all).

Goals on the 2-core reference machine: cold ≤ 60 s, cached ≤ 10 s. Each build
runs once; the JSON records the notebooks executed (their names), the CPUs,
whether the build succeeded, and ``cpu_s``, the CPU time of the build and its
kernels (on 2 CPUs a build cannot take less than about half of it).
"""

from __future__ import annotations

import os
import re
import resource
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
    """Run one build; returns its wall-clock seconds and the finished process, whose
    ``cpu_s`` is the CPU time of the build and its kernels (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(_command(out), capture_output=True, text=True, cwd=REPO,
                          timeout=1800)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc.cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, proc


def _executed(output: str) -> list[str]:
    """The notebooks the build executed (rather than took from the cache or from their
    stored outputs), as myst-nb logs them: "<path>: Executed notebook in 1.8 seconds"."""
    found = re.findall(r"^(\S+): Executed notebook in ", output, flags=re.MULTILINE)
    return sorted(Path(path).relative_to(REPO).as_posix() if Path(path).is_absolute() else path
                  for path in found)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="optlib-book-bench-") as tmp:
        out = Path(tmp)
        log("book: cold build ...")
        cold, proc = _build(out)
        _report("book_build_cold", cold, proc)
        log("book: rebuilds with the cache: nothing changed, one chapter touched, all pages ...")
        nochange, _ = _build(out)
        chapter = sorted((REPO / "chapters").glob("*.ipynb"))[0]
        os.utime(chapter)                  # "edited": Sphinx re-reads it, code unchanged
        cached, proc = _build(out)
        for stale in ("html", ".doctrees", "jupyter_execute"):
            shutil.rmtree(out / "_build" / stale, ignore_errors=True)
        all_pages, all_proc = _build(out)
        _report("book_build_cached", cached, proc, touched=str(chapter.relative_to(REPO)),
                nochange_s=round(nochange, 2), all_pages_s=round(all_pages, 2),
                all_pages_succeeded=all_proc.returncode == 0,
                all_pages_notebooks_executed=_executed(all_proc.stdout))


def _report(name, seconds, proc, **extra):
    if proc.returncode != 0:
        log(proc.stdout[-3000:] + proc.stderr[-3000:])
    emit(name, round(seconds, 2), "s", goal_s=GOALS[name], succeeded=proc.returncode == 0,
         notebooks_executed=_executed(proc.stdout),
         cpus=len(os.sched_getaffinity(0)), cpu_s=round(proc.cpu_s, 1), **extra)
