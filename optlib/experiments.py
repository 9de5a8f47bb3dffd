r"""Reference experiments: computations the chapters check their claims with that are
not closed forms.

* :func:`heavy_ball_points` iterates the textbook heavy-ball and Nesterov methods,
  written with positions only, to check that ``optlib.Momentum`` visits the same points
  (chapter 2);
* :func:`settling_step` measures when a run has settled near the minimum for good
  (chapter 3);
* :func:`reddi_online_problem` runs an optimizer on the online problem of Reddi, Kale &
  Kumar (2018), on which Adam converges to the worst point and AMSGrad does not
  (chapter 4).

The closed forms are in :mod:`optlib.analysis`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._validate import choice, describe, flag, hyperparameter, instance, real, reals, whole
from .optimizers import Optimizer
from .runs import Trajectory

__all__ = [
    "heavy_ball_points",
    "settling_step",
    "OnlineRun",
    "reddi_online_problem",
]


def heavy_ball_points(objective, step, beta, w0, steps: int, nesterov: bool = False):
    r"""Iterates of the classical heavy-ball or Nesterov method, written with positions only.

    A reference implementation of the textbook forms (no velocity buffer), to
    check the equivalences with ``optlib.Momentum``. Step :math:`t = 1, 2, \dots` uses the
    gradient at the point before it, as in the book's :math:`g_t = \nabla f(w_{t-1})`;
    with :math:`w_{-1} = w_0`:

    .. math::

        \text{heavy ball (Polyak 1964):}\quad
        w_t = w_{t-1} - a\,\nabla f(w_{t-1}) + \beta\,(w_{t-1} - w_{t-2}),

        \text{Nesterov (1983):}\quad
        y_{t-1} = w_{t-1} + \beta\,(w_{t-1} - w_{t-2}), \qquad w_t = y_{t-1} - a\,\nabla f(y_{t-1}).

    ``Momentum(lr=α, beta=β)`` (:math:`v_t = \beta v_{t-1} + (1-\beta) g_t`,
    :math:`w_t = w_{t-1} - \alpha v_t`) visits exactly the heavy-ball points with
    :math:`a = \alpha(1-\beta)`; ``Momentum(lr=α, beta=β, nesterov=True)`` visits
    the look-ahead points :math:`y_t` of Nesterov's method with the same
    :math:`a` (for any differentiable :math:`f`). Along one eigendirection of a
    quadratic the heavy-ball step is the matrix
    :func:`optlib.analysis.heavy_ball_iteration_matrix`.

    Args:
        objective: anything with a batched ``grad(w)`` on ``(..., 2)``.
        step: step size :math:`a > 0` (scalar, or an array broadcasting as ``(..., 1)``).
        beta: :math:`\beta \in [0, 1)`, likewise.
        w0: start point(s), shape ``(2,)`` or ``(..., 2)``.
        steps: number of steps, a whole number ≥ 0.
        nesterov: use Nesterov's look-ahead gradient.

    Returns:
        The points :math:`w_0, \dots, w_{\text{steps}}`, shape ``(steps + 1, ..., 2)``.
        Nothing is checked for divergence (overflow gives ``inf``/``nan``, silently).

    Raises:
        TypeError: for an objective without ``grad``, or arguments of the wrong kind
            (a float ``steps``, a non-numeric ``w0``, a non-bool ``nesterov``).
        ValueError: for arguments out of range or a ``w0`` whose last axis is not 2.

    Examples:
        >>> from optlib.objectives import Quadratic
        >>> heavy_ball_points(Quadratic(), 0.01, 0.5, [1.0, 1.0], 2)   # λ = 1 and 25
        array([[1.    , 1.    ],
               [0.99  , 0.75  ],
               [0.9751, 0.4375]])
    """
    if not callable(getattr(objective, "grad", None)):
        raise TypeError(f"objective must have a batched grad(w), got "
                        f"objective={describe(objective)}")
    step = hyperparameter("step", step, low=0.0, low_inclusive=False)
    beta = hyperparameter("beta", beta, low=0.0, high=1.0, low_inclusive=True)
    nesterov = flag("nesterov", nesterov)
    steps = whole("steps", steps, low=0)
    w = reals("w0", w0)
    if w.ndim == 0 or w.shape[-1] != 2:
        raise ValueError(f"w0 must be an array of shape (..., 2), got w0={describe(w0)}")
    w = np.array(np.broadcast_to(w, np.broadcast_shapes(w.shape, np.shape(step), np.shape(beta))))
    points = np.empty((steps + 1,) + w.shape)
    points[0] = w
    previous = w
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for t in range(steps):
            current = points[t]
            push = beta * (current - previous)
            if nesterov:
                ahead = current + push
                points[t + 1] = ahead - step * objective.grad(ahead)
            else:
                points[t + 1] = current - step * objective.grad(current) + push
            previous = current
    return points


def settling_step(trajectory, fraction: float = 0.01):
    r"""First step from which a run stays within ``fraction`` of its initial distance.

    .. math::

        t_{\text{settle}} = \min\{\, t : \lVert w_k - w^* \rVert \le
        \text{fraction}\cdot\lVert w_0 - w^* \rVert \text{ for all } t \le k \le T \,\}

    over the run's T steps. Unlike ``Trajectory.steps_to`` (the *first* step below a
    tolerance) this does not count a run that only passes close to the minimum and moves
    away again, as RMSprop with a constant α does (:func:`optlib.analysis.rmsprop_hover`).

    Args:
        trajectory: a ``Trajectory`` from ``optlib.run`` (single run or batch).
        fraction: in (0, 1).

    Returns:
        int, or an int array of the batch shape; -1 where the run diverged or its last
        point is not within the tolerance.

    Examples:
        >>> from optlib import GradientDescent, run
        >>> from optlib.objectives import Quadratic
        >>> bowl = Quadratic()
        >>> settling_step(run(GradientDescent(lr=2 / 26), bowl, bowl.start, 300), 1e-6)
        173
    """
    fraction = hyperparameter("fraction", fraction, low=0.0, high=1.0, low_inclusive=False)
    instance("trajectory", trajectory, Trajectory, "a Trajectory from optlib.run")
    d = trajectory.distances()
    outside = ~(d <= fraction * d[0])                 # nan (diverged) counts as outside
    n = d.shape[0]
    last_outside = np.where(outside.any(axis=0), n - 1 - np.argmax(outside[::-1], axis=0), -1)
    settled = last_outside + 1
    result = np.where((settled < n) & ~np.asarray(trajectory.diverged), settled, -1)
    return int(result) if result.ndim == 0 else result


class OnlineRun(NamedTuple):
    r"""The result of :func:`reddi_online_problem`.

    Attributes:
        x: the iterates :math:`x_1, \dots, x_{T+1}`, shape ``(T + 1,)``
            (``x[0]`` is the start :math:`x_1`).
        grads: the gradients :math:`g_t` seen (:math:`C` or :math:`-1`), shape ``(T,)``.
        moves: the optimizer's normalized step before the projection,
            :math:`q_t = (x_t - y_{t+1})/\alpha_t` with :math:`y_{t+1}` the unprojected
            point; for Adam :math:`q_t = \hat v_t / (\sqrt{\hat s_t} + \varepsilon)`,
            for gradient descent :math:`q_t = g_t`. Shape ``(T,)``.
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

        f_t(x) = g_t\, x, \qquad g_t = \begin{cases} C & t \bmod 3 = 1 \\ -1 & \text{otherwise,}
        \end{cases}
        \qquad C > 2 ,

    so over every three steps the loss is :math:`(C - 2)\,x` and the best fixed
    point is :math:`x^* = -1`. At step :math:`t = 1, 2, \dots` the optimizer gets
    :math:`g_t = f_t'(x_t)` at :math:`x_t`, steps with the learning rate
    :math:`\alpha_t` (``schedule="sqrt"``: :math:`\alpha/\sqrt t` as in the paper;
    ``"constant"``: :math:`\alpha`), and the result is projected back onto
    :math:`\mathcal F`:

    .. math::

        x_{t+1} = \operatorname{clip}\big(x_t - \alpha_t\, q_t,\ -1,\ 1\big),

    where :math:`q_t` is the optimizer's own normalized step (see
    :class:`OnlineRun`). The regret after :math:`t` steps compares with the best
    fixed point in hindsight,

    .. math::

        R_t = \sum_{k=1}^{t} f_k(x_k) - \min_{x \in [-1, 1]} \sum_{k=1}^{t} f_k(x)
            = \sum_{k=1}^{t} g_k x_k + \Big|\sum_{k=1}^{t} g_k\Big| .

    With :math:`\beta_1 = 0` and :math:`\beta_2 = 1/(1 + C^2)`, Adam forgets the
    rare large gradient :math:`C` within a step or two; its normalized steps
    :math:`q_t` over one period sum to a negative number, so :math:`x` drifts to
    :math:`+1`, the worst point, and :math:`R_t/t` does not go to 0. AMSGrad's
    running maximum :math:`s_{\max,t} = \max(s_{\max,t-1}, s_t)` of the second moment
    remembers :math:`C^2`, the sum is positive and :math:`x \to -1`.

    Args:
        optimizer: an optlib optimizer with a scalar ``lr`` (:math:`\alpha`), e.g.
            ``Adam(lr=0.5, beta1=0.0, beta2=1/(1 + C**2), amsgrad=True)``. It is
            reset first; its ``lr`` is set to :math:`\alpha_t` during the run and
            restored afterwards.
        steps: number of steps :math:`T`, a whole number ≥ 0.
        C: the large gradient, a single number :math:`C > 2`.
        x0: the start :math:`x_1 \in [-1, 1]`, a single number.
        schedule: ``"sqrt"`` or ``"constant"``.

    Returns:
        An :class:`OnlineRun`.

    Raises:
        TypeError: for a non-optimizer, or arguments of the wrong kind (a float
            ``steps``, an array ``C`` or ``x0``, a non-string ``schedule``).
        ValueError: for an array ``lr`` or arguments out of range. Nothing is run then.

    Examples:
        >>> from optlib import Adam
        >>> adam = Adam(lr=0.5, beta1=0.0, beta2=0.1)
        >>> float(reddi_online_problem(adam, 300).x[-1])
        1.0
        >>> float(reddi_online_problem(Adam(lr=0.5, beta1=0.0, beta2=0.1, amsgrad=True),
        ...                            300).x[-1]) < -0.9
        True
    """
    instance("optimizer", optimizer, Optimizer, "an optlib optimizer")
    base = getattr(optimizer, "lr", None)
    if base is None or np.ndim(base) != 0:
        raise ValueError(f"optimizer must have a single (scalar) learning rate lr, got "
                         f"lr={describe(base)}")
    steps = whole("steps", steps, low=0)
    C = real("C", C, low=2.0, low_inclusive=False)
    x0 = real("x0", x0, low=-1.0, high=1.0)
    schedule = choice("schedule", schedule, ("sqrt", "constant"))

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
