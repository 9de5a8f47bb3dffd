"""``optlib._settings``: the OPTLIB_* switches, read in one place, when they are needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from optlib import _settings

OPTLIB = Path(__file__).resolve().parent.parent / "optlib"


def test_no_other_module_reads_the_environment():
    readers = [str(p.relative_to(OPTLIB)) for p in OPTLIB.rglob("*.py")
               if p.name != "_settings.py"
               and re.search(r"os\.environ|os\.getenv|environ\.get", p.read_text())]
    assert not readers, f"read OPTLIB_* switches through optlib._settings, not in {readers}"


def test_switches_are_read_when_needed(monkeypatch):
    monkeypatch.delenv(_settings.KERNELS, raising=False)
    assert _settings.kernels_enabled()
    monkeypatch.setenv(_settings.KERNELS, " NumPy ")
    assert not _settings.kernels_enabled()
    monkeypatch.setenv(_settings.QUIET, "1")
    assert _settings.quiet()
    monkeypatch.setenv(_settings.QUIET, "0")
    monkeypatch.setenv(_settings.STATIC_EXPLORATIONS, "1")
    assert _settings.static_explorations() and _settings.quiet()   # the book build is quiet
    monkeypatch.setenv(_settings.STATIC_EXPLORATIONS, "0")
    assert not _settings.static_explorations() and not _settings.quiet()


@pytest.mark.parametrize("value, expected", [("3", 3), ("1", 1), ("0", None), ("-2", None),
                                             ("two", None), ("", None)])
def test_thread_count(monkeypatch, value, expected):
    monkeypatch.setenv(_settings.NUM_THREADS, value)
    threads = _settings.num_threads()
    if expected is None:          # not a positive whole number: the default
        assert 1 <= threads <= 4
    else:
        assert threads == expected
