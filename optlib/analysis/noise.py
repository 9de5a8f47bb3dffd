r"""The noisy quadratic: gradient descent and momentum with noisy gradients, exactly.

Along one eigendirection of curvature :math:`h > 0` the loss is :math:`f(w) = h w^2/2`
(minimum at 0) and each step sees the gradient

.. math::

    g_t = h\, w_{t-1} + \sigma\, \xi_t, \qquad \xi_t \sim \mathcal N(0, 1)
    \text{ independent across steps.}

``optlib.Momentum`` (EMA form, :math:`v_t = \beta v_{t-1} + (1-\beta) g_t`,
:math:`w_t = w_{t-1} - \alpha v_t`, :math:`v_0 = 0`; :math:`\beta = 0` is gradient descent)
then moves the state :math:`x_t = (w_t, v_t)^\top` by a linear recursion with additive noise,

.. math::

    x_t = A\, x_{t-1} + \sigma\, b\, \xi_t, \qquad
    A = \begin{pmatrix} 1 - \alpha(1-\beta)h & -\alpha\beta \\ (1-\beta)h & \beta \end{pmatrix},
    \qquad b = \begin{pmatrix} -\alpha(1-\beta) \\ 1-\beta \end{pmatrix},

where :math:`A` is chapter 2's iteration matrix
(:func:`~optlib.analysis.momentum_iteration_matrix`). The mean
:math:`\mu_t = \mathbb E[x_t] = A^t x_0` decays as without noise; the covariance
:math:`P_t` obeys :math:`P_t = A P_{t-1} A^\top + \sigma^2 b b^\top` from :math:`P_0 = 0`,
and the expected loss is

.. math::

    \mathbb E[f(w_t)] = \frac h2 \left( \mu_{t,w}^2 + P_{t,ww} \right) :

a distance term that shrinks as without noise, plus a variance term that grows to a floor.
When :math:`A` is stable (spectral radius < 1), :math:`P_t` tends to the solution of the
discrete Lyapunov equation :math:`P = A P A^\top + \sigma^2 b b^\top`, and the expected loss
to the noise floor (:func:`noise_floor`)

.. math::

    \mathbb E[f] = \frac{(1+\beta)\,\alpha\sigma^2}{2\,\big(2(1+\beta) - \alpha(1-\beta)h\big)}
    \;\overset{\beta = 0}{=}\; \frac{\alpha\sigma^2}{2(2 - \alpha h)}
    \;\approx\; \frac{\alpha\sigma^2}{4} .

:func:`noisy_expected_loss` gives :math:`\mathbb E[f(w_t)]` for every step of a run, also
under a learning-rate schedule, where the distance term shrinks with the sum of the
learning rates and the floor follows the current one. A quadratic with several curvatures
is the sum of its directions (each with the noise's variance along it).

References: Mandt, Hoffman and Blei (2017), *Stochastic gradient descent as approximate
Bayesian inference*, JMLR 18 (the stationary covariance of SGD from a Lyapunov equation);
Zhang et al. (2019), *Which algorithmic choices matter at which batch sizes? Insights from a
noisy quadratic model*, NeurIPS (this model, with momentum and preconditioning).
"""

from __future__ import annotations

import numpy as np

from .. import schedules
from .._validate import hyperparameter, reals, whole
from . import _common

__all__ = ["noise_floor", "noisy_expected_loss"]


def _arguments(lr, curvature, noise, beta):
    """The four shared arguments, validated (nothing is computed before all pass)."""
    lr = np.asarray(hyperparameter("lr", lr, low=0.0, low_inclusive=False))
    lam = _common.curvature(curvature, positive=True)
    sigma = reals("noise", noise, low=0.0)
    beta = np.asarray(_common.beta(beta))
    return lr, lam, sigma, beta


def _unstable(lr, lam, beta):
    r"""True where :math:`\alpha(1-\beta)h \ge 2(1+\beta)`: the spectral radius of :math:`A`
    is ≥ 1 (an eigenvalue at or beyond :math:`-1`)."""
    return lr * (1.0 - beta) * lam >= 2.0 * (1.0 + beta)


