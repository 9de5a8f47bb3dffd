r"""Exercises of chapter 1, *Oscillation* (``chapters/01_oscillation.ipynb``).

Every expected answer is computed with optlib (``optlib.analysis``, the objectives,
``optlib.run``), never typed in, so the checks stay true if the library's
conventions are ever changed together with the chapter. The parameters differ from
the ones the chapter's text uses, so that no answer is printed there.

===  =========  =====================  ==========================================================  =====================
id   level      kind                   asks for                                                    answer
===  =========  =====================  ==========================================================  =====================
1.1  warm-up    computation            signed factors 1 − αλᵢ at α = 0.11, curvatures 2 and 15     2 numbers, W1 first
1.2  warm-up    derivation             stability limit of f = 2W1² + 22W2²                         a number
1.3  warm-up    predict, then run      α = 0.9 or 0.99 × 2/λ_max: which needs fewer steps          a choice
1.4  core       derivation             α* and its rate for the curvatures 0.5, 2, 8                2 numbers, α* first
1.5  core       computation            exact steps to tol = 10⁻⁴ at α = 1/λ_max, curvatures 1, 20  a whole number, exact
1.6  core       implement it yourself  (W, b) after 30 hand-written steps on the line fit          2 numbers, W first
1.7  challenge  computation            κ of the line fit, and the factor centring x divides it by  2 numbers
===  =========  =====================  ==========================================================  =====================

Real answers are checked to a relative tolerance of 1e-3, whole numbers exactly.
"""

from __future__ import annotations

import numpy as np

from .. import analysis
from ..objectives import LinearRegression, Quadratic
from ..optimizers import GradientDescent
from ..runs import run
from . import Exercise, register

#: exercise 1.1: the learning rate and the bowl's curvatures
FACTORS_LR, FACTORS_CURVATURES = 0.11, (2.0, 15.0)
#: exercise 1.2: the loss is 2·W1² + 22·W2², i.e. ½(4·W1² + 44·W2²): curvatures (4, 44)
LIMIT_CURVATURES = (4.0, 44.0)
#: exercise 1.3: the two learning rates as fractions of the stability limit, and the
#: factor by which the distance to the minimum must shrink
PREDICT_FRACTIONS, PREDICT_TOL = {"a": 0.9, "b": 0.99}, 1e-6
#: exercise 1.4: three curvatures
THREE_CURVATURES = (0.5, 2.0, 8.0)
#: exercise 1.5: the bowl and the factor tol
SAFE_CURVATURES, SAFE_TOL = (1.0, 20.0), 1e-4
#: exercise 1.6: learning rate and number of steps on ``LinearRegression()``
LINE_LR, LINE_STEPS = 0.1, 30
CHOICES_13 = ("a", "b", "same")


def _signed_factors() -> tuple[float, float]:
    """(1 − αλ₁, 1 − αλ₂), read off one optlib step from a point on each axis."""
    bowl = Quadratic(curvatures=FACTORS_CURVATURES)
    one = run(GradientDescent(lr=FACTORS_LR), bowl, np.eye(2), 1).points[1]   # (2 runs, 2)
    return (float(one[0, 0]), float(one[1, 1]))


def _steps_to_shrink(lr: float, bowl: Quadratic, tol: float, steps: int) -> int:
    """First step at which an optlib run has distance ≤ tol × initial (-1: never)."""
    with np.errstate(under="ignore"):        # a tiny W2 may underflow; that is not an error
        d = run(GradientDescent(lr=lr), bowl, bowl.start, steps).distances()
    reached = d <= tol * d[0]
    return int(np.argmax(reached)) if reached.any() else -1


def _fewer_steps() -> str:
    """Which of the two learning rates of exercise 1.3 reaches tol first, by simulation."""
    bowl = Quadratic()
    limit = analysis.gd_stability_limit(bowl)
    counts = {name: _steps_to_shrink(frac * limit, bowl, PREDICT_TOL, 1000)
              for name, frac in PREDICT_FRACTIONS.items()}
    counts = {k: (v if v >= 0 else np.inf) for k, v in counts.items()}
    if counts["a"] == counts["b"]:
        return "same"
    return "a" if counts["a"] < counts["b"] else "b"


def _three_curvatures_optimum() -> tuple[float, float]:
    best = analysis.gd_optimal(THREE_CURVATURES)
    return (best.lr, best.rate)


def _safe_steps() -> float:
    lr = 1.0 / max(SAFE_CURVATURES)
    return analysis.gd_steps_to_tolerance(lr, SAFE_CURVATURES, SAFE_TOL)


