r"""Trajectory runner: an optimizer on an objective, one run or a whole batch.

A batch of K two-dimensional runs is a start point of shape ``(K, 2)`` and/or
hyperparameters of shape ``(K, 1)``: :func:`run` broadcasts the start point
against the optimizer's array hyperparameters, so one ``step`` call advances
every configuration. A (A, B) grid of configurations uses shape ``(A, B, 1)``.

Divergence (a non-finite loss or gradient, or a loss that exceeds
``max_loss``) stops that run quietly: its points and losses after that step
are ``nan``, no overflow ``RuntimeWarning`` reaches the reader, and the other
runs in the batch go on.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from . import _validate
from ._engine import NonFiniteWarning
from ._validate import describe
from .objectives import Objective
from .optimizers import Optimizer

__all__ = ["run", "Trajectory", "MAX_RECORD_BYTES"]

#: The most memory a run may use to record its points and losses (8 GiB).
MAX_RECORD_BYTES = 8 * 2**30


@dataclass(frozen=True)
class Trajectory:
    """The result of :func:`run`.

    Attributes:
        points: array ``(steps + 1, *batch, 2)``: the start point, then the point
            after each step; ``nan`` after a run diverged.
        losses: array ``(steps + 1, *batch)`` of objective values at ``points``.
        diverged: bool per run (array of shape ``batch``; a plain bool for a
            single run).
        diverged_at: the step at which each run was found diverged (the first
            index whose point is ``nan``), ``-1`` where it did not diverge.
        optimizer: ``repr`` of the optimizer that made the run.
        objective: the objective.
    """

    points: np.ndarray
    losses: np.ndarray
    diverged: np.ndarray | bool
    diverged_at: np.ndarray | int
    optimizer: str
    objective: object

    @property
    def steps(self) -> int:
        """Number of steps taken (``len(points) - 1``)."""
        return self.points.shape[0] - 1

    @property
    def batch_shape(self) -> tuple:
        """Shape of the batch of runs (``()`` for a single run)."""
        return self.points.shape[1:-1]

    @property
    def final(self) -> np.ndarray:
        """The last point of each run that did not diverge (``nan`` for those that did)."""
        return self.points[-1]

    def distances(self) -> np.ndarray:
        r"""Distance :math:`\lVert w_t - w^* \rVert` to the objective's minimum, ``(steps + 1, *batch)``."""
        return np.linalg.norm(self.points - np.asarray(self.objective.minimum), axis=-1)

    def steps_to(self, tol: float):
        r"""First step t with :math:`f(w_t) - f^* \le` ``tol``; -1 where never reached.

        Args:
            tol: positive tolerance on the loss gap.
        """
        if isinstance(tol, (bool, np.bool_)) or not isinstance(tol, (int, float, np.integer,
                                                                      np.floating)):
            raise TypeError(f"tol must be a positive finite number, got tol={describe(tol)}")
        if not (np.isfinite(tol) and tol > 0):
            raise ValueError(f"tol must be a positive finite number, got tol={describe(tol)}")
        reached = (self.losses - self.objective.min_value) <= tol
        first = np.where(reached.any(axis=0), reached.argmax(axis=0), -1)
        return int(first) if first.ndim == 0 else first

    def effective_steps(self) -> np.ndarray:
        r"""Effective step size of each coordinate at each step, :math:`-\Delta w_i / g_i`.

        :math:`g` is the objective's gradient at :math:`w_{t-1}` (for a stochastic
        objective the noisy gradient the run used, replayed from a fresh stream) and
        :math:`\Delta w = w_t - w_{t-1}`. For gradient descent this is :math:`\alpha`
        everywhere; for RMSprop it is :math:`\alpha / (\sqrt{s_i} + \varepsilon)`, the
        per-parameter step size. ``nan`` where the gradient is 0 (or tiny relative
        to the step: the ratio would be round-off) and after divergence.

        Returns:
            Array of shape ``(steps, *batch, 2)``.
        """
        with np.errstate(all="ignore"):
            stream = getattr(self.objective, "stream", None)
            if callable(stream):
                # the gradients the run used, noise included: replay a fresh stream
                replay = stream(self.points.shape[1:])
                grads = np.empty_like(self.points[:-1])
                for t in range(self.steps):
                    grads[t] = replay(self.points[t])[1]
            else:
                grads = self.objective.grad(self.points[:-1])
            step = self.points[:-1] - self.points[1:]
            ratio = step / grads
        tiny = np.abs(grads) <= 1e-12 * np.maximum(np.abs(step), 1e-300)
        return np.where(tiny | (grads == 0), np.nan, ratio)

    def rate(self, skip: int = 0, floor: float = 1e-300):
        r"""Measured linear convergence rate per step.

        Fits :math:`\log \lVert w_t - w^*\rVert \approx c + t \log \rho` by least
        squares over the steps from ``skip`` on, while the distance is above
        ``floor`` times the initial distance and above round-off
        (:math:`100\,\epsilon_{\text{mach}} \lVert w^* \rVert`), and returns
        :math:`\rho`; ``nan`` for diverged runs and where fewer than 3 points remain.
        In an oscillating (complex) regime, use a long run: the fit averages over
        the ripples.
        """
        d = self.distances()
        minimum = np.asarray(self.objective.minimum, dtype=np.float64)
        bottom = np.maximum(floor * d[0], 100 * np.finfo(np.float64).eps * np.linalg.norm(minimum))
        t = np.arange(d.shape[0], dtype=np.float64).reshape((-1,) + (1,) * (d.ndim - 1))
        use = (t >= skip) & np.isfinite(d) & (d > bottom) & (d > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logd = np.where(use, np.log(np.where(use, d, 1.0)), 0.0)
            n = use.sum(axis=0)
            tm = np.where(use, t, 0.0).sum(axis=0) / n
            lm = logd.sum(axis=0) / n
            cov = (np.where(use, (t - tm) * (logd - lm), 0.0)).sum(axis=0)
            var = (np.where(use, (t - tm) ** 2, 0.0)).sum(axis=0)
            rho = np.exp(cov / var)
        rho = np.where((n >= 3) & (var > 0) & ~np.asarray(self.diverged), rho, np.nan)
        return float(rho) if rho.ndim == 0 else rho


def _batch_start(optimizer: Optimizer, w0) -> np.ndarray:
    """Start points broadcast against the optimizer's array hyperparameters."""
    try:
        w = np.asarray(w0, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"w0 must be an array of shape (..., 2), got w0={describe(w0)}") from None
    if w.ndim == 0 or w.shape[-1] != 2:
        raise ValueError(f"w0 must have shape (..., 2), got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"w0 must be finite, got w0={describe(w0)}")
    shapes = [np.shape(v) for v in optimizer.hyperparameters.values()]
    try:
        shape = np.broadcast_shapes(w.shape, *shapes)
    except ValueError:
        raise ValueError(
            f"w0 of shape {w.shape} does not broadcast against the optimizer's hyperparameter "
            f"shapes {dict(zip(optimizer.hyperparameters, shapes))}"
        ) from None
    if shape[-1] != 2:
        raise ValueError(f"the optimizer's hyperparameters must broadcast as (..., 1) against "
                         f"points (..., 2), got shapes {shapes}")
    return np.array(np.broadcast_to(w, shape), order="C")   # C order: fast ufunc loops


def run(optimizer: Optimizer, objective, w0, steps: int, *, max_loss: float | None = None
        ) -> Trajectory:
    r"""Run ``optimizer`` on ``objective`` from ``w0`` for ``steps`` steps.

    The optimizer is :meth:`~optlib.optimizers.Optimizer.reset` first, so a run
    is reproducible. Each step computes :math:`g = \nabla f(w)` and calls
    ``optimizer.step(w, g)``. An objective with a ``stream(shape)`` method (a
    stochastic one, :class:`~optlib.objectives.Noisy`) is asked for a fresh stream
    for each run, a function ``value_and_grad(w)`` whose k-th call gives the gradient
    of step k: every run of it sees the same noise sequence, and ``losses`` are its
    noise-free values.

    Args:
        optimizer: an optlib optimizer; array hyperparameters make a batch.
        objective: anything with batched ``value(w)`` and ``grad(w)`` on
            ``(..., 2)``, ``minimum`` and ``min_value`` (see ``optlib.objectives``).
        w0: start point(s), shape ``(2,)`` or ``(..., 2)``.
        steps: number of steps, ≥ 0 (the record of points and losses may take at most
            :data:`MAX_RECORD_BYTES`).
        max_loss: a run whose loss exceeds this (a positive number) is diverged. Default:
            :math:`10^6 \max(1, |f(w_0)|)` per run.

    Returns:
        A :class:`Trajectory`.

    Raises:
        TypeError, ValueError: for an unusable optimizer, ``w0``, ``steps`` or
            ``max_loss``; nothing is run then.
    """
    _validate.instance("optimizer", optimizer, Optimizer, "an optlib optimizer")
    if not callable(getattr(objective, "value_and_grad", None)) and not (
            callable(getattr(objective, "value", None))
            and callable(getattr(objective, "grad", None))):
        raise TypeError("objective must have value(w) and grad(w) methods, or value_and_grad(w) "
                        "(an optlib.objectives objective, for example), got "
                        f"objective={describe(objective)}")
    steps = _validate.whole("steps", steps, low=0)
    w = _batch_start(optimizer, w0)
    batch = w.shape[:-1]
    needed = (steps + 1) * (w.size + math.prod(batch)) * 8      # points and losses, float64
    if needed > MAX_RECORD_BYTES:
        raise ValueError(f"steps={steps} would record {needed / 2**30:.3g} GiB of points and "
                         f"losses (at most {MAX_RECORD_BYTES / 2**30:.0f} GiB); take fewer steps "
                         "or a smaller batch")
    if max_loss is not None:
        max_loss = _validate.real("max_loss", max_loss, low=0.0, low_inclusive=False)
    stream = getattr(objective, "stream", None)
    if callable(stream):
        # A stochastic objective (optlib.objectives.Noisy) gives a fresh stream per run: its
        # k-th call has the noise of step k, so every run starts the same noise sequence.
        value_and_grad = stream(w.shape)
    else:
        value_and_grad = getattr(objective, "value_and_grad", None) or (
            lambda x: (objective.value(x), objective.grad(x)))

    # optlib's objectives return a new gradient array of w's shape and dtype at every
    # call; another object's gradient is checked at every step
    trusted = isinstance(objective, Objective)
    points = np.empty((steps + 1,) + w.shape)
    losses = np.empty((steps + 1,) + batch)
    alive = np.ones(batch, dtype=bool)
    diverged_at = np.full(batch, -1)
    optimizer.reset()
    # Divergence is recorded (diverged, diverged_at), not warned about.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", NonFiniteWarning)
        loss, grad = value_and_grad(w)
        limit = 1e6 * np.maximum(1.0, np.abs(loss)) if max_loss is None else float(max_loss)
        for t in range(steps + 1):
            if not trusted and np.shape(grad) != w.shape:
                raise ValueError(
                    f"the objective's gradient at step {t} has shape {np.shape(grad)}; it must "
                    f"have the shape of the points, {w.shape}")
            # One elementwise pass: nan/inf anywhere in loss or gradient makes the sum non-finite.
            ok = np.isfinite(loss + grad[..., 0] + grad[..., 1])
            ok &= loss <= limit
            if not ok.all():
                newly = alive & ~ok
                if newly.any():
                    np.copyto(diverged_at, t, where=newly)
                    alive &= ok
                    if not alive.any():
                        points[t:] = np.nan
                        losses[t:] = np.nan
                        break
                    # the gradient's full shape: copyto with it is fast (a broadcast mask is not)
                    dead = np.repeat(~alive[..., None], w.shape[-1], axis=-1)
                # A diverged run goes on with a zero gradient (so the step's checks pass and
                # nothing non-finite enters the optimizer); its points are blanked below.
                grad = grad.copy()
                np.copyto(grad, 0.0, where=dead)
            points[t] = w
            losses[t] = loss
            if t == steps:
                break
            if t and trusted:
                # w has taken a checked step; grad is fresh, finite (diverged runs get
                # zeros) and of w's shape: the checks would pass, so skip them.
                optimizer._step_checked_array(w, grad)
            else:
                optimizer.step(w, grad)
            loss, grad = value_and_grad(w)
    if not alive.all():
        # Blank each diverged run from its divergence on (step by step: one boolean
        # index per step is far faster than one over the whole (steps+1, *batch) array).
        diverged_runs = diverged_at >= 0
        for t in range(int(diverged_at[diverged_runs].min()), steps + 1):
            blank = diverged_runs & (diverged_at <= t)
            points[t, ...][blank] = np.nan
            losses[t, ...][blank] = np.nan
    diverged = diverged_at >= 0
    if not batch:
        diverged, diverged_at = bool(diverged), int(diverged_at)
    return Trajectory(points=points, losses=losses, diverged=diverged, diverged_at=diverged_at,
                      optimizer=repr(optimizer), objective=objective)
