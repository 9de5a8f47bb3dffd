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

from ._validate import describe, hyperparameter

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
from ._validate import flag  # noqa: E402  (used by heavy_ball_points)

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


# --------------------------------------------------------------------------
# --- chapter 3 additions ---
# Adagrad and RMSprop: steps on a steady gradient, where ε goes, the two-cycle
# RMSprop ends in on an axis-aligned bowl, and a settling time for comparing
# runs that do not converge to the exact minimum (chapters/03_rmsprop.ipynb;
# tested in tests/test_ch03_additions.py).
# --------------------------------------------------------------------------
__all__ += [
    "adagrad_constant_gradient_step",
    "rmsprop_constant_gradient_step",
    "rmsprop_step_size",
    "rmsprop_hover",
    "Hover",
    "settling_step",
]


class Hover(NamedTuple):
    r"""The two-cycle RMSprop ends in on an axis-aligned quadratic (:func:`rmsprop_hover`).

    Attributes:
        amplitude: per coordinate, the distance :math:`a_i` from the minimum at which
            :math:`W_i` bounces between :math:`w_i^* + a_i` and :math:`w_i^* - a_i`
            (0 where the coordinate converges).
        effective_steps: per coordinate, the effective step size
            :math:`-\Delta w_i / g_i` in the cycle, :math:`2/\lambda_i` (``nan`` where
            the coordinate converges instead).
        loss: :math:`f - f^* = \sum_i \lambda_i a_i^2 / 2` in the cycle.
    """

    amplitude: np.ndarray
    effective_steps: np.ndarray
    loss: float


def _whole_steps(t, least: int = 1) -> np.ndarray:
    arr = np.asarray(t)
    if isinstance(t, (bool, np.bool_)) or arr.dtype.kind not in "iu" or arr.size == 0 \
            or np.any(arr < least):
        raise ValueError(f"t must be a whole number of steps ≥ {least} (or an array of them), "
                         f"got t={describe(t)}")
    return arr


def _finite_values(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if isinstance(value, (bool, np.bool_)) or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or array, got {name}={describe(value)}")
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {name}={describe(value)}")
    return arr.astype(np.float64)


def adagrad_constant_gradient_step(lr, t, grad=1.0, eps=1e-10):
    r"""Length of Adagrad's step t when every gradient so far was the same, :math:`g`.

    After t equal gradients the sum of squares is :math:`s_t = t\,g^2`, so step t moves
    the parameter by

    .. math::

        |\Delta w_t| = \frac{\alpha\, |g|}{\sqrt{t}\,|g| + \varepsilon}
        \;\approx\; \frac{\alpha}{\sqrt t}
        \qquad (|g| \gg \varepsilon/\sqrt t),

    whatever the size of :math:`g`: the steps shrink like :math:`1/\sqrt t` forever,
    and the distance covered in t steps, :math:`\sum_{k \le t} \alpha/\sqrt k`, grows
    only like :math:`2\alpha\sqrt t`. The effective step size (step per unit of
    gradient) is this length divided by :math:`|g|`.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        t: step number(s) ≥ 1.
        grad: the constant gradient :math:`g` (finite; its sign does not matter).
        eps: :math:`\varepsilon \ge 0`, outside the root as in ``optlib.Adagrad``.

    Returns:
        float, or an array of the broadcast shape of ``lr``, ``t``, ``grad``, ``eps``.

    Examples:
        >>> adagrad_constant_gradient_step(0.1, 100, grad=2.0, eps=0.0)   # 0.1 / √100
        0.01
    """
    lr = np.asarray(hyperparameter("lr", lr, low=0.0, low_inclusive=False))
    eps = np.asarray(hyperparameter("eps", eps, low=0.0, low_inclusive=True))
    t = _whole_steps(t).astype(np.float64)
    g = np.abs(_finite_values("grad", grad))
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(g > 0, lr * g / (np.sqrt(t) * g + eps), 0.0)
    return _scalar_or_array(step)


def rmsprop_constant_gradient_step(lr, beta, t, grad=1.0, eps=1e-8):
    r"""Length of RMSprop's step t when every gradient so far was the same, :math:`g`.

    With :math:`s_0 = 0` the running average of :math:`g^2` after t steps is
    :math:`s_t = (1-\beta^t)\, g^2` (chapter 2's EMA bias), so step t moves the
    parameter by

    .. math::

        |\Delta w_t| = \frac{\alpha\, |g|}{\sqrt{1-\beta^t}\,|g| + \varepsilon}
        \;\approx\; \frac{\alpha}{\sqrt{1-\beta^t}} \;\longrightarrow\; \alpha
        \qquad (|g| \gg \varepsilon),

    independent of the size of :math:`g` (RMSprop steps by about :math:`\alpha\,
    \mathrm{sign}(g)`), and *longer* than :math:`\alpha` at the start: the first step is
    :math:`\alpha/\sqrt{1-\beta}` because :math:`s` starts at 0 and RMSprop has no bias
    correction.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        beta: :math:`\beta \in [0, 1)`.
        t: step number(s) ≥ 1.
        grad: the constant gradient :math:`g`.
        eps: :math:`\varepsilon \ge 0`, outside the root as in ``optlib.RMSprop``.

    Returns:
        float, or an array of the broadcast shape.

    Examples:
        >>> round(rmsprop_constant_gradient_step(0.01, 0.99, 1, eps=0.0), 6)   # 0.01/√0.01
        0.1
    """
    lr = np.asarray(hyperparameter("lr", lr, low=0.0, low_inclusive=False))
    beta = np.asarray(hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True))
    eps = np.asarray(hyperparameter("eps", eps, low=0.0, low_inclusive=True))
    t = _whole_steps(t)
    g = np.abs(_finite_values("grad", grad))
    root = np.sqrt(1.0 - np.power(beta, t))
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(g > 0, lr * g / (root * g + eps), 0.0)
    return _scalar_or_array(step)


