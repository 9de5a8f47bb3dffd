"""Argument checking shared by optlib's public functions.

Every check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right
kind, wrong value) with a message that names the argument and repeats the
value that was given, so that a reader who typed the value can find it.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["hyperparameter", "flag", "describe"]


def describe(value) -> str:
    """A short, readable rendering of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return f"array({value.tolist()!r}, dtype={value.dtype})"
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_real_array(name: str, value) -> np.ndarray:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {name}={value!r}")
    if isinstance(value, numbers.Real):
        return np.asarray(float(value))
    if isinstance(value, (list, tuple, np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf":
            raise TypeError(
                f"{name} must be a real number or an array of real numbers, "
                f"got {name}={describe(value)} (dtype {arr.dtype})"
            )
        if arr.size == 0:
            raise ValueError(f"{name} must not be empty, got {name}={describe(value)}")
        return arr.astype(np.float64)
    raise TypeError(
        f"{name} must be a real number or an array of real numbers, got {name}={describe(value)} "
        f"of type {type(value).__name__}"
    )


def hyperparameter(name: str, value, *, low: float, high: float = np.inf,
                   low_inclusive: bool, high_inclusive: bool = False):
    """Validate a scalar or array hyperparameter against an interval.

    Returns a Python ``float`` for a scalar and a read-only float64 array
    otherwise (arrays broadcast against parameters for batched runs).
    """
    arr = _as_real_array(name, value)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {name}={describe(value)}")
    above = arr >= low if low_inclusive else arr > low
    below = arr <= high if high_inclusive else arr < high
    if not (np.all(above) and np.all(below)):
        lo = "[" if low_inclusive else "("
        hi = "]" if high_inclusive else ")"
        hi_text = "inf" if np.isinf(high) else f"{high:g}"
        raise ValueError(f"{name} must lie in {lo}{low:g}, {hi_text}{hi}, got {name}={describe(value)}")
    if arr.ndim == 0:
        return float(arr)
    arr.setflags(write=False)
    return arr


def flag(name: str, value) -> bool:
    """Validate a boolean switch (``nesterov``, ``amsgrad``, ...)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {name}={describe(value)}")
    return bool(value)