def noise_floor(lr, curvature, noise, beta=0.0):
    r"""The stationary expected loss of momentum (β = 0: gradient descent) under gradient noise.

    On :math:`f(w) = h w^2/2` with gradients :math:`h w + \sigma\xi`, :math:`\xi` standard
    normal and independent at every step, the iterates of ``optlib.Momentum(lr=α, beta=β)``
    (``optlib.GradientDescent`` for :math:`\beta = 0`) move the state :math:`x_t = (w_t, v_t)`
    by :math:`x_t = A x_{t-1} + \sigma b\, \xi_t` with

    .. math::

        A = \begin{pmatrix} 1 - \alpha(1-\beta)h & -\alpha\beta \\ (1-\beta)h & \beta \end{pmatrix},
        \qquad b = \begin{pmatrix} -\alpha(1-\beta) \\ 1-\beta \end{pmatrix}

    (:math:`A` is :func:`~optlib.analysis.momentum_iteration_matrix`) and settle into a
    stationary cloud whose covariance :math:`P` solves the discrete Lyapunov equation
    :math:`P = A P A^\top + \sigma^2 b b^\top`. With
    :math:`D = 2(1+\beta) - \alpha(1-\beta)h` its three equations give

    .. math::

        P_{ww} = \frac{(1+\beta)\,\alpha\sigma^2}{h\,D}, \qquad
        P_{wv} = -\frac{(1-\beta)\,\alpha\sigma^2}{D}, \qquad
        P_{vv} = \frac{2(1-\beta)\,\sigma^2}{D},

    and the floor :math:`\mathbb E[f] = h P_{ww}/2`:

    .. math::

        \mathbb E[f] = \frac{(1+\beta)\,\alpha\sigma^2}{2\,\big(2(1+\beta) - \alpha(1-\beta)h\big)}
        = \frac{\alpha\sigma^2}{2\,(2 - \alpha_{\text{eff}}\, h)}, \qquad
        \alpha_{\text{eff}} = \frac{\alpha(1-\beta)}{1+\beta} .

    For gradient descent (:math:`\beta = 0`)

    .. math::

        \mathbb E[f] = \frac{\alpha\sigma^2}{2(2 - \alpha h)}
        = \frac{\alpha\sigma^2}{4} \Big(1 + \frac{\alpha h}{2} + \frac{(\alpha h)^2}{4}
        + \dots\Big) \approx \frac{\alpha\sigma^2}{4}
        \quad (\alpha h \ll 1),

    independent of the curvature: a sharper direction pulls the iterate back harder but is
    kicked just as far in loss. Momentum at the same α has the same small-α floor
    :math:`\alpha\sigma^2/4` and, at larger α, a lower one
    (its :math:`\alpha_{\text{eff}} < \alpha`);
    in heavy-ball terms (step :math:`a = \alpha(1-\beta)`, torch's SGD learning rate) the
    floor is :math:`\approx a\sigma^2 / (4(1-\beta))`, :math:`1/(1-\beta)` times gradient
    descent's at the same step.

    The cloud is stationary only where the iteration is stable,
    :math:`\alpha(1-\beta)h < 2(1+\beta)` (:func:`~optlib.analysis.momentum_stability_limit`;
    :math:`\alpha h < 2` for gradient descent); as α approaches that limit :math:`D \to 0`
    and the floor grows without bound. At the limit and beyond, an eigenvalue of :math:`A` is
    at or beyond :math:`-1`, no stationary distribution exists (at the limit the variance
    grows linearly with t), and the result is ``inf``, whatever the noise. A stable
    iteration without noise (:math:`\sigma = 0`) has the floor 0. A floor too large for a
    float is ``inf`` as well.

    Args:
        lr: learning rate(s) :math:`\alpha > 0`.
        curvature: curvature(s) :math:`h > 0` of the direction. (At :math:`h = 0` the loss
            is identically 0 while the iterate wanders off as a random walk, and the floor
            tends to :math:`\alpha\sigma^2/4`, not 0, as :math:`h \to 0`: no value fits, so
            0 is refused.)
        noise: the gradient noise's standard deviation(s) :math:`\sigma \ge 0`.
        beta: momentum coefficient(s) :math:`\beta \in [0, 1)`; 0 is gradient descent.
            ``lr``, ``curvature``, ``noise`` and ``beta`` broadcast.

    Returns:
        float for scalar arguments, else an array of the broadcast shape; ``inf`` where
        unstable.

    Raises:
        TypeError: for a non-numeric argument (a bool or a string included).
        ValueError: for a non-finite argument, ``lr ≤ 0``, ``curvature ≤ 0``, ``noise < 0``,
            ``beta`` outside [0, 1), or arguments that do not broadcast.

    Examples:
        >>> noise_floor(0.01, 25.0, 1.0)   # 0.01 / (2 (2 − 0.25)) = 0.01 / 3.5
        0.002857142857142857
        >>> noise_floor(0.01, 25.0, 1.0, beta=0.9)   # 1.9 · 0.01 / (2 (3.8 − 0.025))
        0.0025165562913907285
        >>> noise_floor([0.05, 0.08, 0.1], 25.0, 1.0)   # GD's limit is 2/25 = 0.08
        array([0.03333333,        inf,        inf])
    """
    lr, lam, sigma, beta = _arguments(lr, curvature, noise, beta)
    _broadcast(lr=lr, curvature=lam, noise=sigma, beta=beta)
    unstable = _unstable(lr, lam, beta)
    denominator = np.where(unstable, 1.0, 2.0 * (1.0 + beta) - lr * (1.0 - beta) * lam)
    with np.errstate(over="ignore"):
        floor = (1.0 + beta) * lr * sigma * sigma / (2.0 * denominator)
    return _common.scalar_or_array(np.where(unstable, np.inf, floor))


