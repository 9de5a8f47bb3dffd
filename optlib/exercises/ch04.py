r"""Exercises of chapter 4, *Adam* (``chapters/04_adam.ipynb``).

Every expected answer is computed with optlib (``optlib.Adam``, ``optlib.AdamW``,
``optlib.run``, ``optlib.analysis`` and the objectives), never typed in, so the checks stay
true if the library's conventions are ever changed together with the chapter. The notation is
the book's: :math:`v` is Adam's first moment, :math:`s` its second, :math:`\hat v_t, \hat s_t`
their corrected values, :math:`c_t = \sqrt{1-\beta_2^t}/(1-\beta_1^t)` the bias-correction step
factor and :math:`\delta` the weight decay.

===  =========  =================  ======================================================  =========
id   level      kind               asks for                                                answer
===  =========  =================  ======================================================  =========
4.1  warm-up    derivation         first t with 1 − β₁ᵗ ≥ 99 % for β₁ = 0.95               a count
4.2  warm-up    computation        the step factor c_t at t = 4, β₁ = 0.8, β₂ = 0.99       a number
4.3  warm-up    predict, then run  which of W, b (b's gradients 10⁻⁶ × W's) moves more     a choice
4.4  core       implement it       Adam on a {"W", "b"} dict, three given gradients        3 numbers
4.5  core       predict, then run  which weights AdamW leaves smaller than L2              a choice
4.6  core       derivation         the longest late step ``|v|/√s``, β₁ = 0.85, β₂ = 0.99  a number
4.7  challenge  derivation         AdamW's rest point when the gradients are near ε        a number
===  =========  =================  ======================================================  =========
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import analysis
from ..objectives import Quadratic
from ..optimizers import Adam, AdamW
from ..runs import run
from . import Exercise, register

#: exercise 4.1: β₁ and the share of a constant gradient the raw average must reach
WEIGHT_BETA, WEIGHT_SHARE = 0.95, 0.99
#: exercise 4.2: β₁, β₂ and the step t of the factor c_t
FACTOR_BETA1, FACTOR_BETA2, FACTOR_T = 0.8, 0.99, 4
#: exercise 4.3: W's gradients, the factor of b's gradients, the learning rate
SCALE_GRADS, SCALE_FACTOR, SCALE_LR = (0.5, 0.3, -0.2, 0.4), 1e-6, 0.01
SCALE_CHOICES = ("W", "b", "same")
#: exercise 4.4: start, gradients (W, b) of the three steps, hyperparameters
IMPL_W0, IMPL_B0 = (0.85, -2.35), 0.2
IMPL_GRADS = (((0.6, -2.4), 0.3), ((0.2, -1.8), -0.1), ((-0.4, -1.2), 0.05))
IMPL_HYPER = {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8}
#: exercise 4.5: the bowl, the weight decay δ, the learning rate and the number of steps
DECAY_CURVATURES, DECAY_CENTER, DECAY_DELTA = (0.25, 50.0), (6.0, 6.0), 0.25
DECAY_LR, DECAY_STEPS = 0.05, 5000
DECAY_CHOICES = ("W1", "W2", "both", "neither")
#: exercise 4.6: β₁, β₂ of the longest step
LONG_BETA1, LONG_BETA2 = 0.85, 0.99
#: exercise 4.7: the 1-D quadratic (curvature, minimum), AdamW's hyperparameters, the steps
REST_CURVATURE, REST_CENTER = 3e-8, 5.0
REST_HYPER = {"lr": 0.1, "beta2": 0.99, "weight_decay": 0.4, "eps": 1e-8}
REST_STEPS = 4000


def _steps_to_share() -> int:
    """The first t at which the EMA's total weight 1 − βᵗ reaches ``WEIGHT_SHARE``."""
    t = np.arange(1, 10_000)
    return int(t[np.argmax(analysis.ema_bias(WEIGHT_BETA, t) >= WEIGHT_SHARE)])


def _step_factor() -> float:
    """c_t = √(1 − β₂ᵗ)/(1 − β₁ᵗ), optlib's ``step_scale``."""
    return float(analysis.adam_bias_correction(FACTOR_BETA1, FACTOR_BETA2, FACTOR_T).step_scale)


