"""The package as a user installs it: a wheel, installed non-editable, used outside the repository.

Binder, ``make`` and the other tests install optlib editable (``-e .``), which
imports straight from the checkout and so cannot notice a subpackage or data
file missing from the distribution. Here the wheel is built from the checkout,
installed without ``-e`` into a fresh virtual environment, and used from a
temporary folder far from the repository:

* every module of ``optlib/`` (and every data file) is in the wheel;
* everything the chapters import imports, from the installed copy;
* an exercise check runs, and a static exploration renders with the script
  that ships as package data (``optlib/explore/static.js``);
* the distribution is ``optlib-textbook`` (``optlib`` on the package index is
  an unrelated project), with a license.

Dependencies (numpy, matplotlib, ...) come from the test's own environment
through a ``.pth`` file, so nothing is downloaded; the optlib seen inside the new
environment is the wheel's alone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DIST = "optlib-textbook"


def chapter_imports() -> set[str]:
    """Every ``optlib`` module the chapters and the landing page import or use."""
    names = {"optlib"}
    sources = [REPO / "intro.md"] + sorted((REPO / "chapters").glob("*.ipynb"))
    for path in sources:
        text = path.read_text()
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"]
                             if c["cell_type"] == "code")
        names |= set(re.findall(r"\b(optlib(?:\.[a-z_]+)+)", text))
        # "from optlib import a, b" on one line, or "from optlib import (a, b,\n c)" on several
        for group in re.findall(r"from optlib import (\([^)]*\)|[^\n]+)", text):
            names |= {f"optlib.{n.strip()}" for n in group.strip("()").split(",") if n.strip()}
    return {n for n in names if (REPO / n.replace(".", "/")).is_dir()
            or (REPO / (n.replace(".", "/") + ".py")).is_file() or n == "optlib"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from the files git tracks (what a clean clone has)."""
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=REPO, capture_output=True, check=True
                             ).stdout.decode().split("\0")
    for name in filter(None, tracked):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, cwd=out)
    assert build.returncode == 0, build.stderr
    wheels = list(out.glob("optlib_textbook-*.whl"))
    assert len(wheels) == 1, list(out.iterdir())
    return wheels[0]


def test_build_folders_are_ignored_by_git():
    """``pip install .`` leaves build/ (and *.egg-info) in the checkout: never untracked."""
    for name in ("build", "dist", "optlib_textbook.egg-info"):
        ignored = subprocess.run(["git", "check-ignore", "-q", f"{name}/PKG-INFO"],
                                 cwd=REPO).returncode == 0
        assert ignored, f"{name}/ is not ignored by git"


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed non-editable; returns its python."""
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    site = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
    ).strip())
    # the test environment's packages (numpy, matplotlib, ...), but not its optlib:
    # a plain path in a .pth file does not run the .pth files (the editable finder) there
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    return python


def test_wheel_ships_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {str(p.relative_to(REPO)) for p in (REPO / "optlib").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    missing = sorted(sources - names)
    assert not missing, f"not in the wheel: {missing}"
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Name: {DIST}" in text
    assert "License-Expression: MIT" in text or "License: MIT" in text
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)


def test_installed_wheel_works_outside_the_repository(installed, tmp_path):
    modules = sorted(chapter_imports())
    assert "optlib.exercises" in modules and "optlib.explore" in modules
    script = f"""
import importlib, importlib.metadata, pathlib
modules = {modules!r}
for name in modules:
    importlib.import_module(name)
import optlib
from optlib import exercises, explore
where = pathlib.Path(optlib.__file__).resolve()
assert "site-packages" in where.parts, where
assert {str(REPO)!r} not in str(where), where
assert "{DIST}" in importlib.metadata.packages_distributions()["optlib"]
feedback = exercises.check("1.2", 1 / 22)      # the stability limit of 2 W1² + 22 W2²
assert feedback.correct, feedback
html = explore.EMAExplorer(betas=(0.5, 0.9), steps=20, lags=10).static_html()
script = (where.parent / "explore" / "static.js").read_text()
assert script.strip().splitlines()[-1] in html and "<svg" in html
print("ok", len(modules))
"""
    result = subprocess.run([installed, "-c", script], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
