"""The Makefile as a newcomer meets it: ``make serve`` before and after a build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def make(args, cwd, env=None):
    return subprocess.run(["make", "--no-print-directory", *args, f"PYTHON={sys.executable}"],
                          cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


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


# --------------------------------------------------------------------------- npm (MathJax)
CLONE_FILES = ("Makefile", "pyproject.toml", "requirements.txt", "package.json",
               "package-lock.json")
FAKE_NPM = """#!/bin/sh
# Stands in for npm: records its arguments, installs nothing from the network.
echo "$@" >> "$(dirname "$0")/npm.log"
mkdir -p node_modules/mathjax/es5
"""


def a_clone(tmp_path):
    """The Makefile and what its rules depend on, as in a fresh clone (no .venv, node_modules)."""
    for name in CLONE_FILES:
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def test_book_and_test_install_the_npm_packages_first(tmp_path):
    clone = a_clone(tmp_path)
    for target in ("book", "test"):
        result = make(["-n", target], clone)                   # -n: print the commands only
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        npm = [i for i, line in enumerate(lines) if line.startswith("npm ci")]
        assert npm, f"`make {target}` does not run npm ci:\n{result.stdout}"
        assert "--no-audit" in lines[npm[0]] and "--no-fund" in lines[npm[0]]
        runs = [i for i, line in enumerate(lines)
                if ("jupyter-book build" if target == "book" else "pytest") in line]
        assert runs and npm[0] < runs[0], result.stdout


def test_npm_packages_are_installed_once(tmp_path):
    clone = a_clone(tmp_path)
    bin_dir = clone / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text(FAKE_NPM)
    (bin_dir / "npm").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for _ in range(2):
        result = make(["node"], clone, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    assert (bin_dir / "npm.log").read_text().splitlines() == ["ci --no-audit --no-fund"]
    assert (clone / "node_modules" / ".installed").is_file()     # the stamp
    # A changed lock file installs again.
    (clone / "package-lock.json").touch()
    os.utime(clone / "package-lock.json", (time.time() + 5, time.time() + 5))
    assert make(["node"], clone, env=env).returncode == 0
    assert len((bin_dir / "npm.log").read_text().splitlines()) == 2


def test_without_npm_make_says_what_to_install(tmp_path):
    clone = a_clone(tmp_path)
    no_npm = clone / "bin"                        # a PATH with make's tools but without npm
    no_npm.mkdir()
    for tool in ("make", "touch", "mkdir"):
        found = shutil.which(tool)
        if found:
            (no_npm / tool).symlink_to(found)
    result = make(["node"], clone, env={**os.environ, "PATH": str(no_npm)})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "npm is needed" in output and "nodejs npm" in output, output
    assert not (clone / "node_modules").exists()
