"""Chapter 6's exercise checks: answers worked out independently here (closed forms and
recursions in plain numpy, schedule-free SGD written again) pass; the small-α estimates, the
wrong iterate and other likely mistakes fail. What every exercise must do for a learner
(malformed answers, messages) is tested for all chapters in tests/exercises/test_registry.py."""

from __future__ import annotations

import numpy as np
import pytest

from optlib.exercises import check, exercises
from optlib.objectives import Noisy, Quadratic

IDS = ("6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7")
LAM, START = np.array([1.0, 25.0]), np.array([-8.0, 1.5])


def gd_floor(a, lam, s):
    return a * s**2 / (2 * (2 - a * lam))


def final_loss(peak, mu, s):
    total = 0.0
    for l, w in zip(LAM, START):
        mean, var = w, 0.0
        for m in mu:
            r = 1 - peak * m * l
            mean, var = r * mean, r * r * var + (peak * m) ** 2 * s**2
        total += l / 2 * (mean**2 + var)
    return total


def test_the_chapter_registers_exactly_its_exercises():
    assert sorted(k for k in exercises() if k.startswith("6.")) == list(IDS)


def test_6_1_exact_floor_passes_and_the_small_alpha_form_fails():
    assert check("6.1", gd_floor(0.03, 12.0, 2.0))
    assert not check("6.1", 0.03 * 4 / 4)


def test_6_2_up():
    before = sum(gd_floor(0.02, l, 2.0 / np.sqrt(4)) for l in LAM)
    after = sum(gd_floor(0.04, l, 2.0 / np.sqrt(8)) for l in LAM)
    assert after > before
    assert check("6.2", "up") and not check("6.2", "equal") and not check("6.2", "down")


def test_6_3_closed_form_passes_and_the_floor_alone_fails():
    r = 1 - 0.1 * 4
    want = 4 / 2 * ((r**10 * 2) ** 2 + 0.01 * (1 - r**20) / (1 - r**2))
    assert check("6.3", want)
    assert not check("6.3", gd_floor(0.1, 4.0, 1.0))          # the stationary floor


def test_6_4_schedule_free_by_hand_passes_and_y_fails():
    noisy = Noisy(Quadratic(), noise=0.5, seed=3)
    z = START.copy(); x = z.copy(); y = z.copy()
    for t in range(1, 21):
        g = LAM * y + (noisy.grad(y, step=t) - LAM * y)   # the chapter's noise draws
        z = z - 0.05 * g
        x = (1 - 1 / t) * x + z / t
        y = 0.5 * z + 0.5 * x
    assert check("6.4", tuple(x))
    assert not check("6.4", tuple(y))                          # the point of the gradients
    assert not check("6.4", tuple(z))


def test_6_5_closed_form_passes_and_the_same_alpha_fails():
    F = gd_floor(0.03, 25.0, 1.0)
    c = 0.3 / 1.7
    want = 4 * F / (1 + 2 * F * c * 25.0)
    assert check("6.5", want)
    assert not check("6.5", 0.03)                              # "the same small-α floor"
    assert not check("6.5", 0.03 / 0.3)                        # the heavy-ball conversion


def test_6_6_grid_search_by_recursion():
    peaks = np.round(np.arange(1, 80) * 0.001, 3)
    mu = 1 - np.arange(300) / 300
    losses = [final_loss(p, mu, 4.0) for p in peaks]
    k = int(np.argmin(losses))
    assert check("6.6", (peaks[k], losses[k]))
    assert not check("6.6", (peaks[-1], losses[-1]))           # the largest α


def test_6_7_step_decay_factor():
    gammas = np.round(np.arange(1, 10) * 0.1, 1)
    losses = [final_loss(0.05, g ** (np.arange(200) // 67), 1.0) for g in gammas]
    k = int(np.argmin(losses))
    assert check("6.7", (gammas[k], losses[k]))
    assert not check("6.7", (0.1, losses[0]))                  # the chapter's own γ
