r"""Exercises of chapter 3, *RMSprop* (``chapters/03_rmsprop.ipynb``).

Every expected answer is computed with optlib (``optlib.Adagrad``, ``optlib.RMSprop``,
``optlib.run``, ``optlib.analysis`` and the objectives), never typed in, so the checks stay
true if the library's conventions are ever changed together with the chapter. The
parameters are not the chapter's, so no answer is printed in its text.

=====  ==========  ====================================================================  ===========
id     level       asks for                                                              answer
=====  ==========  ====================================================================  ===========
3.1    warm-up     Adagrad (α = 0.3) on the constant gradient −4: the length of step     2 numbers
                   49 and the exact distance covered in 49 steps (derivation)
3.2    warm-up     (W₁, W₂, b) after 3 RMSprop steps (α = 0.05, β = 0.8) with given      3 numbers
                   gradients, written by hand on a ``{"W", "b"}`` dict (implement it)
3.3    core        the exact lengths of RMSprop's steps 1 and 8 on a constant gradient   2 numbers
                   (α = 0.02, β = 0.95), bias included (derivation)
3.4    core        after 200 gradients of 20, the first gradient of 0.5 from which       a count
                   RMSprop's step (β = 0.95) is at least 0.99 α (derivation)
3.5    core        the loss gap RMSprop (α = 0.1, ε = 1) ends at on ``Quadratic()``      a number
                   (predict, then run)
3.6    challenge   the bounce amplitudes (a₁, a₂) with ε = 10⁻³ *inside* the root,       2 numbers
                   α = 0.13, on ``Quadratic()`` (derivation)
3.7    challenge   sign descent (β = 0, α = 0.55) on ``Quadratic()``: the loss gaps      2 numbers
                   after steps 100 and 101 (computation)
=====  ==========  ====================================================================  ===========

Counts are checked exactly (``rtol = atol = 0``), real numbers to ``rtol = 1e-4`` (an
estimate such as 2α√t, α or α/2 is off by more).
"""

from __future__ import annotations

import numpy as np

from .. import analysis
from ..objectives import Quadratic
from ..optimizers import Adagrad, RMSprop
from ..runs import run
from . import Exercise, register

#: α, the constant gradient and the step number of exercise 3.1
ADAGRAD_LR, ADAGRAD_GRAD, ADAGRAD_T = 0.3, -4.0, 49
#: α, β, ε, start and the three gradients of exercise 3.2 (given, not computed from a loss)
HAND_LR, HAND_BETA, HAND_EPS = 0.05, 0.8, 1e-8
HAND_START = {"W": (0.6, -1.2), "b": 0.4}
HAND_GRADS = ({"W": (1.5, -0.2), "b": 2.0},
              {"W": (0.9, 0.1), "b": -0.5},
              {"W": (-0.3, 0.4), "b": 0.8})
#: α, β, the constant gradient and the two step numbers of exercise 3.3
BIAS_LR, BIAS_BETA, BIAS_GRAD, BIAS_STEPS = 0.02, 0.95, 0.3, (1, 8)
#: β, the large gradient and how long it lasts, the small gradient and the fraction of α (3.4)
MEMORY_BETA, MEMORY_LARGE, MEMORY_STEPS, MEMORY_SMALL, MEMORY_FRACTION = 0.95, 20.0, 200, 0.5, 0.99
#: α, ε and run length of exercise 3.5 (on ``Quadratic()``)
EPS_LR, EPS_EPS, EPS_STEPS = 0.1, 1.0, 20_000
#: α and ε (inside the root) of exercise 3.6 (on ``Quadratic()``)
INSIDE_LR, INSIDE_EPS = 0.13, 1e-3
#: α and the two step numbers of exercise 3.7 (β = 0, on ``Quadratic()``)
SIGN_LR, SIGN_STEPS = 0.55, (100, 101)


def hand_params() -> dict:
    """A fresh copy of exercise 3.2's parameters: {"W": array of 2, "b": 0-d array}."""
    return {"W": np.array(HAND_START["W"]), "b": np.array(HAND_START["b"])}


