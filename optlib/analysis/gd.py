r"""Gradient descent on a quadratic, in closed form.

On :math:`f(w) = \tfrac12 (w - w^*)^\top H (w - w^*)` gradient descent multiplies the
error along the eigendirection :math:`i` of :math:`H` (curvature :math:`\lambda_i`) by
:math:`1 - \alpha\lambda_i` per step. Everything here follows from that factor: the
regime of each direction, the rate :math:`\max_i |1 - \alpha\lambda_i|`, the stability
limit :math:`2/\lambda_{\max}`, the best constant learning rate, and the number of steps
to a tolerance (chapter 1).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import hyperparameter
from . import _common

__all__ = [
    "Optimum",
    "condition_number",
    "gd_factors",
    "gd_rate",
    "gd_regime",
    "gd_stability_limit",
    "gd_optimal",
    "gd_steps_to_tolerance",
]


class Optimum(NamedTuple):
    r"""Best hyperparameters for a quadratic and the rate they achieve.

    Attributes:
        lr: the learning rate :math:`\alpha^*`.
        beta: the momentum coefficient :math:`\beta^*` (0 for gradient descent).
        rate: the factor by which the distance to the minimum shrinks per step.
    """

    lr: float
    beta: float
    rate: float


def _lr(lr):
    return hyperparameter("lr", lr, low=0.0, low_inclusive=False)


def condition_number(curvatures) -> float:
    r"""Condition number :math:`\kappa = \lambda_{\max} / \lambda_{\min}`.

    Args:
        curvatures: the :math:`\lambda_i` (or an objective with ``curvatures``).

    Examples:
        >>> condition_number((1.0, 25.0))
        25.0
    """
    lam = _common.curvatures(curvatures)
    return float(lam.max() / lam.min())


def gd_factors(lr, curvatures):
    r"""Per-direction contraction factors :math:`|1 - \alpha\lambda_i|`.

    Args:
        lr: learning rate(s) :math:`\alpha`, scalar or array.
        curvatures: the :math:`\lambda_i` (or an objective with ``curvatures``).

    Returns:
        Array of shape ``lr.shape + (len(curvatures),)``.

    Examples:
        >>> gd_factors(0.05, (1.0, 25.0))
        array([0.95, 0.25])
    """
    lam = _common.curvatures(curvatures)
    lr = _lr(lr)
    return np.abs(1.0 - np.multiply.outer(lr, lam))


def gd_rate(lr, curvatures):
    r"""Convergence rate of gradient descent, :math:`\rho = \max_i |1 - \alpha\lambda_i|`.

    The error shrinks by at least this factor per step (it grows if > 1).

    Args:
        lr: learning rate(s) :math:`\alpha`, scalar or array.
        curvatures: the :math:`\lambda_i` (or an objective with ``curvatures``).

    Returns:
        float, or an array shaped like ``lr``.

    Examples:
        >>> gd_rate(0.05, (1.0, 25.0)), gd_rate(0.1, (1.0, 25.0))
        (0.95, 1.5)
    """
    return _common.scalar_or_array(gd_factors(lr, curvatures).max(axis=-1))


def gd_regime(lr, curvature):
    r"""How gradient descent moves along one direction of curvature :math:`\lambda`.

    Along an eigendirection the error :math:`e_t` (distance to the minimum along
    that direction) is multiplied by the same factor every step,

    .. math::

        e_{t+1} = (1 - \alpha\lambda)\, e_t ,

    so its sign and size tell the whole story. Returns, element by element
    (``lr`` and ``curvature`` broadcast), one of

    * ``"monotone"``: :math:`0 \le 1 - \alpha\lambda < 1` (:math:`\alpha\lambda \le 1`):
      the error shrinks without changing sign (the ball rolls down one side);
    * ``"oscillating"``: :math:`-1 < 1 - \alpha\lambda < 0`
      (:math:`1 < \alpha\lambda < 2`): the error flips sign every step and
      shrinks (the ball overshoots the valley floor, less each time);
    * ``"divergent"``: :math:`|1 - \alpha\lambda| \ge 1` (:math:`\alpha\lambda \ge 2`):
      the error does not shrink (it grows for :math:`\alpha\lambda > 2`).

    Args:
        lr: learning rate(s) :math:`\alpha > 0`, scalar or array.
        curvature: positive curvature(s) :math:`\lambda`, scalar or array (one
            direction per element, not a list of a quadratic's curvatures to reduce).

    Returns:
        ``str`` for scalar input, else an array of strings of the broadcast shape.

    Raises:
        TypeError: for a non-numeric ``lr`` or ``curvature`` (a bool included).
        ValueError: for a non-finite or non-positive ``lr`` or ``curvature``, or an
            empty ``curvature``.

    Examples:
        >>> gd_regime(0.03, 25.0), gd_regime(0.05, 25.0), gd_regime(0.085, 25.0)
        ('monotone', 'oscillating', 'divergent')
    """
    lr = np.asarray(_lr(lr))
    lam = _common.curvature(curvature, positive=True, nonempty=True)
    factor = 1.0 - lr * lam
    out = np.where(np.abs(factor) >= 1.0, "divergent",
                   np.where(factor < 0.0, "oscillating", "monotone"))
    return str(out) if out.ndim == 0 else out


def gd_stability_limit(curvatures) -> float:
    r"""The largest stable learning rate: GD converges iff :math:`\alpha < 2/\lambda_{\max}`.

    Args:
        curvatures: the :math:`\lambda_i` (or an objective with ``curvatures``).

    Examples:
        >>> gd_stability_limit((1.0, 25.0))
        0.08
    """
    return float(2.0 / _common.curvatures(curvatures).max())


def gd_optimal(curvatures) -> Optimum:
    r"""Best constant learning rate for gradient descent on a quadratic.

    .. math::

        \alpha^* = \frac{2}{\lambda_{\min} + \lambda_{\max}}, \qquad
        \text{rate} = \frac{\kappa - 1}{\kappa + 1}

    At :math:`\alpha^*` the slowest and the fastest direction shrink by the same factor
    (with opposite signs). ``beta`` is 0 in the result.

    Args:
        curvatures: the :math:`\lambda_i` (or an objective with ``curvatures``).

    Returns:
        An :class:`Optimum`.

    Examples:
        >>> best = gd_optimal((1.0, 25.0))        # 2/26 and 24/26
        >>> round(best.lr, 6), round(best.rate, 6), best.beta
        (0.076923, 0.923077, 0.0)
    """
    lam = _common.curvatures(curvatures)
    kappa = lam.max() / lam.min()
    return Optimum(lr=float(2.0 / (lam.min() + lam.max())), beta=0.0,
                   rate=float((kappa - 1.0) / (kappa + 1.0)))


def gd_steps_to_tolerance(lr, curvatures, tol):
    r"""Steps gradient descent needs to shrink the error by the factor ``tol``, from any start.

    Every eigendirection's error shrinks by :math:`|1 - \alpha\lambda_i|` per step,
    so with the rate :math:`\rho = \max_i |1 - \alpha\lambda_i|` (:func:`gd_rate`)

    .. math::

        \lVert w_t - w^* \rVert \le \rho^{\,t}\, \lVert w_0 - w^* \rVert ,

    with equality when the start lies along a slowest direction, or when every
    factor equals :math:`\rho` (as at the best constant rate
    :math:`\alpha^* = 2/(\lambda_{\min} + \lambda_{\max})`, see :func:`gd_optimal`).
    The guaranteed number of steps is the smallest :math:`t` with
    :math:`\rho^t \le \text{tol}`:

    .. math::

        t = \left\lceil \frac{\ln(1/\text{tol})}{\ln(1/\rho)} \right\rceil .

    At :math:`\alpha^*`, :math:`\rho = (\kappa - 1)/(\kappa + 1)` and
    :math:`\ln(1/\rho) = 2\,\mathrm{artanh}(1/\kappa) \approx 2/\kappa`, so
    :math:`t \approx \tfrac{\kappa}{2} \ln(1/\text{tol})`: the cost grows linearly
    with the condition number :math:`\kappa`.

    Args:
        lr: learning rate(s) :math:`\alpha`, scalar or array.
        curvatures: the :math:`\lambda_i` (or an objective with ``curvatures``).
        tol: the factor by which the distance to the minimum must shrink,
            in (0, 1).

    Returns:
        A float holding a whole number (``inf`` where :math:`\rho \ge 1`: no
        convergence; 1 where :math:`\rho = 0`), or an array of them shaped like ``lr``.

    Examples:
        >>> gd_steps_to_tolerance(2 / 26, (1.0, 25.0), 1e-6)   # ln(1e6) / ln(26/24)
        173.0
    """
    tol = hyperparameter("tol", tol, low=0.0, high=1.0, low_inclusive=False)
    rho = np.asarray(gd_rate(lr, curvatures))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(tol) / np.log(rho)
        # Guard against round-off pushing an exact whole number just above itself.
        whole = np.ceil(ratio - 1e-9 * np.maximum(np.abs(ratio), 1.0))
    steps = np.where(rho >= 1.0, np.inf, np.where(rho == 0.0, 1.0, np.maximum(whole, 1.0)))
    return _common.scalar_or_array(steps)
