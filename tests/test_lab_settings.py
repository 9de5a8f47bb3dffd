"""The learner's JupyterLab set-up: ``make lab``, Binder's files and the book's defaults.

``scripts/lab_settings.py`` installs ``lab/overrides.json`` where JupyterLab reads
default settings; ``make lab`` and Binder's ``postBuild`` run it. A key JupyterLab does
not know would be ignored without a word, so each is checked against the settings schema
of the plugin it names, as installed in this environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARE = Path(sys.prefix) / "share" / "jupyter"
sys.path.insert(0, str(REPO / "scripts"))
import lab_settings  # noqa: E402


def _schema(plugin: str) -> dict:
    """The settings schema of ``plugin`` (JupyterLab's own, or a pip-installed extension's)."""
    package, name = plugin.rsplit(":", 1)
    places = [SHARE / "lab" / "schemas" / package / f"{name}.json",
              SHARE / "labextensions" / package / "schemas" / package / f"{name}.json"]
    found = [p for p in places if p.exists()]
    assert found, f"{plugin}: no settings schema in {places} (is the plugin id right?)"
    return json.loads(found[0].read_text(encoding="utf-8"))


def test_every_default_names_a_real_setting_with_an_allowed_value():
    defaults = json.loads(lab_settings.SOURCE.read_text(encoding="utf-8"))
    assert defaults
    for plugin, values in defaults.items():
        properties = _schema(plugin)["properties"]
        for key, value in values.items():
            assert key in properties, f"{plugin} has no setting {key!r}: {sorted(properties)}"
            spec = properties[key]
            if "enum" in spec:
                assert value in spec["enum"], f"{plugin}.{key} = {value!r} not in {spec['enum']}"
            kind = {"boolean": bool, "string": str}.get(spec.get("type"))
            if kind:
                assert isinstance(value, kind), f"{plugin}.{key} = {value!r} is not a {kind}"


def test_the_defaults_keep_widget_state_out_and_news_off():
    defaults = json.loads(lab_settings.SOURCE.read_text(encoding="utf-8"))
    # saved widget state would show a dead picture in a reopened notebook instead of the
    # exploration's working stand-in (optlib.explore)
    assert defaults["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is False
    assert defaults["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_install_writes_the_defaults_where_jupyterlab_reads_them(tmp_path):
    target = lab_settings.install(str(tmp_path))
    assert target == (tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
                      / "optlib-textbook.json")
    assert json.loads(target.read_text()) == json.loads(lab_settings.SOURCE.read_text())
    # JupyterLab's own reader finds them (jupyterlab_server reads overrides.d/*.json)
    from jupyterlab_server.settings_utils import _get_overrides

    overrides, error = _get_overrides(str(target.parent.parent))
    assert not error and overrides == json.loads(lab_settings.SOURCE.read_text())


def test_make_lab_installs_the_defaults_before_starting_jupyterlab():
    # -n: print the commands only; -o: take the installed environment as given
    result = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed",
                             "lab"], cwd=REPO, capture_output=True, text=True, timeout=60)
    lines = [line for line in result.stdout.splitlines()
             if "lab_settings.py" in line or "jupyter lab" in line]
    assert len(lines) == 2 and "lab_settings.py" in lines[0], result.stdout + result.stderr


def test_binder_runs_the_same_set_up():
    post = REPO / "postBuild"
    assert os.access(post, os.X_OK), "postBuild must be executable (repo2docker runs it)"
    assert "python scripts/lab_settings.py" in post.read_text()
    assert re.search(r"^jupyterlab-myst>=", (REPO / "requirements.txt").read_text(), re.M)
    # Binder's Python: runtime.txt, within the package's requires-python
    runtime = (REPO / "runtime.txt").read_text().strip()
    version = tuple(map(int, re.fullmatch(r"python-(\d+)\.(\d+)", runtime).groups()))
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    low = tuple(map(int, re.fullmatch(r">=(\d+)\.(\d+)", requires).groups()))
    assert version >= low, f"runtime.txt {runtime} is below requires-python {requires}"
    # no binder/ folder: repo2docker would then ignore requirements.txt and postBuild here
    assert not (REPO / "binder").exists() and not (REPO / ".binder").exists()
