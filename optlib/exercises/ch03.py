r"""Exercises of chapter 3, *RMSprop* (``chapters/03_rmsprop.ipynb``).

Every expected answer is computed with optlib (``optlib.analysis``, the optimizers,
``optlib.run`` and ``optlib.experiments.settling_step``), never typed in, so the checks
stay true if the library's conventions are ever changed together with the chapter.

=====  =====================================================================  =========
id     asks for                                                               answer
=====  =====================================================================  =========
3.1    Adagrad's 100th step on a constant gradient: its length and its        2 numbers
       effective step size
3.2    RMSprop's first and 100th step on a constant gradient (β = 0.99)       2 numbers
3.3    the effective step sizes (W1, W2) RMSprop ends with on the bowl        2 numbers
3.4    the ε inside the root that caps the step like ε = 1e-8 outside it      a number
3.5    the learning rate of the gradient descent that RMSprop with a huge ε   a number
       turns into
3.6    aligned or rotated: where RMSprop settles sooner on a κ = 1000 bowl    a choice
3.7    RMSprop's settling step on the axis-aligned κ = 1000 bowl              a number
=====  =====================================================================  =========
"""

from __future__ import annotations

import math

from .. import analysis
from ..experiments import settling_step
from ..objectives import Quadratic
from ..optimizers import RMSprop
from ..runs import run
from . import Exercise, register

#: α, step number and constant gradient of exercise 3.1
ADAGRAD_LR, ADAGRAD_T, ADAGRAD_GRAD = 0.1, 100, 2.0
#: α, β and the two step numbers of exercise 3.2
BIAS_LR, BIAS_BETA, BIAS_STEPS = 0.01, 0.99, (1, 100)
#: α of exercise 3.3 (default β and ε, on ``Quadratic()``)
HOVER_LR = 0.1
#: ε outside the root in exercise 3.4
EPS_OUTSIDE = 1e-8
#: α and ε of exercise 3.5
BIG_EPS_LR, BIG_EPS = 50.0, 1000.0
#: the bowl, rotation, learning rate, tolerance and run length of exercises 3.6 and 3.7
SETTLE_CURVATURES, SETTLE_ANGLE = (1.0, 1000.0), math.pi / 4
SETTLE_LR, SETTLE_FRACTION, SETTLE_STEPS = 0.05, 0.01, 4000
WHERE = ("aligned", "rotated", "same")


def _adagrad_step() -> tuple[float, float]:
    """(length, effective step size) of Adagrad's step t on the constant gradient g."""
    length = analysis.adagrad_constant_gradient_step(ADAGRAD_LR, ADAGRAD_T, grad=ADAGRAD_GRAD)
    return (length, length / ADAGRAD_GRAD)


def _rmsprop_start() -> tuple[float, float]:
    """Lengths of RMSprop's first and 100th steps on a constant gradient."""
    return tuple(analysis.rmsprop_constant_gradient_step(BIAS_LR, BIAS_BETA, t)
                 for t in BIAS_STEPS)


def _settling(angle: float) -> float:
    """RMSprop's settling step on the κ = 1000 bowl (∞ when it does not settle in the run)."""
    bowl = Quadratic(curvatures=SETTLE_CURVATURES, angle=angle)
    traj = run(RMSprop(lr=SETTLE_LR), bowl, bowl.start, SETTLE_STEPS)
    steps = settling_step(traj, SETTLE_FRACTION)
    return math.inf if steps < 0 else float(steps)


def _where_sooner() -> str:
    aligned, rotated = _settling(0.0), _settling(SETTLE_ANGLE)
    return "same" if aligned == rotated else ("aligned" if aligned < rotated else "rotated")


