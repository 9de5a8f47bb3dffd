r"""Exercises of chapter 7, *At the edge of stability, and after Adam*
(``chapters/07_edge_and_beyond.ipynb``).

Every expected answer is computed with optlib (the thresholds of
:func:`optlib.network.stability_threshold`, global-norm clipping of
:func:`optlib.clipping.clip_by_global_norm`, the sharpness of
:func:`optlib.network.sharpness`, :class:`~optlib.optimizers.Lion`,
:func:`~optlib.analysis.newton_schulz_map`, :func:`~optlib.analysis.orthogonalize`), never
typed in. Each exercise uses other learning rates, momenta, thresholds, matrices, step counts
or data than the chapter's text, so that no answer is printed there.

=====  =========  ====================  ==================================================  ==========
id     level      kind                  asks for                                            answer
=====  =========  ====================  ==================================================  ==========
7.1    warm-up    derivation            the largest sharpness at which EMA momentum         a number
                                        (α = 2, β = 0.8) is stable on a quadratic
7.2    warm-up    computation           a clipped gradient step (α = 0.4, c = 0.3,          2 numbers
                                        ‖g‖ = 0.8): its effective learning rate and the
                                        sharpness at which it is stable
7.3    warm-up    computation           the length ‖w₁ − w₀‖ of Lion's first step            a number
                                        (α = 0.003, δ = 0.4) from w₀ = (1, −2.5, 0.5, 3)
                                        with the gradient (0.4, 10⁻⁶, 0, −30)
7.4    core       implement it          power iteration with finite-difference Hessian-     a number
                  yourself              vector products: λ_max of the 64-16-10 network at
                                        its start on the first 300 training images
7.5    core       predict, then run     gradient descent (α = 0.7) on the 64-8-10 network    a choice
                                        clipped at c = 0.05: does the sharpness sit below,
                                        at or above 2/α over the last 200 of 400 steps?
7.6    core       derivation            the singular values after one Newton–Schulz step     2 numbers
                                        (Muon's coefficients) of D = [[9, −6.4],
                                        [12, 4.8]]: the one from σ = 15, then from σ = 8
7.7    core       implement it          three Newton–Schulz steps by hand on a 3 × 5         5 numbers
                  yourself              matrix: the first row of the result
7.8    challenge  predict, then run     the two losses between which sign descent            2 numbers
                                        (RMSprop, β = 0, α = 0.45) alternates on the bowl
                                        from (−6.4, 1.7), lower first
=====  =========  ====================  ==================================================  ==========
"""

from __future__ import annotations

import numpy as np

from .. import analysis
from ..clipping import clip_by_global_norm
from ..network import MLP, load_digits_split, sharpness, sharpness_run, stability_threshold
from ..objectives import Quadratic
from ..optimizers import GradientDescent, Lion, Momentum, RMSprop
from ..runs import run
from . import Exercise, register

#: exercise 7.1: EMA momentum's learning rate and β
MOMENTUM_LR, MOMENTUM_BETA = 2.0, 0.8
#: exercise 7.2: learning rate, clipping threshold and the gradient's global norm
CLIP_LR, CLIP_C, CLIP_NORM = 0.4, 0.3, 0.8
#: exercise 7.4: the network, its seed and the images the loss is taken over
POWER_SIZES, POWER_SEED, POWER_IMAGES = (64, 16, 10), 0, 300
#: exercise 7.5: gradient descent on the 64-8-10 network, clipped far below its gradient norms
HARD_LR, HARD_CLIP, HARD_STEPS = 0.7, 0.05, 400
#: exercise 7.5: the answers, by the median of sharpness/(2/α) over the second half
HARD_CHOICES = ("below", "at", "above")            # < 0.9, 0.9 to 1.1, > 1.1


def _momentum_threshold() -> float:
    return float(stability_threshold(Momentum(lr=MOMENTUM_LR, beta=MOMENTUM_BETA)))


