r"""The edge of stability: full-batch training that records the loss and the sharpness.

Chapter 1's limit: gradient descent on a quadratic is stable only for
:math:`\lambda_{\max} < 2/\alpha`. On a network the curvature is not fixed.
Cohen et al. (2021, "Gradient Descent on Neural Networks Typically Occurs at the
Edge of Stability", arXiv:2103.00065) found that full-batch gradient descent
drives the sharpness :math:`\lambda_{\max}(H)` up (*progressive sharpening*)
until it reaches :math:`2/\alpha`, and that it then hovers there while the loss
keeps falling, not monotonically. Cohen et al. (2022, "Adaptive Gradient Methods
at the Edge of Stability", arXiv:2207.14484) found the same for momentum, with
chapter 2's limit, and for Adam with the *preconditioned* sharpness
:math:`\lambda_{\max}(P^{-1}H)` (:func:`~optlib.network.preconditioned_sharpness`).

* :func:`stability_threshold` — the limit of an optimizer on a quadratic whose
  (preconditioned) Hessian has largest eigenvalue :math:`\lambda`;
* :func:`sharpness_run` — a full-batch run that measures the sharpness every few
  steps, recorded in a :class:`SharpnessRun`.

The power iteration of each measurement starts from the previous measurement's
eigenvector (a *warm start*): the sharpest direction moves little in a few steps, so
a handful of Hessian-vector products suffice where a random start needs dozens.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass

import numpy as np

from .._engine import NonFiniteWarning
from .._validate import describe, flag, instance, real, whole
from ..clipping import clip_by_global_norm
from ..optimizers import Adam, GradientDescent, Momentum, Optimizer, RMSprop
from .data import Digits, check_split
from .diagnostics import (
    _checked_preconditioner, _flat, _power_iteration, _products, _scalar_hyper,
)
from .model import MLP, one_blas_thread
from .training import _check_clip, _start, progress_enabled

__all__ = ["stability_threshold", "SharpnessRun", "sharpness_run"]


def stability_threshold(optimizer) -> float:
    r"""The largest (preconditioned) curvature at which ``optimizer`` is stable on a quadratic.

    ========================================  ==================================================
    optimizer                                 threshold on :math:`\lambda`
    ========================================  ==================================================
    ``GradientDescent(lr=α)``                 :math:`2/\alpha` (chapter 1)
    ``Momentum(lr=α, beta=β)``                :math:`2(1+\beta)/(\alpha(1-\beta))` (chapter 2,
                                              EMA form)
    ``Momentum(..., nesterov=True)``          :math:`2(1+\beta)/((1+2\beta)(1-\beta)\alpha)`
    ``Adam``/``AdamW(lr=α, beta1=β₁)``        :math:`(2+2\beta_1)/((1-\beta_1)\alpha)` on
                                              :math:`\lambda(P^{-1}H)`: :math:`38/\alpha`
                                              at :math:`\beta_1 = 0.9`
    ``RMSprop(lr=α)``                         :math:`2/\alpha` on :math:`\lambda(P^{-1}H)`
    ========================================  ==================================================

    The momentum limits are :func:`optlib.analysis.momentum_stability_limit` and
    :func:`optlib.analysis.nesterov_stability_limit` solved for the curvature. Adam with
    its preconditioner held fixed is EMA momentum with :math:`\beta = \beta_1` on the
    preconditioned Hessian (Cohen et al. 2022); RMSprop is gradient descent on it.

    Raises:
        TypeError: for another optimizer.
        ValueError: when ``lr`` or a :math:`\beta` is an array, or a schedule is set (the
            threshold of a changing learning rate changes with it).

    Examples:
        >>> from optlib import Adam, GradientDescent, Momentum
        >>> stability_threshold(GradientDescent(lr=0.5))
        4.0
        >>> round(stability_threshold(Adam(lr=0.01)), 6)       # 38/α at β₁ = 0.9
        3800.0
        >>> round(stability_threshold(Momentum(lr=0.5, beta=0.9)), 6)
        76.0
    """
    if not isinstance(optimizer, (GradientDescent, Momentum, Adam, RMSprop)):
        raise TypeError(f"optimizer must be an optlib GradientDescent, Momentum, Adam, AdamW or "
                        f"RMSprop (the optimizers whose threshold is known), got "
                        f"optimizer={describe(optimizer)}")
    if optimizer.schedule is not None:
        raise ValueError(f"optimizer must have a constant learning rate (no schedule) for one "
                         f"threshold, got optimizer={describe(optimizer)}")
    lr = _scalar_hyper(optimizer, "lr")
    if isinstance(optimizer, (GradientDescent, RMSprop)):
        return 2.0 / lr
    if isinstance(optimizer, Momentum):
        beta = _scalar_hyper(optimizer, "beta")
        damping = 1.0 + 2.0 * beta if optimizer.nesterov else 1.0
        return 2.0 * (1.0 + beta) / (damping * (1.0 - beta) * lr)
    beta1 = _scalar_hyper(optimizer, "beta1")
    return (2.0 + 2.0 * beta1) / ((1.0 - beta1) * lr)


@dataclass(frozen=True, eq=False)
class SharpnessRun:
    r"""What :func:`sharpness_run` records.

    Attributes:
        label: the run's name.
        optimizer: ``repr`` of the optimizer.
        threshold: :func:`stability_threshold` of the optimizer.
        preconditioned: whether the threshold applies to the preconditioned sharpness
            (Adam, RMSprop) rather than to the sharpness.
        loss: the full-batch training loss after ``t`` steps, ``t = 0, …, steps``, shape
            ``(steps + 1,)``; ``nan`` from the divergence on.
        measured_at: the steps ``t`` after which the sharpness was measured:
            ``0, every, 2·every, …`` (and ``steps``), int array.
        sharpness: :math:`\lambda_{\max}(H)` at those steps (``nan`` after a divergence).
        preconditioned_sharpness: :math:`\lambda_{\max}(P_t^{-1}H)` at those steps for
            Adam and RMSprop (``nan`` at step 0, before the optimizer has a
            preconditioner); None for the others.
        iterations: power iterations each measurement used, shape
            ``(len(measured_at), 2)``: the sharpness's and the preconditioned one's (0
            where none was measured).
        diverged_at_step: the step ``t`` at which the loss or gradient became non-finite
            or exceeded ``max_loss``; -1 if it never did.
        params: the parameters at the end.
        every: the steps between two measurements.
        iters: the most power iterations a measurement may use.
        tol: the relative change of the estimate at which a power iteration stops.
        seed: the seed of the first power iteration's start vector.
        clip: the global-norm clipping threshold, or None.
        grad_norm: with ``clip``, the global norm of each step's gradient before
            clipping, ``(steps,)``; else None.
    """

    label: str
    optimizer: str
    threshold: float
    preconditioned: bool
    loss: np.ndarray
    measured_at: np.ndarray
    sharpness: np.ndarray
    preconditioned_sharpness: np.ndarray | None
    iterations: np.ndarray
    diverged_at_step: int
    params: dict
    every: int
    iters: int
    tol: float
    seed: int
    clip: float | None = None
    grad_norm: np.ndarray | None = None

    @property
    def diverged(self) -> bool:
        """True if the run was stopped because its loss blew up."""
        return self.diverged_at_step >= 0

    @property
    def steps(self) -> int:
        """The number of steps the run was asked for."""
        return self.loss.size - 1

    @property
    def edge(self) -> np.ndarray:
        r"""The sharpness that the threshold governs — the preconditioned one for Adam and
        RMSprop — at every measurement."""
        return self.preconditioned_sharpness if self.preconditioned else self.sharpness

    @property
    def ratio(self) -> np.ndarray:
        """:attr:`edge` divided by ``threshold``: 1 is the edge of stability."""
        return self.edge / self.threshold

    def ratio_after(self, fraction: float = 0.5) -> np.ndarray:
        """The ratios measured in the last ``fraction`` of the steps (``measured_at`` ≥
        ``(1 − fraction)·steps``), e.g. to say where the run hovers."""
        fraction = real("fraction", fraction, low=0.0, high=1.0, low_inclusive=False)
        return self.ratio[self.measured_at >= (1.0 - fraction) * self.steps]

    def steps_to(self, level: float = 0.9) -> int:
        """The first measured step at which the ratio reached ``level``; -1 if none did."""
        level = real("level", level, low=0.0, low_inclusive=False)
        with np.errstate(invalid="ignore"):
            hits = np.flatnonzero(self.ratio >= level)
        return int(self.measured_at[hits[0]]) if hits.size else -1


def _full_batch(model: MLP, data):
    """``(X, y)`` of the training data: a Digits split, a 4-tuple or a pair ``(X, y)``."""
    if isinstance(data, tuple) and not isinstance(data, Digits) and len(data) == 2:
        return model.check_data(data[0], data[1], "data[0]", "data[1]")
    split = check_split(data, model.sizes[0], model.sizes[-1])
    return split.X_train, split.y_train


def sharpness_run(model: MLP, optimizer: Optimizer, data, steps: int, every: int = 10,
                  seed: int = 0, iters: int = 100, tol: float = 1e-5, params=None,
                  max_loss: float = 1e3, clip: float | None = None, progress=None,
                  label: str | None = None) -> SharpnessRun:
    r"""Full-batch training that measures the sharpness every ``every`` steps.

    Each step is ``optimizer.step(params, grads)`` with the gradient of the loss on the
    whole training set (optionally clipped by its global norm, ``clip``). After
    ``t = 0, every, 2·every, …`` steps, and after the last, the run measures
    :math:`\lambda_{\max}(H)` (:func:`~optlib.network.sharpness`) and, for Adam and
    RMSprop, :math:`\lambda_{\max}(P_t^{-1}H)` with the optimizer's preconditioner after
    step ``t`` (:func:`~optlib.network.preconditioned_sharpness`), and compares them with
    :func:`stability_threshold`. Cohen et al. (2021; 2022) found that the sharpness rises
    to the threshold and hovers there; :attr:`SharpnessRun.ratio` is the measured value
    over the threshold.

    **Power iteration with a warm start.** The first measurement starts from a random
    unit vector (``numpy.random.default_rng(seed)``); each later one from the previous
    eigenvector. Each stops when two successive Rayleigh quotients agree to ``tol``
    (relative) or after ``iters`` Hessian-vector products; ``SharpnessRun.iterations``
    says how many each needed. Measured on a 64-8-10 network at the edge (against
    Lanczos): with the defaults the error is below :math:`10^{-4}` for 90 % of the
    measurements and below :math:`10^{-3}` for 97 %, with 12–28 products on average
    (a cold start needs 16–25 for :math:`10^{-3}` at ``tol=1e-4``); the exceptions are
    steps where the two largest eigenvalues nearly coincide, where power iteration is
    slow (``tol=1e-6`` removes them, at 18–45 products on average).

    A run *diverges* as in :func:`~optlib.network.train`: when the loss or a gradient is
    not finite, or the loss exceeds ``max_loss``, it stops quietly (no warning) and the
    rest of its record is ``nan``.

    Args:
        model: the :class:`MLP`.
        optimizer: an optlib ``GradientDescent``, ``Momentum``, ``Adam``, ``AdamW`` or
            ``RMSprop`` (one with a :func:`stability_threshold`); it is
            :meth:`~optlib.optimizers.Optimizer.reset` first.
        data: a :class:`Digits` split or ``(X_train, y_train, X_test, y_test)`` (the
            training part is used), or a pair ``(X, y)``.
        steps: full-batch steps, ≥ 1.
        every: steps between measurements, ≥ 1.
        seed: seed of the first power iteration's start vector.
        iters: the most power iterations per measurement, ≥ 1.
        tol: the relative change of the estimate that stops a power iteration, ≥ 0 (0:
            always ``iters``); the error of the estimate is typically a few times ``tol``.
        params: the start (copied; finite); default ``model.init_params()``.
        max_loss: a loss above this counts as divergence.
        clip: None, or the threshold of gradient clipping by the global norm
            (:func:`optlib.clipping.clip_by_global_norm`).
        progress: show a progress bar over the steps: True, False or None (unless quiet,
            :func:`~optlib.network.progress_enabled`).
        label: the run's name; default the optimizer's class name.

    Returns:
        A :class:`SharpnessRun`.

    Examples:
        >>> import numpy as np
        >>> from optlib import GradientDescent
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.random((40, 4)), rng.integers(0, 3, size=40)
        >>> run = sharpness_run(MLP(sizes=(4, 8, 3)), GradientDescent(lr=0.5), (X, y), steps=20,
        ...                     every=5, progress=False)
        >>> run.loss.shape, run.measured_at.tolist(), run.threshold, run.diverged
        ((21,), [0, 5, 10, 15, 20], 4.0, False)
    """
    instance("model", model, MLP, "an optlib.network.MLP")
    instance("optimizer", optimizer, Optimizer, "an optlib optimizer")
    threshold = stability_threshold(optimizer)
    preconditioned = isinstance(optimizer, (Adam, RMSprop))
    X, y = _full_batch(model, data)
    steps = whole("steps", steps, low=1)
    every = whole("every", every, low=1)
    seed = whole("seed", seed, low=0)
    iters = whole("iters", iters, low=1)
    tol = real("tol", tol, low=0.0)
    max_loss = real("max_loss", max_loss, low=0.0, low_inclusive=False)
    clip = _check_clip(clip)
    show = progress_enabled(progress)
    label = type(optimizer).__name__ if label is None else str(label)
    params = _start(model, params)

    measured_at = np.array(sorted(set(range(0, steps + 1, every)) | {steps}), dtype=np.int64)
    loss = np.full(steps + 1, np.nan)
    lam = np.full(measured_at.size, np.nan)
    plam = np.full(measured_at.size, np.nan) if preconditioned else None
    used = np.zeros((measured_at.size, 2), dtype=np.int64)
    grad_norm = None if clip is None else np.full(steps, np.nan)
    start = np.random.default_rng(seed).normal(size=model.n_params)
    start /= np.linalg.norm(start)
    vectors = [start, start.copy()]        # warm starts: H's and P^{-1/2} H P^{-1/2}'s
    diverged_at = -1

    def measure(i):
        product = _products(model, params, X, y)
        lam[i], vectors[0], used[i, 0] = _power_iteration(product, vectors[0], iters, tol)
        if preconditioned and optimizer.t > 0:
            diag, delta = _checked_preconditioner(model, optimizer)
            product = _products(model, params, X, y, 1.0 / np.sqrt(diag), delta)
            plam[i], vectors[1], used[i, 1] = _power_iteration(product, vectors[1], iters, tol)

    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=label, unit="step", leave=True)

    @contextlib.contextmanager
    def quiet():
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", NonFiniteWarning)
            yield

    optimizer.reset()
    k = 0                                   # the next measurement
    try:
        with one_blas_thread(), quiet():
            for t in range(steps + 1):
                value, grads = model.loss_and_grads(params, X, y, validate=False)
                finite = math.isfinite(value) and value <= max_loss and all(
                    np.all(np.isfinite(g)) for g in grads.values())
                if finite and clip is not None and t < steps:
                    grads, grad_norm[t] = clip_by_global_norm(grads, clip)
                    finite = math.isfinite(grad_norm[t])
                if not finite:
                    diverged_at = t
                    break
                loss[t] = value
                if k < measured_at.size and measured_at[k] == t:
                    measure(k)
                    k += 1
                if t == steps:
                    break
                optimizer.step(params, grads)
                if bar is not None:
                    bar.update(1)
                    if t % every == 0:
                        bar.set_postfix(loss=f"{value:.4f}", refresh=False)
    finally:
        if bar is not None:
            if diverged_at >= 0:
                bar.set_postfix_str("diverged")
            bar.close()
    # after a divergence (the loop stopped) the records keep their initial nan and 0
    return SharpnessRun(label=label, optimizer=repr(optimizer), threshold=threshold,
                        preconditioned=preconditioned, loss=loss, measured_at=measured_at,
                        sharpness=lam, preconditioned_sharpness=plam, iterations=used,
                        diverged_at_step=diverged_at, params=params, every=every, iters=iters,
                        tol=tol, seed=seed, clip=clip, grad_norm=grad_norm)