def rmsprop_step_size(lr, s, eps=1e-8, eps_inside=False):
    r"""RMSprop's effective step size for a second-moment estimate :math:`s`, with ε outside or inside.

    .. math::

        \text{outside (optlib, PyTorch):}\quad \frac{\alpha}{\sqrt{s} + \varepsilon},
        \qquad
        \text{inside (optax's default, Keras):}\quad \frac{\alpha}{\sqrt{s + \varepsilon}} .

    For :math:`s \gg \varepsilon^2` (outside) or :math:`s \gg \varepsilon` (inside) both are
    :math:`\alpha/\sqrt s`. They differ where :math:`s \approx 0`: the largest step size is
    :math:`\alpha/\varepsilon` outside but :math:`\alpha/\sqrt\varepsilon` inside, so
    :math:`\varepsilon_{\text{inside}} = \varepsilon_{\text{outside}}^2` gives the same cap.
    Where the cap binds, RMSprop is gradient descent with that step size.

    Args:
        lr: learning rate :math:`\alpha > 0`.
        s: second-moment estimate(s) :math:`s \ge 0`, scalar or array.
        eps: :math:`\varepsilon \ge 0`.
        eps_inside: put :math:`\varepsilon` inside the square root.

    Returns:
        float, or an array of the broadcast shape; ``inf`` where :math:`s = \varepsilon = 0`.

    Examples:
        >>> rmsprop_step_size(0.1, 0.0, eps=1e-8), rmsprop_step_size(0.1, 0.0, 1e-8, True)
        (10000000.0, 1000.0)
    """
    lr = np.asarray(hyperparameter("lr", lr, low=0.0, low_inclusive=False))
    eps = np.asarray(hyperparameter("eps", eps, low=0.0, low_inclusive=True))
    s = np.asarray(hyperparameter("s", s, low=0.0, low_inclusive=True))
    eps_inside = flag("eps_inside", eps_inside)
    denominator = np.sqrt(s + eps) if eps_inside else np.sqrt(s) + eps
    with np.errstate(divide="ignore"):
        return _scalar_or_array(lr / denominator)


