"""Every ``Examples:`` block in optlib's docstrings runs, and prints what it says.

One test per module (found by walking the package, so a new module is covered
the day it is added); a module whose examples fail shows doctest's report.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import matplotlib
import numpy as np
import pytest

import optlib

matplotlib.use("Agg")

MODULES = sorted(
    {"optlib"} | {info.name for info in pkgutil.walk_packages(optlib.__path__, "optlib.")}
)


def examples(module) -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [test for test in finder.find(module) if test.examples]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    with np.printoptions(legacy=False):
        for test in examples(module):
            result = runner.run(test, out=report.append)
            assert not result.failed, "".join(report)


def test_the_library_has_examples():
    """The public modules show how they are used: the count cannot silently drop to zero."""
    total = sum(len(t.examples) for name in MODULES
                for t in examples(importlib.import_module(name)))
    assert total >= 40, f"only {total} docstring examples in optlib"
    for name in ("optlib.optimizers", "optlib.objectives", "optlib.analysis"):
        assert examples(importlib.import_module(name)), f"{name} has no docstring example"