def _broadcast(**arrays):
    """The broadcast shape of the named arrays, or a ValueError that names them."""
    try:
        return np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{name} of shape {np.shape(a)}" for name, a in arrays.items())
        raise ValueError(f"the arguments must broadcast together, got {shapes}") from None


def _multipliers(schedule, steps: int) -> np.ndarray:
    r"""The schedule's multipliers :math:`m(1), \dots, m(\text{steps})`, checked as an
    optimizer checks them (:func:`optlib.schedules.multiplier`)."""
    schedule = schedules.checked(schedule)
    if schedule is None:
        return np.ones(steps)
    return np.array([schedules.multiplier(schedule, t) for t in range(1, steps + 1)],
                    dtype=np.float64).reshape(steps)


def noisy_expected_loss(lr, curvature, noise, steps, w0, beta=0.0, schedule=None):
    r"""The expected loss :math:`\mathbb E[f(w_t)]` at every step t = 0, …, ``steps`` of a
    noisy run from :math:`w_0`, exactly.

    The run is ``optlib.Momentum(lr=α, beta=β)`` (``optlib.GradientDescent`` for
    :math:`\beta = 0`) on :math:`f(w) = h w^2/2` with gradients :math:`h w + \sigma\xi_t`,
    from :math:`w_0` with :math:`v_0 = 0`; step t uses the learning rate
    :math:`\alpha_t = \alpha\, m(t)` (:math:`m \equiv 1` without a schedule). The state
    :math:`x_t = (w_t, v_t)` moves by :math:`x_t = A_t x_{t-1} + \sigma b_t \xi_t`, with
    :math:`A_t` and :math:`b_t` the :math:`A` and :math:`b` of :func:`noise_floor` at
    :math:`\alpha_t`, so its mean and covariance follow exactly

    .. math::

        \mu_t = A_t\, \mu_{t-1}, \quad \mu_0 = (w_0, 0)^\top; \qquad
        P_t = A_t P_{t-1} A_t^\top + \sigma^2 b_t b_t^\top, \quad P_0 = 0;

    .. math::

        \mathbb E[f(w_t)] = \frac h2 \big( \mu_{t,w}^2 + P_{t,ww} \big)
        \quad\text{(distance term + variance term)}.

    For gradient descent this is

    .. math::

        \mathbb E[f(w_t)] = \frac h2 \Big( w_0^2 \prod_{s \le t} (1-\alpha_s h)^2
        + \sigma^2 \sum_{s \le t} \alpha_s^2 \prod_{s < r \le t} (1-\alpha_r h)^2 \Big) ,

    so with small steps the distance term decays like :math:`e^{-2h\sum_s \alpha_s}` (the
    sum of the learning rates), while the variance term relaxes towards the current step's
    floor :math:`\approx\alpha_t\sigma^2/4` (:func:`noise_floor`) within about
    :math:`1/(2\alpha_t h)` steps: a schedule that decays α trades the two.
    With a constant α that is stable the values tend to :func:`noise_floor`.

    Args:
        lr: base learning rate(s) :math:`\alpha > 0`.
        curvature: curvature(s) :math:`h > 0`.
        noise: the gradient noise's standard deviation(s) :math:`\sigma \ge 0`.
        steps: number of steps (a whole number ≥ 0).
        w0: starting point(s) :math:`w_0` (finite). ``lr``, ``curvature``, ``noise``,
            ``w0`` and ``beta`` broadcast.
        beta: momentum coefficient(s) :math:`\beta \in [0, 1)`; 0 is gradient descent.
        schedule: ``None`` or a learning-rate schedule (:mod:`optlib.schedules`, or any
            callable :math:`t \mapsto m(t)` returning a finite multiplier ≥ 0), evaluated at
            t = 1, …, ``steps`` and checked as the optimizers' ``schedule=`` is: the run of
            ``optlib.Momentum(lr=α, beta=β, schedule=m)``.

    Returns:
        Array of shape ``broadcast(lr, curvature, noise, w0, beta).shape + (steps + 1,)``:
        entry t is :math:`\mathbb E[f(w_t)]`, entry 0 is :math:`h w_0^2/2`. Unstable steps
        make the values grow; a value too large for a float is ``inf``.

    Raises:
        TypeError: for a non-numeric argument, a non-integer ``steps``, or a ``schedule``
            that is not callable or returns something other than a real number (an
            exception raised by the schedule itself passes through).
        ValueError: for a value out of range (as :func:`noise_floor`; ``steps < 0``;
            a multiplier that is negative or not finite), or arguments that do not broadcast.

    Examples:
        >>> noisy_expected_loss(0.1, 1.0, 1.0, 2, 1.0)   # ½, ½(0.81 + 0.01), ½(0.6561 + 0.0181)
        array([0.5   , 0.41  , 0.3371])
        >>> loss = noisy_expected_loss(0.05, 25.0, 1.0, 400, 1.0, beta=0.5)
        >>> round(float(loss[-1]), 12) == round(noise_floor(0.05, 25.0, 1.0, beta=0.5), 12)
        True
    """
    lr, lam, sigma, beta = _arguments(lr, curvature, noise, beta)
    steps = whole("steps", steps, low=0)
    w0 = reals("w0", w0)
    shape = _broadcast(lr=lr, curvature=lam, noise=sigma, w0=w0, beta=beta)
    multipliers = _multipliers(schedule, steps)

    lr, lam, sigma, w0, beta = (np.broadcast_to(x, shape) for x in (lr, lam, sigma, w0, beta))
    out = np.empty(shape + (steps + 1,))
    # a decaying mean underflows to 0 (its limit); a growing run overflows to inf (reported)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        var = sigma * sigma
        mean_w, mean_v = w0.astype(np.float64), np.zeros(shape)
        p, q, r = np.zeros(shape), np.zeros(shape), np.zeros(shape)   # P_ww, P_wv, P_vv
        out[..., 0] = 0.5 * lam * mean_w * mean_w
        a21, a22, b2 = (1.0 - beta) * lam, beta, 1.0 - beta
        for t in range(1, steps + 1):
            alpha = lr * multipliers[t - 1]
            a11, a12, b1 = 1.0 - alpha * a21, -alpha * beta, -alpha * b2
            mean_w, mean_v = a11 * mean_w + a12 * mean_v, a21 * mean_w + a22 * mean_v
            p, q, r = (a11 * a11 * p + 2.0 * a11 * a12 * q + a12 * a12 * r + var * b1 * b1,
                       a11 * a21 * p + (a11 * a22 + a12 * a21) * q + a12 * a22 * r
                       + var * b1 * b2,
                       a21 * a21 * p + 2.0 * a21 * a22 * q + a22 * a22 * r + var * b2 * b2)
            out[..., t] = 0.5 * lam * (mean_w * mean_w + p)
    # E[f] ≥ 0 always: a nan can only come from inf − inf once a growing run overflowed.
    out[np.isnan(out)] = np.inf
    return out
