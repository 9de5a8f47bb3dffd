r"""Closed forms the chapters print and the tests check.

Gradient descent and momentum on a quadratic
:math:`f(w) = \tfrac12 (w - w^*)^\top H (w - w^*)` act on each eigendirection of
:math:`H` (curvature :math:`\lambda_i`) separately, so everything reduces to
scalars:

* gradient descent multiplies the error along direction :math:`i` by
  :math:`1 - \alpha\lambda_i` per step; it converges iff
  :math:`\alpha < 2/\lambda_{\max}`, at the rate :math:`\max_i |1 - \alpha\lambda_i|`;
* momentum (EMA form, ``optlib.Momentum``) has, per direction, the iteration
  matrix

  .. math::

      M = \begin{pmatrix} 1 - \alpha(1-\beta)\lambda & -\alpha\beta \\
                          (1-\beta)\lambda & \beta \end{pmatrix}
      \quad\text{acting on } (w_t, v_t),

  with trace :math:`1 + \beta - \alpha(1-\beta)\lambda` and determinant
  :math:`\beta`; its spectral radius is the convergence rate. When the
  eigenvalues are complex they have modulus :math:`\sqrt\beta`.

Every function broadcasts: ``lr`` and ``beta`` may be arrays (a grid of
configurations), and ``curvatures`` runs along the last axis of the result
before it is reduced.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import describe, hyperparameter

__all__ = [
    "condition_number",
    "gd_factors",
    "gd_rate",
    "gd_stability_limit",
    "gd_optimal",
    "momentum_iteration_matrix",
    "momentum_eigenvalues",
    "momentum_spectral_radius",
    "momentum_regime",
    "momentum_optimal",
    "ema_weights",
    "ema_bias",
    "ema_window",
    "adam_bias_correction",
    "Optimum",
    "BiasCorrection",
]


class Optimum(NamedTuple):
    """Best hyperparameters for a quadratic and the rate they achieve."""

    lr: float
    beta: float
    rate: float


class BiasCorrection(NamedTuple):
    r"""Adam's bias-correction terms at step t.

    Attributes:
        first: :math:`1 - \beta_1^t`, the total weight of the first-moment EMA.
        second: :math:`1 - \beta_2^t`, the total weight of the second-moment EMA.
        step_scale: :math:`\sqrt{1-\beta_2^t} / (1-\beta_1^t)`, the factor by
            which correction multiplies the uncorrected step (for
            :math:`\varepsilon = 0`).
    """

    first: np.ndarray | float
    second: np.ndarray | float
    step_scale: np.ndarray | float


def _curvatures(curvatures) -> np.ndarray:
    """Curvatures (Hessian eigenvalues) as a 1-d float array; accepts an objective."""
    if hasattr(curvatures, "curvatures"):
        curvatures = curvatures.curvatures
    try:
        lam = np.asarray(curvatures, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"curvatures must be a sequence of positive numbers, got "
                        f"curvatures={describe(curvatures)}") from None
    lam = np.atleast_1d(lam)
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"curvatures must be a non-empty sequence of positive finite numbers, "
                         f"got curvatures={describe(curvatures)}")
    return lam


def _curvature_values(curvature) -> np.ndarray:
    """Finite real curvature(s), any sign (a saddle direction is allowed)."""
    arr = np.asarray(curvature)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"curvature must be a real number or array, got "
                        f"curvature={describe(curvature)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"curvature must be finite, got curvature={describe(curvature)}")
    return arr.astype(np.float64)


def _scalar_or_array(x):
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def condition_number(curvatures) -> float:
    r"""Condition number :math:`\kappa = \lambda_{\max} / \lambda_{\min}`."""
    lam = _curvatures(curvatures)
    return float(lam.max() / lam.min())


# --------------------------------------------------------------------------
# Gradient descent
# --------------------------------------------------------------------------
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
    lam = _curvatures(curvatures)
    lr = hyperparameter("lr", lr, low=0.0, low_inclusive=False)
    return np.abs(1.0 - np.multiply.outer(lr, lam))


def gd_rate(lr, curvatures):
    r"""Convergence rate of gradient descent, :math:`\max_i |1 - \alpha\lambda_i|`.

    The error shrinks by at least this factor per step (it grows if > 1).
    """
    return _scalar_or_array(gd_factors(lr, curvatures).max(axis=-1))


def gd_stability_limit(curvatures) -> float:
    r"""The largest stable learning rate: GD converges iff :math:`\alpha < 2/\lambda_{\max}`."""
    return float(2.0 / _curvatures(curvatures).max())


def gd_optimal(curvatures) -> Optimum:
    r"""Best constant learning rate for gradient descent on a quadratic.

    .. math::

        \alpha^* = \frac{2}{\lambda_{\min} + \lambda_{\max}}, \qquad
        \text{rate} = \frac{\kappa - 1}{\kappa + 1}

    ``beta`` is 0 in the result.
    """
    lam = _curvatures(curvatures)
    kappa = lam.max() / lam.min()
    return Optimum(lr=float(2.0 / (lam.min() + lam.max())), beta=0.0,
                   rate=float((kappa - 1.0) / (kappa + 1.0)))


# --------------------------------------------------------------------------
# Momentum
# --------------------------------------------------------------------------
def _lr_beta(lr, beta):
    lr = np.asarray(hyperparameter("lr", lr, low=0.0, low_inclusive=False))
    beta = np.asarray(hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True))
    return lr, beta


def momentum_iteration_matrix(lr, beta, curvature):
    r"""The 2×2 matrix that advances :math:`(w_t, v_t)` along one eigendirection.

    .. math::

        \begin{pmatrix} w_{t+1} \\ v_{t+1} \end{pmatrix} =
        \begin{pmatrix} 1 - \alpha(1-\beta)\lambda & -\alpha\beta \\
                        (1-\beta)\lambda & \beta \end{pmatrix}
        \begin{pmatrix} w_t \\ v_t \end{pmatrix}

    Args:
        lr, beta, curvature: broadcastable scalars or arrays.

    Returns:
        Array of shape ``broadcast(lr, beta, curvature).shape + (2, 2)``.
    """
    lr, beta = _lr_beta(lr, beta)
    lam = _curvature_values(curvature)
    lr, beta, lam = np.broadcast_arrays(lr, beta, lam)
    m = np.empty(lr.shape + (2, 2))
    m[..., 0, 0] = 1.0 - lr * (1.0 - beta) * lam
    m[..., 0, 1] = -lr * beta
    m[..., 1, 0] = (1.0 - beta) * lam
    m[..., 1, 1] = beta
    return m


def momentum_eigenvalues(lr, beta, curvatures):
    r"""Eigenvalues of the momentum iteration matrix, per eigendirection.

    They are the roots of :math:`\sigma^2 - (1 + \beta - \alpha(1-\beta)\lambda)\,\sigma + \beta = 0`.

    Returns:
        Complex array of shape ``broadcast(lr, beta).shape + (len(curvatures), 2)``.
    """
    lr, beta = _lr_beta(lr, beta)
    lam = _curvatures(curvatures)
    lr, beta = np.broadcast_arrays(lr, beta)
    trace = 1.0 + beta[..., None] - np.multiply.outer(lr * (1.0 - beta), lam)
    root = np.sqrt((trace ** 2 - 4.0 * beta[..., None]).astype(np.complex128))
    return np.stack([(trace + root) / 2.0, (trace - root) / 2.0], axis=-1)


def momentum_spectral_radius(lr, beta, curvatures):
    r"""Convergence rate of momentum on a quadratic: the largest :math:`|\sigma|`.

    The error shrinks asymptotically by this factor per step; the run diverges
    when it is ≥ 1. For complex eigenvalues :math:`|\sigma| = \sqrt\beta`.

    Args:
        lr: learning rate(s) :math:`\alpha` (array for a grid).
        beta: momentum coefficient(s) :math:`\beta`, broadcasting with ``lr``.
        curvatures: the Hessian's eigenvalues (or an objective).

    Returns:
        float, or array of shape ``broadcast(lr, beta).shape``.
    """
    return _scalar_or_array(np.abs(momentum_eigenvalues(lr, beta, curvatures)).max(axis=(-2, -1)))


def momentum_regime(lr, beta, curvature):
    r"""How momentum moves along a direction of curvature :math:`\lambda`.

    Returns, element by element (``lr``, ``beta`` and ``curvature`` broadcast),
    one of

    * ``"monotone"``: real eigenvalues in [0, 1): the error decays without sign flips;
    * ``"oscillating"``: a real negative eigenvalue of modulus < 1: sign flips each step;
    * ``"ripples"``: complex eigenvalues (modulus :math:`\sqrt\beta`): a decaying spiral;
    * ``"divergent"``: spectral radius ≥ 1.

    Args:
        lr, beta: hyperparameters (scalars or arrays).
        curvature: one positive curvature per element (not a list of a
            quadratic's curvatures: ask about each direction separately).
    """
    lam = _curvature_values(curvature)
    if np.any(lam <= 0):
        raise ValueError(f"curvature must be positive, got curvature={describe(curvature)}")
    lr, beta = _lr_beta(lr, beta)
    lr, beta, lam = np.broadcast_arrays(lr, beta, lam)
    trace = 1.0 + beta - lr * (1.0 - beta) * lam
    root = np.sqrt((trace ** 2 - 4.0 * beta).astype(np.complex128))
    sig = np.stack([(trace + root) / 2.0, (trace - root) / 2.0], axis=-1)
    radius = np.abs(sig).max(axis=-1)
    complex_ = np.abs(sig.imag).max(axis=-1) > 0
    negative = (sig.real < 0).any(axis=-1)
    out = np.where(radius >= 1.0, "divergent",
                   np.where(complex_, "ripples", np.where(negative, "oscillating", "monotone")))
    return str(out) if out.ndim == 0 else out


def momentum_optimal(curvatures) -> Optimum:
    r"""Best (α, β) for ``optlib.Momentum`` on a quadratic, and its rate.

    For heavy ball with step :math:`a = \alpha(1-\beta)` the optimum is
    (Polyak 1964)

    .. math::

        \beta^* = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2, \qquad
        a^* = \frac{4}{(\sqrt{\lambda_{\max}} + \sqrt{\lambda_{\min}})^2}, \qquad
        \text{rate} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1} = \sqrt{\beta^*},

    so in the EMA form :math:`\alpha^* = a^*/(1-\beta^*)`.
    """
    lam = _curvatures(curvatures)
    lo, hi = np.sqrt(lam.min()), np.sqrt(lam.max())
    rate = (hi - lo) / (hi + lo)
    beta = rate ** 2
    step = 4.0 / (hi + lo) ** 2
    return Optimum(lr=float(step / (1.0 - beta)), beta=float(beta), rate=float(rate))


# --------------------------------------------------------------------------
# Exponentially weighted averages and Adam's bias correction
# --------------------------------------------------------------------------
def _steps(t) -> np.ndarray:
    arr = np.asarray(t)
    if arr.dtype.kind not in "iu" or np.any(arr < 0):
        raise ValueError(f"t must be a non-negative whole number of steps, got t={describe(t)}")
    return arr


def ema_weights(beta, t: int) -> np.ndarray:
    r"""Weights of :math:`g_1, \dots, g_t` in :math:`v_t` (with :math:`v_0 = 0`).

    .. math::

        v_t = \sum_{k=1}^{t} (1-\beta)\,\beta^{t-k}\, g_k

    Returns:
        Array of length t, oldest first; it sums to :math:`1 - \beta^t`.
    """
    beta = hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True)
    t = int(_steps(t))
    return (1.0 - beta) * beta ** np.arange(t - 1, -1, -1, dtype=np.float64)


def ema_bias(beta, t):
    r"""Total weight of the EMA after t steps, :math:`1 - \beta^t`.

    The average of a constant gradient :math:`g` is :math:`(1-\beta^t)\,g`: biased
    toward 0 at the start, which bias correction divides away.
    """
    beta = hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True)
    return _scalar_or_array(1.0 - np.power(beta, _steps(t)))


def ema_window(beta) -> float:
    r"""Effective averaging window :math:`1/(1-\beta)` in steps."""
    beta = hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True)
    return _scalar_or_array(1.0 / (1.0 - np.asarray(beta)))


def adam_bias_correction(beta1, beta2, t) -> BiasCorrection:
    r"""Adam's bias-correction terms :math:`1-\beta_1^t`, :math:`1-\beta_2^t` and their step factor.

    Examples:
        >>> bc = adam_bias_correction(0.9, 0.999, 1)
        >>> round(bc.step_scale, 6)   # sqrt(0.001) / 0.1
        0.316228
    """
    beta1 = hyperparameter("beta1", beta1, low=0.0, high=1.0, low_inclusive=True)
    beta2 = hyperparameter("beta2", beta2, low=0.0, high=1.0, low_inclusive=True)
    first = ema_bias(beta1, t)
    second = ema_bias(beta2, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(second) / first
    return BiasCorrection(first=first, second=second, step_scale=_scalar_or_array(scale))
