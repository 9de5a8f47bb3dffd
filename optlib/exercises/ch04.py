r"""Exercises of chapter 4, *Adam* (``chapters/04_adam.ipynb``).

Every expected answer is computed with optlib (``optlib.Adam`` itself, ``optlib.analysis``,
``optlib.experiments`` and the objectives), never typed in, so the checks stay true if the
library's conventions are ever changed together with the chapter.

=====  ==================================================================  =========
id     asks for                                                            answer
=====  ==================================================================  =========
4.1    the weights after Adam's first step from (1, 1)                     2 numbers
4.2    uncorrected / corrected step at t = 10 for a constant gradient      a number
4.3    the first step, in units of α, when every gradient is 10⁻⁹          a number
4.4    where Adam with L2 weight decay comes to rest on a quadratic        2 numbers
4.5    which of Adam and AMSGrad solves Reddi's problem with C = 5         a choice
4.6    the step after 1000 zero gradients, in units of α                   a number
=====  ==================================================================  =========
"""

from __future__ import annotations

import numpy as np

from .. import analysis
from ..experiments import reddi_online_problem
from ..objectives import Quadratic
from ..optimizers import Adam
from . import Exercise, register

#: learning rate, start and gradient of exercise 4.1
FIRST_LR, FIRST_W, FIRST_GRAD = 0.01, (1.0, 1.0), (0.003, -40.0)
#: step of exercise 4.2
UNCORRECTED_T = 10
#: gradient size of exercise 4.3
TINY_GRAD = 1e-9
#: the quadratic and weight decay of exercise 4.4
DECAY_CURVATURES, DECAY_CENTER, DECAY_LAMBDA = (1.0, 100.0), (3.0, 3.0), 0.2
#: the large gradient of exercise 4.5
REDDI_C = 5.0
#: zero-gradient steps of exercise 4.6
SILENT_STEPS = 1000
REDDI_CHOICES = ("adam", "amsgrad", "both", "neither")


def _first_step() -> tuple[float, float]:
    """Adam's weights after one step, taken by optlib's Adam."""
    w = np.array(FIRST_W)
    Adam(lr=FIRST_LR).step(w, np.array(FIRST_GRAD))
    return (float(w[0]), float(w[1]))


def _uncorrected_ratio() -> float:
    """(α m/√v) / (α m̂/√v̂) at step t for ε = 0: the inverse of the bias-correction step scale."""
    return float(1.0 / analysis.adam_bias_correction(0.9, 0.999, UNCORRECTED_T).step_scale)


def _tiny_first_step() -> float:
    """Adam's first step, divided by α, for a gradient of size ``TINY_GRAD`` (default ε)."""
    w = np.zeros(1)
    Adam(lr=1.0).step(w, np.array([TINY_GRAD]))
    return float(-w[0])


def _l2_rest_point() -> tuple[float, float]:
    bowl = Quadratic(curvatures=DECAY_CURVATURES, center=DECAY_CENTER)
    return tuple(analysis.adam_weight_decay_limits(bowl, DECAY_LAMBDA).l2.tolist())


def _reddi_winner() -> str:
    """Which of Adam and AMSGrad (β₁ = 0, β₂ = 1/(1 + C²)) ends within 0.1 of x* = −1."""
    beta2 = 1.0 / (1.0 + REDDI_C ** 2)
    ends = {}
    for name, amsgrad in (("adam", False), ("amsgrad", True)):
        opt = Adam(lr=0.5, beta1=0.0, beta2=beta2, amsgrad=amsgrad)
        ends[name] = reddi_online_problem(opt, 3000, C=REDDI_C).x[-1] < -0.9
    if ends["adam"] and ends["amsgrad"]:
        return "both"
    if ends["adam"] or ends["amsgrad"]:
        return "adam" if ends["adam"] else "amsgrad"
    return "neither"


