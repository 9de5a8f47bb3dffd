"""Tests for optlib.analysis.gd: gradient descent's closed forms against hand-computed
numbers and against simulation with optlib's own optimizers on quadratics.

Derivation used here (independently of the library): GD on f(w) = ½ (w-c)ᵀH(w-c)
multiplies the error along the i-th eigenvector of H by (1 - αλᵢ) each step, so GD is
stable iff α < 2/λ_max.
"""

import math

import numpy as np
import pytest
from rates import fitted_rate

import optlib
from optlib import GradientDescent, analysis, run
from optlib.objectives import Quadratic

CURV = (1.0, 25.0)


def eigen_coordinates(points, objective):
    """Coordinates of points - minimum along the Hessian's eigenvectors, from numpy's eigh.

    Returns (coordinates (..., 2), eigenvalues ascending).
    """
    lam, vecs = np.linalg.eigh(objective.hessian)
    return (np.asarray(points) - objective.minimum) @ vecs, lam


# --------------------------------------------------------------------------
# Hand-computed numbers
# --------------------------------------------------------------------------


def test_gd_numbers_for_curvatures_1_25():
    """For λ = (1, 25): limit 2/25 = 0.08, optimal lr 2/26, optimal rate 24/26."""
    assert analysis.gd_stability_limit(CURV) == pytest.approx(0.08, rel=1e-15)
    opt = analysis.gd_optimal(CURV)
    assert opt.lr == pytest.approx(2.0 / 26.0, rel=1e-15)
    assert opt.rate == pytest.approx(24.0 / 26.0, rel=1e-15)
    assert opt.beta == 0.0
    assert analysis.condition_number(CURV) == 25.0


def test_gd_factors_by_hand():
    """gd_factors(α, λ) = |1 - αλ|: α = 0.05 gives (0.95, 0.25), α = 0.1 gives (0.9, 1.5)."""
    np.testing.assert_allclose(analysis.gd_factors(0.05, CURV), [0.95, 0.25], rtol=1e-14)
    np.testing.assert_allclose(analysis.gd_factors(0.1, CURV), [0.9, 1.5], rtol=1e-14)


def test_gd_factors_broadcast_over_lr_grid():
    """An lr array of shape (3, 1) gives factors of shape (3, 1, 2), each |1 - αλ|."""
    lr = np.array([[0.01], [0.05], [0.1]])
    f = analysis.gd_factors(lr, CURV)
    assert f.shape == (3, 1, 2)
    np.testing.assert_allclose(f[:, 0, :], [[0.99, 0.75], [0.95, 0.25], [0.9, 1.5]], rtol=1e-14)


def test_gd_rate_is_largest_factor():
    """gd_rate(α) = max_i |1 - αλ_i|: 0.95 at α = 0.05, 1.5 at α = 0.1, 24/26 at 2/26."""
    assert analysis.gd_rate(0.05, CURV) == pytest.approx(0.95, rel=1e-14)
    assert analysis.gd_rate(0.1, CURV) == pytest.approx(1.5, rel=1e-14)
    assert analysis.gd_rate(2.0 / 26.0, CURV) == pytest.approx(24.0 / 26.0, rel=1e-14)
    rates = analysis.gd_rate(np.array([0.05, 0.1]), CURV)
    np.testing.assert_allclose(rates, [0.95, 1.5], rtol=1e-14)


def test_gd_optimal_minimises_gd_rate_on_a_grid():
    """No learning rate on a fine grid beats gd_optimal's rate, and the best grid lr is near 2/26."""
    lr = np.linspace(1e-4, 0.1, 20001)
    rates = analysis.gd_rate(lr, CURV)
    best = analysis.gd_optimal(CURV)
    assert rates.min() >= best.rate - 1e-12
    assert rates.min() <= best.rate + 1e-4
    assert abs(lr[np.argmin(rates)] - best.lr) < 1e-4


def test_an_objective_stands_in_for_its_curvatures():
    """A Quadratic can stand in for its curvatures (rotation does not change them)."""
    q = Quadratic(curvatures=(4.0, 0.5), angle=1.1)
    assert analysis.gd_stability_limit(q) == pytest.approx(0.5, rel=1e-15)
    assert analysis.condition_number(q) == pytest.approx(8.0, rel=1e-15)
    assert analysis.gd_optimal(q).lr == pytest.approx(2.0 / 4.5, rel=1e-15)


