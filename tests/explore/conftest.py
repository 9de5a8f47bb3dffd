"""The explorations the tests of ``optlib.explore`` share, each with an independent computation.

A test that takes the argument ``case_name`` runs once per case (:data:`CASES`);
``diverged_case_name`` runs once per case whose grid has a diverging run. The
fixtures ``explorer`` and ``frames`` give the case's exploration and its static
frames, built once per session (building draws contours). ``expected(values)``
is what the exploration must draw for those slider values, computed without it:
a fresh single run (``optlib.run`` with scalar hyperparameters) or, for the EMA,
:func:`optlib.analysis.ema_weights` and a direct recurrence.

Grids and step counts are small so that the tests run in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import optlib
from optlib.explore import EMAExplorer, MomentumRateExplorer, Slider, TrajectoryExplorer
from optlib.objectives import Quadratic


@dataclass
class Case:
    """One exploration, and an independent computation of what it must draw."""

    build: Callable[[], object]
    # expected(ex, values) -> {artist name: (x, y)} in data coordinates
    expected: Callable[[object, dict], dict]
    # slider values of a run that diverges, if the grid has one
    diverged: dict | None = None


def _single_run(optimizer_cls, objective_factory, steps, values):
    """A fresh optimizer with scalar hyperparameters on a fresh objective."""
    objective = objective_factory()
    opt = optimizer_cls(**{k: float(v) for k, v in values.items()})
    return objective, optlib.run(opt, objective, objective.start, steps)


def _trajectory_expected(optimizer_cls, objective_factory, steps, eigen_angle=None):
    def expected(_ex, values):
        objective, traj = _single_run(optimizer_cls, objective_factory, steps, values)
        pts = traj.points
        finite = np.all(np.isfinite(pts), axis=1)
        last = pts[finite][-1]
        gap = traj.losses - objective.min_value
        out = {
            "path": (pts[:, 0], pts[:, 1]),
            "end": ([last[0]], [last[1]]),
            "loss": (np.arange(steps + 1), gap),
        }
        if eigen_angle is not None:
            c, s = np.cos(eigen_angle), np.sin(eigen_angle)
            rotation = np.array([[c, -s], [s, c]])      # eigenvectors as columns
            u = (pts - np.asarray(objective.center)) @ rotation
            out["eigen"] = (u[:, 0], u[:, 1])
        return out
    return expected


def _rate_expected(steps):
    def expected(_ex, values):
        _, traj = _single_run(optlib.Momentum, Quadratic, steps, values)
        return {"probe": ([values["lr"]], [values["beta"]]),
                "path": (traj.points[:, 0], traj.points[:, 1])}
    return expected


def _ema_direct(signal, beta):
    """v_t = β v_{t-1} + (1-β) g_t from v_0 = 0, written out."""
    v, out = 0.0, []
    for g in signal:
        v = beta * v + (1.0 - beta) * g
        out.append(v)
    return np.array(out)


def _ema_expected(ex, values):
    beta = values["beta"]
    lags, steps = ex.lags, ex.steps
    # the weight of g_{t-k} in v_t, k = 0..lags (ema_weights lists the oldest first)
    w = optlib.analysis.ema_weights(beta, lags + 1)[::-1]
    k = np.arange(lags + 1, dtype=float)
    nan = np.full_like(k, np.nan)
    stems_x = np.column_stack([k, k, nan]).ravel()
    stems_y = np.column_stack([np.zeros_like(w), w, nan]).ravel()
    average = _ema_direct(ex.signal, beta)
    # the same average as a weighted sum with ema_weights, for every t
    by_weights = np.array([optlib.analysis.ema_weights(beta, t) @ ex.signal[:t]
                           for t in range(1, steps + 1)])
    np.testing.assert_allclose(average, by_weights, rtol=1e-12, atol=1e-12)
    t = np.arange(1, steps + 1)
    corrected = average / (1.0 - beta ** t)
    window = 1.0 / (1.0 - beta)
    return {"weights": (stems_x, stems_y), "window": ([window, window], [0.0, 1.05]),
            "average": (t, average), "corrected": (t, corrected)}


GD_STEPS, MOMENTUM_STEPS, RATE_STEPS = 25, 30, 30
ROTATION = np.pi / 6

CASES = {
    # lr = 0.085 oscillates out of the axes without diverging; 0.12 diverges.
    "gd": Case(
        build=lambda: TrajectoryExplorer(
            Quadratic(), optlib.GradientDescent,
            [Slider("lr", [0.01, 0.03, 0.05, 0.07, 0.085, 0.12], initial=0.05)],
            steps=GD_STEPS, name="gd_test"),
        expected=_trajectory_expected(optlib.GradientDescent, Quadratic, GD_STEPS),
        diverged={"lr": 0.12}),
    "momentum": Case(
        build=lambda: TrajectoryExplorer(
            Quadratic(), optlib.Momentum,
            [Slider("lr", [0.02, 0.1, 0.3], initial=0.1),
             Slider("beta", [0.0, 0.5, 0.9], initial=0.5)],
            steps=MOMENTUM_STEPS, name="momentum_test"),
        expected=_trajectory_expected(optlib.Momentum, Quadratic, MOMENTUM_STEPS),
        diverged={"lr": 0.3, "beta": 0.0}),
    "rotated": Case(
        build=lambda: TrajectoryExplorer(
            Quadratic(angle=ROTATION), optlib.GradientDescent,
            [Slider("lr", [0.01, 0.05, 0.08])], steps=GD_STEPS, eigenbasis=True,
            name="rotated_test"),
        expected=_trajectory_expected(optlib.GradientDescent,
                                      lambda: Quadratic(angle=ROTATION), GD_STEPS,
                                      eigen_angle=ROTATION)),
    "rate": Case(
        build=lambda: MomentumRateExplorer(
            lrs=np.round(np.geomspace(0.004, 1.6, 5), 4), betas=(0.0, 0.5, 0.9),
            steps=RATE_STEPS, fine=40),
        expected=_rate_expected(RATE_STEPS),
        diverged={"lr": 1.6, "beta": 0.5}),
    "ema": Case(
        build=lambda: EMAExplorer(betas=(0.0, 0.5, 0.9, 0.98), steps=40, lags=20),
        expected=_ema_expected),
}

_built: dict[str, object] = {}
_frames: dict[str, list] = {}


def _parametrized(metafunc, name: str) -> bool:
    """Whether a ``parametrize`` mark of the test already gives ``name`` (a chosen subset)."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        names = names.split(",") if isinstance(names, str) else names
        if name in (n.strip() for n in names):
            return True
    return False


