"""The chapter-1 additions to optlib.analysis: ``gd_regime`` and ``gd_steps_to_tolerance``,
checked against hand-worked values and against simulations with ``optlib.run``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optlib import GradientDescent, analysis, run
from optlib.objectives import Quadratic


# --------------------------------------------------------------------------- gd_regime


@pytest.mark.parametrize("lr, lam, regime", [
    (0.01, 25.0, "monotone"),      # factor 0.75
    (0.04, 25.0, "monotone"),      # factor 0: one step to the floor
    (0.05, 25.0, "oscillating"),   # factor -0.25
    (0.079, 25.0, "oscillating"),  # factor -0.975
    (0.08, 25.0, "divergent"),     # factor -1: never settles
    (0.085, 25.0, "divergent"),    # factor -1.125
    (0.085, 1.0, "monotone"),
])
def test_gd_regime_by_hand(lr, lam, regime):
    assert analysis.gd_regime(lr, lam) == regime


def test_gd_regime_broadcasts():
    out = analysis.gd_regime(np.array([[0.01], [0.05], [0.09]]), np.array([1.0, 25.0]))
    assert out.shape == (3, 2)
    assert out.tolist() == [["monotone", "monotone"], ["monotone", "oscillating"],
                            ["monotone", "divergent"]]


@pytest.mark.parametrize("lr", [0.01, 0.03, 0.05, 0.07, 0.079, 0.081, 0.09])
def test_gd_regime_matches_a_simulated_w2(lr):
    traj = run(GradientDescent(lr=lr), Quadratic(), [0.0, 1.5], 20, max_loss=1e300)
    w2 = traj.points[:, 1]
    flips = np.all(np.sign(w2[1:]) == -np.sign(w2[:-1]))
    shrinks = np.all(np.abs(w2[1:]) < np.abs(w2[:-1]))
    observed = "divergent" if not shrinks else ("oscillating" if flips else "monotone")
    assert analysis.gd_regime(lr, 25.0) == observed


@pytest.mark.parametrize("lr, curvature, error", [
    (0.0, 1.0, ValueError), (-0.1, 1.0, ValueError), (float("nan"), 1.0, ValueError),
    ("0.1", 1.0, TypeError), (0.1, 0.0, ValueError), (0.1, -1.0, ValueError),
    (0.1, float("inf"), ValueError), (0.1, "abc", TypeError), (0.1, True, TypeError),
    (0.1, [], ValueError),
])
def test_gd_regime_rejects_bad_input(lr, curvature, error):
    with pytest.raises(error, match="lr|curvature"):
        analysis.gd_regime(lr, curvature)


# --------------------------------------------------------------------------- gd_steps_to_tolerance


def test_gd_steps_to_tolerance_by_hand():
    # ρ = 24/26 at α* = 2/26: ln(1e6)/ln(26/24) = 172.6 → 173
    assert analysis.gd_steps_to_tolerance(2 / 26, (1.0, 25.0), 1e-6) == 173.0
    # ρ = 0.5 exactly: 0.5^10 ≤ 1e-3 < 0.5^9
    assert analysis.gd_steps_to_tolerance(0.5, (1.0,), 1e-3) == 10.0
    # ρ = 0.5 and tol = 0.5^4 exactly: 4 steps, not 5 (round-off guard)
    assert analysis.gd_steps_to_tolerance(0.5, (1.0,), 0.5 ** 4) == 4.0
    # ρ = 0: one step
    assert analysis.gd_steps_to_tolerance(1.0, (1.0,), 1e-9) == 1.0
    # ρ ≥ 1: never
    assert analysis.gd_steps_to_tolerance(0.08, (1.0, 25.0), 1e-3) == math.inf
    assert analysis.gd_steps_to_tolerance(0.1, (1.0, 25.0), 1e-3) == math.inf


def test_gd_steps_to_tolerance_broadcasts_over_lr():
    out = analysis.gd_steps_to_tolerance(np.array([[0.01], [0.05], [0.09]]), (1.0, 25.0), 1e-2)
    assert out.shape == (3, 1)
    expected = [math.ceil(math.log(1e-2) / math.log(r)) for r in (0.99, 0.95)]
    assert out[:2, 0].tolist() == expected
    assert out[2, 0] == math.inf


@pytest.mark.parametrize("kappa", [2.0, 5.0, 25.0, 100.0, 1000.0])
def test_gd_steps_to_tolerance_is_the_count_of_a_simulation_at_the_optimum(kappa):
    bowl = Quadratic(curvatures=(1.0, kappa))
    best = analysis.gd_optimal(bowl)
    predicted = analysis.gd_steps_to_tolerance(best.lr, bowl, 1e-6)
    traj = run(GradientDescent(lr=best.lr), bowl, bowl.start, int(predicted) + 10)
    d = traj.distances()
    assert int(np.argmax(d <= 1e-6 * d[0])) == predicted
    # ... and the estimate κ/2 · ln(1/tol) is within one step and one per cent for κ ≥ 5
    if kappa >= 5:
        assert abs(predicted - kappa / 2 * math.log(1e6)) <= 1 + 0.01 * predicted


@pytest.mark.parametrize("lr", [0.01, 0.03, 0.06])
def test_gd_steps_to_tolerance_is_an_upper_bound_that_a_slow_start_attains(lr):
    bowl = Quadratic()
    predicted = analysis.gd_steps_to_tolerance(lr, bowl, 1e-4)
    # the slow direction is W1 for these α: a start on the W1 axis attains the bound
    starts = np.array([[1.0, 0.0], [3.0, 2.0], [0.0, 1.0]])
    traj = run(GradientDescent(lr=lr), bowl, starts, int(predicted) + 10)
    d = traj.distances()
    first = np.argmax(d <= 1e-4 * d[0], axis=0)
    assert first[0] == predicted
    assert np.all(first <= predicted)


@pytest.mark.parametrize("tol, error", [(0.0, ValueError), (1.0, ValueError), (2.0, ValueError),
                                        (-1e-3, ValueError), (float("nan"), ValueError),
                                        ("0.1", TypeError)])
def test_gd_steps_to_tolerance_rejects_bad_tol(tol, error):
    with pytest.raises(error, match="tol"):
        analysis.gd_steps_to_tolerance(0.05, (1.0, 25.0), tol)


def test_chapter_1_additions_are_exported():
    for name in ("gd_regime", "gd_steps_to_tolerance"):
        assert name in analysis.__all__
        assert "math" in getattr(analysis, name).__doc__   # the docstring holds the equation