# --------------------------------------------------------------------------
# Against simulation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [0.01, 0.05, 0.07, 2.0 / 26.0])
def test_gd_shrinks_each_axis_by_its_factor(lr):
    """Unrotated quadratic: x_{t+1}/x_t = 1 - αλ_1 and y_{t+1}/y_t = 1 - αλ_2 at every step."""
    q = Quadratic(curvatures=CURV)
    tr = optlib.run(optlib.GradientDescent(lr=lr), q, q.start, 40)
    ratios = tr.points[1:] / tr.points[:-1]
    expected = 1.0 - lr * np.array(CURV)
    np.testing.assert_allclose(ratios, np.broadcast_to(expected, ratios.shape), rtol=1e-12)
    np.testing.assert_allclose(np.abs(ratios[-1]), analysis.gd_factors(lr, CURV), rtol=1e-12)


@pytest.mark.parametrize("angle", [0.3, math.pi / 6, 2.0])
def test_gd_shrinks_each_eigendirection_by_its_factor_rotated(angle):
    """Rotated, off-centre quadratic: the coordinates along H's eigenvectors shrink by |1 - αλᵢ|."""
    q = Quadratic(curvatures=CURV, angle=angle, center=(1.5, -2.0))
    lr = 0.07  # factors 0.93 and 0.75: both coordinates stay far above round-off for 30 steps
    tr = optlib.run(optlib.GradientDescent(lr=lr), q, q.start, 30)
    coords, lam = eigen_coordinates(tr.points, q)
    np.testing.assert_allclose(lam, CURV, rtol=1e-12)
    ratios = coords[1:] / coords[:-1]
    np.testing.assert_allclose(ratios, np.broadcast_to(1.0 - lr * lam, ratios.shape), rtol=1e-9)
    np.testing.assert_allclose(np.abs(ratios).mean(axis=0), analysis.gd_factors(lr, q),
                               rtol=1e-9)


@pytest.mark.parametrize("angle", [0.0, 0.8])
@pytest.mark.parametrize("curvatures", [(1.0, 25.0), (3.0, 0.5)])
def test_gd_stability_limit_separates_convergence_from_divergence(curvatures, angle):
    """GD with α = 0.98·2/λ_max converges and with α = 1.02·2/λ_max diverges."""
    q = Quadratic(curvatures=curvatures, angle=angle)
    limit = analysis.gd_stability_limit(curvatures)
    assert limit == pytest.approx(2.0 / max(curvatures), rel=1e-15)
    below = optlib.run(optlib.GradientDescent(lr=0.98 * limit), q, q.start, 2000)
    above = optlib.run(optlib.GradientDescent(lr=1.02 * limit), q, q.start, 2000)
    assert below.diverged is False
    assert below.distances()[-1] < 1e-6 * below.distances()[0]
    assert above.diverged is True
    assert 0 < above.diverged_at < 2000


def test_gd_rate_matches_measured_rate():
    """The measured per-step contraction of GD equals gd_rate on a rotated quadratic."""
    q = Quadratic(curvatures=CURV, angle=0.5)
    for lr in (0.02, 0.05, 0.075):
        tr = optlib.run(optlib.GradientDescent(lr=lr), q, q.start, 600)
        measured = fitted_rate(tr.distances(), skip=50, floor=1e-12)
        assert measured == pytest.approx(analysis.gd_rate(lr, CURV), abs=1e-6)


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
    """gd_regime labels hand-computed factors 1 - αλ."""
    assert analysis.gd_regime(lr, lam) == regime


def test_gd_regime_broadcasts():
    """lr (3, 1) × curvature (2,) gives a (3, 2) array of labels."""
    out = analysis.gd_regime(np.array([[0.01], [0.05], [0.09]]), np.array([1.0, 25.0]))
    assert out.shape == (3, 2)
    assert out.tolist() == [["monotone", "monotone"], ["monotone", "oscillating"],
                            ["monotone", "divergent"]]


