r"""Chapter 6's explorations: gradient noise on the bowl, and learning-rate schedules.

* :class:`NoiseExplorer` — noisy gradients on the bowl: the cloud of iterates and
  the noise floor, over the learning rate and the batch size;
* :class:`ScheduleExplorer` — learning-rate schedules at a fixed budget on the
  noisy bowl: the multiplier and the expected loss it produces
  (:func:`default_schedules` are its choices).

Every setting sees the same noise paths (:class:`~optlib.objectives.Noisy` with
``common=True`` and ``replicas``), so moving a slider moves the same cloud. The
expected losses are exact (:func:`~optlib.analysis.noisy_expected_loss`,
:func:`~optlib.analysis.noise_floor`). As in ``optlib.explore.explorers``, the runs
are batched and every constructor checks its arguments before computing anything.
"""

from __future__ import annotations

import numpy as np

from .. import analysis
from .. import schedules as _schedules
from .._validate import describe, instance, real, reals, whole, wholes
from ..objectives import Noisy, Quadratic, minibatch_noise
from ..optimizers import Momentum
from ..plotting import COLORS, COLUMN_WIDTH, NEUTRAL, SCREEN_DPI, contour, loss_axes
from ..runs import run
from .explorers import _max_loss, _named
from .model import Exploration, Slider, _text, figure_size, format_value, readout_table

__all__ = ["NoiseExplorer", "ScheduleExplorer", "default_schedules"]


# --------------------------------------------------------------------------
# Noisy gradients on the bowl: learning rate and batch size (chapter 6)
# --------------------------------------------------------------------------
def _bowl(value):
    """``Quadratic()`` for ``None``, else ``value`` if it is a :class:`Quadratic`."""
    if value is None:
        return Quadratic()
    return instance("objective", value, Quadratic,
                    "a Quadratic (optlib.objectives) or None")


def _bowl_setting(objective, noise, beta, replicas, seed):
    """The arguments the two noisy-bowl explorations share, checked in this order."""
    objective = _bowl(objective)
    noise = real("noise", noise, low=0.0, low_inclusive=False)
    beta = real("beta", beta, low=0.0, high=1.0, high_inclusive=False)
    replicas = whole("replicas", replicas, low=1)
    seed = whole("seed", seed, low=0)
    return objective, noise, beta, replicas, seed


def _stable_limit(objective, beta: float) -> float:
    r"""The largest stable learning rate :math:`2(1+\beta)/((1-\beta)\lambda_{\max})`."""
    return 2.0 * (1.0 + beta) / ((1.0 - beta) * objective.lambda_max)


def _noisy_optimizer(lr, beta: float, schedule=None):
    """Gradient descent (β = 0) or EMA momentum with learning rate(s) ``lr``."""
    from ..optimizers import GradientDescent

    if beta == 0.0:
        return GradientDescent(lr=lr, schedule=schedule)
    return Momentum(lr=lr, beta=beta, schedule=schedule)


def _eigen_start(objective) -> np.ndarray:
    r"""The start in the Hessian's eigenbasis, :math:`u_0 = R(\theta)^\top (w_0 - c)`."""
    return objective.eigenvectors.T @ (objective.start - objective.minimum)


def _mean_over_runs(losses: np.ndarray) -> np.ndarray:
    """Mean of ``losses`` over the last axis (the runs); nan once any run has diverged."""
    with np.errstate(invalid="ignore", over="ignore"):
        return losses.mean(axis=-1)


def _finite_or_nan(values) -> np.ndarray:
    """``values`` with ±inf as nan (a line that is not drawn, in both views)."""
    out = np.array(values, dtype=float)
    out[~np.isfinite(out)] = np.nan
    return out