def _clipped_step() -> tuple[float, float]:
    """The clipped gradient is the gradient times c/‖g‖ (read off clip_by_global_norm on a
    gradient of norm ‖g‖); a step with it is a gradient step with α·c/‖g‖."""
    grad = np.array([0.6, 0.8]) * CLIP_NORM           # global norm ‖g‖
    clipped, norm = clip_by_global_norm(grad, CLIP_C)
    factor = float(np.linalg.norm(clipped) / norm)
    lr = CLIP_LR * factor
    return lr, float(stability_threshold(GradientDescent(lr=lr)))


def power_problem():
    """The network, its starting parameters and the images of exercise 7.4."""
    data = load_digits_split(test_fraction=0.25, seed=0)
    model = MLP(sizes=POWER_SIZES, activation="relu", seed=POWER_SEED)
    X, y = data.X_train[:POWER_IMAGES], data.y_train[:POWER_IMAGES]
    return model, model.init_params(), X, y


def _power() -> float:
    model, params, X, y = power_problem()
    return float(sharpness(model, params, X, y, iters=300))


def hard_clip_run():
    """Exercise 7.5's run: sharpness_run of GradientDescent(lr=0.7) on MLP(64, 8, 10), clip=0.05."""
    data = load_digits_split(test_fraction=0.25, seed=0)
    return sharpness_run(MLP(sizes=(64, 8, 10), activation="relu", seed=0),
                         GradientDescent(lr=HARD_LR), data, HARD_STEPS, clip=HARD_CLIP,
                         progress=False)


def _hard_clip() -> str:
    median = float(np.median(hard_clip_run().ratio_after(0.5)))
    return "below" if median < 0.9 else "above" if median > 1.1 else "at"


#: exercise 7.3: Lion's first step
LION_LR, LION_DECAY = 0.003, 0.4
LION_W0 = (1.0, -2.5, 0.5, 3.0)
LION_GRAD = (0.4, 1e-6, 0.0, -30.0)
#: exercise 7.6: a 2 × 2 matrix with singular values 15 and 8 (R(θ)·diag(15, 8), cos θ = 0.6)
NS_MATRIX = ((9.0, -6.4), (12.0, 4.8))
#: exercise 7.7: the matrix and the number of steps
NS_HAND_MATRIX = ((2.0, 0.0, 0.0, 3.0, 1.0),
                  (1.0, 4.0, -2.0, 0.0, 0.0),
                  (0.0, 1.0, -4.0, -1.0, 5.0))
NS_HAND_STEPS = 3
#: exercise 7.8: sign descent on the bowl
SIGN_LR, SIGN_START, SIGN_STEPS = 0.45, (-6.4, 1.7), 60


def _lion_step() -> float:
    w = np.array(LION_W0)
    before = w.copy()
    Lion(lr=LION_LR, weight_decay=LION_DECAY).step(w, np.array(LION_GRAD))
    return float(np.linalg.norm(w - before))


def _one_step() -> tuple[float, float]:
    d = np.array(NS_MATRIX)
    out = np.linalg.svd(analysis.orthogonalize(d, steps=1), compute_uv=False)
    # which output comes from which input: the map acts on σ/‖D‖_F, 15/17 and 8/17
    from_15, from_8 = analysis.newton_schulz_map(np.array([15.0, 8.0]) / np.linalg.norm(d), steps=1)
    # the optlib matrix iteration and the scalar map agree (else this exercise is wrong)
    assert np.allclose(np.sort(out), np.sort([from_15, from_8]), rtol=1e-12)
    return float(from_15), float(from_8)


def _by_hand() -> np.ndarray:
    return analysis.orthogonalize(np.array(NS_HAND_MATRIX), steps=NS_HAND_STEPS)[0]


def _bounce() -> tuple[float, float]:
    losses = run(RMSprop(lr=SIGN_LR, beta=0.0), Quadratic(), SIGN_START, SIGN_STEPS).losses
    last = losses[SIGN_STEPS - 19:]                   # steps 41-60: both coordinates bounce
    return float(last.min()), float(last.max())