def hand_grads() -> list[dict]:
    """Exercise 3.2's three gradients as dicts of arrays."""
    return [{"W": np.array(g["W"]), "b": np.array(g["b"])} for g in HAND_GRADS]


def _adagrad() -> tuple[float, float]:
    """(length of step t, distance after t steps) of ``optlib.Adagrad`` on the constant gradient."""
    opt, w = Adagrad(lr=ADAGRAD_LR), np.zeros(1)
    for _ in range(ADAGRAD_T):
        before = w[0]
        opt.step(w, np.array([ADAGRAD_GRAD]))
    return (float(abs(w[0] - before)), float(abs(w[0])))


def _rmsprop_on_a_dict() -> tuple[float, float, float]:
    """``optlib.RMSprop`` on the dict, fed the three given gradients: (W₁, W₂, b)."""
    params = hand_params()
    opt = RMSprop(lr=HAND_LR, beta=HAND_BETA, eps=HAND_EPS)
    for grads in hand_grads():
        opt.step(params, grads)
    return (float(params["W"][0]), float(params["W"][1]), float(params["b"]))


def _first_steps() -> tuple[float, float]:
    """Lengths of RMSprop's steps 1 and 8 on a constant gradient (default ε)."""
    return tuple(float(analysis.rmsprop_constant_gradient_step(BIAS_LR, BIAS_BETA, t,
                                                               grad=BIAS_GRAD))
                 for t in BIAS_STEPS)


def _memory() -> int:
    """The k-th small gradient from which ``optlib.RMSprop``'s step is ≥ 0.99 α (and stays)."""
    lr = 1.0
    opt, w = RMSprop(lr=lr, beta=MEMORY_BETA), np.zeros(1)
    for _ in range(MEMORY_STEPS):
        opt.step(w, np.array([MEMORY_LARGE]))
    k, lengths = 0, []
    while True:                       # the steps grow monotonically toward α after the switch
        k += 1
        before = w[0]
        opt.step(w, np.array([MEMORY_SMALL]))
        if abs(w[0] - before) >= MEMORY_FRACTION * lr:
            return k


def _eps_one() -> float:
    """The loss gap ``RMSprop(lr=0.1, eps=1)`` is at after 20 000 steps on ``Quadratic()``."""
    bowl = Quadratic()
    return float(run(RMSprop(lr=EPS_LR, eps=EPS_EPS), bowl, bowl.start, EPS_STEPS).losses[-1])


def _inside_amplitudes() -> tuple[float, float]:
    """Amplitudes of the two-cycle with ε inside the root: the a at which one step of size
    ``analysis.rmsprop_step_size(α, (λa)², ε, eps_inside=True)`` carries W across 2a
    (step size 2/λ), found by bisection on (0, α/2]; 0 where no such a exists."""
    amplitudes = []
    for lam in Quadratic().curvatures:
        def excess(a):                # step length minus the distance 2a across the floor
            return analysis.rmsprop_step_size(INSIDE_LR, (lam * a) ** 2, eps=INSIDE_EPS,
                                              eps_inside=True) * lam * a - 2 * a
        lo, hi = 0.0, INSIDE_LR / 2
        if excess(hi / 2 ** 40) <= 0:   # the step size is below 2/λ even at s ≈ 0: converges
            amplitudes.append(0.0)
            continue
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
        amplitudes.append(0.5 * (lo + hi))
    return tuple(float(a) for a in amplitudes)


def _sign_descent() -> tuple[float, float]:
    """The loss gaps of ``RMSprop(lr=0.55, beta=0)`` on ``Quadratic()`` after steps 100, 101."""
    bowl = Quadratic()
    losses = run(RMSprop(lr=SIGN_LR, beta=0.0), bowl, bowl.start, max(SIGN_STEPS)).losses
    return tuple(float(losses[t]) for t in SIGN_STEPS)


