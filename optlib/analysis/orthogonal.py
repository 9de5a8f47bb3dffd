r"""Orthogonalisation by the Newton–Schulz iteration: what Muon does to a matrix (chapter 7).

Muon (:class:`optlib.optimizers.Muon`) replaces a weight matrix's momentum :math:`D` by an
approximation of the orthogonal matrix nearest to it: if :math:`D = U\Sigma V^\top` (its
singular value decomposition), by about :math:`UV^\top`, every singular value set to 1. It
gets there without a decomposition, by the Newton–Schulz iteration

.. math::

    X_0 = \frac{D}{\max(\lVert D\rVert_F, \varepsilon)}, \qquad
    X_k = a X_{k-1} + \big(b A_{k-1} + c A_{k-1}^2\big) X_{k-1}, \quad
    A_{k-1} = X_{k-1} X_{k-1}^\top

(:math:`D` transposed first when it has more rows than columns). Since
:math:`X = U\Sigma V^\top` gives :math:`A = U\Sigma^2 U^\top`, every step keeps :math:`U` and
:math:`V` and maps each singular value through the odd polynomial

.. math::

    \varphi(\sigma) = a\sigma + b\sigma^3 + c\sigma^5,

so after :math:`K` steps :math:`X_K = U\varphi^K(\Sigma/\lVert D\rVert_F)V^\top`: the matrix
iteration is the scalar map :math:`\sigma \mapsto \varphi^K(\sigma)` applied to the normalised
singular values (which lie in :math:`[0, 1]`). :func:`newton_schulz_map` is that map,
:func:`orthogonalize` the matrix iteration (the very code Muon runs).

Examples:
    >>> import numpy as np
    >>> from optlib.analysis import newton_schulz_map, orthogonalize
    >>> newton_schulz_map(0.0), newton_schulz_map(-0.5, steps=1) == -newton_schulz_map(0.5, steps=1)
    (0.0, True)
    >>> newton_schulz_map(1.0, steps=3, coefficients=(1.5, -0.5, 0.0))   # the cubic's fixed point
    1.0
"""

from __future__ import annotations

import numpy as np

from .. import _muon
from .._validate import as_array, describe, reals
from . import _common

__all__ = ["newton_schulz_map", "orthogonalize"]

_DEFAULT = _muon.DEFAULT_NS_COEFFICIENTS


def newton_schulz_map(s, steps=5, coefficients=_DEFAULT):
    r"""What ``steps`` Newton–Schulz steps do to one singular value :math:`\sigma`:
    :math:`\varphi^{K}(\sigma)` with :math:`\varphi(\sigma) = a\sigma + b\sigma^3 + c\sigma^5`.

    .. math::

        \sigma_0 = \sigma, \qquad
        \sigma_k = a\sigma_{k-1} + b\sigma_{k-1}^3 + c\sigma_{k-1}^5
        = \sigma_{k-1}\big(a + \sigma_{k-1}^2 (b + c\,\sigma_{k-1}^2)\big), \qquad
        k = 1, \dots, K

    for :math:`K` = ``steps``. Applied to the singular values of
    :math:`D/\lVert D\rVert_F` it gives those of :func:`orthogonalize`\ ``(D)`` (up to
    rounding). With the default coefficients (Jordan et al.'s, Muon's) the slope at 0 is
    :math:`a = 3.4445` per step and every :math:`\sigma \in (0, 1]` is pushed toward 1, but
    not onto it: five steps map :math:`[0.01, 1]` into about :math:`[0.68, 1.13]`. With
    :math:`(a, b, c) = (3/2, -1/2, 0)` it is the classical cubic Newton–Schulz iteration,
    which converges to exactly 1 for :math:`0 < \sigma < \sqrt 3`.

    Args:
        s: the singular value(s) :math:`\sigma`, a real number or an array of them (any
            finite values: the map is odd, :math:`\varphi(-\sigma) = -\varphi(\sigma)`);
            Muon's lie in :math:`[0, 1]` after the normalisation.
        steps: :math:`K`, a whole number ≥ 0 (default 5; 0 gives :math:`\sigma` back).
        coefficients: :math:`(a, b, c)`, three finite numbers (default
            ``(3.4445, -4.7750, 2.0315)``).

    Returns:
        :math:`\varphi^K(\sigma)`, a float for a scalar ``s``, else a float64 array of
        ``s``'s shape. Where the iteration grows beyond the largest float (only for
        :math:`|\sigma|` well above 1) the value is ±inf (nan if a zero coefficient
        multiplies an infinity); no warning is raised.

    Examples:
        >>> import numpy as np
        >>> newton_schulz_map(np.array([0.0, 0.01, 0.5, 1.0]), steps=1)
        array([0.        , 0.03444023, 1.18885938, 0.701     ])
        >>> newton_schulz_map(0.1, steps=0)
        0.1
    """
    sigma = reals("s", s, nonempty=False)
    steps = _muon.checked_steps("steps", steps)
    a, b, c = _muon.checked_coefficients("coefficients", coefficients)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            square = sigma * sigma
            sigma = sigma * (a + square * (b + c * square))
    return _common.scalar_or_array(sigma)


