r"""Exercises of chapter 1, *Oscillation* (``chapters/01_oscillation.ipynb``).

Every expected answer is computed with optlib (``optlib.analysis`` and the
objectives), never typed in, so the checks stay true if the library's
conventions are ever changed together with the chapter.

=====  ==============================================================  =========
id     asks for                                                        answer
=====  ==============================================================  =========
1.1    largest stable learning rate on ``Quadratic()``                 a number
1.2    the factors :math:`|1-\alpha\lambda_i|` at α = 0.07             2 numbers
1.3    the best constant α and its rate on ``Quadratic()``             2 numbers
1.4    steps to shrink the error 10⁶-fold at α* for curvatures 1, 100  a number
1.5    how W2 moves at α = 0.05                                        a choice
1.6    does rotating the bowl change the stability limit?              a choice
=====  ==============================================================  =========
"""

from __future__ import annotations

import math

import numpy as np

from .. import analysis
from ..objectives import Quadratic
from . import Exercise, register

#: the learning rate of exercise 1.2
FACTORS_LR = 0.07
#: the learning rate of exercise 1.5
REGIME_LR = 0.05
#: the curvatures and tolerance of exercise 1.4
STEPS_CURVATURES = (1.0, 100.0)
STEPS_TOL = 1e-6
#: the rotation of exercise 1.6
ROTATION = math.pi / 6
REGIMES = ("monotone", "oscillating", "divergent")
COMPARISONS = ("larger", "smaller", "same")


def _rotation_effect() -> str:
    """Compare the stability limit of the rotated bowl (from its Hessian) with the axis-aligned one."""
    base = analysis.gd_stability_limit(Quadratic())
    # The rotated bowl's curvatures are read off its Hessian, not off its constructor arguments.
    rotated = analysis.gd_stability_limit(np.linalg.eigvalsh(Quadratic(angle=ROTATION).hessian))
    if math.isclose(rotated, base, rel_tol=1e-9):
        return "same"
    return "larger" if rotated > base else "smaller"


def _best_constant_lr() -> tuple[float, float]:
    """(α*, rate) of gradient descent's best constant learning rate on ``Quadratic()``."""
    best = analysis.gd_optimal(Quadratic())
    return (best.lr, best.rate)


register(
    Exercise(
        id="1.1",
        question="What is the largest learning rate α for which gradient descent still "
                 "converges on Quadratic() (curvatures λ₁ = 1, λ₂ = 25)? Give the boundary value.",
        expected=lambda: analysis.gd_stability_limit(Quadratic()),
        rtol=1e-3,
        hint="Hint: every direction needs |1 − αλᵢ| < 1; the steep direction W2 (λ₂ = 25) "
             "is the one that binds.",
    ),
    Exercise(
        id="1.2",
        question=f"With α = {FACTORS_LR} on Quadratic(), by which factors |1 − αλ₁| and "
                 "|1 − αλ₂| does one gradient-descent step shrink the error along W1 and "
                 "along W2? Answer the pair (W1 factor, W2 factor).",
        expected=lambda: tuple(analysis.gd_factors(FACTORS_LR, Quadratic()).tolist()),
        rtol=1e-3,
        hint="Hint: the update along direction i is wᵢ ← (1 − αλᵢ)·wᵢ; give absolute "
             "values, W1 first.",
    ),
    Exercise(
        id="1.3",
        question="What is the best constant learning rate α* for gradient descent on "
                 "Quadratic(), and the rate max|1 − α*λᵢ| it achieves? Answer the pair "
                 "(α*, rate).",
        expected=_best_constant_lr,
        rtol=1e-3,
        hint="Hint: the best α balances the two factors, 1 − αλ₁ = −(1 − αλ₂).",
    ),
    Exercise(
        id="1.4",
        question="On a bowl with curvatures (1, 100), gradient descent runs with its best "
                 "constant learning rate α*. How many steps does it need until the distance "
                 "to the minimum has shrunk by the factor 10⁶ (from any start)?",
        expected=lambda: analysis.gd_steps_to_tolerance(
            analysis.gd_optimal(STEPS_CURVATURES).lr, STEPS_CURVATURES, STEPS_TOL),
        rtol=0.01,
        hint="Hint: at α* the error shrinks by ρ = (κ − 1)/(κ + 1) per step; solve ρᵗ = 10⁻⁶ "
             "(or use t ≈ κ/2 · ln(1/tol)).",
    ),
    Exercise(
        id="1.5",
        question=f"With α = {REGIME_LR} on Quadratic(), how does the steep coordinate W2 "
                 f"move: {', '.join(repr(r) for r in REGIMES)}?",
        expected=lambda: analysis.gd_regime(REGIME_LR, Quadratic().curvatures[1]),
        choices=REGIMES,
        hint="Hint: look at the sign and the size of the factor 1 − αλ₂.",
    ),
    Exercise(
        id="1.6",
        question="Rotate the bowl by θ = π/6 (Quadratic(angle=np.pi/6)). Is gradient "
                 "descent's stability limit on the rotated bowl 'larger', 'smaller' or the "
                 "'same' compared with the axis-aligned bowl?",
        expected=_rotation_effect,
        choices=COMPARISONS,
        hint="Hint: the limit depends on the Hessian's eigenvalues; does a rotation change "
             "them?",
    ),
)
