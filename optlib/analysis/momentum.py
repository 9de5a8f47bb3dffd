r"""Momentum on a quadratic, in closed form.

``optlib.Momentum`` is the EMA form :math:`v_t = \beta v_{t-1} + (1-\beta) g_t`,
:math:`w_t = w_{t-1} - \alpha v_t` with :math:`g_t = \nabla f(w_{t-1})` and
:math:`v_0 = 0`. Along one eigendirection of curvature :math:`\lambda` the error
:math:`e_t` obeys the scalar recurrence

.. math::

    e_{t+1} = (1 + \beta - a\lambda)\, e_t - \beta\, e_{t-1}, \qquad a = \alpha(1-\beta)

(Polyak's heavy ball with step :math:`a`), and the pair :math:`(e_t, v_t)` is advanced by
the iteration matrix

.. math::

    M = \begin{pmatrix} 1 - \alpha(1-\beta)\lambda & -\alpha\beta \\
                        (1-\beta)\lambda & \beta \end{pmatrix},

with :math:`\operatorname{tr} M = 1 + \beta - \alpha(1-\beta)\lambda` and
:math:`\det M = \beta`. Its eigenvalues :math:`\sigma` (roots of
:math:`\sigma^2 - (\operatorname{tr} M)\,\sigma + \beta`) decide everything: the rate is
the spectral radius :math:`\max|\sigma|`, complex eigenvalues have modulus
:math:`\sqrt\beta` (ripples), they coincide at the critical learning rates, and one
leaves the unit disc through :math:`-1` at the stability limit (chapter 2).

``Momentum(nesterov=True)`` obeys another recurrence,
:math:`e_{t+1} = (1+\beta)(1-a\lambda)\, e_t - \beta(1-a\lambda)\, e_{t-1}`:
:func:`nesterov_spectral_radius`, :func:`nesterov_stability_limit` and
:func:`nesterov_optimal` are its closed forms.
"""

from __future__ import annotations

import numpy as np

from .._validate import hyperparameter
from . import _common
from .gd import Optimum

__all__ = [
    "momentum_iteration_matrix",
    "momentum_eigenvalues",
    "momentum_spectral_radius",
    "momentum_regime",
    "momentum_critical_lr",
    "momentum_stability_limit",
    "momentum_optimal",
    "heavy_ball_iteration_matrix",
    "nesterov_spectral_radius",
    "nesterov_stability_limit",
    "nesterov_optimal",
]


def _lr_beta(lr, beta):
    lr = np.asarray(hyperparameter("lr", lr, low=0.0, low_inclusive=False))
    return lr, np.asarray(_common.beta(beta))


def _quadratic_roots(trace, det):
    r"""The two roots of :math:`\sigma^2 - T\sigma + D` (broadcasting arrays in, complex array
    with a last axis of 2 out)."""
    root = np.sqrt((trace ** 2 - 4.0 * det).astype(np.complex128))
    return np.stack([(trace + root) / 2.0, (trace - root) / 2.0], axis=-1)


def _roots(lr, beta, lam):
    r"""The two roots of :math:`\sigma^2 - (1 + \beta - \alpha(1-\beta)\lambda)\sigma + \beta`."""
    return _quadratic_roots(1.0 + beta - lr * (1.0 - beta) * lam, beta)


