r"""Adaptive step sizes (Adagrad, RMSprop, Adam) in closed form.

Adagrad and RMSprop divide the gradient by the root of an accumulated square,
:math:`\Delta w = -\alpha\, g / (\sqrt{s} + \varepsilon)`. On a steady gradient the
step length then no longer depends on the size of the gradient: Adagrad's shrinks like
:math:`\alpha/\sqrt t`, RMSprop's tends to :math:`\alpha`, and RMSprop with a constant
:math:`\alpha` ends on a quadratic in a two-cycle (chapter 3). With weight decay
:math:`\delta`, Adam comes to rest where the L2-regularised gradient vanishes and AdamW
inside a box of half-width :math:`1/\delta` (chapter 4). As in the chapters, :math:`s` is
a second moment (an average or sum of squared gradients), :math:`v` a first moment, and
:math:`\lambda_i` a curvature.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import describe, flag, hyperparameter, real, reals
from . import _common

__all__ = [
    "adagrad_constant_gradient_step",
    "rmsprop_constant_gradient_step",
    "rmsprop_step_size",
    "Hover",
    "rmsprop_hover",
    "WeightDecayLimits",
    "adam_weight_decay_limits",
]


def _positive(name, value):
    return hyperparameter(name, value, low=0.0, low_inclusive=False)


def _nonnegative(name, value):
    return hyperparameter(name, value, low=0.0, low_inclusive=True)


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
        t: step number(s), whole numbers ≥ 1.
        grad: the constant gradient :math:`g` (finite; its sign does not matter).
        eps: :math:`\varepsilon \ge 0`, outside the root as in ``optlib.Adagrad``.

    Returns:
        float, or an array of the broadcast shape of ``lr``, ``t``, ``grad``, ``eps``.

    Examples:
        >>> adagrad_constant_gradient_step(0.1, 100, grad=2.0, eps=0.0)   # 0.1 / √100
        0.01
    """
    lr = np.asarray(_positive("lr", lr))
    eps = np.asarray(_nonnegative("eps", eps))
    t = _common.steps(t, low=1).astype(np.float64)
    g = np.abs(reals("grad", grad))
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(g > 0, lr * g / (np.sqrt(t) * g + eps), 0.0)
    return _common.scalar_or_array(step)


