"""The model of an exploration (``optlib.explore.model``): sliders, the grid, frames.

* a :class:`~optlib.explore.Slider` keeps its grid as floats, starts at the grid
  value nearest ``initial`` and shows values through ``fmt`` (or its choices);
* a minimal subclass of :class:`~optlib.explore.Exploration` (a marker that a
  slider moves) gets grid arithmetic, ``update`` and both views from the base;
* bad arguments and indices raise ``TypeError`` / ``ValueError`` naming the
  argument and the value, and a bad ``update`` changes nothing;
* ``format_value`` and every docstring example of the package (run as doctests).
"""

from __future__ import annotations

import doctest
import importlib
import json
import re

import numpy as np
import pytest

import optlib.explore
from optlib.explore import Exploration, Slider, format_value
from optlib.explore.model import MAX_PIXELS


class Marker(Exploration):
    """A point at (x, y): the smallest exploration, to test the base class alone."""

    name = "marker"

    def _draw(self, fig):
        ax = fig.subplots()
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        return {"point": ax.plot([], [], "o")[0]}

    def frame(self, index):
        values = self.values(index)
        x, y = values["x"], values.get("y", 0.0)
        return {"point": ([x], [y])}, f"{self.setting(index)}: x + y = {format_value(x + y)}"


def marker(**kwargs):
    sliders = kwargs.pop("sliders", [Slider("x", [-0.5, 0.0, 0.5]),
                                     Slider("y", [-0.5, 0.5], label="y", fmt="{:+.1f}")])
    return Marker(sliders, **kwargs)


# --------------------------------------------------------------------------- Slider
def test_slider_grid_start_and_text():
    s = Slider("lr", np.array([1, 2, 4]), initial=2.9)
    assert s.values == (1.0, 2.0, 4.0) and all(type(v) is float for v in s.values)
    assert s.start_index == 1 and s.text(2) == "4" and s.label == "α"
    assert Slider("beta", [0.1, 0.2, 0.3, 0.4]).start_index == 2    # the middle by default
    c = Slider.choice("objective", ["bowl", "banana"], initial=1, label="objective")
    assert c.values == (0.0, 1.0) and c.choices == ("bowl", "banana")
    assert c.start_index == 1 and c.text(0) == "bowl"


def test_slider_rejects_empty_values():
    with pytest.raises(ValueError, match="slider 'lr'"):
        Slider("lr", [])


def test_slider_rejects_nan_values():
    with pytest.raises(ValueError, match="slider 'beta'.*nan"):
        Slider("beta", [0.1, float("nan"), 0.5])


def test_slider_rejects_non_numeric_values_naming_the_slider():
    with pytest.raises(TypeError, match="'lr'"):
        Slider("lr", ["a", "b"])


BAD_SLIDERS = [
    (lambda: Slider("", [0.1]), ValueError, ["name=''"]),
    (lambda: Slider(3, [0.1]), TypeError, ["name=3"]),
    (lambda: Slider("lr", [[0.1, 0.2]]), ValueError, ["slider 'lr'", "values", "[[0.1, 0.2]]"]),
    (lambda: Slider("lr", 0.1), ValueError, ["slider 'lr'", "values=0.1"]),
    (lambda: Slider("lr", [True, False]), TypeError, ["slider 'lr'", "values=[True, False]"]),
    (lambda: Slider("lr", [0.1], initial="0.1"), TypeError, ["slider 'lr'", "initial='0.1'"]),
    (lambda: Slider("lr", [0.1], initial=float("inf")), ValueError, ["initial=inf"]),
    (lambda: Slider("lr", [0.1], label=3), TypeError, ["slider 'lr'", "label=3"]),
    (lambda: Slider("lr", [0.1], label=""), ValueError, ["label=''"]),
    (lambda: Slider("lr", [0.1], fmt="{:d}"), ValueError, ["slider 'lr'", "fmt='{:d}'", "0.1"]),
    (lambda: Slider("lr", [0.1], fmt="{0} {1}"), ValueError, ["fmt='{0} {1}'"]),
    (lambda: Slider("lr", [0.1], fmt=None), TypeError, ["fmt=None"]),
    (lambda: Slider("k", [0, 1], choices=["a"]), ValueError, ["slider 'k'", "choices=['a']"]),
    (lambda: Slider("k", [0, 1], choices=["a", 2]), TypeError, ["choices[1]=2"]),
    (lambda: Slider("k", [0, 1], choices="ab"), TypeError, ["choices='ab'"]),
    (lambda: Slider.choice("k", []), ValueError, ["choices=()"]),
    (lambda: Slider.choice("k", "ab"), TypeError, ["choices='ab'"]),
    (lambda: Slider.choice("k", ["a", "b"], initial=2), ValueError, ["initial=2", "0 to 1"]),
    (lambda: Slider.choice("k", ["a", "b"], initial=1.0), TypeError, ["initial=1.0"]),
]


@pytest.mark.parametrize("call, error, words", BAD_SLIDERS,
                         ids=[f"slider-{k}" for k in range(len(BAD_SLIDERS))])
