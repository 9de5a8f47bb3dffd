r"""The digits data set, its training/test split, and the checks of features and labels.

scikit-learn ships 1797 grey-scale 8×8 images of handwritten digits inside the
package (nothing is downloaded). :func:`load_digits_split` scales them to
[0, 1] and splits them deterministically into a :class:`Digits` tuple.

The checks (:func:`check_features`, :func:`check_labels`, :func:`check_split`)
are what every function of :mod:`optlib.network` applies to data it is given:
a wrong kind of value is a ``TypeError``, a right kind with a wrong value a
``ValueError``; the message names the argument (``X``, ``y``, ``X_train``,
``y_test``, ...). Features must be finite: a ``nan`` or ``inf`` in the data is
refused up front, with the row and column of the first one, rather than
surfacing later as a training run that seems to diverge.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import as_array, describe, flag, real, whole

__all__ = [
    "DIGITS_MAX", "Digits", "load_digits_split", "one_hot", "check_features", "check_labels",
    "check_split",
]

#: The pixel values of scikit-learn's digits are whole numbers from 0 to this.
DIGITS_MAX = 16.0


class Digits(NamedTuple):
    """A training/test split of the digits: features in [0, 1], labels 0–9.

    Attributes:
        X_train: ``(n_train, 64)`` float64, the 8×8 images row by row.
        y_train: ``(n_train,)`` int64 labels.
        X_test: ``(n_test, 64)`` float64.
        y_test: ``(n_test,)`` int64.

    Examples:
        >>> import numpy as np
        >>> split = Digits(np.zeros((3, 2)), np.array([0, 1, 2]), np.ones((1, 2)), np.array([4]))
        >>> split.n_features, split.n_classes
        (2, 5)
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes, the largest label plus one (10 for the digits)."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def n_features(self) -> int:
        """Number of input features (64 for the digits)."""
        return int(self.X_train.shape[1])


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------
def check_features(X, width: int, name: str = "X") -> np.ndarray:
    """``X`` as a 2-d float64 array of finite numbers with ``width`` columns.

    Integers are converted to float64; the input is never changed.

    Raises:
        TypeError: if ``X`` is not an array of numbers.
        ValueError: if it does not have the shape ``(n, width)`` with ``n ≥ 1``, or
            holds ``nan`` or ``±inf`` (the message gives the first such entry).

    Examples:
        >>> check_features([[0, 1], [2, 3]], 2).dtype
        dtype('float64')
        >>> check_features([[0.0, float("nan")]], 2, name="X_test")
        Traceback (most recent call last):
        ...
        ValueError: X_test must hold finite numbers, got nan at row 0, column 1 (1 non-finite entry in all)
    """
    arr = as_array(name, X, what="an array of numbers")
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{name} must have shape (n, {width}) (one row per example, "
                         f"{width} features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example, got shape {arr.shape}")
    arr = np.asarray(arr, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.argwhere(~finite)
        row, col = (int(i) for i in bad[0])
        count = bad.shape[0]
        raise ValueError(f"{name} must hold finite numbers, got {arr[row, col]} at row {row}, "
                         f"column {col} ({count} non-finite entr{'y' if count == 1 else 'ies'} "
                         f"in all)")
    return arr


def check_labels(y, n: int, classes: int, name: str = "y", x_name: str = "X") -> np.ndarray:
    """``y`` as a 1-d int64 array of ``n`` class labels in ``[0, classes)``.

    ``x_name`` names the features the labels belong to (one label per row of it).

    Raises:
        TypeError: if ``y`` is not an array of whole numbers (float labels included).
        ValueError: if its shape is not ``(n,)`` or a label is out of range.

    Examples:
        >>> check_labels([2, 0, 1], n=3, classes=3)
        array([2, 0, 1])
        >>> check_labels([0, 3], n=2, classes=3, name="y_train")
        Traceback (most recent call last):
        ...
        ValueError: y_train must hold labels 0 ... 2, got values from 0 to 3
    """
    arr = as_array(name, y, kinds="iu", what="an array of whole-number class labels")
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), one label per row of {x_name}, got "
                         f"shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= classes):
        raise ValueError(f"{name} must hold labels 0 ... {classes - 1}, got values from "
                         f"{arr.min()} to {arr.max()}")
    return arr.astype(np.int64, copy=False)