def _step_after_silence() -> float:
    """The step (in units of α) at step ``SILENT_STEPS + 1`` after zero gradients, then g = 1."""
    w, opt = np.zeros(1), Adam(lr=1.0)
    for _ in range(SILENT_STEPS):
        opt.step(w, np.zeros(1))
    before = w[0]
    opt.step(w, np.ones(1))
    return float(before - w[0])


register(
    Exercise(
        id="4.1",
        question=f"Adam(lr={FIRST_LR}) starts at w = {FIRST_W} and gets the gradient "
                 f"g = {FIRST_GRAD}. What are the two weights after its first step? "
                 "Answer the pair (W1, W2).",
        expected=_first_step,
        rtol=1e-4,
        hint="Hint: after bias correction m̂₁ = g and v̂₁ = g², so the step is "
             "α·g/(|g| + ε) ≈ α·sign(g) in every coordinate, whatever the size of g.",
    ),
    Exercise(
        id="4.2",
        question=f"A constant gradient, β₁ = 0.9, β₂ = 0.999, ε = 0. At step t = {UNCORRECTED_T}, "
                 "by what factor is the uncorrected step α·m_t/√v_t larger than Adam's "
                 "bias-corrected step α·m̂_t/√v̂_t?",
        expected=_uncorrected_ratio,
        rtol=1e-3,
        hint="Hint: m_t = (1 − β₁ᵗ)·g and v_t = (1 − β₂ᵗ)·g², so the uncorrected step is "
             "α(1 − β₁ᵗ)/√(1 − β₂ᵗ).",
    ),
    Exercise(
        id="4.3",
        question=f"Every gradient component is {TINY_GRAD:g} (the loss was scaled down a lot). "
                 "With the default ε = 1e-8, how long is Adam's first step, as a fraction of α?",
        expected=_tiny_first_step,
        rtol=1e-3,
        hint="Hint: the first step is α·|g|/(|g| + ε): ε, outside the root and after the "
             "correction, sets the gradient size below which Adam stops being scale invariant.",
    ),
    Exercise(
        id="4.4",
        question=f"On Quadratic(curvatures={DECAY_CURVATURES}, center={DECAY_CENTER}), "
                 f"Adam(weight_decay={DECAY_LAMBDA}) (L2 weight decay, added to the gradient) "
                 "runs until it stops moving. Where does it come to rest? Answer the pair "
                 "(W1, W2).",
        expected=_l2_rest_point,
        rtol=1e-3,
        hint="Hint: Adam stops where the gradient it sees, H(w − c) + λw, is zero; per "
             "coordinate wᵢ = λᵢcᵢ/(λᵢ + λ).",
    ),
    Exercise(
        id="4.5",
        question=f"Reddi et al.'s online problem with C = {REDDI_C:g} (f_t(x) = C·x when "
                 "t mod 3 = 1, else −x, on [−1, 1]) and β₁ = 0, β₂ = 1/(1 + C²), α_t = 0.5/√t: "
                 f"which ends near the optimum x = −1? One of "
                 f"{', '.join(repr(c) for c in REDDI_CHOICES)}.",
        expected=_reddi_winner,
        choices=REDDI_CHOICES,
        hint="Hint: run optlib.experiments.reddi_online_problem with Adam(..., amsgrad=False) "
             "and with amsgrad=True; look at the sign of the normalized steps summed over one period.",
    ),
    Exercise(
        id="4.6",
        question=f"Adam with the default β₁ = 0.9, β₂ = 0.999 receives a zero gradient for "
                 f"{SILENT_STEPS} steps and then, at step {SILENT_STEPS + 1}, the gradient g = 1. "
                 "How long is that step, in units of α?",
        expected=_step_after_silence,
        rtol=1e-3,
        hint="Hint: m and v are then (1 − β₁)·g and (1 − β₂)·g²; divide by the bias "
             f"corrections 1 − β₁ᵗ and 1 − β₂ᵗ at t = {SILENT_STEPS + 1}.",
    ),
)