def rmsprop_constant_gradient_step(lr, beta, t, grad=1.0, eps=1e-8):
    r"""Length of RMSprop's step t when every gradient so far was the same, :math:`g`.

    With :math:`s_0 = 0` the running average of :math:`g^2` after t steps is
    :math:`s_t = (1-\beta^t)\, g^2` (the EMA bias, :func:`ema_bias`), so step t moves
    the parameter by

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
        t: step number(s), whole numbers ≥ 1.
        grad: the constant gradient :math:`g`.
        eps: :math:`\varepsilon \ge 0`, outside the root as in ``optlib.RMSprop``.

    Returns:
        float, or an array of the broadcast shape.

    Examples:
        >>> round(rmsprop_constant_gradient_step(0.01, 0.99, 1, eps=0.0), 6)   # 0.01/√0.01
        0.1
    """
    lr = np.asarray(_positive("lr", lr))
    beta = np.asarray(_common.beta(beta))
    eps = np.asarray(_nonnegative("eps", eps))
    t = _common.steps(t, low=1)
    g = np.abs(reals("grad", grad))
    root = np.sqrt(1.0 - np.power(beta, t))
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(g > 0, lr * g / (root * g + eps), 0.0)
    return _common.scalar_or_array(step)


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
    lr = np.asarray(_positive("lr", lr))
    eps = np.asarray(_nonnegative("eps", eps))
    s = np.asarray(_nonnegative("s", s))
    eps_inside = flag("eps_inside", eps_inside)
    denominator = np.sqrt(s + eps) if eps_inside else np.sqrt(s) + eps
    with np.errstate(divide="ignore"):
        return _common.scalar_or_array(lr / denominator)


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
        lr: learning rate :math:`\alpha > 0` (a single number).
        curvatures: the :math:`\lambda_i` along the coordinate axes, or a ``Quadratic``
            with a diagonal Hessian (whose diagonal is then used).
        eps: :math:`\varepsilon \ge 0` (a single number, outside the root, as in
            ``optlib.RMSprop``).

    Returns:
        A :class:`Hover` ``(amplitude, effective_steps, loss)``.

    Raises:
        TypeError: for an ``lr`` or ``eps`` that is not a single real number.
        ValueError: for values out of range, or a quadratic whose Hessian is not diagonal.

    Examples:
        >>> h = rmsprop_hover(0.1, (1.0, 25.0), eps=0.0)
        >>> h.amplitude.tolist(), h.effective_steps.tolist(), round(h.loss, 6)
        ([0.05, 0.05], [2.0, 0.08], 0.0325)
    """
    if hasattr(curvatures, "hessian"):
        hessian = np.asarray(curvatures.hessian, dtype=np.float64)
        if np.any(np.abs(hessian - np.diag(np.diag(hessian))) > 1e-12 * np.abs(hessian).max()):
            raise ValueError(f"rmsprop_hover needs an axis-aligned quadratic (a diagonal "
                             f"Hessian), got curvatures={describe(curvatures)}")
        curvatures = np.diag(hessian)
    lam = _common.curvatures(curvatures)
    lr = real("lr", lr, low=0.0, low_inclusive=False)
    eps = real("eps", eps, low=0.0)
    amplitude = np.maximum(lr / 2.0 - eps / lam, 0.0)
    steps = np.where(amplitude > 0, 2.0 / lam, np.nan)
    return Hover(amplitude=amplitude, effective_steps=steps,
                 loss=float(np.sum(0.5 * lam * amplitude**2)))


class WeightDecayLimits(NamedTuple):
    r"""Rest points of Adam with weight decay :math:`\delta` on a quadratic.

    Attributes:
        l2: where ``Adam(weight_decay=δ)`` (L2 in the gradient) comes to rest,
            :math:`(H + \delta I)^{-1} H w^*`.
        decoupled: where ``AdamW(weight_decay=δ)`` comes to rest for
            :math:`\varepsilon \to 0`, :math:`\operatorname{clip}(w^*, -1/\delta, 1/\delta)`
            (axis-aligned quadratics).
    """

    l2: np.ndarray
    decoupled: np.ndarray


def adam_weight_decay_limits(objective, weight_decay) -> WeightDecayLimits:
    r"""Where Adam with L2 weight decay and with decoupled weight decay (AdamW) come to rest.

    The objective is a quadratic :math:`f(w) = \tfrac12 (w - w^*)^\top H (w - w^*)`
    (``optlib.objectives.Quadratic``) with minimum :math:`w^*`; :math:`\delta` is the
    weight decay ``weight_decay`` (papers and torch write :math:`\lambda`; here
    :math:`\lambda_i` are the curvatures).

    **L2** (``Adam(weight_decay=δ)``): the decay is added to the gradient,
    :math:`\tilde g = H(w - w^*) + \delta w`, and Adam's step
    :math:`\hat v / (\sqrt{\hat s} + \varepsilon)` is a (rescaled) average of
    :math:`\tilde g`; it can only stop where :math:`\tilde g = 0`, the minimum of
    :math:`f(w) + \tfrac{\delta}{2}\lVert w\rVert^2`:

    .. math::

        w_{L2} = (H + \delta I)^{-1} H\, w^*, \qquad
        \text{for diagonal } H:\ (w_{L2})_i = \frac{\lambda_i}{\lambda_i + \delta}\, w^*_i .

    Flat coordinates (small curvature :math:`\lambda_i`) are shrunk much more than
    steep ones.

    **Decoupled** (``AdamW(weight_decay=δ)``): the step is
    :math:`w \leftarrow (1 - \alpha\delta) w - \alpha\, \hat v / (\sqrt{\hat s} + \varepsilon)`
    with :math:`\hat v, \hat s` the corrected averages of the loss gradient :math:`g` alone
    and of its square. At a rest point the gradient is constant, so (once the corrections
    are 1) :math:`\hat v = g`, :math:`\hat s = g^2`, and per coordinate

    .. math::

        \delta\, w_i = -\frac{g_i}{|g_i| + \varepsilon} .

    For :math:`\varepsilon \to 0` the right-hand side is :math:`-\operatorname{sign}(g_i)`
    unless :math:`g_i \approx 0`. With a diagonal :math:`H` (coordinates
    independent) either :math:`|w^*_i| \le 1/\delta` and :math:`w_i = w^*_i` (then
    :math:`|g_i| = \varepsilon\delta|w^*_i|/(1 - \delta|w^*_i|)`, essentially 0), or
    :math:`w_i = \operatorname{sign}(w^*_i)/\delta`:

    .. math::

        (w_{\text{dec}})_i = \operatorname{clip}\!\left(w^*_i,\ -\tfrac{1}{\delta},\ \tfrac{1}{\delta}\right),

    the same for every curvature: decoupled decay acts on every weight alike,
    whatever the size of its gradients. (AdamW approaches this point only as fast
    as :math:`\hat s` forgets old, larger gradients, over about
    :math:`1/(1-\beta_2)` steps.)

    Args:
        objective: a quadratic with ``hessian`` and ``minimum`` (e.g.
            ``Quadratic(curvatures=(1, 100), center=(4, 4))``); for ``decoupled``
            its Hessian must be diagonal (``angle=0``).
        weight_decay: :math:`\delta > 0`, a single number.

    Returns:
        :class:`WeightDecayLimits` with two arrays of shape ``(2,)``.

    Raises:
        TypeError: if ``objective`` has no constant ``hessian`` and ``minimum``, or
            ``weight_decay`` is not a single real number.
        ValueError: for :math:`\delta \le 0` or a Hessian that is not diagonal.

    Examples:
        >>> from optlib.objectives import Quadratic
        >>> lim = adam_weight_decay_limits(Quadratic((1.0, 100.0), center=(4.0, 4.0)), 0.5)
        >>> lim.l2.round(4).tolist(), lim.decoupled.tolist()
        ([2.6667, 3.9801], [2.0, 2.0])
    """
    lam = real("weight_decay", weight_decay, low=0.0, low_inclusive=False)
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