def check_split(data, n_features: int, n_classes: int) -> Digits:
    """``data`` as a checked :class:`Digits`: every part checked under its own name.

    Args:
        data: a :class:`Digits` split, or a tuple ``(X_train, y_train, X_test, y_test)``.
        n_features: the number of columns the features must have.
        n_classes: labels must lie in ``[0, n_classes)``.

    Raises:
        TypeError: if ``data`` is neither; or a part is of the wrong kind.
        ValueError: if a part has a wrong shape, a label out of range, or a
            non-finite feature; the message names the part (``X_test``, ...).

    Examples:
        >>> import numpy as np
        >>> split = check_split((np.zeros((2, 3)), [0, 1], np.ones((1, 3)), [1]), 3, 2)
        >>> type(split).__name__, split.y_test.dtype
        ('Digits', dtype('int64'))
        >>> check_split((np.zeros((2, 3)), [0, 1], np.full((1, 3), np.inf), [1]), 3, 2)
        Traceback (most recent call last):
        ...
        ValueError: X_test must hold finite numbers, got inf at row 0, column 0 (3 non-finite entries in all)
    """
    if isinstance(data, tuple) and not isinstance(data, Digits) and len(data) == 4:
        data = Digits(*data)
    if not isinstance(data, Digits):
        raise TypeError(f"data must be a Digits split (load_digits_split()) or a tuple "
                        f"(X_train, y_train, X_test, y_test), got data={describe(data)}")
    parts = []
    for x_name, y_name in (("X_train", "y_train"), ("X_test", "y_test")):
        X = check_features(getattr(data, x_name), n_features, x_name)
        y = check_labels(getattr(data, y_name), X.shape[0], n_classes, y_name, x_name)
        parts += [X, y]
    return Digits(*parts)


# --------------------------------------------------------------------------
# The data
# --------------------------------------------------------------------------
def load_digits_split(test_fraction: float = 0.25, seed: int = 0,
                      stratify: bool = True) -> Digits:
    r"""scikit-learn's handwritten digits, scaled to [0, 1] and split deterministically.

    The data (1797 grey-scale 8×8 images of the digits 0–9, pixel values
    0…16) ship inside scikit-learn: nothing is downloaded. Features are the
    pixels divided by 16. With ``stratify`` each class is split separately —
    ``round(test_fraction · n_c)`` of the :math:`n_c` images of class :math:`c`
    go to the test set — so both sets have the class proportions of the whole;
    otherwise one random permutation is cut. Both sets are then shuffled. All
    randomness comes from ``numpy.random.default_rng(seed)``: the same seed
    gives the same split.

    Args:
        test_fraction: share of the images held out for testing, in (0, 1).
        seed: seed of the split.
        stratify: split class by class.

    Returns:
        A :class:`Digits` tuple ``(X_train, y_train, X_test, y_test)``.

    Raises:
        ImportError: if scikit-learn is not installed.

    Examples:
        >>> data = load_digits_split()
        >>> data.X_train.shape, data.X_test.shape, data.n_classes
        ((1347, 64), (450, 64), 10)
    """
    test_fraction = real("test_fraction", test_fraction, low=0.0, high=1.0,
                         low_inclusive=False, high_inclusive=False)
    seed = whole("seed", seed, low=0)
    stratify = flag("stratify", stratify)
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "load_digits_split needs scikit-learn, which ships the digits data set inside the "
            "package (no download): pip install scikit-learn") from exc
    bunch = load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / DIGITS_MAX
    y = np.asarray(bunch.target, dtype=np.int64)
    rng = np.random.default_rng(seed)
    if stratify:
        test, rest = [], []
        for c in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == c))
            k = int(round(test_fraction * members.size))
            test.append(members[:k])
            rest.append(members[k:])
        test, rest = np.concatenate(test), np.concatenate(rest)
    else:
        order = rng.permutation(y.size)
        k = int(round(test_fraction * y.size))
        test, rest = order[:k], order[k:]
    if test.size == 0 or rest.size == 0:
        raise ValueError(f"test_fraction={test_fraction!r} leaves an empty training or test set")
    rest, test = rng.permutation(rest), rng.permutation(test)
    return Digits(X[rest], y[rest], X[test], y[test])


def one_hot(y, n_classes: int | None = None) -> np.ndarray:
    r"""One-hot rows: :math:`Y_{ik} = 1` if :math:`y_i = k`, else 0.

    Args:
        y: 1-d array of whole-number labels ≥ 0.
        n_classes: number of columns (default ``max(y) + 1``).

    Returns:
        float64 array of shape ``(len(y), n_classes)``.

    Examples:
        >>> one_hot([2, 0], n_classes=3)
        array([[0., 0., 1.],
               [1., 0., 0.]])
    """
    labels = as_array("y", y, kinds="iu", what="an array of whole-number class labels")
    if labels.ndim != 1:
        raise ValueError(f"y must be a 1-d array of labels, got shape {labels.shape}")
    if n_classes is None:
        if labels.size == 0:
            raise ValueError(f"y must not be empty when n_classes is not given, got "
                             f"y={describe(y)}")
        n_classes = int(labels.max()) + 1
    n_classes = whole("n_classes", n_classes, low=1)
    labels = check_labels(labels, labels.shape[0], n_classes)
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out
