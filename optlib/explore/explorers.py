r"""The chapters' explorations: each precomputes its runs over the whole slider grid.

* :class:`TrajectoryExplorer` — an optimizer's path on a contour plot, with its
  loss curve (or its effective step sizes), per hyperparameter setting;
* :class:`MomentumRateExplorer` — momentum's rate map over (α, β) with a probe;
* :class:`EMAExplorer` — the weights of an exponentially weighted average;
* :class:`ComparisonExplorer` — several optimizers on a choice of objectives.

Chapter 6's explorations of noisy gradients are in ``optlib.explore.noise``.

The runs are batched: one ``step`` call advances every grid point (array
hyperparameters of shape ``(n1, ..., nk, 1)``). Every constructor checks its
arguments before computing anything (``TypeError`` for the wrong kind,
``ValueError`` for a wrong value, naming the argument and the value).
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np

from .. import analysis
from .._validate import choice, describe, flag, instance, real, reals, whole, wholes
from ..objectives import Quadratic
from ..optimizers import Momentum, Optimizer
from ..plotting import COLORS, COLUMN_WIDTH, NEUTRAL, SCREEN_DPI, color_of, contour, loss_axes
from ..runs import run
from .model import (Exploration, Slider, _text, check_sliders, figure_size, format_value,
                    readout_table)

__all__ = ["TrajectoryExplorer", "MomentumRateExplorer", "EMAExplorer", "ComparisonExplorer"]

#: a run is stopped as diverged once f(w) exceeds this many times max(1, |f(w₀)|)
#: (``optlib.run``'s default rule, passed explicitly so that the readout can quote the bound)
_BLOWUP = 1e6

#: what an exploration uses of an objective (the contour plot, the runs, the readout)
_OBJECTIVE_ATTRIBUTES = ("value", "grad", "start", "minimum", "min_value", "bounds", "grid",
                         "name")


def _objective(name: str, value):
    """``value`` if it has what an exploration uses of an objective, else ``TypeError``."""
    missing = [a for a in _OBJECTIVE_ATTRIBUTES if not hasattr(value, a)]
    if missing:
        raise TypeError(f"{name} must be an objective such as optlib.objectives.Quadratic() "
                        f"(it lacks {', '.join(missing)}), got {name}={describe(value)}")
    return value


def _callable(name: str, value, *, optional: bool = False):
    if optional and value is None:
        return None
    if not callable(value):
        raise TypeError(f"{name} must be callable{' or None' if optional else ''}, got "
                        f"{name}={describe(value)} of type {type(value).__name__}")
    return value


def _named(name: str, value) -> dict:
    """A non-empty mapping with string keys, as a dict (order kept)."""
    instance(name, value, Mapping, "a dict")
    if not value:
        raise ValueError(f"{name} must name at least one entry, got {name}={describe(value)}")
    _string_keys(name, value)
    return dict(value)


def _string_keys(name: str, value) -> None:
    bad = [key for key in value if not isinstance(key, str)]
    if bad:
        raise TypeError(f"the keys of {name} must be strings, got {bad[0]!r} in "
                        f"{name}={describe(value)}")


def _max_loss(objective, start) -> float | None:
    """The loss bound of a run from ``start`` (``None`` for a batch of start points)."""
    start = np.asarray(start, dtype=float)
    if start.shape != (2,):
        return None
    with np.errstate(all="ignore"):
        f0 = float(objective.value(start))
    return _BLOWUP * max(1.0, abs(f0)) if np.isfinite(f0) else None


def _diverged_text(step: int, max_loss: float | None) -> str:
    """``"diverged at step 7: f(w) exceeded 5e+07, so the run stops there"`` (HTML)."""
    if max_loss is None:
        return f"<b>diverged</b> at step {int(step)}"
    return (f"<b>diverged</b> at step {int(step)}: f(w) exceeded {format_value(max_loss)}, so "
            f"the run stops there")


# --------------------------------------------------------------------------
# Trajectories on a contour plot, with a loss curve
# --------------------------------------------------------------------------
class TrajectoryExplorer(Exploration):
    r"""An optimizer's path on a contour plot and its loss curve, per slider setting.

    Args:
        objective: the objective (``optlib.objectives``).
        optimizer: optimizer class or factory called with keyword hyperparameters;
            slider hyperparameters arrive as arrays of shape ``(n1, ..., nk, 1)``.
        sliders: the sliders, one per hyperparameter (distinct names).
        fixed: further hyperparameters, held constant (a dict; it must not set
            a slider's hyperparameter).
        steps: steps per run, a whole number ≥ 1.
        start: start point, 2 numbers (default ``objective.start``).
        eigenbasis: add a panel with the path in the Hessian's eigenbasis
            (for a :class:`~optlib.objectives.Quadratic`, possibly rotated).
        panel: the right-hand panel: ``"loss"`` (:math:`f(w_t) - f^*`) or
            ``"steps"``, the effective step size of each coordinate,
            :math:`-\Delta w_i / g_i` (:math:`\alpha` for gradient descent,
            :math:`\alpha/(\sqrt{s_i}+\varepsilon)` for RMSprop).
        note: optional ``note(values) -> str`` appended to the readout (as
            text), e.g. a closed-form prediction for these slider values.
        name: short name for benchmarks and the HTML.
        color: colour of the path (a matplotlib colour); default: the
            optimizer's colour in the book.
        width, height, dpi: figure size (default: the column's width, 7 inches,
            and 3.25 inches high, 6 with ``eigenbasis``; 96 pixels per inch).

    Raises:
        TypeError, ValueError: for an argument of the wrong kind or value,
            before anything is computed.

    Examples:
        >>> from optlib import GradientDescent
        >>> from optlib.objectives import Quadratic
        >>> ex = TrajectoryExplorer(Quadratic(), GradientDescent,
        ...                         [Slider("lr", [0.01, 0.05, 0.09])], steps=30)
        >>> ex.frame((2,))[1].startswith("α = 0.09")
        True
        >>> TrajectoryExplorer(Quadratic(), GradientDescent, [Slider("lr", [0.01])],
        ...                    steps=0)
        Traceback (most recent call last):
        ...
        ValueError: steps must be a whole number ≥ 1, got steps=0
    """

    def __init__(self, objective, optimizer, sliders, *, fixed=None, steps: int = 60,
                 start=None, eigenbasis: bool = False, note=None, name: str = "trajectory",
                 panel: str = "loss", color: str | None = None, width: float = COLUMN_WIDTH,
                 height: float | None = None, dpi: int = SCREEN_DPI):
        objective = _objective("objective", objective)
        _callable("optimizer", optimizer)
        sliders = check_sliders(sliders)
        fixed = self._check_fixed(fixed, sliders)
        steps = whole("steps", steps, low=1)
        if start is not None:
            start = reals("start", start, ndim=1)
            if start.shape != (2,):
                raise ValueError(f"start must be 2 numbers (a point w₀), got "
                                 f"start={describe(start)}")
        eigenbasis = flag("eigenbasis", eigenbasis)
        if eigenbasis and not (hasattr(objective, "eigenvectors")
                               and hasattr(objective, "curvatures")):
            raise TypeError(f"eigenbasis=True needs a Quadratic objective (with eigenvectors), "
                            f"got objective={describe(objective)}")
        self.note = _callable("note", note, optional=True)
        self.name = _text("name", name)
        self.panel = choice("panel", panel, ("loss", "steps"))
        self._color = self._check_color(color, optimizer)
        if height is None:
            height = 6.0 if eigenbasis else 3.25
        width, height, dpi = figure_size(width, height, dpi)

        self.objective = objective
        self.steps = steps
        self.eigenbasis = eigenbasis
        grids = np.meshgrid(*[np.asarray(s.values) for s in sliders], indexing="ij")
        hyper = {s.name: g[..., None] for s, g in zip(sliders, grids)}
        hyper.update(fixed)
        self.optimizer = optimizer(**hyper)
        start = objective.start if start is None else start
        self.max_loss = _max_loss(objective, start)
        self.trajectory = run(self.optimizer, objective, start, steps, max_loss=self.max_loss)
        self._gap = np.maximum(self.trajectory.losses - objective.min_value, 1e-300)
        if self.panel == "steps":
            self.effective_steps = self.trajectory.effective_steps()
        super().__init__(sliders, width=width, height=height, dpi=dpi)

    @staticmethod
    def _check_fixed(fixed, sliders) -> dict:
        if fixed is None:
            return {}
        instance("fixed", fixed, Mapping, "a dict of hyperparameters or None")
        _string_keys("fixed", fixed)
        clash = [s.name for s in sliders if s.name in fixed]
        if clash:
            raise ValueError(f"fixed must not set a hyperparameter that a slider sets "
                             f"({', '.join(map(repr, clash))}), got fixed={describe(fixed)}")
        return dict(fixed)

    @staticmethod
    def _check_color(color, optimizer) -> str:
        if color is None:
            return COLORS.get(getattr(optimizer, "__name__", ""), COLORS["GradientDescent"])
        from matplotlib.colors import is_color_like

        if not is_color_like(color):
            error = ValueError if isinstance(color, str) else TypeError
            raise error(f"color must be a matplotlib colour such as '#d62728' or None, got "
                        f"color={describe(color)}")
        return color

    def _draw(self, fig):
        if self.eigenbasis:
            mosaic = fig.subplot_mosaic([["path", "eigen"], ["right", "right"]])
            axes = [mosaic["path"], mosaic["eigen"], mosaic["right"]]
        else:
            axes = fig.subplots(1, 2, width_ratios=[1.25, 1])
        contour(axes[0], self.objective)
        axes[0].set_title(self.objective.name)
        artists = {
            "path": axes[0].plot([], [], "-o", color=self._color, lw=1.5, ms=2.5, mec="none")[0],
            "end": axes[0].plot([], [], "o", color=self._color, ms=7, mec="black")[0],
        }
        if self.eigenbasis:
            flat = Quadratic(curvatures=self.objective.curvatures)
            contour(axes[1], flat, xlabel="$u_1$ (flat)", ylabel="$u_2$ (steep)")
            axes[1].set_title("the same run, eigenbasis")
            artists["eigen"] = axes[1].plot([], [], "-", color=self._color, lw=1.5)[0]
        if self.panel == "steps":
            artists.update(self._steps_panel(axes[-1]))
            return artists
        finite = self._gap[np.isfinite(self._gap)]
        lo = max(finite.min(), 1e-12) if finite.size else 1e-12
        hi = max(finite.max(), lo * 10) if finite.size else 1.0
        loss_axes(axes[-1], self.steps, title=r"$f(w_t) - f^*$", ylim=(lo / 3, hi * 3))
        axes[-1].set_title("loss")
        artists["loss"] = axes[-1].plot([], [], "-", color=self._color, lw=1.5)[0]
        return artists

    def _steps_panel(self, ax) -> dict:
        eff = self.effective_steps
        finite = eff[np.isfinite(eff) & (eff > 0)]
        # Percentiles, not extremes: where a gradient passes through 0 the ratio spikes.
        lo, hi = np.percentile(finite, [0.5, 99.5]) if finite.size else (1e-3, 1.0)
        loss_axes(ax, self.steps, title=r"effective step $-\Delta w_i / g_i$",
                  ylim=(lo / 2, hi * 2))
        ax.set_title("step size per coordinate")
        xl, yl = getattr(self.objective, "labels", ("$W_1$", "$W_2$"))
        return {"step1": ax.plot([], [], "-", color=NEUTRAL[0], lw=1.8,
                                 label=f"step of {xl}")[0],
                "step2": ax.plot([], [], "--", color=NEUTRAL[2], lw=1.8,
                                 label=f"step of {yl}")[0]}

    def frame(self, index):
        index = tuple(index)
        pts = self.trajectory.points[(slice(None),) + index]
        gap = self._gap[(slice(None),) + index]
        finite = np.all(np.isfinite(pts), axis=-1)
        last = pts[finite][-1:]
        data = {"path": (pts[:, 0], pts[:, 1]), "end": (last[:, 0], last[:, 1])}
        if self.panel == "steps":
            eff = self.effective_steps[(slice(None),) + index]
            t = np.arange(1, self.steps + 1)
            data["step1"], data["step2"] = (t, eff[:, 0]), (t, eff[:, 1])
        else:
            data["loss"] = (np.arange(self.steps + 1), gap)
        if self.eigenbasis:
            u = (pts - self.objective.minimum) @ self.objective.eigenvectors
            data["eigen"] = (u[:, 0], u[:, 1])
        return data, self._readout(index, gap)

    def _readout(self, index, gap) -> str:
        diverged_at = np.asarray(self.trajectory.diverged_at)[index]
        if diverged_at >= 0:
            body = _diverged_text(diverged_at, self.max_loss)
        else:
            body = f"after {self.steps} steps f(w) − f* = {format_value(gap[-1])}"
            if gap[-1] > gap[0]:
                body += f", up from {format_value(gap[0])} at the start"
        text = f"{html.escape(self.setting(index))}: {body}"
        if self.note is not None:
            text += f"; {html.escape(str(self.note(self.values(index))))}"
        return text


# --------------------------------------------------------------------------
# Momentum: the convergence-rate map over (α, β) with a probe
# --------------------------------------------------------------------------
class MomentumRateExplorer(Exploration):
    r"""Heatmap of momentum's rate over (α, β) on a quadratic, with a movable probe.

    The map shows the spectral radius of the iteration matrix
    (:func:`optlib.analysis.momentum_spectral_radius`); the star marks the
    theoretical optimum :func:`optlib.analysis.momentum_optimal`. The probe's
    (α, β) run is drawn on the contour plot, and the readout compares its
    measured rate with the predicted one.

    Args:
        objective: a :class:`~optlib.objectives.Quadratic` (default ``Quadratic()``).
        lrs: the learning rates of the probe's slider, positive numbers (default:
            17 values from 1/20 to 20 times the gradient-descent limit 2/λ_max).
        betas: the momentum values of the probe's slider, in [0, 1).
        steps: steps of the probe's run, a whole number ≥ 1.
        fine: points per axis of the map, a whole number ≥ 2.
        dpi: pixels per inch.

    Examples:
        >>> ex = MomentumRateExplorer(lrs=[0.01, 0.05], betas=[0.0, 0.5], steps=20, fine=20)
        >>> ex.shape
        (2, 2)
        >>> MomentumRateExplorer(fine=1)
        Traceback (most recent call last):
        ...
        ValueError: fine must be a whole number ≥ 2, got fine=1
    """

    name = "momentum_rate"

    def __init__(self, objective=None, lrs=None, betas=None, steps: int = 80, fine: int = 160,
                 dpi: int = SCREEN_DPI):
        objective = Quadratic() if objective is None else instance(
            "objective", objective, Quadratic, "a Quadratic (optlib.objectives) or None")
        steps = whole("steps", steps, low=1)
        fine = whole("fine", fine, low=2)
        figure_size(COLUMN_WIDTH, 3.5, dpi)
        lam = objective.curvatures
        limit = analysis.gd_stability_limit(lam)
        lrs = (np.geomspace(limit / 20, limit * 20, 17) if lrs is None else
               reals("lrs", lrs, low=0.0, low_inclusive=False, ndim=1))
        betas = (np.round(np.linspace(0.0, 0.95, 20), 4) if betas is None else
                 reals("betas", betas, low=0.0, high=1.0, high_inclusive=False, ndim=1))
        self.objective = objective
        self.steps = steps
        self.optimum = analysis.momentum_optimal(lam)
        sliders = [Slider("lr", lrs, initial=self.optimum.lr),
                   Slider("beta", betas, initial=self.optimum.beta, fmt="{:.2f}")]
        self._fine_lr = np.geomspace(min(lrs), max(lrs), fine)
        self._fine_beta = np.linspace(min(betas), max(betas), fine)
        self._rates = analysis.momentum_spectral_radius(self._fine_lr[None, :],
                                                        self._fine_beta[:, None], lam)
        grid_lr, grid_beta = np.meshgrid(sliders[0].values, sliders[1].values, indexing="ij")
        self.max_loss = _max_loss(objective, objective.start)
        self.trajectory = run(Momentum(lr=grid_lr[..., None], beta=grid_beta[..., None]),
                              objective, objective.start, steps, max_loss=self.max_loss)
        self.predicted = analysis.momentum_spectral_radius(grid_lr, grid_beta, lam)
        super().__init__(sliders, width=COLUMN_WIDTH, height=3.5, dpi=dpi)

    def _draw(self, fig):
        ax_map, ax_path = fig.subplots(1, 2, width_ratios=[1.2, 1])
        import matplotlib

        cmap = matplotlib.colormaps["viridis_r"].with_extremes(over="0.75")
        image = ax_map.pcolormesh(self._fine_lr, self._fine_beta, self._rates, cmap=cmap,
                                  vmin=self.optimum.rate * 0.9, vmax=1.0, shading="auto")
        ax_map.contour(self._fine_lr, self._fine_beta, self._rates, levels=[1.0],
                       colors="red", linewidths=1.0)
        ax_map.set_xscale("log")
        ax_map.plot([self.optimum.lr], [self.optimum.beta], "*", color="gold", ms=13,
                    mec="black", label="optimum")
        ax_map.set_xlabel(r"learning rate $\alpha$")
        ax_map.set_ylabel(r"momentum $\beta$")
        ax_map.set_title(r"rate $\rho$ (grey: diverges)")
        fig.colorbar(image, ax=ax_map, extend="max", label=r"$\rho$ (lower: faster)")
        contour(ax_path, self.objective)
        ax_path.set_title("the probe's run")
        color = COLORS["Momentum"]
        return {
            "probe": ax_map.plot([], [], "o", color="white", ms=8, mec="black")[0],
            "path": ax_path.plot([], [], "-o", color=color, lw=1.5, ms=2.5, mec="none")[0],
        }

    def frame(self, index):
        i, j = index
        pts = self.trajectory.points[:, i, j]
        lr, beta = self.sliders[0].values[i], self.sliders[1].values[j]
        rho = float(self.predicted[i, j])
        if self.trajectory.diverged[i, j]:
            measured = _diverged_text(self.trajectory.diverged_at[i, j], self.max_loss)
        else:
            measured = f"measured rate {format_value(self._measured(i, j))}"
        regime = analysis.momentum_regime(lr, beta, self.objective.curvatures[-1])
        readout = (f"{html.escape(self.setting((i, j)))}: predicted rate "
                   f"ρ = {format_value(rho)}, {measured}; steep direction: "
                   f"{html.escape(str(regime))}. Optimum α* = {format_value(self.optimum.lr)}, "
                   f"β* = {format_value(self.optimum.beta)}, "
                   f"ρ* = {format_value(self.optimum.rate)}")
        return {"probe": ([lr], [beta]), "path": (pts[:, 0], pts[:, 1])}, readout

    def _measured(self, i, j) -> float:
        d = np.linalg.norm(self.trajectory.points[:, i, j] - self.objective.minimum, axis=-1)
        use = np.flatnonzero(d > 1e-9 * d[0])
        if use.size < 10:
            return float("nan")
        tail = use[use.size // 2:]
        return float(np.exp(np.polyfit(tail, np.log(d[tail]), 1)[0]))


# --------------------------------------------------------------------------
# Exponentially weighted averages
# --------------------------------------------------------------------------
class EMAExplorer(Exploration):
    r"""The weights of an exponentially weighted average, and the average of a noisy signal.

    .. math::

        v_t = \beta\, v_{t-1} + (1-\beta)\, g_t = \sum_{k=1}^{t} (1-\beta)\beta^{t-k} g_k

    Left: the weight of :math:`g_{t-k}` in :math:`v_t`; the dashed line marks the
    window :math:`1/(1-\beta)`. Right: a noisy signal, its average (biased
    toward 0 at the start) and the bias-corrected average :math:`v_t/(1-\beta^t)`.

    Args:
        betas: the slider's values of β, in [0, 1).
        steps: length of the signal, a whole number ≥ 1.
        lags: the weights shown, of lags 0 to ``lags`` (a whole number ≥ 1).
        seed: seed of the signal's noise, a whole number ≥ 0.
        dpi: pixels per inch.

    Examples:
        >>> ex = EMAExplorer(betas=[0.5, 0.9], steps=20, lags=10)
        >>> ex.frame((1,))[1].split(";")[0]
        'β = 0.90: window 1/(1−β) ≈ 10 steps'
    """

    name = "ema"

    def __init__(self, betas=None, steps: int = 100, lags: int = 60, seed: int = 0,
                 dpi: int = SCREEN_DPI):
        betas = ((0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98) if betas is None else
                 reals("betas", betas, low=0.0, high=1.0, high_inclusive=False, ndim=1))
        steps = whole("steps", steps, low=1)
        lags = whole("lags", lags, low=1)
        seed = whole("seed", seed, low=0)
        figure_size(COLUMN_WIDTH, 3.25, dpi)
        self.steps, self.lags = steps, lags
        rng = np.random.default_rng(seed)
        t = np.arange(1, steps + 1)
        self.signal = 1.0 + 0.5 * np.sin(t / 12.0) + rng.normal(0.0, 0.4, steps)
        beta = np.asarray(betas, dtype=float)[:, None]
        # v_t for every beta at once, exactly as Momentum's buffer accumulates it.
        v = np.zeros((beta.shape[0], steps))
        acc = np.zeros((beta.shape[0], 1))
        for k in range(steps):
            acc = beta * acc + (1.0 - beta) * self.signal[k]
            v[:, k] = acc[:, 0]
        self.average = v
        self.corrected = v / analysis.ema_bias(beta, t[None, :])
        super().__init__([Slider("beta", betas, initial=0.9, fmt="{:.2f}")],
                         width=COLUMN_WIDTH, height=3.25, dpi=dpi)

    def _draw(self, fig):
        ax_w, ax_s = fig.subplots(1, 2)
        ax_w.set_xlim(-0.5, self.lags + 0.5)
        ax_w.set_ylim(0, 1.05)
        ax_w.set_xlabel(r"lag $k$")
        ax_w.set_ylabel("weight")
        ax_w.set_title(r"weights $(1-\beta)\beta^k$")
        ax_s.plot(np.arange(1, self.steps + 1), self.signal, ".", color=NEUTRAL[2], ms=4,
                  label="signal $g_t$")
        ax_s.set_xlim(0, self.steps)
        ax_s.set_ylim(min(0.0, self.signal.min()) - 0.1, self.signal.max() + 0.1)
        ax_s.set_xlabel("step $t$")
        ax_s.set_ylabel("value")
        ax_s.set_title("average of a noisy signal")
        artists = {
            "weights": ax_w.plot([], [], "-", color=COLORS["Momentum"], lw=3,
                                 label=r"weight of $g_{t-k}$")[0],
            "window": ax_w.plot([], [], "--", color=NEUTRAL[0], lw=1.2,
                                label=r"window $1/(1-\beta)$")[0],
            "average": ax_s.plot([], [], "-", color=COLORS["Momentum"], lw=2,
                                 label=r"$v_t$")[0],
            "corrected": ax_s.plot([], [], "--", color=COLORS["Adam"], lw=2,
                                   label=r"$v_t / (1-\beta^t)$")[0],
        }
        return artists

    def frame(self, index):
        (i,) = index
        beta = self.sliders[0].values[i]
        k = np.arange(self.lags + 1, dtype=float)
        w = (1.0 - beta) * beta ** k
        # stems: (k, 0) → (k, w), separated by breaks
        sx = np.column_stack([k, k, np.full_like(k, np.nan)]).ravel()
        sy = np.column_stack([np.zeros_like(w), w, np.full_like(w, np.nan)]).ravel()
        window = analysis.ema_window(beta)
        t = np.arange(1, self.steps + 1)
        readout = (f"{html.escape(self.setting((i,)))}: window 1/(1−β) ≈ "
                   f"{format_value(window)} steps; after 1 step the average is (1−β)·g₁ = "
                   f"{format_value(1 - beta)}·g₁, after 10 steps the weights sum to 1 − β¹⁰ = "
                   f"{format_value(analysis.ema_bias(beta, 10))}")
        return {"weights": (sx, sy), "window": ([window, window], [0, 1.05]),
                "average": (t, self.average[i]), "corrected": (t, self.corrected[i])}, readout


# --------------------------------------------------------------------------
# Every optimizer on a choice of objectives
# --------------------------------------------------------------------------
class ComparisonExplorer(Exploration):
    r"""Several optimizers on a choice of objectives, from one start, with a shared step slider.

    Args:
        objectives: ``{name: objective}``; the dropdown chooses one.
        optimizers: ``{label: factory}`` where ``factory(objective)`` returns a
            fresh optimizer (so a learning rate may depend on the objective).
        steps: the step slider's values, whole numbers ≥ 0 (the runs last
            ``max(steps)`` ≥ 1 steps).
        tol: tolerance on :math:`f - f^*` (> 0) for the steps-to-tolerance readout.
        name: short name for benchmarks and the HTML.
        dpi: pixels per inch.

    Attributes:
        trajectories: ``{objective name: {optimizer label: Trajectory}}``.
        max_losses: ``{objective name: bound}``: a run whose f(w) exceeds the bound
            is stopped as diverged (the readout quotes it).

    Examples:
        >>> from optlib import GradientDescent
        >>> from optlib.objectives import Quadratic
        >>> ex = ComparisonExplorer({"bowl": Quadratic()},
        ...                         {"GD": lambda f: GradientDescent(lr=0.05)}, steps=(0, 10))
        >>> from optlib.explore.model import readout_text
        >>> readout_text(ex.frame((0, 1))[1])
        'bowl, step 10 | optimizer | f − f* at step 10 | first ≤ 1e-06 | GD | 11.5 | —'
    """

    background_slider = "objective"

    def __init__(self, objectives: dict, optimizers: dict, steps=(0, 5, 10, 20, 40, 80, 150, 300),
                 tol: float = 1e-6, name: str = "comparison", dpi: int = SCREEN_DPI):
        objectives = _named("objectives", objectives)
        for key, objective in objectives.items():
            _objective(f"objectives[{key!r}]", objective)
        optimizers = _named("optimizers", optimizers)
        for label, make in optimizers.items():
            _callable(f"optimizers[{label!r}]", make)
        given, steps = steps, wholes("steps", steps, low=0)
        if steps.ndim != 1 or steps.max() < 1:
            raise ValueError(f"steps must be a 1-d sequence of whole numbers ≥ 0, the largest "
                             f"≥ 1, got steps={describe(given)}")
        self.tol = real("tol", tol, low=0.0, low_inclusive=False)
        self.name = _text("name", name)
        figure_size(COLUMN_WIDTH, 3.5, dpi)
        self.objectives = objectives
        self.labels = list(optimizers)
        total = int(steps.max())
        self.max_losses = {key: _max_loss(obj, obj.start) for key, obj in objectives.items()}
        self.trajectories = {}
        for key, obj in objectives.items():
            self.trajectories[key] = {}
            for label, make in optimizers.items():
                optimizer = instance(f"optimizers[{label!r}](objectives[{key!r}])", make(obj),
                                     Optimizer, "an optlib optimizer")
                self.trajectories[key][label] = run(optimizer, obj, obj.start, total,
                                                    max_loss=self.max_losses[key])
        self._background_parts = []
        sliders = [Slider.choice("objective", list(objectives), label="objective"),
                   Slider("t", steps, initial=steps[len(steps) // 2], fmt="{:.0f}")]
        super().__init__(sliders, width=COLUMN_WIDTH, height=3.5, dpi=dpi)

    def _color(self, label: str, k: int) -> str:
        return color_of(label, k)

    def _draw(self, fig):
        self._ax_path, self._ax_loss = fig.subplots(1, 2, width_ratios=[1.15, 1])
        artists = {}
        for k, label in enumerate(self.labels):
            color = self._color(label, k)
            artists[f"path:{label}"] = self._ax_path.plot([], [], "-", color=color, lw=1.6,
                                                          label=label)[0]
            artists[f"end:{label}"] = self._ax_path.plot([], [], "o", color=color, ms=6,
                                                         mec="black")[0]
            artists[f"loss:{label}"] = self._ax_loss.plot([], [], "-", color=color, lw=1.6,
                                                          label=label)[0]
        self._show_background(0)
        return artists

    def _show_background(self, k: int) -> None:
        for part in self._background_parts:
            part.remove()
        ax, key = self._ax_path, list(self.objectives)[k]
        objective = self.objectives[key]
        before = set(ax.get_children())
        contour(ax, objective)
        ax.set_title(key)
        self._background_parts = [a for a in ax.get_children() if a not in before]
        gaps = np.concatenate([self._gap(t).ravel() for t in self.trajectories[key].values()])
        finite = gaps[np.isfinite(gaps)]
        lo = max(finite.min(), 1e-16) if finite.size else 1e-12
        hi = max(finite.max(), lo * 10) if finite.size else 1.0
        loss_axes(self._ax_loss, int(self.sliders[1].values[-1]), title=r"$f(w_t) - f^*$",
                  ylim=(lo / 3, hi * 3))
        self._ax_loss.set_title("loss")

    @staticmethod
    def _gap(trajectory) -> np.ndarray:
        return np.maximum(trajectory.losses - trajectory.objective.min_value, 1e-300)

    def frame(self, index):
        k, i = index
        key = list(self.objectives)[k]
        t = int(self.sliders[1].values[i])
        data, rows = {}, []
        for k, (label, traj) in enumerate(self.trajectories[key].items()):
            pts, gap = traj.points[:t + 1], self._gap(traj)[:t + 1]
            finite = np.all(np.isfinite(pts), axis=-1)
            last = pts[finite][-1:]
            data[f"path:{label}"] = (pts[:, 0], pts[:, 1])
            data[f"end:{label}"] = (last[:, 0], last[:, 1])
            data[f"loss:{label}"] = (np.arange(t + 1), gap)
            reached = traj.steps_to(self.tol)
            gap_t = traj.losses[t] - traj.objective.min_value if t < len(traj.losses) else np.nan
            if traj.diverged and traj.diverged_at <= t:
                limit = self.max_losses[key]
                now = f"diverged at step {traj.diverged_at}" + (
                    "" if limit is None else f" (f(w) > {format_value(limit)})")
            else:
                now = format_value(gap_t)
            first = f"step {reached}" if 0 <= reached <= t else "—"
            rows.append((label, self._color(label, k), False, (now, first)))
        readout = readout_table(f"{key}, step {t}",
                                ("optimizer", f"f − f* at step {t}", f"first ≤ {self.tol:g}"),
                                rows)
        return data, readout

    def steps_table(self) -> str:
        """Steps to reach f − f* ≤ tol for every optimizer (rows) and objective (columns)."""
        keys = list(self.objectives)
        width = max(len(label) for label in self.labels) + 2
        lines = [" " * width + "".join(f"{key:>20}" for key in keys)]
        for label in self.labels:
            cells = []
            for key in keys:
                traj = self.trajectories[key][label]
                n = traj.steps_to(self.tol)
                cells.append("diverged" if traj.diverged else ("—" if n < 0 else str(n)))
            lines.append(f"{label:<{width}}" + "".join(f"{c:>20}" for c in cells))
        return "\n".join(lines)