register(
    Exercise(
        id="3.1",
        question=f"Adagrad(lr={ADAGRAD_LR}) sees the gradient g = {ADAGRAD_GRAD:g} at every step "
                 f"from w₀ = 0. How long is its step {ADAGRAD_T}, and how far from w₀ is the "
                 f"parameter after {ADAGRAD_T} steps (the exact sum, not 2α√t)? Answer the "
                 "pair (step, distance).",
        expected=_adagrad,
        rtol=1e-4,
        hint="Hint: after t equal gradients s = t·g², so step t is α/√t long whatever g is; "
             "the distance is the sum of those lengths for t = 1 … 49, which 2α√t "
             "overestimates.",
    ),
    Exercise(
        id="3.2",
        question=f"Write s_dW = β s_dW + (1 − β) dW², W = W − α dW/(√s_dW + ε) and the same for "
                 f"b, with α = {HAND_LR}, β = {HAND_BETA}, ε = {HAND_EPS:g}, s = 0 at the start, "
                 f"on params = {HAND_START} and apply the three given gradients. Answer "
                 "(W[0], W[1], b) after the third step.",
        expected=_rmsprop_on_a_dict,
        rtol=1e-4,
        hint="Hint: update s first, then divide by its root; s weights the new square by "
             "1 − β (not β) and starts at 0; every entry has its own s.",
    ),
    Exercise(
        id="3.3",
        question=f"RMSprop(lr={BIAS_LR}, beta={BIAS_BETA}) sees the same gradient g = "
                 f"{BIAS_GRAD} at every step. How long exactly are its steps {BIAS_STEPS[0]} and "
                 f"{BIAS_STEPS[1]}? Answer the pair.",
        expected=_first_steps,
        rtol=1e-4,
        hint="Hint: s starts at 0, so after t equal gradients s = (1 − βᵗ)·g² and step t is "
             "α/√(1 − βᵗ) long (up to ε) — longer than α, by a factor that depends on t.",
    ),
    Exercise(
        id="3.4",
        question=f"RMSprop(beta={MEMORY_BETA}) sees g = {MEMORY_LARGE:g} for {MEMORY_STEPS} steps, "
                 f"then g = {MEMORY_SMALL} for ever. From which small gradient k on (k = 1: the "
                 f"first with g = {MEMORY_SMALL}) is its step at least {MEMORY_FRACTION} α? "
                 "Answer the whole number k.",
        expected=_memory,
        rtol=0.0,
        hint="Hint: after k small gradients s = βᵏ·s_old + (1 − βᵏ)·g², with s_old the average "
             "after the first phase; the step is α·g/√s. Where old and new parts are equal the "
             "step is still well below α.",
    ),
    Exercise(
        id="3.5",
        question=f"RMSprop(lr={EPS_LR}, eps={EPS_EPS:g}) runs {EPS_STEPS} steps on Quadratic() "
                 "(λ = 1, 25). Predict the loss gap f − f* it ends at.",
        expected=_eps_one,
        rtol=1e-4,
        hint="Hint: a coordinate bounces with a = α/2 − ε/λᵢ if that is positive, and converges "
             "(its step size capped at α/ε < 2/λᵢ) if it is not; f − f* = Σ λᵢaᵢ²/2.",
    ),
    Exercise(
        id="3.6",
        question=f"RMSprop with ε = {INSIDE_EPS:g} inside the root, w ← w − α g/√(s + ε), "
                 f"α = {INSIDE_LR}, β = 0.9, on Quadratic() (λ = 1, 25): the amplitudes (a₁, a₂) "
                 "of the bounce it ends in.",
        expected=_inside_amplitudes,
        rtol=1e-4,
        hint="Hint: in the bounce s = (λa)², and one step must carry W across 2a: "
             "αλa/√(λ²a² + ε) = 2a. The formula α/2 − ε/λ is for ε outside the root.",
    ),
    Exercise(
        id="3.7",
        question=f"RMSprop(lr={SIGN_LR}, beta=0) on Quadratic() from its start (−8, 1.5): the "
                 f"loss gaps f − f* after steps {SIGN_STEPS[0]} and {SIGN_STEPS[1]}. Answer the "
                 "pair.",
        expected=_sign_descent,
        rtol=1e-4,
        hint="Hint: with β = 0, s = g², so every step is α·sign(g) (up to ε): each coordinate "
             "walks in steps of α from the start until it crosses 0 and then jumps back and "
             "forth between its last two points — not necessarily ±α/2.",
    ),
)