def momentum_iteration_matrix(lr, beta, curvature):
    r"""The 2×2 matrix that advances :math:`(e_t, v_t)` along one eigendirection.

    With :math:`e_t = w_t - w^*` and :math:`g_t = \lambda e_{t-1}`, one step
    :math:`v_t = \beta v_{t-1} + (1-\beta) g_t`, :math:`e_t = e_{t-1} - \alpha v_t` is

    .. math::

        \begin{pmatrix} e_t \\ v_t \end{pmatrix} =
        \begin{pmatrix} 1 - \alpha(1-\beta)\lambda & -\alpha\beta \\
                        (1-\beta)\lambda & \beta \end{pmatrix}
        \begin{pmatrix} e_{t-1} \\ v_{t-1} \end{pmatrix}

    Args:
        lr: learning rate(s) :math:`\alpha > 0`.
        beta: momentum coefficient(s) :math:`\beta \in [0, 1)`.
        curvature: finite curvature(s) :math:`\lambda` (any sign: a saddle direction is
            allowed); ``lr``, ``beta`` and ``curvature`` broadcast.

    Returns:
        Array of shape ``broadcast(lr, beta, curvature).shape + (2, 2)``.

    Examples:
        >>> momentum_iteration_matrix(0.1, 0.5, 4.0)
        array([[ 0.8 , -0.05],
               [ 2.  ,  0.5 ]])
    """
    lr, beta = _lr_beta(lr, beta)
    lam = _common.curvature(curvature, positive=False)
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

    Args:
        lr: learning rate(s) :math:`\alpha > 0`.
        beta: momentum coefficient(s) :math:`\beta \in [0, 1)`, broadcasting with ``lr``.
        curvatures: the Hessian's eigenvalues (or an objective with ``curvatures``).

    Returns:
        Complex array of shape ``broadcast(lr, beta).shape + (len(curvatures), 2)``.

    Examples:
        >>> momentum_eigenvalues(0.3, 0.5, (25.0,)).real   # (σ + 0.25)(σ + 2) = 0
        array([[-0.25, -2.  ]])
    """
    lr, beta = _lr_beta(lr, beta)
    lam = _common.curvatures(curvatures)
    lr, beta = np.broadcast_arrays(lr, beta)
    return _roots(lr[..., None], beta[..., None], lam)


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

    Examples:
        >>> round(momentum_spectral_radius(0.1, 0.81, (1.0, 25.0)), 12)   # complex: √0.81
        0.9
    """
    return _common.scalar_or_array(
        np.abs(momentum_eigenvalues(lr, beta, curvatures)).max(axis=(-2, -1)))


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

    Returns:
        ``str`` for scalar input, else an array of strings of the broadcast shape.

    Examples:
        >>> [momentum_regime(lr, 0.25, 25.0) for lr in (0.01, 0.05, 0.13, 0.3)]
        ['monotone', 'ripples', 'oscillating', 'divergent']
    """
    lam = _common.curvature(curvature, positive=True)
    lr, beta = _lr_beta(lr, beta)
    sig = _roots(*np.broadcast_arrays(lr, beta, lam))
    radius = np.abs(sig).max(axis=-1)
    complex_ = np.abs(sig.imag).max(axis=-1) > 0
    negative = (sig.real < 0).any(axis=-1)
    out = np.where(radius >= 1.0, "divergent",
                   np.where(complex_, "ripples", np.where(negative, "oscillating", "monotone")))
    return str(out) if out.ndim == 0 else out


def momentum_critical_lr(beta, curvature):
    r"""The two learning rates at which momentum is critically damped along :math:`\lambda`.

    The iteration matrix (:func:`momentum_iteration_matrix`) has
    :math:`\operatorname{tr} M = 1 + \beta - \alpha(1-\beta)\lambda` and determinant
    :math:`\beta`; its eigenvalues coincide when the discriminant
    :math:`(\operatorname{tr} M)^2 - 4\beta` vanishes, :math:`\operatorname{tr} M = \pm 2\sqrt\beta`,
    that is

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
    beta = np.asarray(_common.beta(beta))
    lam = np.asarray(hyperparameter("curvature", curvature, low=0.0, low_inclusive=False))
    root = np.sqrt(beta)
    scale = (1.0 - beta) * lam
    return (_common.scalar_or_array((1.0 - root) ** 2 / scale),
            _common.scalar_or_array((1.0 + root) ** 2 / scale))


def momentum_stability_limit(beta, curvatures):
    r"""The largest learning rate for which momentum converges on a quadratic.

    An eigenvalue of the iteration matrix leaves the unit disc through
    :math:`\sigma = -1` (complex ones have modulus :math:`\sqrt\beta < 1`, and
    :math:`\sigma = +1` would need :math:`\alpha\lambda = 0`). The characteristic
    polynomial :math:`\sigma^2 - (\operatorname{tr} M)\,\sigma + \beta` vanishes at :math:`-1`
    when :math:`1 + \operatorname{tr} M + \beta = 0`, i.e. :math:`\alpha(1-\beta)\lambda = 2(1+\beta)`:

    .. math::

        \alpha < \frac{2(1+\beta)}{(1-\beta)\,\lambda_{\max}} .

    For :math:`\beta = 0` this is gradient descent's :math:`2/\lambda_{\max}`; in
    heavy-ball terms the step :math:`a = \alpha(1-\beta)` must stay below
    :math:`2(1+\beta)/\lambda_{\max}`. It is also gradient descent's limit
    :math:`\alpha_{\text{eff}}\lambda_{\max} < 2` for the effective learning rate
    :math:`\alpha_{\text{eff}} = \alpha(1-\beta)/(1+\beta)` of a gradient that flips sign
    every step.

    Args:
        beta: :math:`\beta \in [0, 1)`, scalar or array.
        curvatures: the Hessian's eigenvalues (or an objective with ``curvatures``).

    Returns:
        float, or an array shaped like ``beta``.

    Examples:
        >>> round(momentum_stability_limit(0.9, (1.0, 25.0)), 6)   # 3.8 / 2.5
        1.52
    """
    beta = np.asarray(_common.beta(beta))
    lam_max = _common.curvatures(curvatures).max()
    return _common.scalar_or_array(2.0 * (1.0 + beta) / ((1.0 - beta) * lam_max))


