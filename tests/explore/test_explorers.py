"""The chapters' explorations (``optlib.explore.explorers``): the numbers their readouts print,
and their arguments, checked before anything is computed.

Readout numbers are compared with independent runs (``optlib.run`` with scalar
hyperparameters) and with numpy's eigenvalues of momentum's iteration matrix.
Bad arguments raise ``TypeError`` (wrong kind) or ``ValueError`` (wrong value)
whose message names the argument and repeats the value.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest
from learner_settings import assert_raises_naming

import optlib
from optlib.explore import (
    ComparisonExplorer,
    EMAExplorer,
    MomentumRateExplorer,
    Slider,
    TrajectoryExplorer,
)
from optlib.explore.model import readout_text
from optlib.objectives import Quadratic, Rosenbrock

ROTATION = np.pi / 6


def strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


# --------------------------------------------------------------------------- readout numbers
@pytest.mark.parametrize("case_name", ["gd", "momentum", "rotated"])
def test_trajectory_readout_numbers(explorer, case, case_name):
    """Diverged: "diverged at step N" with N = Trajectory.diverged_at; else the final gap."""
    ex = explorer
    opt_cls = ex.optimizer.__class__
    saw_diverged = False
    for index in np.ndindex(*ex.shape):
        values = ex.values(index)
        objective = Quadratic(angle=ROTATION if case_name == "rotated" else 0.0)
        traj = optlib.run(opt_cls(**values), objective, objective.start, ex.steps)
        readout = strip_tags(ex.frame(index)[1])
        if traj.diverged:
            saw_diverged = True
            assert f"diverged at step {traj.diverged_at}" in readout, readout
            assert "after" not in readout
        else:
            assert "diverged" not in readout
            gap = traj.losses[-1] - objective.min_value
            assert f"after {ex.steps} steps f(w) − f* = {gap:.3g}" in readout, readout
    if case.diverged is not None:
        assert saw_diverged


@pytest.mark.parametrize("case_name", ["rate"])
def test_momentum_rate_readout_numbers(explorer):
    ex = explorer
    lam = Quadratic().curvatures
    diverged = 0
    for index in np.ndindex(*ex.shape):
        v = ex.values(index)
        lr, beta = v["lr"], v["beta"]
        # spectral radius of the (w, v) iteration matrix, by numpy, per curvature
        rho = max(np.abs(np.linalg.eigvals(np.array(
            [[1 - lr * (1 - beta) * l, -lr * beta], [(1 - beta) * l, beta]]))).max()
            for l in lam)
        readout = strip_tags(ex.frame(index)[1])
        assert f"predicted rate ρ = {rho:.3g}" in readout, readout
        traj = optlib.run(optlib.Momentum(lr=lr, beta=beta), Quadratic(),
                          Quadratic().start, ex.steps)
        if traj.diverged:
            diverged += 1
            assert f"diverged at step {traj.diverged_at}" in readout, readout
        else:
            assert "measured rate" in readout and "diverged" not in readout
    assert diverged >= 2


@pytest.mark.parametrize("case_name", ["ema"])
def test_ema_readout_numbers(explorer):
    ex = explorer
    for index in np.ndindex(*ex.shape):
        beta = ex.values(index)["beta"]
        readout = strip_tags(ex.frame(index)[1])
        assert f"window 1/(1−β) ≈ {1 / (1 - beta):.3g} steps" in readout
        assert f"(1−β)·g₁ = {1 - beta:.3g}·g₁" in readout
        assert f"1 − β¹⁰ = {1 - beta ** 10:.3g}" in readout


def test_comparison_and_rate_readouts_quote_the_bound():
    rosen = Rosenbrock()
    bound = 1e6 * max(1.0, abs(float(rosen.value(rosen.start))))
    ex = ComparisonExplorer(
        {"bowl": Quadratic(), "rosenbrock": Rosenbrock()},
        {"GradientDescent": lambda f: optlib.GradientDescent(lr=0.09),
         "Adam": lambda f: optlib.Adam(lr=0.1)}, steps=(0, 5, 20), name="comparison_bound")
    traj = optlib.run(optlib.GradientDescent(lr=0.09), rosen, rosen.start, 20)
    assert traj.diverged
    text = readout_text(ex.frame((1, 2))[1])
    assert f"GradientDescent | diverged at step {traj.diverged_at} (f(w) > {bound:.3g})" in text

    rate = MomentumRateExplorer(lrs=np.round(np.geomspace(0.004, 1.6, 4), 4), betas=(0.0, 0.9),
                                steps=30, fine=30)
    i, j = rate.index_of(lr=1.6, beta=0.0)
    bowl = Quadratic()
    traj = optlib.run(optlib.Momentum(lr=1.6, beta=0.0), bowl, bowl.start, 30)
    bound = 1e6 * max(1.0, abs(float(bowl.value(bowl.start))))
    assert traj.diverged
    assert f"diverged at step {traj.diverged_at}: f(w) exceeded {bound:.3g}" in strip_tags(
        rate.frame((i, j))[1])


def test_comparison_steps_table_counts_steps_to_tolerance(comparison):
    """steps_table() agrees with Trajectory.steps_to for every optimizer and objective."""
    ex, objectives, optimizers = comparison
    table = ex.steps_table().splitlines()
    assert table[0].split() == list(objectives)
    for row, (label, make) in zip(table[1:], optimizers.items()):
        cells = row.split()[1:]
        for cell, objective in zip(cells, objectives.values()):
            n = optlib.run(make(objective), objective, objective.start, 20).steps_to(1e-2)
            assert cell == (str(n) if n >= 0 else "—")


def test_steps_panel_shows_the_effective_step_sizes():
    """panel='steps': for gradient descent both coordinates' effective step is α."""
    ex = TrajectoryExplorer(Quadratic(), optlib.GradientDescent,
                            [Slider("lr", [0.01, 0.05])], steps=15, panel="steps", name="steps")
    data, _ = ex.frame((1,))
    for key in ("step1", "step2"):
        t, eff = data[key]
        np.testing.assert_array_equal(t, np.arange(1, 16))
        np.testing.assert_allclose(eff, 0.05, rtol=1e-9)


