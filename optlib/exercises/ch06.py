r"""Exercises of chapter 6, *Noise, batch size and learning-rate schedules*
(``chapters/06_noise_schedules.ipynb``).

Every expected answer is computed with optlib (the exact noise floor and expected loss of
:mod:`optlib.analysis`, the schedules, :class:`~optlib.objectives.Noisy` and the
schedule-free optimizer), never typed in. Each exercise uses other curvatures, noise levels,
learning rates or budgets than the chapter's text, so that no answer is printed there.

=====  =========  ====================  ==================================================  ==========
id     level      kind                  asks for                                            answer
=====  =========  ====================  ==================================================  ==========
6.1    warm-up    computation           the exact noise floor of gradient descent on one    a number
                                        direction (λ = 12, α = 0.03, σ = 2)
6.2    warm-up    predict, then run     α and B both doubled (0.02, 4 → 0.04, 8) on the      a choice
                                        bowl with σ₁ = 2: the exact floor goes up, down or
                                        stays equal?
6.3    core       derivation            E[f(w_10)] of gradient descent with constant α on   a number
                                        one noisy direction (λ = 4, α = 0.1, σ = 1, w₀ = 2)
6.4    core       implement it          schedule-free SGD by hand (α = 0.05, β = 0.5), 20   2 numbers
                  yourself              steps on Noisy(Quadratic(), 0.5, seed=3): x_20
6.5    core       computation           the α at which EMA momentum (β = 0.7) has the       a number
                                        floor of gradient descent at α = 0.03 (λ = 25, σ = 1)
6.6    challenge  computation           linear decay to zero, T = 300, σ = 4 on the bowl:    2 numbers
                                        the best peak α on a grid and its E[f(w_T)]
6.7    challenge  computation           step decay StepDecay(67, γ), T = 200, α = 0.05,      2 numbers
                                        σ = 1 on the bowl: the best γ of 0.1, ..., 0.9 and
                                        its E[f(w_T)]
=====  =========  ====================  ==================================================  ==========
"""

from __future__ import annotations

import numpy as np

from .. import analysis
from ..objectives import Noisy, Quadratic
from ..optimizers import ScheduleFreeSGD
from ..schedules import Linear, StepDecay
from . import Exercise, register

#: exercise 6.1: one direction
FLOOR_CURVATURE, FLOOR_LR, FLOOR_NOISE = 12.0, 0.03, 2.0
#: exercise 6.2: per-example noise, (α, B) before and after
SCALE_NOISE, SCALE_BEFORE, SCALE_AFTER = 2.0, (0.02, 4), (0.04, 8)
SCALE_CHOICES = ("up", "down", "equal")
#: exercise 6.3: one direction, constant α, ten steps
DECAY_CURVATURE, DECAY_LR, DECAY_NOISE, DECAY_W0, DECAY_STEPS = 4.0, 0.1, 1.0, 2.0, 10
#: exercise 6.4: schedule-free SGD on the noisy bowl
SF_LR, SF_BETA, SF_NOISE, SF_SEED, SF_STEPS = 0.05, 0.5, 0.5, 3, 20
#: exercise 6.5: gradient descent's α and the curvature, noise and β of the momentum run
MATCH_LR, MATCH_CURVATURE, MATCH_NOISE, MATCH_BETA = 0.03, 25.0, 1.0, 0.7
#: exercise 6.7: step decay on the bowl
DECAY_EVERY, DECAY_T, DECAY_PEAK, DECAY_SIGMA = 67, 200, 0.05, 1.0
DECAY_FACTORS = np.round(np.arange(1, 10) * 0.1, 1)      # 0.1, 0.2, ..., 0.9
#: exercise 6.6: linear decay to zero on the bowl, the budget and the grid of peak rates
LINEAR_STEPS, LINEAR_NOISE = 300, 4.0
LINEAR_GRID = np.round(np.arange(1, 80) * 0.001, 3)       # 0.001, 0.002, ..., 0.079


def _bowl_floor(lr: float, batch: int) -> float:
    bowl = Quadratic()
    return float(np.sum(analysis.noise_floor(lr, np.array(bowl.curvatures),
                                             SCALE_NOISE / np.sqrt(batch))))


def _floor() -> float:
    return float(analysis.noise_floor(FLOOR_LR, FLOOR_CURVATURE, FLOOR_NOISE))


def _scaling() -> str:
    before, after = _bowl_floor(*SCALE_BEFORE), _bowl_floor(*SCALE_AFTER)
    return "equal" if after == before else "up" if after > before else "down"


def _decay() -> float:
    loss = analysis.noisy_expected_loss(DECAY_LR, DECAY_CURVATURE, DECAY_NOISE, DECAY_STEPS,
                                        DECAY_W0)
    return float(loss[-1])


def _schedule_free() -> tuple[float, float]:
    bowl = Quadratic()
    noisy = Noisy(bowl, noise=SF_NOISE, seed=SF_SEED)
    w = np.array(bowl.start, dtype=float)
    opt = ScheduleFreeSGD(lr=SF_LR, beta=SF_BETA)
    for t in range(1, SF_STEPS + 1):
        opt.step(w, noisy.grad(w, step=t))
    x = opt.eval_params()
    return float(x[0]), float(x[1])


