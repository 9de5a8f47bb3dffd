"""Figures `explore_latency_<name>` and `static_bytes_<name>` for the chapters' explorations.

:func:`explorations` builds every exploration exactly as the chapters
(``chapters/01_oscillation.ipynb``, ``chapters/02_momentum.ipynb``) do, in one
place, so that a chapter and its benchmark can be matched. For each one:

* ``explore_latency_<name>`` — median milliseconds from a programmatic slider
  change (``widget().controls[i].value = k``) to the new PNG being set on the
  image widget. The widget's callback is synchronous (update the artists,
  blit, encode the PNG, set ``image.value``), so the assignment is timed. The
  sliders are cycled in turn, each through its whole grid, after a warm-up.
* ``static_bytes_<name>`` — bytes of its self-contained static HTML
  (``static_html()``, UTF-8).

Goal: ≤ 50 ms per slider change.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import optlib
from optlib.explore import EMAExplorer, MomentumRateExplorer, Slider, TrajectoryExplorer
from optlib.objectives import Quadratic

from .common import emit, log

WARMUP = 5        # slider changes before timing
CHANGES = 60      # timed slider changes (median over these)
GOAL_MS = 50.0


def explorations() -> list:
    """The explorations of the chapters, constructed as the chapters construct them.

    Keep this in step with the chapters' cells (same grids, formats and notes:
    a note is evaluated for every frame of the static HTML and on every live
    slider change, so it is part of what is measured).
    """
    from optlib import analysis

    bowl = Quadratic()                        # chapters 1 and 2: curvatures (1, 25)
    tilted = Quadratic(angle=np.pi / 6)       # chapter 1: the same bowl rotated by 30°
    eig = np.linalg.eigvalsh(tilted.hessian)
    return [
        # chapter 1 (01_oscillation): the learning rate on the elongated bowl
        TrajectoryExplorer(
            bowl, optlib.GradientDescent,
            [Slider("lr", np.round(np.linspace(0.005, 0.085, 33), 4), initial=0.05,
                    fmt="{:.4f}")],
            steps=60, name="gd_alpha",
            note=lambda v: (f"factors |1−αλ₁| = {analysis.gd_factors(v['lr'], bowl)[0]:.3f}, "
                            f"|1−αλ₂| = {analysis.gd_factors(v['lr'], bowl)[1]:.3f}; "
                            f"predicted rate {analysis.gd_rate(v['lr'], bowl):.3f}")),
        # chapter 1: the rotated bowl, and the same run in the eigenbasis
        TrajectoryExplorer(
            tilted, optlib.GradientDescent,
            [Slider("lr", np.round(np.linspace(0.005, 0.085, 17), 4), initial=0.05,
                    fmt="{:.3f}")],
            steps=60, eigenbasis=True, name="gd_rotated",
            note=lambda v: (f"eigenvalues 1 and 25: predicted rate "
                            f"{analysis.gd_rate(v['lr'], eig):.3f}, "
                            f"limit 2/λ_max = {analysis.gd_stability_limit(eig):.3f}")),
        # chapter 2 (02_momentum): momentum's two hyperparameters
        TrajectoryExplorer(
            bowl, optlib.Momentum,
            [Slider("lr", [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6], initial=0.1),
             Slider("beta", [0.0, 0.2, analysis.momentum_optimal(bowl).beta, 0.6, 0.7, 0.8, 0.9],
                    initial=0.7, fmt="{:.2f}")],
            steps=80, name="momentum_alpha_beta",
            note=lambda v: (f"predicted rate "
                            f"{analysis.momentum_spectral_radius(v['lr'], v['beta'], bowl):.3f}")),
        # chapter 2: the rate map over (α, β) with a probe
        MomentumRateExplorer(),
        # chapter 2: exponentially weighted averages
        EMAExplorer(),
    ]


def _changes(controls, count: int):
    """(control, new value) pairs: the sliders in turn, each stepping through its grid."""
    n = [len(c.options) for c in controls]
    values = [c.value for c in controls]
    for j in range(count):
        i = j % len(controls)
        values[i] = (values[i] + 1) % n[i]
        yield controls[i], values[i]


def latency_ms(exploration) -> tuple[float, int]:
    """Median ms of a slider change → new PNG on the image widget; and the number timed."""
    view = exploration.widget()
    image = view.image
    times = []
    for j, (control, value) in enumerate(_changes(view.controls, WARMUP + CHANGES)):
        before = image.value
        start = time.perf_counter()
        control.value = value
        elapsed = time.perf_counter() - start
        if image.value is before:
            raise RuntimeError(f"{exploration.name}: a slider change did not set a new PNG")
        if j >= WARMUP:
            times.append(elapsed)
    return statistics.median(times) * 1e3, len(times)


def main() -> None:
    log("explore: building the chapters' explorations ...")
    start = time.perf_counter()
    built = explorations()
    log(f"explore: built {len(built)} explorations in {time.perf_counter() - start:.1f} s")
    for exploration in built:
        name = exploration.name
        log(f"explore: {name} {exploration.shape}: timing {CHANGES} slider changes ...")
        ms, n = latency_ms(exploration)
        if ms > GOAL_MS:
            log(f"explore: {name}: {ms:.1f} ms per change is above the {GOAL_MS:.0f} ms goal")
        emit(f"explore_latency_{name}", round(ms, 2), "ms", repeats=n,
             grid=list(exploration.shape))
        log(f"explore: {name}: encoding the static HTML ...")
        size = len(exploration.static_html().encode("utf-8"))
        emit(f"static_bytes_{name}", size, "bytes", frames=int(np.prod(exploration.shape)))