def rmsprop_hover(lr, curvatures, eps=1e-8) -> Hover:
    r"""Where RMSprop with a constant α ends on an axis-aligned quadratic: a two-cycle.

    On :math:`f = \tfrac12\sum_i \lambda_i (w_i - w_i^*)^2` every coordinate is its own
    one-dimensional problem. RMSprop's steps do not shrink with the gradient, so it cannot
    settle on the minimum; it ends bouncing between :math:`w_i^* \pm a_i`. In that cycle
    :math:`|g_i| = \lambda_i a_i` is constant, so :math:`s_i = g_i^2`, and one step must carry
    :math:`W_i` across, a distance :math:`2a_i`:

    .. math::

        \frac{\alpha\, \lambda_i a_i}{\lambda_i a_i + \varepsilon} = 2 a_i
        \quad\Longrightarrow\quad
        a_i = \frac{\alpha}{2} - \frac{\varepsilon}{\lambda_i},
        \qquad
        \frac{\alpha}{\sqrt{s_i} + \varepsilon} = \frac{2}{\lambda_i},
        \qquad
        f - f^* = \sum_i \tfrac12 \lambda_i a_i^2 .

    The effective step in the cycle is exactly gradient descent's stability edge
    :math:`2/\lambda_i` of that coordinate (chapter 1). Where :math:`\alpha/2 \le
    \varepsilon/\lambda_i` there is no cycle: near the minimum the step size is capped at
    :math:`\alpha/\varepsilon < 2/\lambda_i` and the coordinate converges like gradient
    descent (amplitude 0, effective step ``nan``). This is the fixed point of the
    two-step map, the state runs with :math:`\beta > 0` are seen to end in; with
    :math:`\beta = 0` (sign descent) any pair of points :math:`\alpha` apart around the
    minimum is a cycle, and the amplitude depends on the start. (In floating point, a
    coordinate that is converging may also round onto a nonzero :math:`w_i^*` exactly before
    its step size has grown past :math:`2/\lambda_i`; its gradient is then 0 and it stays.)

    Args:
        lr: learning rate :math:`\alpha > 0` (a scalar).
        curvatures: the :math:`\lambda_i` along the coordinate axes, or a ``Quadratic``
            with a diagonal Hessian (whose diagonal is then used).
        eps: :math:`\varepsilon \ge 0` (outside the root, as in ``optlib.RMSprop``).

    Returns:
        A :class:`Hover` ``(amplitude, effective_steps, loss)``.

    Examples:
        >>> h = rmsprop_hover(0.1, (1.0, 25.0), eps=0.0)
        >>> h.amplitude.tolist(), h.effective_steps.tolist(), round(h.loss, 6)
        ([0.05, 0.05], [2.0, 0.08], 0.0325)
    """
    if hasattr(curvatures, "hessian"):
        hessian = np.asarray(curvatures.hessian, dtype=np.float64)
        if np.any(np.abs(hessian - np.diag(np.diag(hessian))) > 1e-12 * np.abs(hessian).max()):
            raise ValueError(f"rmsprop_hover needs an axis-aligned quadratic (a diagonal "
                             f"Hessian), got {curvatures!r}")
        curvatures = np.diag(hessian)
    lam = _curvatures(curvatures)
    lr = hyperparameter("lr", lr, low=0.0, low_inclusive=False)
    eps = hyperparameter("eps", eps, low=0.0, low_inclusive=True)
    if not isinstance(lr, float) or not isinstance(eps, float):
        raise TypeError(f"lr and eps must be scalars, got lr={describe(lr)}, eps={describe(eps)}")
    amplitude = np.maximum(lr / 2.0 - eps / lam, 0.0)
    steps = np.where(amplitude > 0, 2.0 / lam, np.nan)
    return Hover(amplitude=amplitude, effective_steps=steps,
                 loss=float(np.sum(0.5 * lam * amplitude**2)))


def settling_step(trajectory, fraction: float = 0.01):
    r"""First step from which a run stays within ``fraction`` of its initial distance.

    .. math::

        t_{\text{settle}} = \min\{\, t : \lVert w_k - w^* \rVert \le
        \text{fraction}\cdot\lVert w_0 - w^* \rVert \text{ for all } t \le k \le T \,\}

    over the run's T steps. Unlike ``Trajectory.steps_to`` (the *first* step below a
    tolerance) this does not count a run that only passes close to the minimum and moves
    away again, as RMSprop with a constant α does (:func:`rmsprop_hover`).

    Args:
        trajectory: a ``Trajectory`` from ``optlib.run`` (single run or batch).
        fraction: in (0, 1).

    Returns:
        int, or an int array of the batch shape; -1 where the run diverged or its last
        point is not within the tolerance.
    """
    fraction = hyperparameter("fraction", fraction, low=0.0, high=1.0, low_inclusive=False)
    if not hasattr(trajectory, "distances") or not hasattr(trajectory, "diverged"):
        raise TypeError(f"trajectory must be a Trajectory from optlib.run, got "
                        f"trajectory={describe(trajectory)}")
    d = trajectory.distances()
    outside = ~(d <= fraction * d[0])                 # nan (diverged) counts as outside
    n = d.shape[0]
    last_outside = np.where(outside.any(axis=0), n - 1 - np.argmax(outside[::-1], axis=0), -1)
    settled = last_outside + 1
    result = np.where((settled < n) & ~np.asarray(trajectory.diverged), settled, -1)
    return int(result) if result.ndim == 0 else result


