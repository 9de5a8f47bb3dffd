"""Every argument check of optlib, with one rule.

* **Wrong kind** of value (a string where a number belongs, a float where a
  whole number belongs, a bool where a number belongs, an object that is no
  array) -> ``TypeError``.
* **Right kind, wrong value** (out of range, not finite, too large to represent,
  the wrong shape, a ragged list, an unknown choice) -> ``ValueError``.

Every message names the argument and repeats the value given (shortened by
:func:`describe`), so that a reader who typed the value can find it. The
functions return the value in the form the caller works with and never change
their input.
"""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np

__all__ = [
    "describe", "real", "whole", "reals", "wholes", "hyperparameter", "flag", "choice",
    "instance", "as_array",
]


def describe(value) -> str:
    """A short, readable rendering of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return f"array({value.tolist()!r}, dtype={value.dtype})"
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {len(str(abs(value)))} digits"
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= 80 else text[:77] + "..."


def _interval(low, high, low_inclusive, high_inclusive) -> str:
    lo = "[" if low_inclusive else "("
    hi = "]" if high_inclusive else ")"
    lo_text = "-inf" if low == -np.inf else f"{low:g}"
    hi_text = "inf" if high == np.inf else f"{high:g}"
    return f"{lo}{lo_text}, {hi_text}{hi}"


def _in_interval(arr, low, high, low_inclusive, high_inclusive) -> bool:
    above = arr >= low if low_inclusive else arr > low
    below = arr <= high if high_inclusive else arr < high
    return bool(np.all(above) and np.all(below))


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def as_array(name: str, value, *, kinds: str = "iuf", what: str = "an array of real numbers"
             ) -> np.ndarray:
    """``np.asarray(value)`` with optlib's errors: a ragged list is a ``ValueError``, an
    object that is not numeric (dtype kind not in ``kinds``) a ``TypeError``; bools are
    refused unless ``kinds`` has ``"b"``; Python integers too large for float64 are a
    ``ValueError``."""
    if _is_bool(value) and "b" not in kinds:
        raise TypeError(f"{name} must be {what}, got {name}={describe(value)}")
    try:
        arr = np.asarray(value)
    except ValueError as error:
        raise ValueError(f"{name} must be {what} of a regular shape, got a ragged "
                         f"{name}={describe(value)} ({error})") from None
    except (TypeError, OverflowError):
        raise TypeError(f"{name} must be {what}, got {name}={describe(value)}") from None
    if arr.dtype == object:
        flat = list(np.ravel(arr))
        if flat and all(isinstance(x, numbers.Integral) and not _is_bool(x) for x in flat):
            raise ValueError(f"{name} must be {what} representable as float64, got "
                             f"{name}={describe(value)}, which is too large")
        raise TypeError(f"{name} must be {what}, got {name}={describe(value)}")
    if arr.dtype.kind not in kinds:
        raise TypeError(f"{name} must be {what}, got {name}={describe(value)} "
                        f"(dtype {arr.dtype})")
    return arr


def real(name: str, value, *, low: float = -np.inf, high: float = np.inf,
         low_inclusive: bool = True, high_inclusive: bool = True) -> float:
    """A finite real number in the interval, as a Python ``float``.

    ``TypeError`` for anything that is not a real number (bools, strings, arrays of
    more than one element, complex numbers); ``ValueError`` for nan, ±inf, a number
    too large for a float, or one outside the interval.
    """
    if _is_bool(value) or not isinstance(value, (numbers.Real, np.ndarray)):
        raise TypeError(f"{name} must be a real number, got {name}={describe(value)} "
                        f"of type {type(value).__name__}")
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "iuf":
            raise TypeError(f"{name} must be a real number, got {name}={describe(value)}")
        value = value.item()
    try:
        x = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a finite number, got {name}={describe(value)}, "
                         "which is too large for a float") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {name}={describe(value)}")
    if not _in_interval(x, low, high, low_inclusive, high_inclusive):
        raise ValueError(f"{name} must lie in {_interval(low, high, low_inclusive, high_inclusive)}"
                         f", got {name}={describe(value)}")
    return x


def whole(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """A whole number (a Python or numpy integer, not a bool or a float) in ``[low, high]``."""
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        bounds = "" if low is None else f" ≥ {low}"
        raise TypeError(f"{name} must be a whole number{bounds}, got {name}={describe(value)} "
                        f"of type {type(value).__name__}")
    n = operator.index(value)
    if (low is not None and n < low) or (high is not None and n > high):
        if high is None:
            rule = f"≥ {low}"
        elif low is None:
            rule = f"≤ {high}"
        else:
            rule = f"from {low} to {high}"
        raise ValueError(f"{name} must be a whole number {rule}, got {name}={describe(value)}")
    return n


def reals(name: str, value, *, low: float = -np.inf, high: float = np.inf,
          low_inclusive: bool = True, high_inclusive: bool = True, ndim: int | None = None,
          nonempty: bool = True) -> np.ndarray:
    """A float64 array (a copy) of finite numbers in the interval, optionally of ``ndim``."""
    arr = as_array(name, value, what="a real number or an array of real numbers")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got {name}={describe(value)} "
                         f"of shape {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got {name}={describe(value)}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {name}={describe(value)}")
    if not _in_interval(arr, low, high, low_inclusive, high_inclusive):
        raise ValueError(f"{name} must lie in {_interval(low, high, low_inclusive, high_inclusive)}"
                         f", got {name}={describe(value)}")
    return arr


def wholes(name: str, value, *, low: int | None = None) -> np.ndarray:
    """An int64 array of whole numbers ≥ ``low`` (a scalar gives a 0-d array)."""
    arr = as_array(name, value, kinds="iu", what="a whole number or an array of whole numbers")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got {name}={describe(value)}")
    if low is not None and np.any(arr < low):
        raise ValueError(f"{name} must be whole numbers ≥ {low}, got {name}={describe(value)}")
    if arr.dtype.kind == "u" and np.any(arr > np.iinfo(np.int64).max):
        raise ValueError(f"{name} is too large, got {name}={describe(value)}")
    return arr.astype(np.int64)


def hyperparameter(name: str, value, *, low: float, high: float = np.inf,
                   low_inclusive: bool, high_inclusive: bool = False):
    """A scalar or array hyperparameter in an interval.

    Returns a Python ``float`` for a scalar and a read-only float64 array otherwise
    (arrays broadcast against parameters for batched runs).
    """
    if isinstance(value, numbers.Real) and not isinstance(value, np.ndarray):
        return real(name, value, low=low, high=high, low_inclusive=low_inclusive,
                    high_inclusive=high_inclusive)
    arr = reals(name, value, low=low, high=high, low_inclusive=low_inclusive,
                high_inclusive=high_inclusive)
    if arr.ndim == 0:
        return float(arr)
    arr.setflags(write=False)
    return arr


def flag(name: str, value) -> bool:
    """A boolean switch (``nesterov``, ``amsgrad``, ...): only ``True`` or ``False``."""
    if not _is_bool(value):
        raise TypeError(f"{name} must be True or False, got {name}={describe(value)}")
    return bool(value)


def choice(name: str, value, options):
    """One of ``options`` (compared with ``==``); a value of another type than the
    options is a ``TypeError``, an unknown one a ``ValueError``."""
    options = tuple(options)
    kinds = tuple({type(o) for o in options})
    if not isinstance(value, kinds):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, options))}, got "
                        f"{name}={describe(value)} of type {type(value).__name__}")
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got "
                         f"{name}={describe(value)}")
    return value


def instance(name: str, value, kind, what: str | None = None):
    """``value`` if it is an instance of ``kind`` (a class or tuple), else ``TypeError``."""
    if not isinstance(value, kind):
        if what is None:
            names = kind if isinstance(kind, tuple) else (kind,)
            what = " or ".join(k.__name__ for k in names)
        raise TypeError(f"{name} must be {what}, got {name}={describe(value)} "
                        f"of type {type(value).__name__}")
    return value
