"""Shared fixtures: the book, built once per test session.

``book`` runs ``jupyter-book build`` on the repository into a temporary
directory (never into the repository), with the same strict flags as the
documented build command: ``jupyter-book build . -W -n --keep-going --builder
html``. It is used by ``test_book.py`` (the build and its HTML) and by
``test_browser.py`` (the built chapter pages in headless Chromium), so the
book is built once however many of those tests run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Building executes the text notebooks (intro.md; the chapters' stored outputs are
# shown as they are, _config.yml); this bounds the whole build so that a hung kernel
# fails the test instead of CI.
BUILD_TIMEOUT_S = 1200


def _jupyter_book_command() -> list[str]:
    """The jupyter-book CLI of the environment running the tests."""
    script = Path(sys.executable).with_name("jupyter-book")
    if script.is_file():
        return [str(script)]
    # jupyter-book 1.x has no ``__main__``; its console script calls this.
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]


@dataclass
class BuiltBook:
    returncode: int
    output: str
    html: Path
    seconds: float


@pytest.fixture(scope="session")
def book(tmp_path_factory: pytest.TempPathFactory) -> BuiltBook:
    out = tmp_path_factory.mktemp("book")
    cmd = [
        *_jupyter_book_command(),
        "build",
        str(REPO),
        "--path-output",
        str(out),
        "--builder",
        "html",
        "-W",
        "-n",
        "--keep-going",
    ]
    start = time.monotonic()
    proc = subprocess.run(
        cmd,
        cwd=out,  # nothing the build writes relative to the cwd lands in the repo
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    return BuiltBook(
        returncode=proc.returncode,
        output=proc.stdout,
        html=out / "_build" / "html",
        seconds=time.monotonic() - start,
    )