@pytest.mark.parametrize("lr", [0.01, 0.03, 0.05, 0.07, 0.079, 0.081, 0.09])
def test_gd_regime_matches_a_simulated_w2(lr):
    """The label is what a run shows along W2 (λ = 25): sign flips, shrinking or growth."""
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
    """Wrong kind -> TypeError, wrong value -> ValueError, naming lr or curvature."""
    with pytest.raises(error, match="lr|curvature"):
        analysis.gd_regime(lr, curvature)


# --------------------------------------------------------------------------- gd_steps_to_tolerance


def test_gd_steps_to_tolerance_by_hand():
    """⌈ln tol / ln ρ⌉, with ρ = 0 (one step), ρ ≥ 1 (never) and an exact power of ρ."""
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
    """An lr array gives an array of step counts of its shape (inf where ρ ≥ 1)."""
    out = analysis.gd_steps_to_tolerance(np.array([[0.01], [0.05], [0.09]]), (1.0, 25.0), 1e-2)
    assert out.shape == (3, 1)
    expected = [math.ceil(math.log(1e-2) / math.log(r)) for r in (0.99, 0.95)]
    assert out[:2, 0].tolist() == expected
    assert out[2, 0] == math.inf


@pytest.mark.parametrize("kappa", [2.0, 5.0, 25.0, 100.0, 1000.0])
def test_gd_steps_to_tolerance_is_the_count_of_a_simulation_at_the_optimum(kappa):
    """At α* every direction shrinks by ρ: the first run step below tol is the prediction."""
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
    """No start needs more steps; a start on the slowest axis needs exactly as many."""
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
    """tol outside (0, 1) -> ValueError, a string -> TypeError, naming tol."""
    with pytest.raises(error, match="tol"):
        analysis.gd_steps_to_tolerance(0.05, (1.0, 25.0), tol)


# --------------------------------------------------------------------------- bad input

CURVATURE_FUNCS = {
    "condition_number": lambda c: analysis.condition_number(c),
    "gd_factors": lambda c: analysis.gd_factors(0.1, c),
    "gd_rate": lambda c: analysis.gd_rate(0.1, c),
    "gd_stability_limit": lambda c: analysis.gd_stability_limit(c),
    "gd_optimal": lambda c: analysis.gd_optimal(c),
    "gd_steps_to_tolerance": lambda c: analysis.gd_steps_to_tolerance(0.1, c, 1e-3),
}


@pytest.mark.parametrize("name", sorted(CURVATURE_FUNCS))
@pytest.mark.parametrize("bad", [(1.0, -25.0), (0.0, 25.0), (-1.0,), (), (1.0, np.nan),
                                 (1.0, np.inf), [[1.0, 25.0]]])
def test_bad_curvatures_raise_value_error(name, bad):
    """Zero, negative, non-finite, empty or 2-d curvatures raise ValueError naming `curvatures`."""
    with pytest.raises(ValueError, match="curvatures"):
        CURVATURE_FUNCS[name](bad)


@pytest.mark.parametrize("name", sorted(CURVATURE_FUNCS))
@pytest.mark.parametrize("bad", ["steep", True, (1.0, None), object()])
def test_curvatures_of_the_wrong_kind_raise_type_error(name, bad):
    """Curvatures that are not numbers (a bool included) raise TypeError naming `curvatures`."""
    with pytest.raises(TypeError, match="curvatures"):
        CURVATURE_FUNCS[name](bad)


@pytest.mark.parametrize("call", [
    lambda lr: analysis.gd_factors(lr, CURV),
    lambda lr: analysis.gd_rate(lr, CURV),
    lambda lr: analysis.gd_regime(lr, 1.0),
    lambda lr: analysis.gd_steps_to_tolerance(lr, CURV, 1e-3),
], ids=["gd_factors", "gd_rate", "gd_regime", "gd_steps_to_tolerance"])
@pytest.mark.parametrize("lr", [0.0, -0.1, np.inf, np.nan, np.array([0.1, -0.1])])
def test_bad_lr_raises_value_error(call, lr):
    """lr ≤ 0 or non-finite (also one bad entry in an array) raises ValueError naming `lr`."""
    with pytest.raises(ValueError, match="lr"):
        call(lr)


@pytest.mark.parametrize("lr", ["fast", True, None])
def test_lr_of_the_wrong_kind_raises_type_error(lr):
    """A string, bool or None lr raises TypeError naming `lr`."""
    with pytest.raises(TypeError, match="lr"):
        analysis.gd_rate(lr, CURV)