def _log_limits(*arrays, top: float) -> tuple[float, float]:
    """Log-axis limits that hold the finite positive values of ``arrays`` and ``top``."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    lo = max(values.min(), 1e-12) if values.size else 1e-6
    hi = max(values.max() if values.size else top, top, lo * 10)
    return lo / 2, hi * 3


class NoiseExplorer(Exploration):
    r"""Noisy gradients on the bowl: the cloud of iterates and the noise floor, over α and B.

    Chapter 1's bowl :math:`f(w) = \tfrac12 (w-c)^\top H (w-c)` with the mini-batch
    gradient of batch size B,

    .. math::

        g_t = H (w_{t-1} - c) + \sigma_B\, \xi_t, \qquad
        \sigma_B = \frac{\sigma}{\sqrt B}, \qquad \xi_t \sim \mathcal N(0, I),

    (:func:`~optlib.objectives.minibatch_noise`), run by gradient descent
    :math:`w_t = w_{t-1} - \alpha g_t` (or, with ``beta`` > 0, EMA momentum
    ``optlib.Momentum(lr=α, beta=β)``) for ``steps`` steps from the bowl's start, R times
    (``replicas``). The noise is :class:`~optlib.objectives.Noisy` with ``common=True,
    replicas=R``: the R runs have independent noise paths, and every (α, B) of the grid
    sees the *same* R paths :math:`\xi_1, \xi_2, \ldots` (scaled by its
    :math:`\sigma_B`), so moving a slider moves the same cloud instead of drawing a new one.
    All runs of all grid points are one batched run.

    Left: the contour plot near the minimum (a window of four standard deviations of
    the widest stationary cloud of the grid) with the R iterates at the last step
    (markers), the first run's path, and the ellipse of two standard deviations of the
    stationary cloud. Along eigendirection i (curvature :math:`\lambda_i`) the stationary
    variance of the iterate is :math:`2F_i/\lambda_i`, with :math:`F_i` the floor below.

    Right: against the step t (log scale), the mean loss of the R runs
    :math:`\frac1R \sum_r f(w_t^{(r)}) - f^*`; the exact expected loss
    :math:`\mathbb E[f(w_t)] - f^*` (:func:`~optlib.analysis.noisy_expected_loss`, the sum
    over the two eigendirections with the start :math:`u_0 = R(\theta)^\top (w_0 - c)`
    projected on them; the noise is isotropic, so it has the same :math:`\sigma_B` along
    each); and the noise floor, its limit as :math:`t \to \infty`
    (:func:`~optlib.analysis.noise_floor`, summed over the directions),

    .. math::

        \mathbb E[f] - f^* = \sum_i \frac{(1+\beta)\,\alpha\sigma_B^2}
        {2\,\big(2(1+\beta) - \alpha(1-\beta)\lambda_i\big)}
        \;\overset{\beta = 0}{\approx}\; \frac{\alpha\sigma^2}{2B}
        \quad (\alpha\lambda_i \ll 1).

    The readout gives, averaged over the last quarter of the run, the mean loss of the
    runs and the exact expected loss, and the floor (``inf`` where
    :math:`\alpha \ge 2(1+\beta)/((1-\beta)\lambda_{\max})`, where no stationary cloud
    exists).

    Args:
        objective: a :class:`~optlib.objectives.Quadratic` (default ``Quadratic()``,
            curvatures 1 and 25, axis-aligned; a rotated one is handled in its eigenbasis).
        noise: :math:`\sigma > 0`, the noise of a batch of one, per coordinate.
        lrs: the learning rates of the α slider, positive numbers (default: 1/16, 1/8,
            1/4, 3/8, …, 7/8 of the stability limit :math:`2(1+\beta)/((1-\beta)\lambda_{\max})`;
            for the default bowl and β = 0: 0.005, 0.01, 0.02, …, 0.07).
        batch_sizes: the batch sizes of the B slider, whole numbers ≥ 1 (default
            1, 2, 4, 8, 16, 32).
        beta: 0 for gradient descent (the default), else the momentum coefficient
            β ∈ (0, 1) of ``optlib.Momentum``.
        replicas: R, the number of runs per setting, a whole number ≥ 1.
        steps: steps of each run, a whole number ≥ 1.
        seed: the seed of the noise (:class:`~optlib.objectives.Noisy`), a whole number ≥ 0.
        name: short name for benchmarks and the HTML.
        dpi: pixels per inch.

    Attributes:
        noisy: the :class:`~optlib.objectives.Noisy` objective of the batched run.
        trajectory: the batched :class:`~optlib.runs.Trajectory`; ``points`` has shape
            ``(steps + 1, len(lrs), len(batch_sizes), R, 2)``.
        expected: the exact :math:`\mathbb E[f(w_t)] - f^*`, shape
            ``(len(lrs), len(batch_sizes), steps + 1)``.
        floor: the noise floor, shape ``(len(lrs), len(batch_sizes))``.

    Raises:
        TypeError, ValueError: for an argument of the wrong kind or value, before
            anything is computed.

    Examples:
        >>> ex = NoiseExplorer(lrs=[0.01, 0.04], batch_sizes=[1, 4], replicas=8, steps=40)
        >>> ex.shape, ex.trajectory.points.shape
        ((2, 2), (41, 2, 2, 8, 2))
        >>> round(float(ex.floor[1, 0]), 6)   # 0.04/(2·1.96) + 0.04/(2·1)
        0.030204
        >>> NoiseExplorer(noise=0.0)
        Traceback (most recent call last):
        ...
        ValueError: noise must lie in (0, inf], got noise=0.0
    """

    name = "noise"

    def __init__(self, objective=None, noise: float = 1.0, lrs=None, batch_sizes=None, *,
                 beta: float = 0.0, replicas: int = 48, steps: int = 150, seed: int = 0,
                 name: str = "noise", dpi: int = SCREEN_DPI):
        objective, noise, beta, replicas, seed = _bowl_setting(objective, noise, beta,
                                                               replicas, seed)
        limit = _stable_limit(objective, beta)
        lrs = (limit * np.array([1, 2, 4, 6, 8, 10, 12, 14]) / 16 if lrs is None else
               reals("lrs", lrs, low=0.0, low_inclusive=False, ndim=1))
        given = batch_sizes
        batch_sizes = (np.array([1, 2, 4, 8, 16, 32]) if batch_sizes is None else
                       wholes("batch_sizes", batch_sizes, low=1))
        if batch_sizes.ndim != 1:
            raise ValueError(f"batch_sizes must be a 1-d sequence of whole numbers ≥ 1, got "
                             f"batch_sizes={describe(given)}")
        steps = whole("steps", steps, low=1)
        self.name = _text("name", name)
        figure_size(COLUMN_WIDTH, 3.5, dpi)

        self.objective, self.noise, self.beta = objective, noise, beta
        self.replicas, self.steps, self.seed = replicas, steps, seed
        self._color = COLORS["GradientDescent" if beta == 0.0 else "Momentum"]
        lr = np.asarray(lrs, dtype=float)
        sigma = minibatch_noise(noise, batch_sizes)                    # σ_B per batch size
        self.noisy = Noisy(objective, sigma[None, :, None, None], seed, common=True,
                           replicas=replicas)
        shape = (lr.size, batch_sizes.size, replicas, 2)
        self.max_loss = _max_loss(objective, objective.start)
        self.trajectory = run(_noisy_optimizer(lr[:, None, None, None], beta), self.noisy,
                              np.broadcast_to(objective.start, shape), steps,
                              max_loss=self.max_loss)
        self._gap = self.trajectory.losses - objective.min_value      # (T+1, A, B, R)
        self._mean = np.moveaxis(_mean_over_runs(self._gap), 0, -1)     # (A, B, T+1)
        # exact E[f(w_t)] − f* and the floor, per eigendirection, then summed
        lam = np.asarray(objective.curvatures)
        per_direction = analysis.noise_floor(lr[:, None, None], lam, sigma[None, :, None],
                                             beta=beta)                 # (A, B, 2)
        self.floor = per_direction.sum(axis=-1)
        self.expected = analysis.noisy_expected_loss(
            lr[:, None, None], lam, sigma[None, :, None], steps, _eigen_start(objective),
            beta=beta).sum(axis=-2)
        # stationary variance 2F_i/λ_i along eigendirection i: the ellipse and the window
        with np.errstate(invalid="ignore"):
            self._variance = 2.0 * per_direction / lam
        self._tail = steps - steps // 4            # the readout averages steps tail..T
        sliders = [Slider("lr", lr, initial=lr[len(lr) // 2]),
                   Slider("batch_size", batch_sizes.astype(float), initial=batch_sizes[0],
                          label="B", fmt="{:.0f}")]
        super().__init__(sliders, width=COLUMN_WIDTH, height=3.5, dpi=dpi)

    def _window(self):
        """Four standard deviations of the widest stationary cloud of the grid, per axis."""
        finite = np.all(np.isfinite(self._variance), axis=-1)
        if finite.any():
            variance = self._variance[finite].max(axis=0)
        else:   # no stable setting: the cloud of the last step, as far as it is finite
            last = self.trajectory.points[-1] - self.objective.minimum
            last = last[np.all(np.isfinite(last), axis=-1)]
            variance = (np.max(last ** 2, axis=0) / 16.0 if last.size
                        else np.array([1.0, 1.0]))
        rotation = self.objective.eigenvectors
        half = 4.0 * np.sqrt((rotation ** 2) @ variance)
        (cx, cy) = self.objective.minimum
        return ((cx - half[0], cx + half[0]), (cy - half[1], cy + half[1]))

    def _draw(self, fig):
        ax_cloud, ax_loss = fig.subplots(1, 2, width_ratios=[1.1, 1])
        contour(ax_cloud, self.objective, bounds=self._window())
        ax_cloud.set_title(f"{self.replicas} runs at step {self.steps}")
        ylim = _log_limits(self._mean, self.expected, self.floor,
                           top=float(np.nanmax(self._gap[0])))
        loss_axes(ax_loss, self.steps, title=r"$f(w_t) - f^*$", ylim=ylim)
        ax_loss.set_title("loss")
        color = self._color
        # the loss panel's curves first: they show at every setting (the static view's first
        # path), while at a small alpha the runs are still outside the contour's window
        return {
            "mean": ax_loss.plot([], [], "-", color=color, lw=1.4,
                                 label=f"mean loss of the {self.replicas} runs")[0],
            "expected": ax_loss.plot([], [], "--", color=NEUTRAL[0], lw=1.6,
                                     label=r"exact $E[f(w_t)] - f^*$")[0],
            "floor": ax_loss.plot([], [], "-", color=NEUTRAL[2], lw=1.2,
                                  label="noise floor")[0],
            "path": ax_cloud.plot([], [], "-", color=color, lw=1.0,
                                  label="one run's path")[0],
            "ellipse": ax_cloud.plot([], [], "-", color=NEUTRAL[0], lw=1.2,
                                     label="stationary cloud, 2 s.d.")[0],
            "cloud": ax_cloud.plot([], [], "o", color=color, ms=4.5, mec="black", mew=0.6,
                                   label=f"the {self.replicas} runs at step {self.steps}")[0],
        }

    def frame(self, index):
        i, j = index
        pts = self.trajectory.points[:, i, j]                 # (T+1, R, 2)
        last = pts[-1]
        theta = np.linspace(0.0, 2.0 * np.pi, 73)
        with np.errstate(invalid="ignore", over="ignore"):   # unstable: inf · 0 is nan
            radii = 2.0 * np.sqrt(self._variance[i, j])
            ellipse = (self.objective.minimum
                       + (np.column_stack([radii[0] * np.cos(theta), radii[1] * np.sin(theta)])
                          @ self.objective.eigenvectors.T))
        ellipse = _finite_or_nan(ellipse)
        t = np.arange(self.steps + 1)
        floor = float(self.floor[i, j])
        data = {
            "path": (pts[:, 0, 0], pts[:, 0, 1]),
            "ellipse": (ellipse[:, 0], ellipse[:, 1]),
            "cloud": (last[:, 0], last[:, 1]),
            "mean": (t, self._mean[i, j]),
            "expected": (t, _finite_or_nan(self.expected[i, j])),
            "floor": ([0.0, float(self.steps)], _finite_or_nan([floor, floor])),
        }
        return data, self._readout(index)

    def _readout(self, index) -> str:
        i, j = index
        tail, steps, runs = self._tail, self.steps, self.replicas
        sigma = minibatch_noise(self.noise, int(self.sliders[1].values[j]))
        diverged_at = np.asarray(self.trajectory.diverged_at)[i, j]
        if np.any(diverged_at >= 0):
            first = int(diverged_at[diverged_at >= 0].min())
            measured = f"diverged at step {first}" + (
                "" if self.max_loss is None else f" (f(w) > {format_value(self.max_loss)})")
        else:
            measured = format_value(self._gap[tail:, i, j].mean())
        with np.errstate(over="ignore", invalid="ignore"):
            exact = format_value(self.expected[i, j, tail:].mean())
        floor = float(self.floor[i, j])
        floor_text = (format_value(floor) if np.isfinite(floor) else
                      "∞ (unstable: no stationary cloud)")
        rows = [(f"mean of the {runs} runs", self._color, False, (measured,)),
                ("exact E[f(wₜ)] − f*", NEUTRAL[0], True, (exact,)),
                ("noise floor (t → ∞)", NEUTRAL[2], False, (floor_text,))]
        caption = (f"{self.setting(index)}: σ_B = σ/√B = {format_value(sigma)}, "
                   f"{steps} steps")
        return readout_table(caption, ("", f"f − f*, mean over steps {tail}–{steps}"), rows)


# --------------------------------------------------------------------------
# Learning-rate schedules on the noisy bowl (chapter 6)
# --------------------------------------------------------------------------
def default_schedules(steps: int) -> dict:
    r"""The schedules of :class:`ScheduleExplorer` for a budget of ``steps`` = T ≥ 2 steps.

    ``{"constant": None, "step decay": StepDecay(⌈T/3⌉, 0.1), "cosine": Cosine(T),
    "linear to zero": Linear(T), "warmup + cosine": Warmup(W, then=Cosine(T − W))}``
    with :math:`W = \max(1, \lfloor T/10 \rfloor)` warmup steps.

    Examples:
        >>> list(default_schedules(100))
        ['constant', 'step decay', 'cosine', 'linear to zero', 'warmup + cosine']
        >>> default_schedules(100)["warmup + cosine"]
        Warmup(steps=10, then=Cosine(total=90, final=0.0))
    """
    steps = whole("steps", steps, low=2)
    warm = max(1, steps // 10)
    return {"constant": None,
            "step decay": _schedules.StepDecay(every=-(-steps // 3), factor=0.1),
            "cosine": _schedules.Cosine(total=steps),
            "linear to zero": _schedules.Linear(total=steps),
            "warmup + cosine": _schedules.Warmup(warm,
                                                 then=_schedules.Cosine(total=steps - warm))}


class ScheduleExplorer(Exploration):
    r"""Learning-rate schedules on the noisy bowl at a fixed budget: the multiplier and the loss.

    On the bowl of :class:`NoiseExplorer` with gradient noise σ
    (:math:`g_t = H(w_{t-1} - c) + \sigma\xi_t`), gradient descent (or, with ``beta`` > 0,
    EMA momentum) runs ``steps`` = T steps with the learning rate
    :math:`\alpha_t = \alpha\,\mu_t` of the chosen schedule (:mod:`optlib.schedules`) and
    the peak α of the slider. Left: the multiplier :math:`\mu_t` for t = 1, …, T, and the
    constant :math:`\mu_t = 1` for reference. Right (log scale): the exact expected loss
    :math:`\mathbb E[f(w_t)] - f^*` under the schedule
    (:func:`~optlib.analysis.noisy_expected_loss` with ``schedule=``, the sum over the two
    eigendirections), the same for the constant learning rate α (grey, dashed), and the mean
    loss of R noisy runs under the schedule (dots, every ``max(1, T // 40)`` steps; the noise
    is :class:`~optlib.objectives.Noisy` with ``common=True, replicas=R``, the same R noise
    paths for every schedule and α). For gradient descent along a direction of curvature
    :math:`\lambda`,

    .. math::

        \mathbb E[f(w_T)] - f^* = \frac\lambda2 \Big( u_0^2 \prod_{s \le T} (1-\alpha_s\lambda)^2
        + \sigma^2 \sum_{s \le T} \alpha_s^2 \prod_{s < r \le T} (1-\alpha_r\lambda)^2 \Big):

    the distance term shrinks like :math:`e^{-2\lambda\sum_s \alpha_s}`, the variance term
    follows the current :math:`\alpha_t` towards its floor :math:`\approx \alpha_t\sigma^2/4`;
    a decaying schedule lowers the floor at the end but spends less of the budget's
    :math:`\sum_s \alpha_s` on the distance. The readout gives the final expected loss and
    the runs' mean at T, for the schedule and for the constant α.

    Args:
        objective: a :class:`~optlib.objectives.Quadratic` (default ``Quadratic()``).
        noise: :math:`\sigma > 0`, the gradient noise per coordinate.
        lrs: the peak learning rates α of the slider, positive numbers (default: 1/4, 1/2,
            3/4, 7/8 and 19/20 of the stability limit
            :math:`2(1+\beta)/((1-\beta)\lambda_{\max})`; 0.02 … 0.076 on the default bowl).
        schedules: ``{name: schedule}``, the dropdown's choices in order; a schedule is
            ``None`` (constant) or a callable :math:`t \mapsto \mu_t` (finite, ≥ 0).
            Default: :func:`default_schedules` of ``steps``.
        steps: the budget T, a whole number ≥ 2.
        beta: 0 for gradient descent (the default), else the momentum coefficient in (0, 1).
        replicas: R, the number of noisy runs per setting, a whole number ≥ 1.
        seed: the seed of the noise, a whole number ≥ 0.
        name: short name for benchmarks and the HTML.
        dpi: pixels per inch.

    Attributes:
        multipliers: ``{name: μ_1, …, μ_T}`` (arrays).
        expected: ``{name: E[f(w_t)] − f*}``, arrays of shape ``(len(lrs), T + 1)``;
            ``constant`` holds the reference without a schedule.
        runs: ``{name: Trajectory}`` of the batched noisy runs, points of shape
            ``(T + 1, len(lrs), R, 2)`` (and the constant reference's, under ``constant``).

    Raises:
        TypeError, ValueError: for an argument of the wrong kind or value (a schedule
            that is not callable or returns something other than a finite number ≥ 0),
            before anything is computed.

    Examples:
        >>> ex = ScheduleExplorer(lrs=[0.04], steps=60, replicas=4)
        >>> [s.text(k) for s in ex.sliders[:1] for k in range(len(s.values))]
        ['constant', 'step decay', 'cosine', 'linear to zero', 'warmup + cosine']
        >>> ex.multipliers["cosine"][[0, 30]].round(3).tolist()
        [1.0, 0.5]
    """

    name = "schedule"

    def __init__(self, objective=None, noise: float = 1.0, lrs=None, *, schedules=None,
                 steps: int = 200, beta: float = 0.0, replicas: int = 48, seed: int = 0,
                 name: str = "schedule", dpi: int = SCREEN_DPI):
        objective, noise, beta, replicas, seed = _bowl_setting(objective, noise, beta,
                                                               replicas, seed)
        steps = whole("steps", steps, low=2)
        limit = _stable_limit(objective, beta)
        lrs = (limit * np.array([0.25, 0.5, 0.75, 0.875, 0.95]) if lrs is None else
               reals("lrs", lrs, low=0.0, low_inclusive=False, ndim=1))
        chosen = default_schedules(steps) if schedules is None else _named("schedules",
                                                                            schedules)
        multipliers = {}
        t = range(1, steps + 1)
        for key, schedule in chosen.items():
            where = f"schedules[{key!r}]"
            _schedules.checked(schedule, where)
            multipliers[key] = (np.ones(steps) if schedule is None else np.array(
                [_schedules.multiplier(schedule, k, where) for k in t], dtype=float))
        self.name = _text("name", name)
        figure_size(COLUMN_WIDTH, 3.5, dpi)

        self.objective, self.noise, self.beta = objective, noise, beta
        self.replicas, self.steps, self.seed = replicas, steps, seed
        self.schedules = chosen
        self.multipliers = multipliers
        self._color = COLORS["GradientDescent" if beta == 0.0 else "Momentum"]
        lr = np.asarray(lrs, dtype=float)
        lam = np.asarray(objective.curvatures)
        u0 = _eigen_start(objective)
        self.noisy = Noisy(objective, noise, seed, common=True, replicas=replicas)
        self.max_loss = _max_loss(objective, objective.start)
        start = np.broadcast_to(objective.start, (lr.size, replicas, 2))
        self.expected, self.runs = {}, {}
        reference = {"constant": None}
        for key, schedule in list(reference.items()) + list(chosen.items()):
            self.expected[key] = analysis.noisy_expected_loss(
                lr[:, None], lam, noise, steps, u0, beta=beta, schedule=schedule).sum(axis=-2)
            self.runs[key] = run(_noisy_optimizer(lr[:, None, None], beta, schedule),
                                 self.noisy, start, steps, max_loss=self.max_loss)
        self._means = {key: _mean_over_runs(r.losses - objective.min_value).T
                       for key, r in self.runs.items()}                    # (A, T+1)
        self._every = max(1, steps // 40)
        keys = list(chosen)
        initial = next((k for k, s in enumerate(chosen.values()) if s is not None), 0)
        sliders = [Slider.choice("schedule", keys, initial=initial, label="schedule"),
                   Slider("lr", lr, initial=lr[len(lr) // 2])]
        super().__init__(sliders, width=COLUMN_WIDTH, height=3.5, dpi=dpi)

    def _draw(self, fig):
        ax_mu, ax_loss = fig.subplots(1, 2)
        t = np.arange(1, self.steps + 1)
        top = max(1.0, max(float(m.max()) for m in self.multipliers.values()))
        ax_mu.plot(t, np.ones(self.steps), "--", color=NEUTRAL[1], lw=1.4, label="constant α")
        ax_mu.set_xlim(0, self.steps)
        ax_mu.set_ylim(0.0, top * 1.08)
        ax_mu.set_xlabel("step $t$")
        ax_mu.set_ylabel(r"multiplier $\mu_t$")
        ax_mu.set_title(r"learning rate $\alpha\,\mu_t$")
        ax_mu.grid(True, alpha=0.3)
        ylim = _log_limits(*self.expected.values(), *self._means.values(),
                           top=float(self.expected["constant"][0, 0]))
        loss_axes(ax_loss, self.steps, title=r"$f(w_t) - f^*$", ylim=ylim)
        ax_loss.set_title(f"loss, budget {self.steps} steps")
        color = self._color
        multiplier = ax_mu.plot([], [], "-", color=color, lw=2.0, label="the schedule")[0]
        constant = ax_loss.plot([], [], "--", color=NEUTRAL[1], lw=1.4, label="constant α")[0]
        expected = ax_loss.plot([], [], "-", color=color, lw=2.0,
                                label=r"exact $E[f(w_t)] - f^*$ with the schedule")[0]
        runs = ax_loss.plot([], [], "o", color=color, ms=3.5, mec="black", mew=0.5,
                            label=f"mean of {self.replicas} noisy runs")[0]
        # the curve that every control moves first (the static view's first path)
        return {"expected": expected, "multiplier": multiplier, "constant": constant,
                "runs": runs}

    def frame(self, index):
        k, i = index
        key = list(self.schedules)[k]
        t = np.arange(self.steps + 1)
        dots = t[::self._every]
        data = {
            "multiplier": (t[1:], self.multipliers[key]),
            "constant": (t, _finite_or_nan(self.expected["constant"][i])),
            "expected": (t, _finite_or_nan(self.expected[key][i])),
            "runs": (dots, self._means[key][i, ::self._every]),
        }
        return data, self._readout(index)

    def _final(self, key: str, i: int) -> tuple[str, str]:
        """The final expected loss and the runs' mean at T (or where they diverged)."""
        exact = format_value(self.expected[key][i, -1])
        diverged_at = np.asarray(self.runs[key].diverged_at)[i]
        if np.any(diverged_at >= 0):
            first = int(diverged_at[diverged_at >= 0].min())
            return exact, f"diverged at step {first}"
        return exact, format_value(self._means[key][i, -1])

    def _readout(self, index) -> str:
        k, i = index
        key = list(self.schedules)[k]
        rows = [(key, self._color, False, self._final(key, i)),
                ("constant α", NEUTRAL[1], True, self._final("constant", i))]
        caption = f"{self.setting(index)}, σ = {format_value(self.noise)}, T = {self.steps}"
        header = ("", "E[f(w_T)] − f*, exact", f"mean of {self.replicas} runs at T")
        return readout_table(caption, header, rows)