# --------------------------------------------------------------------------
# --- chapter 4 additions ---
# Adam: where L2 and decoupled weight decay come to rest on a quadratic, and the
# online problem of Reddi et al. (2018) on which Adam fails and AMSGrad does not
# (chapters/04_adam.ipynb; tested in tests/test_ch04_additions.py).
# --------------------------------------------------------------------------
import math  # noqa: E402

__all__ += [
    "WeightDecayLimits",
    "adam_weight_decay_limits",
    "OnlineRun",
    "reddi_online_problem",
]


class WeightDecayLimits(NamedTuple):
    r"""Rest points of Adam with weight decay :math:`\lambda` on a quadratic.

    Attributes:
        l2: where ``Adam(weight_decay=λ)`` (L2 in the gradient) comes to rest,
            :math:`(H + \lambda I)^{-1} H c`.
        decoupled: where ``AdamW(weight_decay=λ)`` comes to rest for
            :math:`\varepsilon \to 0`, :math:`\operatorname{clip}(c, -1/\lambda, 1/\lambda)`
            (axis-aligned quadratics).
    """

    l2: np.ndarray
    decoupled: np.ndarray


def adam_weight_decay_limits(objective, weight_decay) -> WeightDecayLimits:
    r"""Where Adam with L2 weight decay and with decoupled weight decay (AdamW) come to rest.

    The objective is a quadratic :math:`f(w) = \tfrac12 (w - c)^\top H (w - c)`
    (``optlib.objectives.Quadratic``) with minimum :math:`c`.

    **L2** (``Adam(weight_decay=λ)``): the decay is added to the gradient,
    :math:`\tilde g = H(w - c) + \lambda w`, and Adam's step
    :math:`\hat m / (\sqrt{\hat v} + \varepsilon)` is a (rescaled) average of
    :math:`\tilde g`; it can only stop where :math:`\tilde g = 0`, the minimum of
    :math:`f(w) + \tfrac{\lambda}{2}\lVert w\rVert^2`:

    .. math::

        w_{L2} = (H + \lambda I)^{-1} H\, c, \qquad
        \text{for diagonal } H:\ (w_{L2})_i = \frac{\lambda_i}{\lambda_i + \lambda}\, c_i .

    Flat coordinates (small curvature :math:`\lambda_i`) are shrunk much more than
    steep ones.

    **Decoupled** (``AdamW(weight_decay=λ)``): the step is
    :math:`w \leftarrow (1 - \alpha\lambda) w - \alpha\, \hat m / (\sqrt{\hat v} + \varepsilon)`
    with :math:`\hat m, \hat v` averages of the loss gradient :math:`g` alone. At a
    rest point the gradient is constant, so :math:`\hat m = g`,
    :math:`\hat v = g^2`, and per coordinate

    .. math::

        \lambda\, w_i = -\frac{g_i}{|g_i| + \varepsilon} .

    For :math:`\varepsilon \to 0` the right-hand side is :math:`-\operatorname{sign}(g_i)`
    unless :math:`g_i \approx 0`. With a diagonal :math:`H` (coordinates
    independent) either :math:`|c_i| \le 1/\lambda` and :math:`w_i = c_i` (then
    :math:`|g_i| = \varepsilon\lambda|c_i|/(1 - \lambda|c_i|)`, essentially 0), or
    :math:`w_i = \operatorname{sign}(c_i)/\lambda`:

    .. math::

        (w_{\text{dec}})_i = \operatorname{clip}\!\left(c_i,\ -\tfrac{1}{\lambda},\ \tfrac{1}{\lambda}\right),

    the same for every curvature: decoupled decay acts on every weight alike,
    whatever the size of its gradients. (AdamW approaches this point only as fast
    as :math:`\hat v` forgets old, larger gradients, over about
    :math:`1/(1-\beta_2)` steps.)

    Args:
        objective: a quadratic with ``hessian`` and ``minimum`` (e.g.
            ``Quadratic(curvatures=(1, 100), center=(4, 4))``); for ``decoupled``
            its Hessian must be diagonal (``angle=0``).
        weight_decay: :math:`\lambda > 0`.

    Returns:
        :class:`WeightDecayLimits` with two arrays of shape ``(2,)``.

    Raises:
        TypeError: if ``objective`` has no constant ``hessian`` and ``minimum``.
        ValueError: for :math:`\lambda \le 0` or a Hessian that is not diagonal.

    Examples:
        >>> from optlib.objectives import Quadratic
        >>> lim = adam_weight_decay_limits(Quadratic((1.0, 100.0), center=(4.0, 4.0)), 0.5)
        >>> lim.l2.round(4).tolist(), lim.decoupled.tolist()
        ([2.6667, 3.9801], [2.0, 2.0])
    """
    lam = hyperparameter("weight_decay", weight_decay, low=0.0, low_inclusive=False)
    if np.ndim(lam) != 0:
        raise ValueError(f"weight_decay must be a single number, got "
                         f"weight_decay={describe(weight_decay)}")
    h = getattr(objective, "hessian", None)
    c = getattr(objective, "minimum", None)
    if h is None or c is None or callable(h) or np.shape(h) != (2, 2) or np.shape(c) != (2,):
        raise TypeError(f"objective must be a quadratic with a constant 2×2 hessian and a "
                        f"minimum (e.g. optlib.objectives.Quadratic), got "
                        f"objective={describe(objective)}")
    h = np.asarray(h, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    if abs(h[0, 1]) > 1e-12 * np.abs(h).max():
        raise ValueError("the decoupled rest point needs an axis-aligned quadratic (a diagonal "
                         f"hessian), got hessian={h.round(6).tolist()}")
    l2 = np.linalg.solve(h + lam * np.eye(2), h @ c)
    decoupled = np.clip(c, -1.0 / lam, 1.0 / lam)
    return WeightDecayLimits(l2=l2, decoupled=decoupled)


class OnlineRun(NamedTuple):
    r"""The result of :func:`reddi_online_problem`.

    Attributes:
        x: the iterates :math:`x_1, \dots, x_{T+1}`, shape ``(T + 1,)``
            (``x[0]`` is the start :math:`x_1`).
        grads: the gradients :math:`g_t = c_t` seen, shape ``(T,)``.
        moves: the optimizer's normalized step before the projection,
            :math:`u_t = (x_t - y_{t+1})/\alpha_t` with :math:`y_{t+1}` the unprojected
            point; for Adam :math:`u_t = \hat m_t / (\sqrt{\hat v_t} + \varepsilon)`,
            for gradient descent :math:`u_t = g_t`. Shape ``(T,)``.
        average_regret: :math:`R_t / t` for :math:`t = 1, \dots, T`.
    """

    x: np.ndarray
    grads: np.ndarray
    moves: np.ndarray
    average_regret: np.ndarray


def reddi_online_problem(optimizer, steps: int, C: float = 3.0, x0: float = 0.0,
                         schedule: str = "sqrt") -> OnlineRun:
    r"""Run an optimizer on the online problem of Reddi, Kale & Kumar (2018, Theorem 1).

    On the interval :math:`\mathcal F = [-1, 1]` the losses are linear,

    .. math::

        f_t(x) = c_t\, x, \qquad c_t = \begin{cases} C & t \bmod 3 = 1 \\ -1 & \text{otherwise,}
        \end{cases}
        \qquad C > 2 ,

    so over every three steps the loss is :math:`(C - 2)\,x` and the best fixed
    point is :math:`x^* = -1`. At step :math:`t = 1, 2, \dots` the optimizer gets
    :math:`g_t = c_t` at :math:`x_t`, steps with the learning rate
    :math:`\alpha_t` (``schedule="sqrt"``: :math:`\alpha/\sqrt t` as in the paper;
    ``"constant"``: :math:`\alpha`), and the result is projected back onto
    :math:`\mathcal F`:

    .. math::

        x_{t+1} = \operatorname{clip}\big(x_t - \alpha_t\, u_t,\ -1,\ 1\big),

    where :math:`u_t` is the optimizer's own normalized step (see
    :class:`OnlineRun`). The regret after :math:`t` steps compares with the best
    fixed point in hindsight,

    .. math::

        R_t = \sum_{s=1}^{t} f_s(x_s) - \min_{x \in [-1, 1]} \sum_{s=1}^{t} f_s(x)
            = \sum_{s=1}^{t} c_s x_s + \Big|\sum_{s=1}^{t} c_s\Big| .

    With :math:`\beta_1 = 0` and :math:`\beta_2 = 1/(1 + C^2)`, Adam forgets the
    rare large gradient :math:`C` within a step or two; its normalized steps
    :math:`u_t` over one period sum to a negative number, so :math:`x` drifts to
    :math:`+1`, the worst point, and :math:`R_t/t` does not go to 0. AMSGrad's
    :math:`\max(\hat v, v)` remembers :math:`C^2`, the sum is positive and
    :math:`x \to -1`.

    Args:
        optimizer: an optlib optimizer with a scalar ``lr`` (:math:`\alpha`), e.g.
            ``Adam(lr=0.5, beta1=0.0, beta2=1/(1 + C**2), amsgrad=True)``. It is
            reset first; its ``lr`` is set to :math:`\alpha_t` during the run and
            restored afterwards.
        steps: number of steps :math:`T \ge 0`.
        C: the large gradient, :math:`C > 2`.
        x0: the start :math:`x_1 \in [-1, 1]`.
        schedule: ``"sqrt"`` or ``"constant"``.

    Returns:
        An :class:`OnlineRun`.

    Raises:
        TypeError, ValueError: for a non-optimizer, an array ``lr``, or arguments
            out of range; nothing is run then.

    Examples:
        >>> from optlib import Adam
        >>> adam = Adam(lr=0.5, beta1=0.0, beta2=0.1)
        >>> float(reddi_online_problem(adam, 300).x[-1])
        1.0
        >>> float(reddi_online_problem(Adam(lr=0.5, beta1=0.0, beta2=0.1, amsgrad=True),
        ...                            300).x[-1]) < -0.9
        True
    """
    from .optimizers import Optimizer

    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an optlib optimizer, got "
                        f"optimizer={describe(optimizer)}")
    base = getattr(optimizer, "lr", None)
    if base is None or np.ndim(base) != 0:
        raise ValueError(f"optimizer must have a single (scalar) learning rate lr, got "
                         f"lr={describe(base)}")
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)) \
            or steps < 0:
        raise ValueError(f"steps must be a whole number ≥ 0, got steps={describe(steps)}")
    C = hyperparameter("C", C, low=2.0, low_inclusive=False)
    x0 = hyperparameter("x0", x0, low=-1.0, high=1.0, low_inclusive=True, high_inclusive=True)
    if np.ndim(C) != 0 or np.ndim(x0) != 0:
        raise ValueError(f"C and x0 must be single numbers, got C={describe(C)}, "
                         f"x0={describe(x0)}")
    if schedule not in ("sqrt", "constant"):
        raise ValueError(f"schedule must be 'sqrt' or 'constant', got schedule={schedule!r}")

    steps = int(steps)
    t = np.arange(1, steps + 1)
    coef = np.where(t % 3 == 1, C, -1.0)
    x = np.empty(steps + 1)
    x[0] = x0
    moves = np.empty(steps)
    w = np.array([x0], dtype=np.float64)
    optimizer.reset()
    try:
        for k in range(steps):
            lr_t = base / math.sqrt(k + 1) if schedule == "sqrt" else base
            optimizer.lr = lr_t
            before = w[0]
            optimizer.step(w, np.array([coef[k]]))
            moves[k] = (before - w[0]) / lr_t
            np.clip(w, -1.0, 1.0, out=w)
            x[k + 1] = w[0]
    finally:
        optimizer.lr = base
    regret = np.cumsum(coef * x[:-1]) + np.abs(np.cumsum(coef))
    return OnlineRun(x=x, grads=coef, moves=moves, average_regret=regret / t)