register(
    Exercise(
        id="3.1",
        question=f"Adagrad(lr={ADAGRAD_LR}) sees the same gradient g = {ADAGRAD_GRAD:g} at every "
                 f"step. How far does its step {ADAGRAD_T} move the parameter, and what is its "
                 "effective step size α/(√s + ε) then? Answer the pair (length, step size).",
        expected=_adagrad_step,
        rtol=1e-3,
        hint="Hint: after t equal gradients the sum of squares is s = t·g², so the step is "
             "α·g/(√t·|g|) = α/√t in length whatever g is; the step size is that divided by |g|.",
    ),
    Exercise(
        id="3.2",
        question=f"RMSprop(lr={BIAS_LR}, beta={BIAS_BETA}) sees the same gradient at every step. "
                 f"How long are its steps {BIAS_STEPS[0]} and {BIAS_STEPS[1]}? Answer the pair.",
        expected=_rmsprop_start,
        rtol=1e-3,
        hint="Hint: s starts at 0, so after t steps s = (1 − βᵗ)·g² (chapter 2's bias), and the "
             "step is α/√(1 − βᵗ) long: longer than α at the start.",
    ),
    Exercise(
        id="3.3",
        question=f"RMSprop(lr={HOVER_LR}) with the default β and ε runs for a long time on "
                 "Quadratic() (λ₁ = 1, λ₂ = 25). What effective step sizes −ΔWᵢ/gᵢ does it end "
                 "with along W1 and W2? Answer the pair (W1, W2).",
        expected=lambda: tuple(analysis.rmsprop_hover(HOVER_LR, Quadratic()).effective_steps),
        rtol=1e-3,
        hint="Hint: it ends bouncing between +a and −a in each coordinate; one step must carry "
             "Wᵢ across a distance 2a with a gradient λᵢ·a: the same condition as gradient "
             "descent exactly at its stability limit in that coordinate.",
    ),
    Exercise(
        id="3.4",
        question=f"RMSprop with ε = {EPS_OUTSIDE:g} outside the root (√s + ε) takes at most steps "
                 "of size α/ε, when s = 0. Which ε *inside* the root (√(s + ε)) caps the step "
                 "size at the same value?",
        expected=lambda: (analysis.rmsprop_step_size(1.0, 0.0, eps=EPS_OUTSIDE)) ** -2,
        rtol=1e-3,
        hint="Hint: at s = 0 the step sizes are α/ε outside and α/√ε inside.",
    ),
    Exercise(
        id="3.5",
        question=f"RMSprop(lr={BIG_EPS_LR:g}, eps={BIG_EPS:g}) on Quadratic(), whose gradients "
                 "are never larger than about 40, behaves almost exactly like gradient descent. "
                 "With which learning rate?",
        expected=lambda: analysis.rmsprop_step_size(BIG_EPS_LR, 0.0, eps=BIG_EPS),
        rtol=1e-3,
        hint="Hint: when √s ≪ ε the step α·g/(√s + ε) is about (α/ε)·g.",
    ),
    Exercise(
        id="3.6",
        question=f"On a bowl with curvatures {SETTLE_CURVATURES} (κ = 1000), does RMSprop"
                 f"(lr={SETTLE_LR}) settle within {SETTLE_FRACTION:.0%} of its initial distance "
                 "to the minimum sooner when the bowl is axis-aligned or when it is rotated by "
                 f"45°? Answer one of {', '.join(WHERE)}.",
        expected=_where_sooner,
        choices=WHERE,
        hint="Hint: per-coordinate step sizes can tell the steep direction from the flat one "
             "only if each coordinate is one of them.",
    ),
    Exercise(
        id="3.7",
        question=f"How many steps does RMSprop(lr={SETTLE_LR}) need on the axis-aligned bowl "
                 f"with curvatures {SETTLE_CURVATURES} until it stays within "
                 f"{SETTLE_FRACTION:.0%} of its initial distance to the minimum "
                 "(optlib.experiments.settling_step)?",
        expected=lambda: _settling(0.0),
        rtol=0.01,
        hint="Hint: on an axis-aligned bowl each coordinate of RMSprop moves independently of "
             "its curvature: the answer is the same as on Quadratic() from the same start.",
    ),
)