@lru_cache(maxsize=None)
def scaled_displacements() -> tuple[float, float]:
    """|W − W₀| and |b − b₀| after Adam's steps, b's gradients ``SCALE_FACTOR`` times W's."""
    params = {"W": np.zeros(()), "b": np.zeros(())}
    opt = Adam(lr=SCALE_LR)
    for g in SCALE_GRADS:
        opt.step(params, {"W": np.array(g), "b": np.array(g * SCALE_FACTOR)})
    return abs(float(params["W"])), abs(float(params["b"]))


def _further() -> str:
    moved_w, moved_b = scaled_displacements()
    if np.isclose(moved_w, moved_b, rtol=1e-4, atol=0.0):     # equal to 4 significant digits
        return "same"
    return "W" if moved_w > moved_b else "b"


def _implemented() -> tuple[float, float, float]:
    """(W₁, W₂, b) after optlib's Adam took the steps of exercise 4.4 on a dict."""
    params = {"W": np.array(IMPL_W0), "b": np.array(IMPL_B0)}
    opt = Adam(**IMPL_HYPER)
    for g_w, g_b in IMPL_GRADS:
        opt.step(params, {"W": np.array(g_w), "b": np.array(g_b)})
    return (float(params["W"][0]), float(params["W"][1]), float(params["b"]))


@lru_cache(maxsize=None)
def decay_ends() -> tuple[np.ndarray, np.ndarray]:
    """Where L2 (``Adam(weight_decay=δ)``) and ``AdamW(weight_decay=δ)`` are after the run."""
    bowl = Quadratic(curvatures=DECAY_CURVATURES, center=DECAY_CENTER)
    ends = [run(opt, bowl, [0.0, 0.0], DECAY_STEPS).final
            for opt in (Adam(lr=DECAY_LR, weight_decay=DECAY_DELTA),
                        AdamW(lr=DECAY_LR, weight_decay=DECAY_DELTA))]
    return ends[0], ends[1]


def _smaller_with_adamw() -> str:
    l2, adamw = decay_ends()
    smaller = [abs(adamw[i]) < abs(l2[i]) - 1e-6 for i in range(2)]
    return {(True, True): "both", (True, False): "W1", (False, True): "W2",
            (False, False): "neither"}[tuple(smaller)]


@lru_cache(maxsize=None)
def _longest_step() -> float:
    """Adam's step (units of α, ε = 0) after a long silence and 150 gradients growing by
    β₂/β₁ a step: the supremum, reached to about 1e-9."""
    growth = LONG_BETA2 / LONG_BETA1
    grads = np.r_[np.zeros(2000), growth ** np.arange(150)]
    w, opt = np.zeros(1), Adam(lr=1.0, beta1=LONG_BETA1, beta2=LONG_BETA2, eps=0.0)
    for g in grads:
        before = w[0]
        opt.step(w, np.array([g]))
    return float(before - w[0])


@lru_cache(maxsize=None)
def _rest_point() -> float:
    """Where AdamW ends on f(w) = (λ/2)(w − c)² from w = 0 after ``REST_STEPS`` steps (at rest
    to about 1e-11)."""
    w, opt = np.zeros(1), AdamW(**REST_HYPER)
    for _ in range(REST_STEPS):
        opt.step(w, REST_CURVATURE * (w - REST_CENTER))
    return float(w[0])


