r"""Exercises of chapter 2, *Momentum* (``chapters/02_momentum.ipynb``).

Every expected answer is computed with optlib (``optlib.analysis`` and the
objectives), never typed in, so the checks stay true if the library's
conventions are ever changed together with the chapter.

=====  ==================================================================  =========
id     asks for                                                            answer
=====  ==================================================================  =========
2.1    the averaging window :math:`1/(1-\beta)` for β = 0.98                a number
2.2    :math:`v_5` for a constant gradient 1 and β = 0.9 (the start bias)   a number
2.3    the rate of ``Momentum(lr=0.1, beta=0.5)`` on ``Quadratic()``        a number
2.4    the regime of α = 0.13, β = 0.25 along λ = 25                        a choice
2.5    the largest stable α for β = 0.9 on ``Quadratic()``                  a number
2.6    the optimal β for condition number κ = 100                           a number
2.7    the optimal (α*, β*) for the line fit ``LinearRegression()``         2 numbers
=====  ==================================================================  =========
"""

from __future__ import annotations

from .. import analysis
from ..objectives import LinearRegression, Quadratic
from . import Exercise, register

#: β of exercise 2.1
WINDOW_BETA = 0.98
#: β and step count of exercise 2.2
BIAS_BETA, BIAS_STEPS = 0.9, 5
#: (α, β) of exercise 2.3
RATE_LR, RATE_BETA = 0.1, 0.5
#: (α, β, λ) of exercise 2.4
REGIME_LR, REGIME_BETA, REGIME_CURVATURE = 0.13, 0.25, 25.0
#: β of exercise 2.5
LIMIT_BETA = 0.9
#: curvatures of exercise 2.6 (κ = 100)
OPTIMAL_CURVATURES = (1.0, 100.0)
REGIMES = ("monotone", "oscillating", "ripples", "divergent")


def _line_fit_optimum() -> tuple[float, float]:
    """(α*, β*) of ``Momentum`` on the line-fit bowl, from its Hessian's eigenvalues."""
    best = analysis.momentum_optimal(LinearRegression())
    return (best.lr, best.beta)


register(
    Exercise(
        id="2.1",
        question=f"About how many recent gradients does an exponentially weighted average with "
                 f"β = {WINDOW_BETA} average over? Give the window 1/(1 − β) in steps.",
        expected=lambda: analysis.ema_window(WINDOW_BETA),
        rtol=1e-3,
        hint="Hint: the weight (1 − β)βᵏ of a gradient k steps old falls to about 1/e of the "
             "newest one's after 1/(1 − β) steps.",
    ),
    Exercise(
        id="2.2",
        question=f"Momentum starts from v₀ = 0. If every gradient is exactly 1, what is the "
                 f"momentum buffer v_{BIAS_STEPS} after {BIAS_STEPS} steps with β = {BIAS_BETA}?",
        expected=lambda: analysis.ema_bias(BIAS_BETA, BIAS_STEPS),
        rtol=1e-3,
        hint="Hint: the weights (1 − β)β^(t−k) of the t gradients so far sum to 1 − βᵗ, "
             "not to 1: the average is biased toward 0 at the start.",
    ),
    Exercise(
        id="2.3",
        question=f"What is the convergence rate (the spectral radius of the iteration matrix) of "
                 f"Momentum(lr={RATE_LR}, beta={RATE_BETA}) on Quadratic() (λ₁ = 1, λ₂ = 25)?",
        expected=lambda: analysis.momentum_spectral_radius(RATE_LR, RATE_BETA, Quadratic()),
        rtol=1e-3,
        hint="Hint: per direction solve σ² − (1 + β − α(1 − β)λ)σ + β = 0 and take the largest "
             "|σ| over both directions; complex roots have |σ| = √β, but check whether the roots "
             "are complex in each direction first.",
    ),
    Exercise(
        id="2.4",
        question=f"Momentum with α = {REGIME_LR} and β = {REGIME_BETA} along the steep direction "
                 f"of Quadratic() (λ = {REGIME_CURVATURE:g}): how does the error move? One of "
                 f"{', '.join(REGIMES)}.",
        expected=lambda: analysis.momentum_regime(REGIME_LR, REGIME_BETA, REGIME_CURVATURE),
        choices=REGIMES,
        hint="Hint: compare α(1 − β)λ with (1 − √β)², (1 + √β)² and the stability limit "
             "2(1 + β).",
    ),
    Exercise(
        id="2.5",
        question=f"What is the largest learning rate α for which Momentum(beta={LIMIT_BETA}) "
                 "still converges on Quadratic()? Give the boundary value.",
        expected=lambda: analysis.momentum_stability_limit(LIMIT_BETA, Quadratic()),
        rtol=1e-3,
        hint="Hint: an eigenvalue leaves the unit disc through σ = −1, where "
             "1 + (1 + β − α(1 − β)λ) + β = 0; the steep direction binds.",
    ),
    Exercise(
        id="2.6",
        question="What is the optimal momentum coefficient β* for a quadratic with curvatures "
                 "1 and 100 (condition number κ = 100)?",
        expected=lambda: analysis.momentum_optimal(OPTIMAL_CURVATURES).beta,
        rtol=1e-3,
        hint="Hint: at the optimum both extreme directions are critically damped, and the rate "
             "√β* equals (√κ − 1)/(√κ + 1).",
    ),
    Exercise(
        id="2.7",
        question="For the line fit LinearRegression() (a bowl in (W, b)), what are the optimal "
                 "hyperparameters (α*, β*) of Momentum? Answer the pair (α*, β*).",
        expected=_line_fit_optimum,
        rtol=1e-2,
        hint="Hint: take λ_min and λ_max from the objective's curvatures (the eigenvalues of "
             "its Hessian), then a* = 4/(√λ_max + √λ_min)², β* = ((√κ − 1)/(√κ + 1))² and "
             "α* = a*/(1 − β*).",
    ),
)
