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


# --------------------------------------------------------------------------
# --- chapter 1 additions ---
# Gradient descent's per-direction behaviour and its cost in steps
# (chapters/01_oscillation.ipynb; tested in tests/test_ch01_additions.py).
# --------------------------------------------------------------------------
__all__ += ["gd_regime", "gd_steps_to_tolerance"]


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
        TypeError, ValueError: for a non-numeric, non-finite or non-positive
            ``lr`` or ``curvature``.

    Examples:
        >>> gd_regime(0.03, 25.0), gd_regime(0.05, 25.0), gd_regime(0.085, 25.0)
        ('monotone', 'oscillating', 'divergent')
    """
    lr = np.asarray(hyperparameter("lr", lr, low=0.0, low_inclusive=False))
    lam = np.asarray(curvature)
    if isinstance(curvature, (bool, np.bool_)) or lam.dtype.kind not in "iuf":
        raise TypeError(f"curvature must be a positive real number or array, got "
                        f"curvature={describe(curvature)}")
    if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"curvature must be positive and finite, got "
                         f"curvature={describe(curvature)}")
    factor = 1.0 - lr * lam.astype(np.float64)
    out = np.where(np.abs(factor) >= 1.0, "divergent",
                   np.where(factor < 0.0, "oscillating", "monotone"))
    return str(out) if out.ndim == 0 else out


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
    return _scalar_or_array(steps)


# --------------------------------------------------------------------------
# --- chapter 2 additions ---
# Momentum: the EMA as a filter, critical damping, the stability limit, and the
# classical heavy-ball / Nesterov forms (chapters/02_momentum.ipynb; tested in
# tests/test_ch02_additions.py).
# --------------------------------------------------------------------------
from ._checks import flag  # noqa: E402  (used by heavy_ball_points)

__all__ += [
    "ema_gain",
    "momentum_critical_lr",
    "momentum_stability_limit",
    "heavy_ball_iteration_matrix",
    "heavy_ball_points",
]


def ema_gain(beta, omega):
    r"""How much of an oscillation of angular frequency :math:`\omega` the EMA keeps.

    Feed :math:`g_t = e^{i\omega t}` into :math:`v_t = \beta v_{t-1} + (1-\beta) g_t`;
    once the start is forgotten :math:`v_t = H\, g_t` with

    .. math::

        H(\omega) = \frac{1-\beta}{1 - \beta e^{-i\omega}}, \qquad
        |H(\omega)| = \frac{1-\beta}{\sqrt{1 - 2\beta\cos\omega + \beta^2}} .

    A constant gradient (:math:`\omega = 0`) is kept whole, :math:`|H| = 1`; a
    gradient that flips sign every step (:math:`\omega = \pi`) is shrunk to
    :math:`|H| = (1-\beta)/(1+\beta)`.

    Args:
        beta: :math:`\beta \in [0, 1)`, scalar or array.
        omega: angular frequency(ies) in radians per step, broadcasting with ``beta``.

    Returns:
        float, or an array of the broadcast shape.

    Examples:
        >>> round(ema_gain(0.9, np.pi), 6)   # 0.1 / 1.9
        0.052632
    """
    beta = np.asarray(hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True))
    omega = np.asarray(hyperparameter("omega", omega, low=-np.inf, low_inclusive=False))
    gain = (1.0 - beta) / np.sqrt(1.0 - 2.0 * beta * np.cos(omega) + beta**2)
    return _scalar_or_array(gain)


def momentum_critical_lr(beta, curvature):
    r"""The two learning rates at which momentum is critically damped along :math:`\lambda`.

    The iteration matrix (:func:`momentum_iteration_matrix`) has trace
    :math:`T = 1 + \beta - \alpha(1-\beta)\lambda` and determinant :math:`\beta`;
    its eigenvalues coincide when the discriminant :math:`T^2 - 4\beta` vanishes,
    :math:`T = \pm 2\sqrt\beta`, that is

    .. math::

        \alpha(1-\beta)\lambda = (1 \mp \sqrt\beta)^2 , \qquad
        \alpha_{\text{low}} = \frac{(1-\sqrt\beta)^2}{(1-\beta)\lambda}, \quad
        \alpha_{\text{high}} = \frac{(1+\sqrt\beta)^2}{(1-\beta)\lambda} .

    Below :math:`\alpha_{\text{low}}` both eigenvalues are real and positive
    ("monotone"); between the two they are complex of modulus :math:`\sqrt\beta`
    ("ripples"); above :math:`\alpha_{\text{high}}` they are real and negative
    ("oscillating", then "divergent" from :func:`momentum_stability_limit` on).
    For :math:`\beta = 0` both equal :math:`1/\lambda`.

    Args:
        beta: :math:`\beta \in [0, 1)`, scalar or array.
        curvature: positive curvature(s) :math:`\lambda`, broadcasting with ``beta``.

    Returns:
        ``(low, high)``: two floats, or two arrays of the broadcast shape.

    Examples:
        >>> low, high = momentum_critical_lr(0.25, 25.0)   # (1 ∓ 0.5)² / 18.75
        >>> round(low, 6), round(high, 6)
        (0.013333, 0.12)
    """
    beta = np.asarray(hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True))
    lam = np.asarray(hyperparameter("curvature", curvature, low=0.0, low_inclusive=False))
    root = np.sqrt(beta)
    scale = (1.0 - beta) * lam
    return _scalar_or_array((1.0 - root) ** 2 / scale), _scalar_or_array((1.0 + root) ** 2 / scale)


def momentum_stability_limit(beta, curvatures):
    r"""The largest learning rate for which momentum converges on a quadratic.

    An eigenvalue of the iteration matrix leaves the unit disc through
    :math:`\sigma = -1` (complex ones have modulus :math:`\sqrt\beta < 1`, and
    :math:`\sigma = +1` would need :math:`\alpha\lambda = 0`). The characteristic
    polynomial :math:`\sigma^2 - T\sigma + \beta` vanishes at :math:`-1` when
    :math:`1 + T + \beta = 0`, i.e. :math:`\alpha(1-\beta)\lambda = 2(1+\beta)`:

    .. math::

        \alpha < \frac{2(1+\beta)}{(1-\beta)\,\lambda_{\max}} .

    For :math:`\beta = 0` this is gradient descent's :math:`2/\lambda_{\max}`; in
    heavy-ball terms the step :math:`a = \alpha(1-\beta)` must stay below
    :math:`2(1+\beta)/\lambda_{\max}`.

    Args:
        beta: :math:`\beta \in [0, 1)`, scalar or array.
        curvatures: the Hessian's eigenvalues (or an objective with ``curvatures``).

    Returns:
        float, or an array shaped like ``beta``.

    Examples:
        >>> round(momentum_stability_limit(0.9, (1.0, 25.0)), 6)   # 3.8 / 2.5
        1.52
    """
    beta = np.asarray(hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True))
    lam_max = _curvatures(curvatures).max()
    return _scalar_or_array(2.0 * (1.0 + beta) / ((1.0 - beta) * lam_max))


def heavy_ball_iteration_matrix(step, beta, curvature):
    r"""Polyak's heavy ball along one eigendirection, acting on :math:`(w_t, w_{t-1})`.

    Heavy ball, :math:`w_{t+1} = w_t - a\,\lambda w_t + \beta (w_t - w_{t-1})`, is

    .. math::

        \begin{pmatrix} w_{t+1} \\ w_t \end{pmatrix} =
        \begin{pmatrix} 1 + \beta - a\lambda & -\beta \\ 1 & 0 \end{pmatrix}
        \begin{pmatrix} w_t \\ w_{t-1} \end{pmatrix} .

    With :math:`a = \alpha(1-\beta)` it has the trace
    :math:`1 + \beta - \alpha(1-\beta)\lambda` and the determinant :math:`\beta` of
    :func:`momentum_iteration_matrix`: the two are similar (the change of variables
    :math:`w_{t-1} = w_t + \alpha v_t`), so they have the same eigenvalues.

    Args:
        step: heavy-ball step :math:`a > 0`; broadcasts with ``beta`` and ``curvature``.
        beta: :math:`\beta \in [0, 1)`.
        curvature: curvature(s) :math:`\lambda`.

    Returns:
        Array of shape ``broadcast(step, beta, curvature).shape + (2, 2)``.
    """
    step = np.asarray(hyperparameter("step", step, low=0.0, low_inclusive=False))
    beta = np.asarray(hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True))
    lam = np.asarray(curvature, dtype=np.float64)
    step, beta, lam = np.broadcast_arrays(step, beta, lam)
    m = np.empty(step.shape + (2, 2))
    m[..., 0, 0] = 1.0 + beta - step * lam
    m[..., 0, 1] = -beta
    m[..., 1, 0] = 1.0
    m[..., 1, 1] = 0.0
    return m


def heavy_ball_points(objective, step, beta, w0, steps: int, nesterov: bool = False):
    r"""Iterates of the classical heavy-ball or Nesterov method, written with positions only.

    A reference implementation of the textbook forms (no velocity buffer), to
    check the equivalences with ``optlib.Momentum``. With :math:`w_{-1} = w_0`:

    .. math::

        \text{heavy ball (Polyak 1964):}\quad
        w_{t+1} = w_t - a\,\nabla f(w_t) + \beta\,(w_t - w_{t-1}),

        \text{Nesterov (1983):}\quad
        y_t = w_t + \beta\,(w_t - w_{t-1}), \qquad w_{t+1} = y_t - a\,\nabla f(y_t).

    ``Momentum(lr=α, beta=β)`` visits exactly the heavy-ball points with
    :math:`a = \alpha(1-\beta)`; ``Momentum(lr=α, beta=β, nesterov=True)`` visits
    the look-ahead points :math:`y_t` of Nesterov's method with the same
    :math:`a` (for any differentiable :math:`f`).

    Args:
        objective: anything with a batched ``grad(w)`` on ``(..., 2)``.
        step: step size :math:`a > 0` (scalar, or an array broadcasting as ``(..., 1)``).
        beta: :math:`\beta \in [0, 1)`, likewise.
        w0: start point(s), shape ``(2,)`` or ``(..., 2)``.
        steps: number of steps, ≥ 0.
        nesterov: use Nesterov's look-ahead gradient.

    Returns:
        The points :math:`w_0, \dots, w_{\text{steps}}`, shape ``(steps + 1, ..., 2)``.
        Nothing is checked for divergence (overflow gives ``inf``/``nan``, silently).
    """
    step = hyperparameter("step", step, low=0.0, low_inclusive=False)
    beta = hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True)
    nesterov = flag("nesterov", nesterov)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a whole number ≥ 0, got steps={describe(steps)}")
    try:
        w = np.asarray(w0, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"w0 must be an array of shape (..., 2), got w0={describe(w0)}") from None
    if w.ndim == 0 or w.shape[-1] != 2 or not np.all(np.isfinite(w)):
        raise ValueError(f"w0 must be a finite array of shape (..., 2), got w0={describe(w0)}")
    w = np.array(np.broadcast_to(w, np.broadcast_shapes(w.shape, np.shape(step), np.shape(beta))))
    points = np.empty((int(steps) + 1,) + w.shape)
    points[0] = w
    previous = w
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for t in range(int(steps)):
            current = points[t]
            push = beta * (current - previous)
            if nesterov:
                ahead = current + push
                points[t + 1] = ahead - step * objective.grad(ahead)
            else:
                points[t + 1] = current - step * objective.grad(current) + push
            previous = current
    return points