register(
    Exercise(
        id="4.1",
        question=f"A constant gradient g and β₁ = {WEIGHT_BETA}: after how many steps t does the "
                 f"uncorrected average v_t (v₀ = 0) first hold at least {WEIGHT_SHARE:.0%} of g? "
                 "A whole number.",
        expected=_steps_to_share,
        rtol=0.0,
        hint="Hint: the weights of g₁, …, g_t in v_t add up to 1 − β₁ᵗ, so v_t = (1 − β₁ᵗ)·g; "
             "find the smallest whole t with β₁ᵗ ≤ 0.01 (ln 100/(1 − β₁) is only an estimate).",
    ),
    Exercise(
        id="4.2",
        question=f"β₁ = {FACTOR_BETA1}, β₂ = {FACTOR_BETA2}: what is Adam's bias-correction "
                 f"step factor c_t = √(1 − β₂ᵗ)/(1 − β₁ᵗ) at t = {FACTOR_T}?",
        expected=_step_factor,
        rtol=1e-4,
        hint="Hint: c_t multiplies the uncorrected step α·v_t/√s_t; the root is over "
             "1 − β₂ᵗ only, and c_t is below 1 early on (the uncorrected step α/c_t is the long one).",
    ),
    Exercise(
        id="4.3",
        question=f"Adam(lr={SCALE_LR}) on {{'W': 0, 'b': 0}}: W gets the gradients {SCALE_GRADS}, "
                 f"b the same times {SCALE_FACTOR:g}. After the {len(SCALE_GRADS)} steps, which has "
                 f"moved further from 0? One of {', '.join(repr(c) for c in SCALE_CHOICES)} "
                 "('same': equal to 4 significant digits).",
        expected=_further,
        choices=SCALE_CHOICES,
        hint="Hint: scaling a coordinate's gradients by c turns ε into ε/c in its step; compare "
             "b's gradients, a few times 10⁻⁷, with ε = 1e-8.",
    ),
    Exercise(
        id="4.4",
        question=f"Write Adam's update for the dict {{'W': {IMPL_W0}, 'b': {IMPL_B0}}} with "
                 f"α = {IMPL_HYPER['lr']}, β₁ = {IMPL_HYPER['beta1']}, β₂ = {IMPL_HYPER['beta2']}, "
                 f"ε = {IMPL_HYPER['eps']:g} and the gradients (dW, db) = {IMPL_GRADS} of the three "
                 "steps. Answer (W1, W2, b) after the third step.",
        expected=_implemented,
        rtol=1e-6,
        hint="Hint: per parameter v = β₁v + (1 − β₁)g, s = β₂s + (1 − β₂)g², v̂ = v/(1 − β₁ᵗ), "
             "ŝ = s/(1 − β₂ᵗ), w = w − α·v̂/(√ŝ + ε) with t = 1, 2, 3; both corrections; W's "
             "two weights first, then b.",
    ),
    Exercise(
        id="4.5",
        question=f"Quadratic(curvatures={DECAY_CURVATURES}, center={DECAY_CENTER}), from the "
                 f"origin, {DECAY_STEPS} steps with α = {DECAY_LR}: Adam with L2 "
                 f"(Adam(weight_decay={DECAY_DELTA})) and AdamW(weight_decay={DECAY_DELTA}). "
                 "Which weights does AdamW leave smaller than L2 does? One of "
                 f"{', '.join(repr(c) for c in DECAY_CHOICES)}.",
        expected=_smaller_with_adamw,
        choices=DECAY_CHOICES,
        hint="Hint: L2 comes to rest at λᵢcᵢ/(λᵢ + δ) (flat weights shrink most); AdamW at "
             "clip(cᵢ, −1/δ, 1/δ), whatever the curvature.",
    ),
    Exercise(
        id="4.6",
        question=f"β₁ = {LONG_BETA1}, β₂ = {LONG_BETA2}, ε = 0: late in a run (corrections ≈ 1), "
                 "how long can Adam's step be at most, in units of α — the supremum of "
                 "|v_t|/√s_t over all gradient sequences?",
        expected=_longest_step,
        rtol=1e-4,
        hint="Hint: write v_t and s_t as sums over past gradients and apply Cauchy–Schwarz: "
             "(1 − β₁)/√((1 − β₂)(1 − β₁²/β₂)). One gradient after a long silence, "
             "(1 − β₁)/√(1 − β₂), is not the longest step.",
    ),
    Exercise(
        id="4.7",
        question=f"AdamW({', '.join(f'{k}={v:g}' for k, v in REST_HYPER.items())}) on the 1-D "
                 f"f(w) = (λ/2)(w − c)² with λ = {REST_CURVATURE:g} (a loss scaled down until its "
                 f"gradients are near ε) and c = {REST_CENTER:g}, from w = 0. Where does it come "
                 "to rest? Keep ε.",
        expected=_rest_point,
        rtol=1e-4,
        hint="Hint: at rest v̂ = g and ŝ = g², so δw = −g/(|g| + ε) with g = λ(w − c); with "
             "ε kept this is a quadratic equation for w. The ε-free answer clip(c, ±1/δ) is "
             "not it here.",
    ),
)
