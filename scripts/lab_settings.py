"""Install the book's JupyterLab defaults into an environment (``make lab``, Binder's postBuild).

    python scripts/lab_settings.py

JupyterLab reads default settings from every ``overrides.d/*.json`` in
``<sys.prefix>/share/jupyter/lab/settings`` (one file per package); this copies
``lab/overrides.json`` there as ``optlib-textbook.json``. A learner's own settings still
win. The defaults:

* no news and no update checks (``fetchNews``: ``"false"``): JupyterLab would otherwise ask
  to fetch them from the internet, and the book makes no outside requests;
* widget state is not saved into notebooks (``saveState``: false, JupyterLab's own default,
  stated so): an exploration's live view then reports that its widget is gone when a
  reopened notebook has no kernel behind it, and its static stand-in takes its place with
  working sliders (``optlib.explore``); saved widget state would instead show a picture
  whose sliders no longer do anything.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "lab" / "overrides.json"
NAME = "optlib-textbook.json"


def settings_file(prefix: str = sys.prefix) -> Path:
    """Where JupyterLab in the environment ``prefix`` finds the book's defaults."""
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / NAME


def install(prefix: str = sys.prefix) -> Path:
    """Copy ``lab/overrides.json`` into the environment ``prefix``; returns where."""
    json.loads(SOURCE.read_text(encoding="utf-8"))      # a broken file fails here, not in Lab
    target = settings_file(prefix)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, target)
    return target


if __name__ == "__main__":
    print(f"JupyterLab defaults written to {install()}")