def _match() -> float:
    """The α at which momentum's exact floor equals gradient descent's (bisection on
    analysis.noise_floor, which increases with α up to momentum's limit)."""
    target = analysis.noise_floor(MATCH_LR, MATCH_CURVATURE, MATCH_NOISE)
    lo = 1e-12
    hi = 2 * (1 + MATCH_BETA) / ((1 - MATCH_BETA) * MATCH_CURVATURE) * (1 - 1e-12)
    for _ in range(200):
        mid = (lo + hi) / 2
        if analysis.noise_floor(mid, MATCH_CURVATURE, MATCH_NOISE, beta=MATCH_BETA) < target:
            lo = mid
        else:
            hi = mid
    return float((lo + hi) / 2)


def step_decay_final_losses() -> np.ndarray:
    """E[f(w_T)] − f* on the bowl under StepDecay(67, γ) for each γ of DECAY_FACTORS."""
    bowl = Quadratic()
    curv, start = np.array(bowl.curvatures), np.array(bowl.start)
    return np.array([analysis.noisy_expected_loss(DECAY_PEAK, curv, DECAY_SIGMA, DECAY_T, start,
                                                  schedule=StepDecay(DECAY_EVERY, float(g)))
                     [..., -1].sum() for g in DECAY_FACTORS])


def _step_decay() -> tuple[float, float]:
    final = step_decay_final_losses()
    k = int(np.argmin(final))
    return float(DECAY_FACTORS[k]), float(final[k])


def linear_final_losses() -> np.ndarray:
    """E[f(w_T)] − f* of gradient descent under Linear(T) on the bowl, for each peak α."""
    bowl = Quadratic()
    curv = np.array(bowl.curvatures)
    loss = analysis.noisy_expected_loss(LINEAR_GRID[:, None], curv, LINEAR_NOISE, LINEAR_STEPS,
                                        np.array(bowl.start), schedule=Linear(LINEAR_STEPS))
    return loss[..., -1].sum(axis=-1)


def _linear() -> tuple[float, float]:
    final = linear_final_losses()
    k = int(np.argmin(final))
    return float(LINEAR_GRID[k]), float(final[k])


register(
    Exercise(
        id="6.1",
        question="Gradient descent with α = 0.03 on f(w) = 12 w²/2 with gradient noise σ = 2: "
                 "what is the exact stationary expected loss (the noise floor)?",
        expected=_floor,
        rtol=1e-3,
        hint="Hint: the floor is ασ²/(2(2 − αλ)); ασ²/4 is only its small-α form.",
    ),
    Exercise(
        id="6.2",
        question="On the bowl (curvatures 1 and 25) with per-example noise σ₁ = 2, gradient "
                 "descent goes from α = 0.02, B = 4 to α = 0.04, B = 8. Does the exact noise "
                 "floor go 'up', 'down' or stay 'equal'?",
        expected=_scaling,
        choices=SCALE_CHOICES,
        hint="Hint: α/B is unchanged, so the small-α form ασ₁²/(4B) per direction is too; "
             "look at the factor 2 − αλ of the exact floor.",
    ),
    Exercise(
        id="6.3",
        question="Gradient descent with α = 0.1 on f(w) = 4w²/2 with gradient noise σ = 1 "
                 "from w₀ = 2: what is E[f(w_10)] exactly?",
        expected=_decay,
        rtol=1e-3,
        hint="Hint: w_t = r w_{t−1} − ασξ_t with r = 1 − αλ; the mean is r^t w₀ and the "
             "variance α²σ²(1 − r^{2t})/(1 − r²); E[f] = (λ/2)(mean² + variance).",
    ),
    Exercise(
        id="6.4",
        question="Schedule-free SGD written by hand (α = 0.05, β = 0.5, no schedule) on "
                 "Noisy(Quadratic(), noise=0.5, seed=3) from the bowl's start, 20 steps, "
                 "gradients noisy.grad(y, step=t): what is the averaged point x_20?",
        expected=_schedule_free,
        rtol=1e-3,
        hint="Hint: z ← z − αg with g taken at y; x ← (1 − 1/t)x + z/t; y ← (1 − β)z + βx; "
             "the answer is x, not y.",
    ),
    Exercise(
        id="6.5",
        question="Gradient descent with α = 0.03 on f(w) = 25 w²/2 with gradient noise σ = 1 "
                 "has a noise floor. At which α does EMA momentum with β = 0.7 have exactly "
                 "the same floor?",
        expected=_match,
        rtol=1e-3,
        hint="Hint: momentum's floor is ασ²/(2(2 − α_eff λ)) with α_eff = α(1 − β)/(1 + β); "
             "the same small-α floor would say α = 0.03, which is not exact.",
    ),
    Exercise(
        id="6.6",
        question="Gradient descent on the bowl with gradient noise σ = 4 and the schedule "
                 "Linear(300) for T = 300 steps from the bowl's start: which peak α of "
                 "0.001, 0.002, ..., 0.079 gives the lowest E[f(w_T)] − f*, and what is it? "
                 "Answer (α, loss).",
        expected=_linear,
        rtol=1e-3,
        hint="Hint: the expected loss is the sum over the two eigendirections of the "
             "distance term and the variance term; noisy_expected_loss computes it with "
             "schedule=.",
    ),
    Exercise(
        id="6.7",
        question="Gradient descent on the bowl with gradient noise σ = 1, peak α = 0.05 and "
                 "StepDecay(67, γ) for T = 200 steps from the bowl's start: which γ of 0.1, "
                 "0.2, ..., 0.9 gives the lowest E[f(w_T)] − f*, and what is it? Answer "
                 "(γ, loss).",
        expected=_step_decay,
        rtol=1e-3,
        hint="Hint: the multiplier is γ^⌊(t − 1)/67⌋: 1, then γ, then γ² for the last "
             "steps; a small γ lowers the floor but stops the distance term.",
    ),
)
