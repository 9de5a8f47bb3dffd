"""``optlib.analysis``: one namespace over the four families of closed forms."""

from __future__ import annotations

import importlib

import pytest

from optlib import analysis


@pytest.mark.parametrize("family", ["gd", "momentum", "averages", "adaptive", "noise", "orthogonal"])
def test_every_name_of_a_family_is_exported_from_optlib_analysis(family):
    """Each public name of optlib.analysis.<family> is in optlib.analysis.__all__, the same
    object, with the mathematics in its docstring."""
    module = importlib.import_module(f"optlib.analysis.{family}")
    assert module.__all__
    for name in module.__all__:
        assert name in analysis.__all__
        assert getattr(analysis, name) is getattr(module, name)
        assert "math" in getattr(module, name).__doc__


def test_nothing_else_is_exported():
    families = [importlib.import_module(f"optlib.analysis.{f}")
                for f in ("gd", "momentum", "averages", "adaptive", "noise", "orthogonal")]
    assert sorted(analysis.__all__) == sorted(n for m in families for n in m.__all__)