def test_fixed_hyperparameters_reach_every_run():
    """fixed={"beta": 0.5}: each grid point is the run of Momentum(lr, beta=0.5)."""
    ex = TrajectoryExplorer(Quadratic(), optlib.Momentum, [Slider("lr", [0.02, 0.1])],
                            fixed={"beta": 0.5}, steps=10, name="fixed")
    for (i,) in np.ndindex(*ex.shape):
        lr = ex.sliders[0].values[i]
        traj = optlib.run(optlib.Momentum(lr=lr, beta=0.5), Quadratic(), Quadratic().start, 10)
        np.testing.assert_allclose(ex.frame((i,))[0]["path"][0], traj.points[:, 0], rtol=1e-12)


def test_a_note_is_text_appended_to_the_readout():
    ex = TrajectoryExplorer(Quadratic(), optlib.GradientDescent, [Slider("lr", [0.01, 0.05])],
                            steps=5, note=lambda v: f"α·25 = {v['lr'] * 25:.2f} < 2 & fine")
    readout = ex.frame((1,))[1]
    assert readout.endswith("; α·25 = 1.25 &lt; 2 &amp; fine")


# --------------------------------------------------------------------------- arguments
GD = optlib.GradientDescent
LR = [Slider("lr", [0.01, 0.05])]
GD_FACTORY = {"GD": lambda f: optlib.GradientDescent(lr=0.01)}


def _trajectory(**kwargs):
    args = dict(objective=Quadratic(), optimizer=GD, sliders=LR, steps=5)
    args.update(kwargs)
    return TrajectoryExplorer(args.pop("objective"), args.pop("optimizer"), args.pop("sliders"),
                              **args)


def _comparison(**kwargs):
    args = dict(objectives={"bowl": Quadratic()}, optimizers=GD_FACTORY, steps=(0, 5))
    args.update(kwargs)
    return ComparisonExplorer(**args)


