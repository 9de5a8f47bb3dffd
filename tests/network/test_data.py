"""optlib.network.data: the digits split, and the checks of features, labels and splits.

* the digits split is deterministic, a partition of the data set, stratified, shuffled and
  scaled to [0, 1]; a missing scikit-learn gives a clear ImportError;
* features with nan or inf are refused, naming the part of the split (X_train, X_test, ...)
  and the first bad entry — before, they reached training and looked like a divergence;
* bad input raises, naming the argument; the docstring examples run.
"""

from __future__ import annotations

import doctest
import re
import sys

import numpy as np
import pytest

import optlib.network.data
from optlib.network import Digits, load_digits_split, one_hot
from optlib.network.data import check_features, check_labels, check_split


def test_digits_split_is_a_deterministic_stratified_partition(digits):
    from sklearn.datasets import load_digits

    full = load_digits()
    X, y = full.data / 16.0, full.target
    assert digits.X_train.shape == (1347, 64) and digits.X_test.shape == (450, 64)
    assert digits.X_train.dtype == np.float64 and digits.y_train.dtype == np.int64
    assert digits.X_train.min() == 0.0 and max(digits.X_train.max(), digits.X_test.max()) == 1.0
    assert digits.n_classes == 10 and digits.n_features == 64
    # a partition: the rows of train + test are the rows of the data set, each once
    both = np.column_stack([np.vstack([digits.X_train, digits.X_test]),
                            np.concatenate([digits.y_train, digits.y_test])])
    original = np.column_stack([X, y])
    key = lambda a: a[np.lexsort(a.T[::-1])]
    np.testing.assert_array_equal(key(both), key(original))
    # stratified: round(0.25 · n_c) test images of every class
    per_class = np.bincount(y, minlength=10)
    np.testing.assert_array_equal(np.bincount(digits.y_test, minlength=10),
                                  [round(0.25 * n) for n in per_class])
    # shuffled: the classes are mixed, not in blocks
    assert np.mean(np.diff(digits.y_train) == 0) < 0.3
    # deterministic, and the seed matters
    again = load_digits_split()
    assert all(np.array_equal(a, b) for a, b in zip(digits, again))
    other = load_digits_split(seed=1)
    assert not np.array_equal(digits.y_train, other.y_train)


def test_digits_split_without_stratification():
    split = load_digits_split(test_fraction=0.2, seed=3, stratify=False)
    assert split.X_test.shape[0] == round(0.2 * 1797)
    assert split.X_train.shape[0] + split.X_test.shape[0] == 1797
    again = load_digits_split(test_fraction=0.2, seed=3, stratify=False)
    assert np.array_equal(split.y_test, again.y_test)


def test_missing_scikit_learn_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="scikit-learn.*no download"):
        load_digits_split()


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0, 1]), np.eye(3)[[2, 0, 1]])
    assert one_hot(np.array([1, 1]), n_classes=4).shape == (2, 4)
    with pytest.raises(ValueError, match="y must hold labels 0 ... 1"):
        one_hot([0, 2], n_classes=2)
    with pytest.raises(TypeError, match="y must be an array of whole-number"):
        one_hot([0.0, 1.0])
    with pytest.raises(ValueError, match="n_classes must be a whole number ≥ 1"):
        one_hot([0], n_classes=0)


# --------------------------------------------------------------------------- non-finite data
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features_are_refused_naming_the_entry(bad):
    X = np.zeros((4, 3))
    X[2, 1] = bad
    with pytest.raises(ValueError, match=re.escape(f"X must hold finite numbers, got {bad} at "
                                                   "row 2, column 1 (1 non-finite entry")):
        check_features(X, 3)
    X[3, :] = bad
    with pytest.raises(ValueError, match=r"X_test must .*\(4 non-finite entries in all\)"):
        check_features(X, 3, name="X_test")


@pytest.mark.parametrize("part", ["X_train", "X_test"])
def test_a_split_with_nan_names_the_part(small_data, part):
    X = getattr(small_data, part).copy()
    X[5, 7] = np.nan
    bad = small_data._replace(**{part: X})
    with pytest.raises(ValueError, match=f"{part} must hold finite numbers, got nan at row 5, "
                                         f"column 7"):
        check_split(bad, 64, 10)
    with pytest.raises(ValueError, match=part):                 # a plain tuple, too
        check_split(tuple(bad), 64, 10)
    assert np.isnan(X[5, 7])                                   # the input is left alone


def test_check_split_converts_and_names_the_labels(small_data):
    X_train, y_train, X_test, y_test = small_data
    split = check_split((X_train.astype(np.float32), y_train.astype(np.int32), X_test,
                         y_test.tolist()), 64, 10)
    assert isinstance(split, Digits)
    assert split.X_train.dtype == np.float64 and split.y_train.dtype == np.int64
    assert split.y_test.dtype == np.int64
    with pytest.raises(ValueError, match=r"y_test must have shape \(100,\), one label per row "
                                         r"of X_test"):
        check_split((X_train, y_train, X_test, y_test[:-1]), 64, 10)
    with pytest.raises(TypeError, match="y_train must be an array of whole-number"):
        check_split((X_train, y_train.astype(float), X_test, y_test), 64, 10)
    with pytest.raises(ValueError, match="y_train must hold labels 0 ... 4"):
        check_split((X_train, y_train, X_test, y_test), 64, 5)
    with pytest.raises(TypeError, match="data must be a Digits split"):
        check_split(X_train, 64, 10)


def test_bad_features_and_labels():
    with pytest.raises(ValueError, match=r"X must have shape \(n, 4\)"):
        check_features(np.ones((5, 3)), 4)
    with pytest.raises(ValueError, match="X must hold at least one example"):
        check_features(np.ones((0, 4)), 4)
    with pytest.raises(TypeError, match="X must be an array of numbers"):
        check_features(np.array([["a"] * 4] * 5), 4)
    with pytest.raises(ValueError, match="ragged"):
        check_features([[1.0, 2.0], [3.0]], 2)
    with pytest.raises(ValueError, match=r"y must have shape \(3,\)"):
        check_labels([0, 1], 3, 2)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(test_fraction=0.0), ValueError, "test_fraction=0.0"),
    (dict(test_fraction=1.0), ValueError, "test_fraction=1.0"),
    (dict(test_fraction="a"), TypeError, "test_fraction"),
    (dict(test_fraction=float("nan")), ValueError, "test_fraction"),
    (dict(seed=-1), ValueError, "seed=-1"),
    (dict(seed=1.0), TypeError, "seed"),
    (dict(stratify="yes"), TypeError, "stratify"),
])
def test_bad_split_arguments(kwargs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        load_digits_split(**kwargs)


def test_docstring_examples_run():
    result = doctest.testmod(optlib.network.data, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0