def pytest_generate_tests(metafunc):
    """``case_name``: every case (unless the test names its own); ``diverged_case_name``:
    the cases with a diverging run."""
    if "case_name" in metafunc.fixturenames and not _parametrized(metafunc, "case_name"):
        metafunc.parametrize("case_name", list(CASES))
    if "diverged_case_name" in metafunc.fixturenames:
        metafunc.parametrize("diverged_case_name", [n for n, c in CASES.items() if c.diverged])


def build(name: str):
    """The exploration of case ``name``, built once per session."""
    if name not in _built:
        _built[name] = CASES[name].build()
    return _built[name]


@pytest.fixture
def case(case_name) -> Case:
    return CASES[case_name]


@pytest.fixture
def explorer(case_name):
    return build(case_name)


@pytest.fixture
def frames(case_name) -> list:
    """The case's static frames, encoded once per session."""
    if case_name not in _frames:
        _frames[case_name] = build(case_name).static_frames()
    return _frames[case_name]


@pytest.fixture
def cases():
    """All cases, by name, and the builder (for tests that need a particular case)."""
    return CASES, build


@pytest.fixture
def comparison():
    """A small ComparisonExplorer (two objectives, two optimizers), its objectives and
    optimizer factories; built afresh for each test (its views keep state)."""
    from optlib.explore import ComparisonExplorer
    from optlib.objectives import Rosenbrock

    objectives = {"bowl": Quadratic(), "banana": Rosenbrock()}
    optimizers = {"GD": lambda o: optlib.GradientDescent(lr=0.05 if isinstance(o, Quadratic)
                                                          else 0.001),
                  "Adam": lambda o: optlib.Adam(lr=0.05)}
    return ComparisonExplorer(objectives, optimizers, steps=(0, 5, 20), tol=1e-2,
                              name="cmp"), objectives, optimizers
