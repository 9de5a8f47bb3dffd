r"""Chapter 7's explorations: the edge of stability, and the Newton–Schulz polynomial.

* :class:`EdgeExplorer` — full-batch training of chapter 5's network (narrowed to 8 hidden
  units): the sharpness against the step with the optimizer's stability threshold, and the
  loss, over a learning-rate slider (and, with several optimizers, a dropdown);
* :class:`NewtonSchulzExplorer` — what K Newton–Schulz steps do to a singular value
  (:func:`~optlib.analysis.newton_schulz_map`), for a choice of coefficients
  (``NS_COEFFICIENTS``) and a slider over K.

As in ``optlib.explore.explorers``, everything is computed once, for the whole grid, before
the figure is drawn, and every constructor checks its arguments before computing anything.
The training runs are :func:`optlib.network.sharpness_run`; they are deterministic, and on
the default grid a start moved by one unit in the last place (``shadow=True``) changes
neither a number of the readout nor a curve by more than a thousandth of a pixel (the
largest relative change is :math:`2 \cdot 10^{-5}`, for Adam at α = 0.14; below
:math:`10^{-6}` for every other setting). Just past the grid the runs become chaotic:
gradient descent at α = 1.4 and Adam at α = 0.3 end elsewhere from a start one ulp away,
which is why the grid stops at twice each reference rate.
"""

from __future__ import annotations

import html

import numpy as np

from .. import analysis
from .._validate import describe, flag, real, reals, whole, wholes
from ..optimizers import Adam, GradientDescent, Momentum, RMSprop
from ..plotting import COLORS, COLUMN_WIDTH, NEUTRAL, SCREEN_DPI, color_of, loss_axes
from .explorers import _named
from .model import Exploration, Slider, _text, figure_size, format_value, readout_table

__all__ = ["EdgeExplorer", "NewtonSchulzExplorer", "NS_COEFFICIENTS", "edge_optimizers"]


# --------------------------------------------------------------------------
# The edge of stability (chapter 7)
# --------------------------------------------------------------------------
def edge_optimizers() -> dict:
    r"""The optimizers of :class:`EdgeExplorer`, each at its reference rate :math:`\alpha_0`.

    ``{"gradient descent": GradientDescent(lr=0.5), "momentum (β = 0.9)": Momentum(lr=5,
    beta=0.9), "Adam": Adam(lr=0.1)}`` as factories (functions returning a fresh optimizer).
    On the default network each reaches its edge at :math:`\alpha_0` within 40 to 310 steps
    and hovers near it (median 0.89–0.94 of the threshold over the second half of 400 steps).

    Examples:
        >>> list(edge_optimizers())
        ['gradient descent', 'momentum (β = 0.9)', 'Adam']
        >>> edge_optimizers()["Adam"]().lr
        0.1
    """
    return {"gradient descent": lambda: GradientDescent(lr=0.5),
            "momentum (β = 0.9)": lambda: Momentum(lr=5.0, beta=0.9),
            "Adam": lambda: Adam(lr=0.1)}


#: Above this largest relative change of a plotted value (sharpness or loss) between a run
#: and its shadow, :class:`EdgeExplorer` calls a run erratic (1 %: about a pixel).
ERRATIC_CHANGE = 0.01

#: A loss "rises" at a step where it grows by more than this relative amount (so that a
#: change in the last bits, which another CPU may give, does not count as a rise).
RISE_TOLERANCE = 1e-9


def _formula(optimizer) -> tuple[str, str]:
    """The threshold's formula and the sharpness it bounds, as the readout shows them."""
    if isinstance(optimizer, Adam):
        return "(2+2β₁)/((1−β₁)α)", "λ_max(P⁻¹H)"
    if isinstance(optimizer, RMSprop):
        return "2/α", "λ_max(P⁻¹H)"
    if isinstance(optimizer, Momentum):
        if optimizer.nesterov:
            return "2(1+β)/((1+2β)(1−β)α)", "λ_max(H)"
        return "2(1+β)/((1−β)α)", "λ_max(H)"
    return "2/α", "λ_max(H)"


def _color(optimizer, label: str, k: int) -> str:
    """The book's colour of the optimizer's class (Nesterov momentum: ``Nesterov``)."""
    name = type(optimizer).__name__
    if isinstance(optimizer, Momentum) and optimizer.nesterov:
        name = "Nesterov"
    return COLORS.get(name, color_of(label, k))


