"""The Makefile as a newcomer meets it: ``make serve`` before and after a build."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def make(args, cwd):
    return subprocess.run(["make", "--no-print-directory", *args, f"PYTHON={sys.executable}"],
                          cwd=cwd, capture_output=True, text=True, timeout=60)


def test_serve_without_a_book_says_what_to_do(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")      # a fresh clone: no .venv, no _build
    result = make(["serve"], tmp_path)
    assert result.returncode != 0
    assert "make book" in result.stdout + result.stderr
    assert not (tmp_path / ".venv").exists()


def test_serve_binds_to_this_machine_only(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    (tmp_path / "_build" / "html").mkdir(parents=True)
    (tmp_path / "_build" / "html" / "index.html").write_text("<p>book</p>")
    result = make(["-n", "serve"], tmp_path)                  # -n: print the command only
    assert result.returncode == 0, result.stderr
    command = [line for line in result.stdout.splitlines() if "http.server" in line]
    assert command and "--bind 127.0.0.1" in command[0], result.stdout
    assert command[0].startswith(sys.executable)              # the given Python, not .venv's