def test_slider_rejects_bad_arguments_naming_them(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# --------------------------------------------------------------------------- format_value
def test_format_value_is_three_significant_digits_or_a_dash():
    assert format_value(0.123456) == "0.123"
    assert format_value(np.float64(1234.5)) == "1.23e+03"
    assert format_value(np.array(7)) == "7"
    assert format_value(float("inf")) == format_value(np.nan) == "—"
    for bad in ("0.1", None, [1.0, 2.0], True):
        with pytest.raises(TypeError, match="x"):
            format_value(bad)


# --------------------------------------------------------------------------- the base class
def test_a_minimal_exploration_gets_the_grid_update_and_both_views():
    ex = marker()
    assert ex.shape == (3, 2)
    assert ex.values((2, 0)) == {"x": 0.5, "y": -0.5}
    assert ex.setting((2, 0)) == "x = 0.5, y = -0.5"
    assert ex.index_of(x=0.0, y=0.5) == (1, 1)
    assert ex.update((2, 0)) == "x = 0.5, y = -0.5: x + y = 0"
    assert ex._artists["point"].get_data() == ([0.5], [-0.5])
    assert repr(ex) == "<Marker 'marker' (x: 3 values, y: 2 values)>"
    page = ex.static_html()
    spec = json.loads(re.search(r'class="optlib-data">(.*?)</script>', page, re.S).group(1))
    assert spec["labels"] == [["-0.5", "0", "0.5"], ["-0.5", "+0.5"]]
    # the static page starts at the sliders' start; the widget shows the current frame
    assert re.findall(r'type="range"[^>]*value="(\d)"', page) == ["1", "1"]
    assert ex.widget().readout.value == ex.frame((2, 0))[1]


BAD_EXPLORATIONS = [
    (lambda: marker(sliders=[]), ValueError, ["sliders=[]"]),
    (lambda: marker(sliders=None), TypeError, ["sliders=None"]),
    (lambda: marker(sliders=[Slider("x", [0.0]), Slider("x", [1.0])]), ValueError,
     ["distinct", "'x'"]),
    (lambda: marker(sliders=["x"]), TypeError, ["sliders[0]='x'"]),
    (lambda: marker(width=0.0), ValueError, ["width=0.0"]),
    (lambda: marker(height=float("nan")), ValueError, ["height=nan"]),
    (lambda: marker(width="9"), TypeError, ["width='9'"]),
    (lambda: marker(dpi=72.5), TypeError, ["dpi=72.5"]),
    (lambda: marker(dpi=-1), ValueError, ["dpi=-1"]),
    (lambda: marker(width=2.0, height=10.0, dpi=400), ValueError,
     ["height=10.0", "dpi=400", "4000"]),
]


@pytest.mark.parametrize("call, error, words", BAD_EXPLORATIONS,
                         ids=[f"exploration-{k}" for k in range(len(BAD_EXPLORATIONS))])
def test_exploration_rejects_bad_arguments_naming_them(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_the_largest_allowed_figure_is_accepted():
    ex = marker(width=MAX_PIXELS / 100, height=2.0, dpi=100)
    assert ex.figure.canvas.get_width_height() == (MAX_PIXELS, 200)


def test_index_of_rejects_a_value_off_the_grid():
    ex = marker()
    assert ex.index_of(x=0.5) == (2, 1)        # y: its start value
    with pytest.raises(ValueError, match=r"x=0\.25.*not on the grid of slider 'x'"):
        ex.index_of(x=0.25)


def test_index_of_rejects_an_unknown_slider_name():
    with pytest.raises(ValueError, match="xx"):
        marker().index_of(xx=0.5)


def test_index_of_names_the_value_and_the_grid():
    ex = marker(sliders=[Slider("lr", [0.01, 0.05, 0.085, 0.12])])
    with pytest.raises(TypeError, match=r"lr must be a number on the grid of slider 'lr' "
                                        r"\(one of 0\.01, 0\.05, 0\.085, 0\.12\), got lr='0\.05'"):
        ex.index_of(lr="0.05")
    with pytest.raises(ValueError, match=r"lr=nan is not on the grid"):
        ex.index_of(lr=float("nan"))
    with pytest.raises(ValueError, match=r"lr=-0\.05 is not on the grid"):
        ex.index_of(lr=-0.05)
    assert ex.index_of(lr=0.085) == (2,)


class LR(Marker):
    def frame(self, index):
        (i,) = index
        return {"point": ([self.sliders[0].values[i]], [0.0])}, self.setting(index)


def test_bad_update_index_is_a_readable_error_and_changes_nothing():
    ex = LR([Slider("lr", [0.01, 0.05, 0.085, 0.12])])
    ex.update((1,))
    before = {n: a.get_data() for n, a in ex._artists.items()}
    cases = [((99,), ValueError, ["index 99 is out of range for slider 'lr'", "0 to 3"]),
             ((-1,), ValueError, ["index -1 is out of range", "0 to 3"]),
             ((1.5,), TypeError, ["index must be 1 whole number(s)", "'lr'", "1.5"]),
             (("a",), TypeError, ["index must be", "'a'"]),
             ((0, 1), TypeError, ["index must be 1 whole number(s)"]),
             (None, TypeError, ["index must be", "None"])]
    for index, error, words in cases:
        with pytest.raises(error) as info:
            ex.update(index)
        for word in words:
            assert word in str(info.value), (word, str(info.value))
        assert ex._index == (1,)
        for n, a in ex._artists.items():
            np.testing.assert_array_equal(np.asarray(a.get_data()[1], float),
                                          np.asarray(before[n][1], float))


# --------------------------------------------------------------------------- docstrings
MODULES = ("optlib.explore", "optlib.explore.model", "optlib.explore.live",
           "optlib.explore.static", "optlib.explore.explorers", "optlib.explore.noise")


def test_docstring_examples_run():
    """Every ``>>>`` example in the package's docstrings runs and prints what it shows."""
    finder = doctest.DocTestFinder()
    globs = dict(vars(optlib.explore))
    tests = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for test in finder.find(module, name, globs=globs):
            tests[test.name] = test
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with_examples = [t for t in tests.values() if t.examples]
    for test in with_examples:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
    names = {t.name.rsplit(".", 1)[-1] for t in with_examples}
    assert {"format_value", "Slider", "choice", "decode", "TrajectoryExplorer",
            "MomentumRateExplorer", "EMAExplorer", "ComparisonExplorer"} <= names, names