def _rises(loss: np.ndarray) -> int:
    """The steps at which the (finite) loss grew by more than ``RISE_TOLERANCE`` (relative)."""
    with np.errstate(invalid="ignore"):
        return int(np.sum(loss[1:] > loss[:-1] * (1.0 + RISE_TOLERANCE)))


def _change(a: np.ndarray, b: np.ndarray) -> float:
    """The largest relative difference of two records (inf where one is nan, the other not)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    both = np.isfinite(a) & np.isfinite(b)
    if np.any(np.isfinite(a) != np.isfinite(b)):
        return float("inf")
    if not both.any():
        return 0.0
    scale = np.maximum(np.abs(a[both]), 1e-300)
    return float(np.max(np.abs(a[both] - b[both]) / scale))


class EdgeExplorer(Exploration):
    r"""The edge of stability: sharpness and loss of full-batch training, over the learning rate.

    Each optimizer trains the network on the whole training set (full batch) for ``steps``
    steps at the learning rates :math:`\alpha = m\,\alpha_0` (:math:`\alpha_0`: the rate its
    factory sets, :math:`m` the slider's multiples), from the same start, with
    :func:`~optlib.network.sharpness_run`: the loss after every step, and every ``every``
    steps the sharpness :math:`\lambda_{\max}(H)` — for Adam the preconditioned sharpness
    :math:`\lambda_{\max}(P_t^{-1}H)` — by power iteration. Left: that sharpness against the
    step, with the optimizer's stability threshold
    (:func:`~optlib.network.stability_threshold`),

    .. math::

        \frac{2}{\alpha}\ \text{(gradient descent)}, \qquad
        \frac{2(1+\beta)}{(1-\beta)\alpha}\ \text{(EMA momentum)}, \qquad
        \frac{2+2\beta_1}{(1-\beta_1)\alpha} = \frac{38}{\alpha}\ \text{(Adam, } \beta_1 = 0.9),

    the curvature above which chapter 1's (and 2's) quadratic would diverge. Cohen et al.
    (2021, arXiv:2103.00065; 2022, arXiv:2207.14484) found that the sharpness rises to it
    (*progressive sharpening*) and then hovers there while the loss keeps falling, not
    monotonically (right: the full-batch loss, log scale).

    The readout gives the threshold and, for the sharpness over the threshold (the *ratio*,
    1 at the edge): its median and range over the second half of the run, and the first
    step at which it reached 0.9; the loss at the start and the end, and at how many steps
    it rose (by more than 10⁻⁹, relative). A run that diverges (loss
    above ``max_loss`` or not finite) stops and says so.

    With ``shadow=True`` every run is repeated from its start moved by one unit in the last
    place (:func:`~optlib.network.perturb_ulps`); a run whose shadow's loss or sharpness
    differs anywhere by more than 1 % (relative), or diverges at another
    step, is *erratic*: its curves depend on the last bits of the arithmetic, and the readout
    says so instead of giving numbers that another CPU would not reproduce.

    Args:
        model: the :class:`~optlib.network.MLP` (default ``MLP(sizes=(64, 8, 10), seed=0)``:
            chapter 5's network with 8 hidden units, which stays at its edge for hundreds of
            steps instead of fitting the digits within a few dozen).
        data: the :class:`~optlib.network.Digits` split or ``(X, y)`` (default
            ``load_digits_split(test_fraction=0.25, seed=0)``; the training set is used).
        scales: the slider's multiples :math:`m` of each :math:`\alpha_0`, positive,
            distinct as the slider shows them (``{:g}``).
        optimizers: ``{label: factory}``, each factory returning a fresh optimizer with a
            known threshold (gradient descent, momentum, Adam/AdamW, RMSprop; constant
            learning rate) at :math:`\alpha_0`. Default :func:`edge_optimizers`; with one
            optimizer there is no dropdown.
        steps: full-batch steps per run, ≥ 1.
        every: steps between two measurements of the sharpness, ≥ 1.
        iters, tol: the power iteration's most products and stopping tolerance
            (:func:`~optlib.network.sharpness_run`).
        max_loss: a loss above this counts as divergence.
        shadow: repeat every run from a start one ulp away and report erratic runs.
        name: short name for benchmarks and the HTML.
        dpi: pixels per inch.

    Attributes:
        labels: the optimizers' labels, in order.
        base_lrs: ``{label: α₀}``.
        runs: ``{label: [SharpnessRun per scale]}`` (:class:`~optlib.network.SharpnessRun`).
        shadows: ``{label: [SharpnessRun per scale]}`` with ``shadow=True``, else None.
        erratic: ``{label: [bool per scale]}`` (all False without ``shadow``).

    Raises:
        TypeError, ValueError: for an argument of the wrong kind or value (an optimizer
            without a known threshold among them), before any training.

    Examples:
        >>> import numpy as np
        >>> from optlib import GradientDescent
        >>> from optlib.network import MLP
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.random((40, 4)), rng.integers(0, 3, size=40)
        >>> ex = EdgeExplorer(MLP(sizes=(4, 6, 3)), (X, y), scales=(1, 2),
        ...                   optimizers={"GD": lambda: GradientDescent(lr=1.0)},
        ...                   steps=20, every=5)
        >>> ex.shape, [run.threshold for run in ex.runs["GD"]]
        ((2,), [2.0, 1.0])
    """

    name = "edge"

    def __init__(self, model=None, data=None, scales=(0.5, 1.0, 1.4, 2.0), *,
                 optimizers=None, steps: int = 400, every: int = 10, iters: int = 100,
                 tol: float = 1e-5, max_loss: float = 1e3, shadow: bool = False,
                 name: str = "edge", dpi: int = SCREEN_DPI):
        from ..network import (MLP, check_factories, load_digits_split, perturb_ulps,
                               sharpness_run, stability_threshold)
        from ..network.edge import _full_batch

        if model is None:
            model = MLP(sizes=(64, 8, 10), seed=0)
        if not isinstance(model, MLP):
            raise TypeError(f"model must be an optlib.network.MLP or None, got "
                            f"model={describe(model)}")
        if data is None:
            data = load_digits_split(test_fraction=0.25, seed=0)
        X, y = _full_batch(model, data)
        values = reals("scales", scales, low=0.0, low_inclusive=False, ndim=1)
        shown = [f"{m:g}" for m in values]
        if len(set(shown)) != len(shown):
            raise ValueError(f"scales must be distinct as the slider shows them ({{:g}}), got "
                             f"scales={describe(scales)}")
        optimizers = check_factories(edge_optimizers() if optimizers is None else optimizers)
        for label in optimizers:
            if not isinstance(label, str) or not label:
                raise TypeError(f"the keys of optimizers must be non-empty strings, got "
                                f"{label!r} in optimizers={describe(optimizers)}")
        steps = whole("steps", steps, low=1)
        every = whole("every", every, low=1)
        iters = whole("iters", iters, low=1)
        tol = real("tol", tol, low=0.0)
        max_loss = real("max_loss", max_loss, low=0.0, low_inclusive=False)
        self.shadow = flag("shadow", shadow)
        self.name = _text("name", name)
        figure_size(COLUMN_WIDTH, 3.5, dpi)
        # every optimizer at every rate has a threshold (checked before any training)
        made = {}
        for label, make in optimizers.items():
            where = f"optimizers[{label!r}]()"
            opt = make()
            try:
                stability_threshold(opt)
            except (TypeError, ValueError) as error:
                raise type(error)(f"{where}: {error}") from None
            made[label] = (opt, float(opt.lr))

        self.labels = list(optimizers)
        self.scales = tuple(values.tolist())
        self.steps, self.every = steps, every
        self.max_loss = max_loss
        self.base_lrs = {label: base for label, (_, base) in made.items()}
        self._kinds = {label: opt for label, (opt, _) in made.items()}
        self._colors = {label: _color(opt, label, k)
                        for k, (label, (opt, _)) in enumerate(made.items())}
        start = model.init_params()
        shifted = perturb_ulps(start) if self.shadow else None
        self.runs, self.shadows = {}, ({} if self.shadow else None)
        self.erratic = {}
        for label, make in optimizers.items():
            self.runs[label], self.erratic[label] = [], []
            if self.shadow:
                self.shadows[label] = []
            for m in self.scales:
                def fresh(make=make, m=m):
                    opt = make()
                    opt.lr = opt.lr * m
                    return opt
                run = sharpness_run(model, fresh(), (X, y), steps, every=every, iters=iters,
                                    tol=tol, params=start, max_loss=max_loss, progress=False,
                                    label=label)
                self.runs[label].append(run)
                erratic = False
                if self.shadow:
                    twin = sharpness_run(model, fresh(), (X, y), steps, every=every,
                                         iters=iters, tol=tol, params=shifted,
                                         max_loss=max_loss, progress=False, label=label)
                    self.shadows[label].append(twin)
                    erratic = (twin.diverged_at_step != run.diverged_at_step
                               or _change(run.loss, twin.loss) > ERRATIC_CHANGE
                               or _change(run.edge, twin.edge) > ERRATIC_CHANGE)
                self.erratic[label].append(bool(erratic))
        sliders = []
        if len(self.labels) > 1:
            sliders.append(Slider.choice("optimizer", self.labels, label="optimizer"))
            self.background_slider = "optimizer"
        sliders.append(Slider("scale", self.scales, initial=1.0, label="α/α₀", fmt="{:g}"))
        super().__init__(sliders, width=COLUMN_WIDTH, height=3.5, dpi=dpi)

    # -- the figure --------------------------------------------------------------
    def _draw(self, fig):
        self._ax_sharp, self._ax_loss = fig.subplots(1, 2)
        ax = self._ax_sharp
        ax.set_xlim(0, self.steps)
        ax.set_xlabel("step $t$")
        ax.grid(True, which="major", alpha=0.3)
        losses = np.concatenate([r.loss for runs in self.runs.values() for r in runs])
        losses = losses[np.isfinite(losses) & (losses > 0)]
        low, top = (losses.min(), losses.max()) if losses.size else (1e-3, 3.0)
        loss_axes(self._ax_loss, self.steps, title="full-batch training loss",
                  ylim=(low / 1.5, top * 1.5))
        self._ax_loss.set_title("loss")
        # the threshold first: every control moves it, and it is drawn in every frame at a
        # rate ≥ α₀ (the static view's first path; a browser test moves it)
        artists = {"threshold": ax.plot([], [], "--", color=NEUTRAL[0], lw=1.6,
                                        label="stability threshold")[0]}
        for label in self.labels:
            artists[f"sharpness:{label}"] = ax.plot([], [], "-", color=self._colors[label],
                                                    lw=1.8, label=label)[0]
        for label in self.labels:
            artists[f"loss:{label}"] = self._ax_loss.plot([], [], "-",
                                                          color=self._colors[label], lw=1.4,
                                                          label=label)[0]
        self._show_background(0)
        return artists

    def _show_background(self, k: int) -> None:
        label = self.labels[k]
        formula, sharp = _formula(self._kinds[label])
        ax = self._ax_sharp
        ax.set_ylabel("$\\lambda_{\\max}(P^{-1}H)$" if "P" in sharp else
                      "$\\lambda_{\\max}(H)$")
        ax.set_title("preconditioned sharpness" if "P" in sharp else "sharpness")
        ax.set_ylim(0.0, self._top(label))

    def _top(self, label: str) -> float:
        """The top of the sharpness panel for ``label``: above every measured value and the
        thresholds of the rates ≥ α₀ (a smaller rate's threshold may lie above it)."""
        values = [r.threshold for r, m in zip(self.runs[label], self.scales) if m >= 1.0]
        for r in self.runs[label]:
            edge = r.edge[np.isfinite(r.edge)]
            values.append(edge.max() if edge.size else 0.0)
        return max(values) * 1.08 if max(values) > 0 else 1.0

    # -- the frames ------------------------------------------------------------------
    def _split(self, index) -> tuple[int, int]:
        """``(optimizer index, scale index)`` of a grid index."""
        return (index[0], index[1]) if len(index) == 2 else (0, index[0])

    def frame(self, index):
        k, i = self._split(index)
        data = {}
        for j, label in enumerate(self.labels):
            run = self.runs[label][i]
            shown = j == k
            data[f"sharpness:{label}"] = ((run.measured_at, run.edge) if shown else ([], []))
            data[f"loss:{label}"] = ((np.arange(self.steps + 1), run.loss) if shown
                                     else ([], []))
        run = self.runs[self.labels[k]][i]
        data["threshold"] = ([0.0, float(self.steps)], [run.threshold, run.threshold])
        return data, self._readout(index)

    def summary(self, label: str, i: int) -> dict:
        """The numbers the readout gives for optimizer ``label`` at scale index ``i``.

        Returns:
            ``{"lr", "threshold", "median", "low", "high", "first", "loss0", "loss",
            "rises", "diverged_at", "erratic"}``: the learning rate and threshold; the
            median, least and largest ratio over the second half of the run (measurements
            at steps ≥ steps/2; nan if none is finite); the first measured step with a ratio
            ≥ 0.9 (-1: none); the loss at the start and the last finite one; the number of
            rises; the step of a divergence (-1: none); whether the run is erratic.
        """
        run = self.runs[label][i]
        half = run.ratio_after(0.5)
        half = half[np.isfinite(half)]
        loss = run.loss[np.isfinite(run.loss)]
        return {"lr": self.base_lrs[label] * self.scales[i], "threshold": run.threshold,
                "median": float(np.median(half)) if half.size else float("nan"),
                "low": float(half.min()) if half.size else float("nan"),
                "high": float(half.max()) if half.size else float("nan"),
                "first": run.steps_to(0.9), "loss0": float(run.loss[0]),
                "loss": float(loss[-1]), "rises": _rises(loss),
                "diverged_at": run.diverged_at_step, "erratic": self.erratic[label][i]}

    def _readout(self, index) -> str:
        k, i = self._split(index)
        label = self.labels[k]
        s = self.summary(label, i)
        formula, sharp = _formula(self._kinds[label])
        color = self._colors[label]
        caption = (f"{self.setting(index)}: α = {format_value(s['lr'])}, {self.steps} "
                   "full-batch steps")
        first_half = self.steps - self.steps // 2
        if s["erratic"]:
            erratic = "erratic: a start one ulp away gives another run"
            rows = [(f"threshold {formula}", NEUTRAL[0], True, (format_value(s["threshold"]),)),
                    (f"{sharp} / threshold", color, False, (erratic,)),
                    ("loss", color, False, (erratic,))]
            return readout_table(caption, ("", "measured"), rows)
        if np.isfinite(s["median"]):
            ratio = (f"median {s['median']:.2f}, from {s['low']:.2f} to {s['high']:.2f} "
                     f"(steps {first_half}–{self.steps})")
        else:
            ratio = "—"
        first = f"step {s['first']}" if s["first"] >= 0 else "never"
        if s["diverged_at"] >= 0:
            loss = (f"diverged at step {s['diverged_at']} (loss above "
                    f"{format_value(self.max_loss)} or not finite)")
        else:
            loss = (f"{format_value(s['loss0'])} → {format_value(s['loss'])}, rose at "
                    f"{s['rises']} of {self.steps} steps")
        threshold = format_value(s["threshold"])
        if s["threshold"] > self._top(label):
            threshold += " (above the top of the panel)"
        rows = [(f"threshold {formula}", NEUTRAL[0], True, (threshold,)),
                (f"{sharp} / threshold, second half", color, False, (ratio,)),
                (f"{sharp} / threshold first ≥ 0.9", color, False, (first,)),
                ("loss", color, False, (loss,))]
        return readout_table(caption, ("", "measured"), rows)


# --------------------------------------------------------------------------
# The Newton–Schulz polynomial (chapter 7)
# --------------------------------------------------------------------------
#: The coefficient sets of :class:`NewtonSchulzExplorer`: ``{name: (a, b, c)}`` of
#: :math:`\varphi(\sigma) = a\sigma + b\sigma^3 + c\sigma^5`.
#:
#: * Muon's (Jordan et al. 2024; torch.optim.Muon's default): slope 3.4445 at 0, so small
#:   singular values grow fast, at the price of not converging to 1;
#: * the cubic Newton–Schulz iteration :math:`\tfrac12\sigma(3 - \sigma^2)` (Higham 2008,
#:   *Functions of Matrices*, §8.3; Björck & Bowie 1971), which converges to exactly 1;
#: * the quintic of the same family, :math:`\tfrac18\sigma(15 - 10\sigma^2 + 3\sigma^4)`
#:   (the Taylor polynomial of :math:`\sigma(1-(1-\sigma^2))^{-1/2}` to second order, with
#:   :math:`\varphi'(1) = \varphi''(1) = 0`), the step Polar Express (Amsel et al. 2025,
#:   arXiv:2505.16932) ends with.
NS_COEFFICIENTS = {
    "Muon (3.4445, −4.775, 2.0315)": (3.4445, -4.7750, 2.0315),
    "cubic (1.5, −0.5, 0)": (1.5, -0.5, 0.0),
    "quintic (1.875, −1.25, 0.375)": (1.875, -1.25, 0.375),
}

#: Points of the grid on which :class:`NewtonSchulzExplorer` finds the range of the outputs.
RANGE_POINTS = 8001


class NewtonSchulzExplorer(Exploration):
    r"""What K Newton–Schulz steps do to a singular value, for a choice of coefficients.

    The Newton–Schulz iteration (:func:`~optlib.analysis.orthogonalize`, Muon's) keeps the
    singular vectors of :math:`X_0 = D/\lVert D\rVert_F` and maps each singular value
    :math:`\sigma \in [0, 1]` through :math:`\varphi^K`
    (:func:`~optlib.analysis.newton_schulz_map`),

    .. math::

        \varphi(\sigma) = a\sigma + b\sigma^3 + c\sigma^5, \qquad
        \varphi^K = \varphi \circ \cdots \circ \varphi \ (K \text{ times}),

    so the result is orthogonal when :math:`\varphi^K(\sigma) = 1` for every singular value.
    Left: :math:`\varphi^K(\sigma)` against :math:`\sigma \in [0, 1]`, with the target 1
    and the input (:math:`K = 0`, the diagonal); right: the same against :math:`\sigma` on a
    log scale, where a singular value far below 1 grows by the factor :math:`a` per step
    (:math:`\varphi(\sigma) \approx a\sigma`) until it nears 1. The readout gives the range of
    :math:`\varphi^K(\sigma)` over :math:`\sigma \in [\sigma_{\min}, 1]` (on a grid of
    8001 points uniform in :math:`\log\sigma`; for the three default sets within
    :math:`10^{-6}` of a grid of a million points) and its largest
    distance from 1 — how far from orthogonal the result is when the smallest normalised
    singular value is :math:`\sigma_{\min}` — and the factor :math:`a^K`.

    Args:
        coefficients: ``{name: (a, b, c)}``, the dropdown's choices in order (three finite
            numbers each). Default ``NS_COEFFICIENTS``.
        steps: the slider's numbers of steps K, distinct whole numbers ≥ 0 (default 0–10).
        s_min: :math:`\sigma_{\min} \in (0, 1)`, the smallest singular value the readout
            considers.
        name: short name for benchmarks and the HTML.
        dpi: pixels per inch.

    Attributes:
        ranges: ``{name: array (len(steps), 2)}``: least and largest
            :math:`\varphi^K(\sigma)` over :math:`[\sigma_{\min}, 1]`.

    Raises:
        TypeError, ValueError: for an argument of the wrong kind or value.

    Examples:
        >>> ex = NewtonSchulzExplorer(steps=(0, 5))
        >>> ex.ranges["Muon (3.4445, −4.775, 2.0315)"][1].round(3).tolist()
        [0.682, 1.134]
    """

    name = "newton_schulz"

    def __init__(self, coefficients=None, steps=tuple(range(11)), s_min: float = 0.01, *,
                 name: str = "newton_schulz", dpi: int = SCREEN_DPI):
        chosen = _named("coefficients", NS_COEFFICIENTS if coefficients is None
                        else coefficients)
        sets = {}
        for key, value in chosen.items():
            try:
                analysis.newton_schulz_map(0.5, steps=1, coefficients=value)
            except (TypeError, ValueError) as error:
                raise type(error)(f"coefficients[{key!r}]: {error}") from None
            sets[key] = tuple(float(v) for v in np.asarray(value, dtype=float))
        given, steps = steps, wholes("steps", steps, low=0)
        if steps.ndim != 1 or steps.size == 0 or np.unique(steps).size != steps.size:
            raise ValueError(f"steps must be distinct whole numbers ≥ 0 in a 1-d sequence, "
                             f"got steps={describe(given)}")
        self.s_min = real("s_min", s_min, low=0.0, high=1.0, low_inclusive=False,
                          high_inclusive=False)
        self.name = _text("name", name)
        figure_size(COLUMN_WIDTH, 3.5, dpi)
        self.coefficients = sets
        self.steps = tuple(int(k) for k in steps)
        # Muon's colour once the book's palette has one; until then the darkest grey, drawn
        # thicker than the references (which are dashed or dotted, in lighter greys)
        self._color = COLORS.get("Muon", NEUTRAL[0])
        # the curves: σ ∈ [0, 1] (with the first thousandth resolved, where the curve rises)
        self._linear = np.unique(np.concatenate([np.linspace(0.0, 1.0, 201),
                                                 np.geomspace(1e-6, 4e-3, 30)]))
        self._log = np.geomspace(1e-6, 1.0, 241)
        fine = np.unique(np.concatenate([np.geomspace(self.s_min, 1.0, RANGE_POINTS),
                                         [self.s_min, 1.0]]))
        self.ranges = {}
        for key, abc in sets.items():
            out = np.array([analysis.newton_schulz_map(fine, steps=k, coefficients=abc)
                            for k in self.steps])
            self.ranges[key] = np.column_stack([out.min(axis=1),
                                                out.max(axis=1)])
        top = max(1.0, *(float(np.nanmax(np.where(np.isfinite(r), r, np.nan)))
                         for r in self.ranges.values() if np.isfinite(r).any()))
        self._top = min(top, 3.0) * 1.08 + 0.02
        sliders = [Slider.choice("coefficients", list(sets), label="coefficients"),
                   Slider("steps", tuple(float(k) for k in self.steps),
                          initial=5 if 5 in self.steps else None, label="K", fmt="{:.0f}")]
        super().__init__(sliders, width=COLUMN_WIDTH, height=3.5, dpi=dpi)

    def _draw(self, fig):
        ax_lin, ax_log = fig.subplots(1, 2)
        ax_log.set_xscale("log")
        for ax, (lo, hi) in ((ax_lin, (0.0, 1.0)), (ax_log, (1e-6, 1.0))):
            ax.set_xlim(lo, hi)
            ax.set_ylim(0.0, self._top)
            ax.grid(True, which="major", alpha=0.3)
            ax.axhline(1.0, color=NEUTRAL[1], ls="--", lw=1.3, label="1 (orthogonal)")
            ax.axvline(self.s_min, color=NEUTRAL[2], ls=":", lw=1.3,
                       label=f"$\\sigma_{{\\min}}$ = {self.s_min:g}")
            ax.set_xlabel(r"singular value in, $\sigma$")
        grid = np.linspace(0.0, 1.0, 101)
        ax_lin.plot(grid, grid, ":", color=NEUTRAL[2], lw=1.3, label="input (K = 0)")
        ax_log.plot(self._log, self._log, ":", color=NEUTRAL[2], lw=1.3, label="input (K = 0)")
        ax_lin.set_ylabel(r"out, $\varphi^K(\sigma)$")
        ax_lin.set_title(r"$\sigma \in [0, 1]$")
        ax_log.set_title(r"small $\sigma$ (log scale)")
        label = "φᴷ(σ) after K steps"
        return {"map": ax_lin.plot([], [], "-", color=self._color, lw=2.2, label=label)[0],
                "map_log": ax_log.plot([], [], "-", color=self._color, lw=2.2,
                                       label=label)[0]}

    def frame(self, index):
        j, i = index
        key = list(self.coefficients)[j]
        abc, k = self.coefficients[key], self.steps[i]
        data = {"map": (self._linear, analysis.newton_schulz_map(self._linear, steps=k,
                                                                  coefficients=abc)),
                "map_log": (self._log, analysis.newton_schulz_map(self._log, steps=k,
                                                                   coefficients=abc))}
        return data, self._readout(index)

    def _readout(self, index) -> str:
        j, i = index
        key = list(self.coefficients)[j]
        (a, _, _), k = self.coefficients[key], self.steps[i]
        low, high = self.ranges[key][i]
        with np.errstate(over="ignore", invalid="ignore"):
            far = max(abs(1.0 - low), abs(high - 1.0))
            gain = a ** k
        smin = f"{self.s_min:g}"
        return (f"{html.escape(self.setting(index))}: every σ in [{smin}, 1] comes out in "
                f"[{format_value(low)}, {format_value(high)}], at most "
                f"<b>{format_value(far)}</b> from 1; a small σ is multiplied by "
                f"aᴷ = {format_value(gain)}")