register(
    Exercise(
        id="7.1",
        question="EMA momentum with α = 2 and β = 0.8 on a quadratic: up to which sharpness "
                 "λ_max is it stable?",
        expected=_momentum_threshold,
        rtol=1e-3,
        hint="Hint: chapter 2's limit for the EMA form is α < 2(1 + β)/((1 − β)λ); solve "
             "it for λ. 2/α is gradient descent's.",
    ),
    Exercise(
        id="7.2",
        question="Gradient descent with α = 0.4 clips its gradient by the global norm at "
                 "c = 0.3, and the gradient has norm 0.8. Answer (the learning rate of an "
                 "unclipped step of the same length, the sharpness up to which that step is "
                 "stable).",
        expected=_clipped_step,
        rtol=1e-3,
        hint="Hint: the clipped gradient is (c/‖g‖)·g, so the step is α(c/‖g‖)·g; the "
             "limit of a gradient step with learning rate a is 2/a.",
    ),
    Exercise(
        id="7.3",
        question="Lion(lr=0.003, weight_decay=0.4) takes one step from w₀ = (1, −2.5, 0.5, 3) "
                 "with the gradient (0.4, 1e-6, 0, −30): what is the length ‖w₁ − w₀‖ of the "
                 "step?",
        expected=_lion_step,
        rtol=1e-4,
        hint="Hint: every coordinate moves by −α(sign(c) + δw) with c = (1 − β₁)g on the "
             "first step; sign(0) = 0, however small the gradient the sign is ±1, and the "
             "decay term can cancel the sign.",
    ),
    Exercise(
        id="7.4",
        question="Power iteration with Hessian-vector products by central differences of "
                 "the gradient: λ_max of the training loss of MLP(sizes=(64, 16, 10), "
                 "seed=0) at its initial parameters, on the first 300 training images of "
                 "load_digits_split(test_fraction=0.25, seed=0).",
        expected=_power,
        rtol=1e-3,
        hint="Hint: Hv ≈ (∇L(w + hv) − ∇L(w − hv))/(2h) with h around 1e-5 on the flattened "
             "parameters; iterate v ← Hv/‖Hv‖ a few hundred times and report vᵀHv.",
    ),
    Exercise(
        id="7.5",
        question="Gradient descent with α = 0.7 on MLP(sizes=(64, 8, 10), seed=0), full batch, "
                 "400 steps, every gradient clipped by its global norm at c = 0.05: over the "
                 "last 200 steps, does the sharpness sit 'below' 2/α (median ratio under 0.9), "
                 "'at' it (0.9 to 1.1) or 'above' it (over 1.1)?",
        expected=_hard_clip,
        choices=HARD_CHOICES,
        hint="Hint: a clipped step is a gradient step with the rate α·c/‖g‖; which limit "
             "does that rate have, compared with 2/α?",
    ),
    Exercise(
        id="7.6",
        question="D = [[9, −6.4], [12, 4.8]] has singular values 15 and 8. After one "
                 "Newton–Schulz step with Muon's coefficients (D/‖D‖_F first), what are the "
                 "singular values: (the one that came from 15, the one that came from 8)?",
        expected=_one_step,
        rtol=1e-4,
        hint="Hint: ‖D‖_F = 17, so the normalised singular values are 15/17 and 8/17; each goes "
             "through φ(σ) = aσ + bσ³ + cσ⁵ once.",
    ),
    Exercise(
        id="7.7",
        question="Three Newton–Schulz steps (Muon's coefficients) written by hand on the 3 × 5 "
                 "matrix of the exercise: what is the first row of the result?",
        expected=_by_hand,
        rtol=1e-6,
        atol=1e-9,
        hint="Hint: X = D/‖D‖_F, then three times A = XXᵀ, X = aX + (bA + cA²)X. D is wide "
             "(3 < 5), so it is not transposed.",
    ),
    Exercise(
        id="7.8",
        question="RMSprop(lr=0.45, beta=0) (sign descent) on the bowl, curvatures 1 and 25, from "
                 "(−6.4, 1.7): between which two losses does it alternate for ever? (lower, higher)",
        expected=_bounce,
        rtol=1e-3,
        hint="Hint: each coordinate walks by α, then bounces between the two points around 0 "
             "a step α apart; which of its two points a coordinate is at depends on the parity "
             "of the step, and the two coordinates need not be at their near points together.",
    ),
)
