"""Sphinx extension: execute the book's notebooks in parallel before Sphinx reads them.

With ``execute_notebooks: cache`` myst-nb executes each outdated notebook while
Sphinx reads it, one after the other, and stores the result in the jupyter-cache
(``_build/.jupyter_cache``). A cold build of this book spends most of its time
there, on one core. This extension runs first: when Sphinx knows which documents
it is about to read (``env-before-read-docs``), it executes those notebooks that
have no match in the cache yet, all at once (one kernel each, at most 8), and
stores each result in the same cache, exactly as myst-nb would (the same reader,
cache, hash, working directory, timeout and error setting).
myst-nb then finds every notebook in the cache and only renders it.

A notebook that fails here is not cached; myst-nb executes it again in the
usual way and reports the failure as it always does, so errors and warnings
are unchanged. ``OPTLIB_BOOK_EXECUTION_WORKERS`` caps the number of kernels
(1 turns this off).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)
WORKERS_ENV = "OPTLIB_BOOK_EXECUTION_WORKERS"


def _workers(count: int) -> int:
    """Kernels to run at once: ``OPTLIB_BOOK_EXECUTION_WORKERS``, else all ``count``
    notebooks (at most 8). More kernels than CPUs is on purpose: sharing the CPUs,
    all of them finish after about (total CPU time) / CPUs, whatever their order;
    with one kernel per CPU a long notebook that happens to start last would run
    alone at the end."""
    setting = os.environ.get(WORKERS_ENV, "").strip()
    if setting.isdigit() and int(setting) > 0:
        return min(count, int(setting))
    return min(count, 8)


def _execute_outdated(app, env, docnames):
    config = getattr(env, "mystnb_config", None)      # set by myst-nb on builder-inited
    if config is None or config.execution_mode != "cache":
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution
    from myst_nb.core.read import create_nb_reader

    cache = get_cache(config.execution_cache_path)
    todo = []
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        if path.suffix not in (".ipynb", ".md"):
            continue
        text = path.read_text(encoding="utf-8")
        # the reader myst-nb uses: .ipynb files, and MyST text notebooks (.md with a
        # kernelspec in their top matter); anything else is not a notebook
        reader = create_nb_reader(str(path), env.myst_config, config, text)
        if reader is None:
            continue
        notebook = reader.read(text)
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            todo.append((path, notebook, reader.read_fmt))
    workers = _workers(len(todo))
    if workers < 2:
        return          # nothing to gain: myst-nb executes it as usual
    logger.info(f"[parallel_execution] executing {len(todo)} notebooks with {workers} kernels")

    def execute(item):
        path, notebook, _ = item
        return single_nb_execution(notebook, cwd=str(path.parent),
                                   timeout=config.execution_timeout,
                                   allow_errors=config.execution_allow_errors,
                                   meta_override=True)

    start = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(execute, todo))
    for (path, notebook, read_fmt), result in zip(todo, results):
        if result.err is not None:      # myst-nb will run it again and report the error
            logger.info(f"[parallel_execution] {path.name} failed; myst-nb will retry it")
            continue
        record = (cache.add_nb_to_project(str(path), read_data=read_fmt) if read_fmt
                  else cache.add_nb_to_project(str(path)))
        cache.cache_notebook_bundle(CacheBundleIn(notebook, record.uri,
                                                  data={"execution_seconds": result.time}),
                                    check_validity=False, overwrite=True)
        logger.info(f"[parallel_execution] {path.name}: {result.time:.1f} s")
    logger.info(f"[parallel_execution] done in {time.monotonic() - start:.1f} s")


def setup(app):
    app.connect("env-before-read-docs", _execute_outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
