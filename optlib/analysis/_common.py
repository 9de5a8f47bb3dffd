"""The argument checks the closed forms share, built on :mod:`optlib._validate`.

One rule, as everywhere in optlib: a value of the wrong kind (a string, a bool, a
float where a whole number of steps belongs) raises ``TypeError``; a value of the
right kind that is out of range, not finite or empty raises ``ValueError``. Every
message names the argument and repeats the value.
"""

from __future__ import annotations

import numpy as np

from .._validate import describe, hyperparameter, reals, wholes

__all__ = ["curvatures", "curvature", "beta", "steps", "scalar_or_array"]


def curvatures(value) -> np.ndarray:
    """A quadratic's curvatures (its Hessian's eigenvalues) as a 1-d float64 array.

    Accepts a scalar, a sequence, or an objective with a ``curvatures`` attribute
    (``optlib.objectives.Quadratic``). The curvatures must be positive and finite,
    and there must be at least one.
    """
    if hasattr(value, "curvatures"):
        value = value.curvatures
    lam = reals("curvatures", value, low=0.0, low_inclusive=False)
    if lam.ndim > 1:
        raise ValueError(f"curvatures must be a flat sequence of positive numbers, got "
                         f"curvatures={describe(value)} of shape {lam.shape}")
    return np.atleast_1d(lam)


def curvature(value, *, positive: bool, nonempty: bool = False) -> np.ndarray:
    """Curvature(s) of single directions, one per element (they broadcast with the
    hyperparameters), as float64. Finite; positive if ``positive`` (a saddle direction,
    negative curvature, is allowed otherwise)."""
    if positive:
        return reals("curvature", value, low=0.0, low_inclusive=False, nonempty=nonempty)
    return reals("curvature", value, nonempty=nonempty)


def beta(value, name: str = "beta"):
    r"""An averaging coefficient :math:`\beta \in [0, 1)` (a float, or a read-only array)."""
    return hyperparameter(name, value, low=0.0, high=1.0, low_inclusive=True)


def steps(value, *, low: int) -> np.ndarray:
    """Step count(s) ``t``: whole numbers ≥ ``low`` (a scalar gives a 0-d int64 array)."""
    return wholes("t", value, low=low)


def scalar_or_array(x):
    """A Python float for a 0-d result, the array otherwise."""
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x