def momentum_optimal(curvatures) -> Optimum:
    r"""Best (α, β) for ``optlib.Momentum`` on a quadratic, and its rate.

    For heavy ball with step :math:`a = \alpha(1-\beta)` the optimum is
    (Polyak 1964)

    .. math::

        \beta^* = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2, \qquad
        a^* = \frac{4}{(\sqrt{\lambda_{\max}} + \sqrt{\lambda_{\min}})^2}, \qquad
        \text{rate} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1} = \sqrt{\beta^*},

    so in the EMA form :math:`\alpha^* = a^*/(1-\beta^*)`.

    Args:
        curvatures: the Hessian's eigenvalues (or an objective with ``curvatures``).

    Returns:
        An :class:`Optimum`.

    Examples:
        >>> best = momentum_optimal((1.0, 25.0))   # rate (5 − 1)/(5 + 1), β* = rate²
        >>> round(best.lr, 12), round(best.beta, 12), round(best.rate, 12)
        (0.2, 0.444444444444, 0.666666666667)
    """
    lam = _common.curvatures(curvatures)
    lo, hi = np.sqrt(lam.min()), np.sqrt(lam.max())
    rate = (hi - lo) / (hi + lo)
    beta = rate ** 2
    step = 4.0 / (hi + lo) ** 2
    return Optimum(lr=float(step / (1.0 - beta)), beta=float(beta), rate=float(rate))


def heavy_ball_iteration_matrix(step, beta, curvature):
    r"""Polyak's heavy ball along one eigendirection, acting on :math:`(w_t, w_{t-1})`.

    Heavy ball, :math:`w_{t+1} = w_t - a\,\lambda w_t + \beta (w_t - w_{t-1})` (the
    minimum at 0), is

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
        curvature: finite curvature(s) :math:`\lambda` (any sign).

    Returns:
        Array of shape ``broadcast(step, beta, curvature).shape + (2, 2)``.

    Examples:
        >>> heavy_ball_iteration_matrix(0.05, 0.5, 4.0)   # a = 0.1 · (1 − 0.5)
        array([[ 1.3, -0.5],
               [ 1. ,  0. ]])
    """
    step = np.asarray(hyperparameter("step", step, low=0.0, low_inclusive=False))
    beta = np.asarray(_common.beta(beta))
    lam = _common.curvature(curvature, positive=False)
    step, beta, lam = np.broadcast_arrays(step, beta, lam)
    m = np.empty(step.shape + (2, 2))
    m[..., 0, 0] = 1.0 + beta - step * lam
    m[..., 0, 1] = -beta
    m[..., 1, 0] = 1.0
    m[..., 1, 1] = 0.0
    return m


def _nesterov_roots(step, beta, lam):
    r"""Roots of :math:`\sigma^2 - (1+\beta)q\,\sigma + \beta q`, :math:`q = 1 - a\lambda`."""
    q = 1.0 - step * lam
    return _quadratic_roots((1.0 + beta) * q, beta * q)


