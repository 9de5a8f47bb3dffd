"""optlib.clipping: gradient clipping by the global norm.

* a hand computation (norm 5 clipped to 1: 3, 4 -> 0.6, 0.8) and, on random arrays, the
  clipped global norm recomputed here equals ``max_norm``; every array is scaled by the same
  factor (the direction is kept); gradients no longer than ``max_norm`` come back unchanged;
* the structure (a single array, a list, a tuple, a dict) and every dtype come back as given,
  as new arrays: the input is never changed and the result shares no memory with it;
* non-finite gradients (nan, inf, squares that overflow): the norm says so and the arrays come
  back unchanged, not scaled to zeros or nan;
* torch's ``clip_grad_norm_`` (optional; skipped without torch) returns the same norm and scales
  by ``max_norm / (norm + 1e-6)``: the results differ by that term only;
* bad input raises, naming the argument; the docstring examples run.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import optlib.clipping
from optlib.clipping import clip_by_global_norm, global_norm


def _norm(arrays) -> float:
    """The global norm, recomputed here: the square root of all squares, summed in Python."""
    return math.sqrt(sum(float(x) ** 2 for a in arrays for x in np.ravel(a)))


def test_a_hand_computation():
    grads = {"W": np.array([[3.0, 0.0]]), "b": np.array([4.0])}
    clipped, norm = clip_by_global_norm(grads, max_norm=1.0)
    assert norm == 5.0
    assert list(clipped) == ["W", "b"]
    np.testing.assert_allclose(clipped["W"], [[0.6, 0.0]], rtol=1e-15, atol=0)
    np.testing.assert_allclose(clipped["b"], [0.8], rtol=1e-15)
    # at the threshold and below it: kept
    for max_norm in (5.0, 7.0):
        kept, norm = clip_by_global_norm(grads, max_norm)
        assert norm == 5.0 and all(np.array_equal(kept[k], grads[k]) for k in grads)
    # just above it: scaled to exactly the threshold
    scaled, _ = clip_by_global_norm(grads, 2.5)
    np.testing.assert_allclose(scaled["b"], [2.0], rtol=1e-15)


def test_the_clipped_global_norm_is_max_norm_and_the_direction_is_kept():
    rng = np.random.default_rng(4)
    grads = {"W1": rng.normal(size=(64, 32)), "b1": rng.normal(size=32),
             "W2": 10 * rng.normal(size=(32, 10)), "b2": rng.normal(size=10)}
    before = _norm(grads.values())
    for max_norm in (0.01, 1.0, 0.5 * before, 0.999 * before):
        clipped, norm = clip_by_global_norm(grads, max_norm)
        assert norm == pytest.approx(before, rel=1e-13)
        assert _norm(clipped.values()) == pytest.approx(max_norm, rel=1e-13)
        factor = max_norm / before
        for k in grads:                                        # one factor for every array
            np.testing.assert_allclose(clipped[k], factor * grads[k], rtol=1e-13, atol=0)
    assert global_norm(grads) == pytest.approx(before, rel=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_structures_and_dtypes_come_back_as_given_and_the_input_is_not_changed(dtype):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)).astype(dtype), rng.normal(size=5).astype(dtype)
    for grads in (a, [a, b], (a, b), {"x": a, "y": b}):
        saved = [x.copy() for x in ([grads] if isinstance(grads, np.ndarray) else
                                    grads.values() if isinstance(grads, dict) else grads)]
        for max_norm in (0.1, 1e6):                            # clipped, and kept
            clipped, norm = clip_by_global_norm(grads, max_norm)
            assert type(clipped) is type(grads) and isinstance(norm, float)
            if isinstance(grads, dict):
                assert list(clipped) == list(grads)
                pairs = [(grads[k], clipped[k]) for k in grads]
            elif isinstance(grads, np.ndarray):
                pairs = [(grads, clipped)]
            else:
                assert len(clipped) == len(grads)
                pairs = list(zip(grads, clipped))
            for given, out in pairs:
                assert out.dtype == given.dtype and out.shape == given.shape
                assert not np.shares_memory(out, given)
            now = [x for x, _ in pairs]
            assert all(np.array_equal(x, y) for x, y in zip(now, saved))     # input unchanged
            if max_norm > 1.0:
                assert all(np.array_equal(out, given) for given, out in pairs)
            else:
                assert _norm(out for _, out in pairs) == pytest.approx(
                    0.1, rel=1e-2 if dtype == np.float16 else 1e-6)


@pytest.mark.parametrize("bad, expected", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "inf")])
def test_a_non_finite_gradient_is_reported_and_left_as_it_is(bad, expected):
    grads = {"W": np.array([[1.0, bad]]), "b": np.array([3.0])}
    with np.errstate(all="raise"):
        clipped, norm = clip_by_global_norm(grads, 1.0)
    assert (math.isnan(norm) if expected == "nan" else norm == math.inf)
    assert np.array_equal(clipped["b"], [3.0])                 # not scaled to 0 or nan
    assert np.array_equal(clipped["W"], grads["W"], equal_nan=True)
    assert not np.shares_memory(clipped["W"], grads["W"])


def test_squares_that_overflow_give_an_infinite_norm_and_no_scaling():
    grads = [np.array([1e200, 1.0]), np.array([2.0])]          # finite, but the squares overflow
    with np.errstate(all="raise"):
        clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == math.inf
    assert np.array_equal(clipped[0], grads[0]) and np.array_equal(clipped[1], grads[1])


def test_the_same_as_torch_up_to_its_1e_6():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    grads = {"W": rng.normal(size=(6, 5)), "b": rng.normal(size=5)}
    for max_norm in (0.3, 1.0, 100.0):
        tensors = []
        for g in grads.values():
            t = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
            t.grad = torch.tensor(g)
            tensors.append(t)
        theirs = float(torch.nn.utils.clip_grad_norm_(tensors, max_norm))
        clipped, norm = clip_by_global_norm(grads, max_norm)
        assert norm == pytest.approx(theirs, rel=1e-14)
        factor = (norm + 1e-6) / norm if norm > max_norm else 1.0     # theirs: c/(norm + 1e-6)
        for t, k in zip(tensors, grads):
            np.testing.assert_allclose(t.grad.numpy() * factor, clipped[k], rtol=1e-13, atol=0)


def test_bad_input_names_the_argument():
    g = {"w": np.ones(3)}
    for max_norm, error, words in [(0.0, ValueError, "max_norm=0.0"),
                                   (-1.0, ValueError, "max_norm=-1.0"),
                                   (np.inf, ValueError, "max_norm=inf"),
                                   (np.nan, ValueError, "max_norm=nan"),
                                   ("1", TypeError, "max_norm='1'"),
                                   (True, TypeError, "max_norm=True")]:
        with pytest.raises(error, match=words):
            clip_by_global_norm(g, max_norm)
    for grads, error, words in [({"w": np.ones(3, dtype=int)}, TypeError, r"grads\['w'\]"),
                                ([np.ones(2), [1.0]], TypeError, r"grads\[1\]"),
                                ("grads", TypeError, "grads='grads'"),
                                (3.0, TypeError, "grads=3.0"),
                                ({}, ValueError, "at least one array"),
                                (np.array(["a"]), TypeError, "grads must be a float ndarray")]:
        with pytest.raises(error, match=words):
            clip_by_global_norm(grads, 1.0)


def test_docstring_examples_run():
    result = doctest.testmod(optlib.clipping)
    assert result.attempted >= 4 and result.failed == 0