def _line_fit_point() -> tuple[float, float]:
    line = LinearRegression()
    w = run(GradientDescent(lr=LINE_LR), line, line.start, LINE_STEPS).points[-1]
    return (float(w[0]), float(w[1]))


def _line_fit_conditioning() -> tuple[float, float]:
    """(κ of the line fit, κ divided by κ of the same fit with centred inputs)."""
    line = LinearRegression()
    centred = LinearRegression(x=line.x - np.mean(line.x), y=line.y)
    return (line.condition_number, line.condition_number / centred.condition_number)


register(
    Exercise(
        id="1.1",
        question=f"Gradient descent with α = {FACTORS_LR} on Quadratic(curvatures="
                 f"{FACTORS_CURVATURES}): by which signed factors 1 − αλ₁ and 1 − αλ₂ is the "
                 "error along W1 and along W2 multiplied per step? Answer (factor W1, factor W2).",
        expected=_signed_factors,
        rtol=1e-3,
        hint="Hint: ∂f/∂Wᵢ = λᵢWᵢ, so one step gives Wᵢ ← (1 − αλᵢ)Wᵢ; keep the sign (a "
             "negative factor means the weight flips sign every step) and give W1 first.",
    ),
    Exercise(
        id="1.2",
        question="What is the largest learning rate for which gradient descent converges from "
                 "every start on f(W1, W2) = 2·W1² + 22·W2²? Give the boundary value.",
        expected=lambda: analysis.gd_stability_limit(LIMIT_CURVATURES),
        rtol=1e-3,
        hint="Hint: the curvatures are the second derivatives ∂²f/∂Wᵢ², twice the "
             "coefficients here; the limit is 2/λ_max.",
    ),
    Exercise(
        id="1.3",
        question="On Quadratic(), from its start: which reaches a distance to the minimum of "
                 "10⁻⁶ times the initial one in fewer steps, (a) α = 0.9·2/λ_max or "
                 "(b) α = 0.99·2/λ_max? Answer 'a', 'b' or 'same'.",
        expected=_fewer_steps,
        choices=CHOICES_13,
        hint="Hint: compute both factors |1 − αλᵢ| for each α; the larger one is the rate, "
             "and the run with the smaller rate gets there first.",
    ),
    Exercise(
        id="1.4",
        question="A bowl in three weights has curvatures 0.5, 2 and 8. What are the best "
                 "constant learning rate α* and its rate max|1 − α*λᵢ|? Answer (α*, rate).",
        expected=_three_curvatures_optimum,
        rtol=1e-3,
        hint="Hint: |1 − αλ| is largest at the smallest or the largest curvature, never at "
             "one in between; balance those two. Give α* first.",
    ),
    Exercise(
        id="1.5",
        question="On a bowl with curvatures (1, 20), gradient descent runs at α = 1/λ_max. "
                 "What is the smallest number of steps that guarantees, from every start, a "
                 "distance to the minimum of at most 10⁻⁴ times the initial one? The exact "
                 "count, not an estimate.",
        expected=_safe_steps,
        rtol=0.0,
        atol=0.0,
        hint="Hint: the rate is ρ = max|1 − αλᵢ| = 1 − 1/κ; find the smallest whole t with "
             "ρᵗ ≤ 10⁻⁴. The estimate κ·ln(1/tol) is a few steps off.",
    ),
    Exercise(
        id="1.6",
        question=f"Gradient descent written by hand on LinearRegression(): from (W, b) = "
                 f"(−1, −1), α = {LINE_LR}, dW = mean((Wx + b − y)·x), db = mean(Wx + b − y). "
                 f"Where is (W, b) after {LINE_STEPS} steps?",
        expected=_line_fit_point,
        rtol=1e-3,
        hint=f"Hint: both gradients are taken at the same point, before either parameter is "
             f"updated; exactly {LINE_STEPS} updates; answer (W, b), W first.",
    ),
    Exercise(
        id="1.7",
        question="The condition number κ of the line fit LinearRegression() (from the "
                 "eigenvalues of its Hessian), and the factor by which centring the inputs, "
                 "x → x − mean(x), divides it. Answer (κ, κ / κ centred).",
        expected=_line_fit_conditioning,
        rtol=1e-3,
        hint="Hint: H = [[mean(x²), mean(x)], [mean(x), 1]]; its eigenvalues are "
             "(a + c)/2 ± √(((a − c)/2)² + b²), not its diagonal entries. Centred inputs "
             "have mean 0, so H becomes diagonal.",
    ),
)
