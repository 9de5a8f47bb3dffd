r"""Exercises of chapter 2, *Momentum* (``chapters/02_momentum.ipynb``).

Every expected answer is computed with optlib (``optlib.analysis``, ``optlib.Momentum``,
``optlib.run`` and the objectives), never typed in, so the checks stay true if the
library's conventions are ever changed together with the chapter. The parameters are
not the chapter's, so no answer is printed in its text.

=====  ==========  ====================================================================  ===========
id     level       asks for                                                              answer
=====  ==========  ====================================================================  ===========
2.1    warm-up     first step t at which the EMA's total weight 1 − βᵗ reaches 0.99,     a count
                   β = 0.875 (derivation)
2.2    warm-up     the factor by which the EMA (β = 0.95) shrinks a component that       a number
                   flips sign every step
2.3    warm-up     (W, b) after 5 momentum steps on ``LinearRegression()``, α = 0.2,     2 numbers
                   β = 0.75, written by hand on a ``{"W", "b"}`` dict (implement it)
2.4    core        the smallest β for which α = 0.8 is stable on curvatures 0.5 and 12   a number
                   (derivation of the recurrence and of the limit, solved for β)
2.5    core        which of three settings with the same heavy-ball step                 a choice
                   α(1 − β) = 0.03 is fastest on curvatures 1 and 50 (predict, then run)
2.6    core        (α*, β*) for curvatures 0.2 and 9.8, via α* = 1/√(λ_min λ_max)         2 numbers
                   (derivation)
2.7    challenge   steps until a critically damped error (β = 0.81, λ = 2, from rest)    a count
                   first falls to 10⁻⁶ (derivation of e_t = (1 + (1 − √β)t)β^(t/2))
=====  ==========  ====================================================================  ===========

Counts are checked exactly (``rtol = atol = 0``), real numbers to ``rtol = 1e-3``.
"""

from __future__ import annotations

import numpy as np

from .. import analysis
from ..objectives import LinearRegression, Quadratic
from ..optimizers import Momentum
from ..runs import run
from . import Exercise, register

#: β and the total weight asked for in exercise 2.1
BIAS_BETA, BIAS_TOTAL = 0.875, 0.99
#: β of exercise 2.2 (a component that flips sign every step: ω = π)
FLIP_BETA = 0.95
#: α, β and number of steps of exercise 2.3 (on ``LinearRegression()`` from its start)
HAND_LR, HAND_BETA, HAND_STEPS = 0.2, 0.75, 5
#: α and curvatures of exercise 2.4
LIMIT_LR, LIMIT_CURVATURES = 0.8, (0.5, 12.0)
#: the quadratic, heavy-ball step, the three β (settings "A", "B", "C") and the loss gap of 2.5
RACE_CURVATURES, RACE_STEP, RACE_BETAS, RACE_GAP = (1.0, 50.0), 0.03, (0.0, 0.5, 0.9), 1e-10
RACE_CHOICES = ("A", "B", "C")
#: curvatures of exercise 2.6 (κ = 49)
OPTIMAL_CURVATURES = (0.2, 9.8)
#: β, curvature and threshold of exercise 2.7 (at the lower critical learning rate, from rest)
CRITICAL_BETA, CRITICAL_CURVATURE, CRITICAL_ERROR = 0.81, 2.0, 1e-6


def _bias_steps() -> int:
    """The first t with 1 − βᵗ ≥ 0.99 (the EMA's total weight, ``analysis.ema_bias``)."""
    t = 1
    while analysis.ema_bias(BIAS_BETA, t) < BIAS_TOTAL:
        t += 1
    return t


def _by_hand_on_a_dict() -> tuple[float, float]:
    """``Momentum`` on the dict {"W", "b"} of the line fit, fed dW, db as in a training loop."""
    f = LinearRegression()
    params = {"W": np.array(f.start[0]), "b": np.array(f.start[1])}
    opt = Momentum(lr=HAND_LR, beta=HAND_BETA)
    for _ in range(HAND_STEPS):
        dW, db = f.grad(np.array([params["W"], params["b"]]))
        opt.step(params, {"W": np.array(dW), "b": np.array(db)})
    return float(params["W"]), float(params["b"])


def _race_runs():
    """The three runs of exercise 2.5, one batch: α = a/(1 − β) for each β, from the start."""
    q = Quadratic(curvatures=RACE_CURVATURES)
    betas = np.array(RACE_BETAS)[:, None]
    return run(Momentum(lr=RACE_STEP / (1 - betas), beta=betas), q, q.start, 2000)


def _race_winner() -> str:
    steps = _race_runs().steps_to(RACE_GAP)
    return RACE_CHOICES[int(np.argmin(np.where(steps < 0, np.iinfo(int).max, steps)))]


def _smallest_beta() -> float:
    """The β at which ``analysis.momentum_stability_limit`` equals α = 0.8, by bisection
    (the limit 2(1 + β)/((1 − β)λ_max) grows with β)."""
    q = Quadratic(curvatures=LIMIT_CURVATURES)
    low, high = 0.0, 1.0 - 1e-12
    for _ in range(100):
        mid = 0.5 * (low + high)
        if analysis.momentum_stability_limit(mid, q) > LIMIT_LR:
            high = mid
        else:
            low = mid
    return 0.5 * (low + high)