def nesterov_spectral_radius(lr, beta, curvatures):
    r"""Convergence rate of ``Momentum(nesterov=True)`` on a quadratic.

    Nesterov's method with step :math:`a = \alpha(1-\beta)` evaluates the gradient at the
    look-ahead point :math:`w_t + \beta(w_t - w_{t-1})`; along a direction of curvature
    :math:`\lambda` its error obeys

    .. math::

        e_{t+1} = (1+\beta)(1-a\lambda)\, e_t - \beta(1-a\lambda)\, e_{t-1},

    and so do the look-ahead points that ``optlib.Momentum(nesterov=True)`` visits. The
    rate is the largest modulus of the roots of
    :math:`\sigma^2 - (1+\beta)(1-a\lambda)\,\sigma + \beta(1-a\lambda)` over all
    curvatures; complex roots have modulus :math:`\sqrt{\beta(1-a\lambda)}`.

    Args:
        lr: learning rate(s) :math:`\alpha > 0` (array for a grid).
        beta: momentum coefficient(s) :math:`\beta \in [0, 1)`, broadcasting with ``lr``.
        curvatures: the Hessian's eigenvalues (or an objective).

    Returns:
        float, or array of shape ``broadcast(lr, beta).shape``.

    Examples:
        >>> round(nesterov_spectral_radius(0.2, 0.5, (1.0,)), 12)   # σ² − 1.35σ + 0.45: 0.75, 0.6
        0.75
    """
    lr, beta = _lr_beta(lr, beta)
    lam = _common.curvatures(curvatures)
    lr, beta = np.broadcast_arrays(lr, beta)
    sig = _nesterov_roots((lr * (1.0 - beta))[..., None], beta[..., None], lam)
    return _common.scalar_or_array(np.abs(sig).max(axis=(-2, -1)))


def nesterov_stability_limit(beta, curvatures):
    r"""The largest learning rate for which ``Momentum(nesterov=True)`` converges.

    The characteristic polynomial :math:`\sigma^2 - (1+\beta)q\,\sigma + \beta q`,
    :math:`q = 1 - a\lambda`, vanishes at :math:`\sigma = -1` when
    :math:`1 + (1 + 2\beta)q = 0`, i.e. :math:`a\lambda = 2(1+\beta)/(1+2\beta)`
    (at :math:`+1` only for :math:`a\lambda = 0`; complex roots have modulus
    :math:`\sqrt{\beta q} < 1`). With :math:`a = \alpha(1-\beta)`:

    .. math::

        \alpha < \frac{2(1+\beta)}{(1+2\beta)(1-\beta)\,\lambda_{\max}} ,

    a factor :math:`1 + 2\beta` below heavy ball's limit
    (:func:`momentum_stability_limit`).

    Args:
        beta: :math:`\beta \in [0, 1)`, scalar or array.
        curvatures: the Hessian's eigenvalues (or an objective with ``curvatures``).

    Returns:
        float, or an array shaped like ``beta``.

    Examples:
        >>> round(nesterov_stability_limit(0.5, (1.0, 25.0)), 12)   # 3 / (2 · 0.5 · 25)
        0.12
    """
    beta = np.asarray(_common.beta(beta))
    lam_max = _common.curvatures(curvatures).max()
    return _common.scalar_or_array(
        2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * (1.0 - beta) * lam_max))


def nesterov_optimal(curvatures) -> Optimum:
    r"""Best (α, β) for ``Momentum(nesterov=True)`` on a quadratic, and its rate.

    For Nesterov's method with step :math:`a = \alpha(1-\beta)` the best constant
    parameters on a quadratic (Lessard, Recht and Packard 2016) are

    .. math::

        a^* = \frac{4}{3\lambda_{\max} + \lambda_{\min}}, \qquad
        \beta^* = \frac{\sqrt{3\kappa+1} - 2}{\sqrt{3\kappa+1} + 2}, \qquad
        \text{rate} = 1 - \frac{2}{\sqrt{3\kappa+1}},

    so :math:`\alpha^* = a^*/(1-\beta^*)`. The rate is slower than heavy ball's
    :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)` (:func:`momentum_optimal`); both steps grow
    like :math:`\sqrt\kappa`.

    Args:
        curvatures: the Hessian's eigenvalues (or an objective with ``curvatures``).

    Returns:
        An :class:`Optimum`.

    Examples:
        >>> best = nesterov_optimal((1.0, 25.0))   # √76 ≈ 8.718
        >>> round(best.lr, 6), round(best.beta, 6), round(best.rate, 6)
        (0.141024, 0.626789, 0.770584)
    """
    lam = _common.curvatures(curvatures)
    lo, hi = lam.min(), lam.max()
    root = np.sqrt(3.0 * hi / lo + 1.0)
    beta = (root - 2.0) / (root + 2.0)
    step = 4.0 / (3.0 * hi + lo)
    return Optimum(lr=float(step / (1.0 - beta)), beta=float(beta), rate=float(1.0 - 2.0 / root))