# (what, call, error, words the message must contain: the argument and the value)
BAD_ARGUMENTS = [
    # the defects: these were accepted, or failed later with numpy's or matplotlib's errors
    ("fixed names a slider", lambda: _trajectory(
        optimizer=optlib.Momentum, fixed={"lr": 0.1, "beta": 0.5}),
     ValueError, ["fixed", "'lr'", "fixed={'lr': 0.1, 'beta': 0.5}"]),
    ("tol=0", lambda: _comparison(tol=0), ValueError, ["tol", "tol=0"]),
    ("tol<0", lambda: _comparison(tol=-1e-3), ValueError, ["tol=-0.001"]),
    ("comparison: negative steps", lambda: _comparison(steps=(-5, 5)), ValueError,
     ["steps", "-5"]),
    ("comparison: steps all 0", lambda: _comparison(steps=(0,)), ValueError, ["steps", "0"]),
    ("comparison: steps=0", lambda: _comparison(steps=0), ValueError, ["steps", "0"]),
    ("comparison: fractional steps", lambda: _comparison(steps=(0, 2.5)), TypeError,
     ["steps", "2.5"]),
    ("ema: negative steps", lambda: EMAExplorer(steps=-1), ValueError, ["steps=-1"]),
    ("ema: steps=0", lambda: EMAExplorer(steps=0), ValueError, ["steps=0"]),
    ("ema: lags=-1", lambda: EMAExplorer(lags=-1), ValueError, ["lags=-1"]),
    ("ema: lags=0", lambda: EMAExplorer(lags=0), ValueError, ["lags=0"]),
    ("trajectory: steps=0", lambda: _trajectory(steps=0), ValueError, ["steps=0"]),
    ("trajectory: negative steps", lambda: _trajectory(steps=-3), ValueError, ["steps=-3"]),
    ("rate: fine=1", lambda: MomentumRateExplorer(fine=1), ValueError, ["fine=1"]),
    ("rate: fine=0", lambda: MomentumRateExplorer(fine=0), ValueError, ["fine=0"]),
    ("rate: steps=0", lambda: MomentumRateExplorer(steps=0), ValueError, ["steps=0"]),
    ("rate: negative steps", lambda: MomentumRateExplorer(steps=-3), ValueError, ["steps=-3"]),
    # every other argument, the same way
    ("trajectory: objective", lambda: _trajectory(objective="bowl"), TypeError,
     ["objective", "'bowl'"]),
    ("trajectory: optimizer", lambda: _trajectory(optimizer=0.1), TypeError,
     ["optimizer", "0.1"]),
    ("trajectory: sliders empty", lambda: _trajectory(sliders=[]), ValueError, ["sliders=[]"]),
    ("trajectory: a slider twice", lambda: _trajectory(
        sliders=[Slider("lr", [0.01]), Slider("lr", [0.02])]), ValueError, ["distinct", "'lr'"]),
    ("trajectory: not a slider", lambda: _trajectory(sliders=[("lr", [0.01])]), TypeError,
     ["sliders[0]", "('lr', [0.01])"]),
    ("trajectory: one slider, no list", lambda: _trajectory(sliders=Slider("lr", [0.01])),
     TypeError, ["sliders", "Slider(name='lr'"]),
    ("trajectory: fixed a list", lambda: _trajectory(fixed=[("beta", 0.5)]), TypeError,
     ["fixed", "[('beta', 0.5)]"]),
    ("trajectory: steps 2.5", lambda: _trajectory(steps=2.5), TypeError, ["steps=2.5"]),
    ("trajectory: start of 3", lambda: _trajectory(start=[1.0, 2.0, 3.0]), ValueError,
     ["start", "[1.0, 2.0, 3.0]"]),
    ("trajectory: start nan", lambda: _trajectory(start=[1.0, np.nan]), ValueError,
     ["start", "nan"]),
    ("trajectory: eigenbasis 1", lambda: _trajectory(eigenbasis=1), TypeError,
     ["eigenbasis=1"]),
    ("trajectory: eigenbasis of Rosenbrock", lambda: _trajectory(
        objective=Rosenbrock(), eigenbasis=True), TypeError, ["eigenbasis=True", "Rosenbrock"]),
    ("trajectory: note", lambda: _trajectory(note="α"), TypeError, ["note", "'α'"]),
    ("trajectory: name", lambda: _trajectory(name=3), TypeError, ["name=3"]),
    ("trajectory: empty name", lambda: _trajectory(name=""), ValueError, ["name=''"]),
    ("trajectory: panel", lambda: _trajectory(panel="loss curve"), ValueError,
     ["panel", "'loss curve'"]),
    ("trajectory: color", lambda: _trajectory(color="bluish"), ValueError,
     ["color", "'bluish'"]),
    ("trajectory: color 3", lambda: _trajectory(color=3), TypeError, ["color=3"]),
    ("trajectory: width 0", lambda: _trajectory(width=0), ValueError, ["width", "0"]),
    ("trajectory: height -1", lambda: _trajectory(height=-1.0), ValueError, ["height", "-1.0"]),
    ("trajectory: dpi 80.0", lambda: _trajectory(dpi=80.0), TypeError, ["dpi=80.0"]),
    ("trajectory: dpi 0", lambda: _trajectory(dpi=0), ValueError, ["dpi=0"]),
    ("trajectory: too many pixels", lambda: _trajectory(width=50.0, dpi=80), ValueError,
     ["width=50.0", "dpi=80", "4000 pixels"]),
    ("rate: objective", lambda: MomentumRateExplorer(objective=Rosenbrock()), TypeError,
     ["objective", "Rosenbrock"]),
    ("rate: lrs ≤ 0", lambda: MomentumRateExplorer(lrs=[0.0, 0.1]), ValueError,
     ["lrs", "[0.0, 0.1]"]),
    ("rate: betas 1", lambda: MomentumRateExplorer(betas=[0.5, 1.0]), ValueError,
     ["betas", "[0.5, 1.0]"]),
    ("rate: betas text", lambda: MomentumRateExplorer(betas="0.9"), TypeError,
     ["betas", "'0.9'"]),
    ("rate: fine 10.0", lambda: MomentumRateExplorer(fine=10.0), TypeError, ["fine=10.0"]),
    ("ema: betas -0.1", lambda: EMAExplorer(betas=[-0.1, 0.5]), ValueError,
     ["betas", "[-0.1, 0.5]"]),
    ("ema: seed", lambda: EMAExplorer(seed=-1), ValueError, ["seed=-1"]),
    ("ema: dpi", lambda: EMAExplorer(dpi=None), TypeError, ["dpi=None"]),
    ("comparison: objectives a list", lambda: _comparison(objectives=[Quadratic()]),
     TypeError, ["objectives", "Quadratic"]),
    ("comparison: no objectives", lambda: _comparison(objectives={}), ValueError,
     ["objectives={}"]),
    ("comparison: not an objective", lambda: _comparison(objectives={"bowl": 1.0}), TypeError,
     ["objectives['bowl']", "1.0"]),
    ("comparison: no optimizers", lambda: _comparison(optimizers={}), ValueError,
     ["optimizers={}"]),
    ("comparison: a key not a string", lambda: _comparison(optimizers={1: GD_FACTORY["GD"]}),
     TypeError, ["optimizers", "1"]),
    ("comparison: factory not callable", lambda: _comparison(optimizers={"GD": GD(lr=0.1)}),
     TypeError, ["optimizers['GD']", "GradientDescent"]),
    ("comparison: factory gives no optimizer", lambda: _comparison(
        optimizers={"GD": lambda f: "GD"}), TypeError, ["optimizers['GD']", "'GD'"]),
    ("comparison: name", lambda: _comparison(name=None), TypeError, ["name=None"]),
]


@pytest.mark.parametrize("call, error, words", [b[1:] for b in BAD_ARGUMENTS],
                         ids=[b[0] for b in BAD_ARGUMENTS])
def test_bad_arguments_raise_up_front_naming_the_argument_and_value(call, error, words):
    assert_raises_naming(call, error, words)