def orthogonalize(u, steps=5, coefficients=_DEFAULT, eps=1e-7):
    r"""The Newton–Schulz orthogonalisation :math:`\operatorname{NS}(D)` of a matrix, as Muon
    computes it.

    .. math::

        X_0 = \frac{D}{\max(\lVert D\rVert_F, \varepsilon)}, \qquad
        X_k = a X_{k-1} + \big(b A_{k-1} + c A_{k-1}^2\big) X_{k-1}, \quad
        A_{k-1} = X_{k-1} X_{k-1}^\top, \qquad \operatorname{NS}(D) = X_K,

    with :math:`D` transposed first when it has more rows than columns (so that :math:`A` is
    the smaller Gram matrix) and the result transposed back. If :math:`D = U\Sigma V^\top`,
    then :math:`\operatorname{NS}(D) = U\,\varphi^K(\Sigma/\max(\lVert D\rVert_F,
    \varepsilon))\,V^\top` with :math:`\varphi^K` = :func:`newton_schulz_map`: the singular
    vectors are kept, the singular values pushed toward 1.

    Args:
        u: the matrix :math:`D`: a 2-D array of finite real numbers (a float array keeps its
            dtype, in which the iteration runs; integers are taken as float64).
        steps: :math:`K`, a whole number ≥ 0 (default 5).
        coefficients: :math:`(a, b, c)`, three finite numbers (default
            ``(3.4445, -4.7750, 2.0315)``).
        eps: :math:`\varepsilon > 0`, the floor of the norm (default 1e-7).

    Returns:
        A new array of ``u``'s shape: :math:`\operatorname{NS}(D)`.

    Examples:
        >>> import numpy as np
        >>> d = np.array([[3.0, 0.0], [0.0, 0.3]])      # singular values 3 and 0.3
        >>> np.round(orthogonalize(d), 3)               # now nearly equal
        array([[0.702, 0.   ],
               [0.   , 0.709]])
        >>> orthogonalize(d, steps=0) * np.linalg.norm(d)    # only the normalisation
        array([[3. , 0. ],
               [0. , 0.3]])
    """
    arr = as_array("u", u, what="a 2-D array of real numbers")
    if arr.ndim != 2:
        raise ValueError(f"u must be a 2-D array (a matrix), got u={describe(u)} of shape "
                         f"{arr.shape}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"u must be finite, got u={describe(u)}")
    steps = _muon.checked_steps("steps", steps)
    coefficients = _muon.checked_coefficients("coefficients", coefficients)
    eps = _muon.checked_eps("eps", eps)
    with np.errstate(all="ignore"):
        return np.array(_muon.newton_schulz(arr, steps, coefficients, eps), order="C")