def _optimum() -> tuple[float, float]:
    best = analysis.momentum_optimal(Quadratic(curvatures=OPTIMAL_CURVATURES))
    return best.lr, best.beta


def _critical_steps() -> int:
    """Steps of ``Momentum`` at the lower critical α, from rest at e₀ = 1, until |e_t| ≤ 10⁻⁶."""
    low, _ = analysis.momentum_critical_lr(CRITICAL_BETA, CRITICAL_CURVATURE)
    e, opt = np.ones(1), Momentum(lr=low, beta=CRITICAL_BETA)
    while abs(e[0]) > CRITICAL_ERROR:
        opt.step(e, CRITICAL_CURVATURE * e)        # g_t = λ e_{t−1}
        if opt.t > 100_000:
            raise RuntimeError("the critically damped error did not reach the threshold")
    return opt.t


register(
    Exercise(
        id="2.1",
        question=f"The weights of an EMA started at v₀ = 0 sum to 1 − βᵗ after t steps. For "
                 f"β = {BIAS_BETA}, what is the first step t at which the total weight reaches "
                 f"{BIAS_TOTAL}? A whole number.",
        expected=_bias_steps,
        rtol=0.0,
        hint="Hint: solve 1 − βᵗ ≥ 0.99, i.e. t ≥ ln(0.01)/ln β, and round up; the estimate "
             "ln(100)/(1 − β) is not the exact count.",
    ),
    Exercise(
        id="2.2",
        question=f"A gradient component flips sign every step, g_t = (−1)ᵗc. Once the start is "
                 f"forgotten, by what factor is momentum's step along it smaller than gradient "
                 f"descent's at the same α, for β = {FLIP_BETA}?",
        expected=lambda: analysis.ema_gain(FLIP_BETA, np.pi),
        rtol=1e-3,
        hint="Hint: sum the geometric series (1 − β)Σ(−β)ᵏ, or evaluate the gain |G(ω)| at "
             "ω = π; the answer is below 1 − β.",
    ),
    Exercise(
        id="2.3",
        question=f"Write the momentum update on the dict {{'W', 'b'}} yourself and run it for "
                 f"{HAND_STEPS} steps on LinearRegression() from its start (−1, −1) with "
                 f"α = {HAND_LR}, β = {HAND_BETA}. Answer the pair (W, b).",
        expected=_by_hand_on_a_dict,
        rtol=1e-3,
        hint="Hint: per step compute dW, db at the current (W, b), then v_dW = β v_dW + "
             "(1 − β) dW and v_db likewise, then W = W − α v_dW and b = b − α v_db; both "
             "buffers start at 0; answer W first, then b.",
    ),
    Exercise(
        id="2.4",
        question=f"What is the smallest β for which Momentum(lr={LIMIT_LR}, beta=β) converges "
                 f"on Quadratic(curvatures={LIMIT_CURVATURES})? Give the boundary value.",
        expected=_smallest_beta,
        rtol=1e-3,
        hint="Hint: put e_t = (−1)ᵗ into e_{t+1} = (1 + β − aλ)e_t − βe_{t−1}: the edge is "
             "α(1 − β)λ_max = 2(1 + β); solve it for β, keeping the 1 + β.",
    ),
    Exercise(
        id="2.5",
        question=f"On Quadratic(curvatures={RACE_CURVATURES}), three settings with the same "
                 f"heavy-ball step α(1 − β) = {RACE_STEP}: A: β = 0, B: β = 0.5, C: β = 0.9. "
                 "Which reaches a loss gap below 1e-10 first? One of A, B, C.",
        expected=_race_winner,
        choices=RACE_CHOICES,
        hint="Hint: compare the rates; the flat direction (λ = 1) is monotone for A and B and "
             "in the ripple band, with rate √β, for C.",
    ),
    Exercise(
        id="2.6",
        question=f"What are the optimal (α*, β*) of Momentum on "
                 f"Quadratic(curvatures={OPTIMAL_CURVATURES})? Answer the pair (α*, β*).",
        expected=_optimum,
        rtol=1e-3,
        hint="Hint: κ = 49, β* = ((√κ − 1)/(√κ + 1))² and α* = a*/(1 − β*) = 1/√(λ_min λ_max), "
             "not the heavy-ball step a*; α first, then β.",
    ),
    Exercise(
        id="2.7",
        question=f"At the lower critical learning rate for β = {CRITICAL_BETA} and "
                 f"λ = {CRITICAL_CURVATURE:g}, started from rest at e₀ = 1: after how many "
                 f"steps is the error e_t first at most {CRITICAL_ERROR:g}? A whole number.",
        expected=_critical_steps,
        rtol=0.0,
        hint="Hint: e_t = (1 + (1 − √β)t)·β^(t/2); the factor t makes the count larger than "
             "ln(10⁶)/ln(1/√β), the count from the rate alone.",
    ),
)
