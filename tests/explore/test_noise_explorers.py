"""Chapter 6's explorations (``NoiseExplorer``, ``ScheduleExplorer``): what they draw equals
an independent computation, in the frames, the static view and the live widget.

The independent computation is a plain numpy loop over the documented noise draws of
``optlib.objectives.Noisy`` (ξ_t of step t from
``default_rng(SeedSequence(seed, spawn_key=(t,)))``, shape ``(R, 2)`` with ``replicas=R``),
a scalar recursion for the exact expected loss along each eigendirection (momentum: 2×2
matrices), the floor from the closed form (gradient descent) or scipy's discrete Lyapunov
solver (momentum), and the schedules' formulas from issue 14 written out with numpy.
Grids are small so that each exploration builds in about a second.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from learner_settings import assert_raises_naming, strict
from explore.test_static import check_static_frame, strip_tags

import optlib
from optlib.explore import NoiseExplorer, ScheduleExplorer, Slider, default_schedules
from optlib.explore.model import readout_text
from optlib.objectives import Quadratic, Rosenbrock
from optlib.plotting import COLORS

scipy_linalg = pytest.importorskip("scipy.linalg")

ROTATION = np.pi / 6


# --------------------------------------------------------------------------- independent
def rotation(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def noise_draw(seed: int, t: int, replicas: int) -> np.ndarray:
    """ξ_t as Noisy's docstring documents it (common=True, replicas=R)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(t,)))
    return rng.standard_normal((replicas, 2))


def own_runs(angle, lr, beta, sigma, replicas, steps, seed, multipliers=None):
    """R noisy runs of GD (β = 0) or EMA momentum on Quadratic(angle=angle), written out.

    Returns points (T+1, R, 2) and losses (T+1, R); no divergence handling (the callers
    compare only where the loss stays below the run's bound).
    """
    rot = rotation(angle)
    hessian = rot @ np.diag([1.0, 25.0]) @ rot.T
    start = rot @ np.array([-8.0, 1.5])
    w = np.tile(start, (replicas, 1))
    v = np.zeros_like(w)
    points = [w.copy()]
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            a = lr * (1.0 if multipliers is None else multipliers[t - 1])
            g = w @ hessian + sigma * noise_draw(seed, t, replicas)
            if beta == 0.0:
                w = w - a * g
            else:
                v = beta * v + (1.0 - beta) * g
                w = w - a * v
            points.append(w.copy())
        points = np.array(points)
        losses = 0.5 * np.einsum("tri,ij,trj->tr", points, hessian, points)
    return points, losses


def own_expected(angle, lr, beta, sigma, steps, multipliers=None):
    """E[f(w_t)] for t = 0..T, summed over the eigendirections, by the mean/covariance
    recursion of the state (w, v) with 2×2 matrices."""
    # the start c + R(θ)(−8, 1.5) with c = 0 is (−8, 1.5) in the eigenbasis
    u0 = np.array([-8.0, 1.5])
    total = np.zeros(steps + 1)
    for h, u in zip((1.0, 25.0), u0):
        mean = np.array([u, 0.0])
        cov = np.zeros((2, 2))
        total[0] += 0.5 * h * u * u
        for t in range(1, steps + 1):
            a = lr * (1.0 if multipliers is None else multipliers[t - 1])
            A = np.array([[1 - a * (1 - beta) * h, -a * beta], [(1 - beta) * h, beta]])
            b = np.array([-a * (1 - beta), 1 - beta])
            mean = A @ mean
            cov = A @ cov @ A.T + sigma ** 2 * np.outer(b, b)
            total[t] += 0.5 * h * (mean[0] ** 2 + cov[0, 0])
    return total


def own_floor(lr, beta, sigma) -> tuple[float, np.ndarray]:
    """The stationary E[f] (summed) and the variance of w per direction; inf if unstable."""
    floors, variances = [], []
    for h in (1.0, 25.0):
        A = np.array([[1 - lr * (1 - beta) * h, -lr * beta], [(1 - beta) * h, beta]])
        if np.abs(np.linalg.eigvals(A)).max() >= 1.0:
            floors.append(np.inf)
            variances.append(np.inf)
            continue
        if beta == 0.0:
            var = lr * sigma ** 2 / (h * (2.0 - lr * h))
        else:
            b = np.array([-lr * (1 - beta), 1 - beta])
            var = scipy_linalg.solve_discrete_lyapunov(A, sigma ** 2 * np.outer(b, b))[0, 0]
        floors.append(0.5 * h * var)
        variances.append(var)
    return float(sum(floors)), np.array(variances)


def own_multipliers(name: str, steps: int) -> np.ndarray:
    """The default schedules' μ_t, t = 1..T, from the formulas of issue 14."""
    t = np.arange(1, steps + 1)
    if name == "constant":
        return np.ones(steps)
    if name == "step decay":
        every = math.ceil(steps / 3)
        return 0.1 ** ((t - 1) // every)
    if name == "cosine":
        return (1 + np.cos(np.pi * np.minimum(t - 1, steps) / steps)) / 2
    if name == "linear to zero":
        return 1.0 - np.minimum(t - 1, steps) / steps
    if name == "warmup + cosine":
        warm = max(1, steps // 10)
        rest = steps - warm
        after = (1 + np.cos(np.pi * np.minimum(t - warm - 1, rest) / rest)) / 2
        return np.where(t <= warm, t / warm, after)
    raise KeyError(name)


# --------------------------------------------------------------------------- the cases
NOISE_CASES = {
    # gradient descent; lr = 0.09 > 2/25 diverges
    "gd": dict(lrs=[0.01, 0.04, 0.09], batch_sizes=[1, 4], replicas=6, steps=40, seed=3),
    # momentum on a rotated bowl (the start and the cloud projected on the eigenvectors)
    "momentum_rotated": dict(objective=Quadratic(angle=ROTATION), lrs=[0.02, 0.1],
                             batch_sizes=[1, 9], beta=0.5, replicas=5, steps=30, seed=1),
}
SCHEDULE_CASE = dict(lrs=[0.02, 0.06], steps=40, replicas=6, seed=2, noise=0.7)

_built: dict = {}


def noise_explorer(name: str) -> NoiseExplorer:
    if name not in _built:
        _built[name] = NoiseExplorer(**NOISE_CASES[name], name=f"noise_{name}")
    return _built[name]


def schedule_explorer() -> ScheduleExplorer:
    if "schedule" not in _built:
        _built["schedule"] = ScheduleExplorer(**SCHEDULE_CASE, name="schedule_test")
    return _built["schedule"]


def noise_setting(name: str):
    args = NOISE_CASES[name]
    angle = ROTATION if "objective" in args else 0.0
    return angle, args.get("beta", 0.0), args["replicas"], args["steps"], args["seed"]


def bound() -> float:
    bowl = Quadratic()
    return 1e6 * max(1.0, float(bowl.value(bowl.start)))


def first_divergence(losses: np.ndarray) -> int:
    """The first step at which some run's loss exceeds the bound (-1: none)."""
    over = np.flatnonzero((~np.isfinite(losses) | (losses > bound())).any(axis=1))
    return int(over[0]) if over.size else -1


def noise_expected(name: str, values: dict) -> dict:
    """What NoiseExplorer must draw for these slider values, computed without it."""
    angle, beta, replicas, steps, seed = noise_setting(name)
    lr, batch = values["lr"], values["batch_size"]
    sigma = 1.0 / math.sqrt(batch)
    points, losses = own_runs(angle, lr, beta, sigma, replicas, steps, seed)
    for r in range(replicas):      # a run stops where its loss exceeds the bound
        stop = first_divergence(losses[:, r:r + 1])
        if stop >= 0:
            points[stop:, r] = np.nan
            losses[stop:, r] = np.nan
    floor, variance = own_floor(lr, beta, sigma)
    theta = np.linspace(0.0, 2.0 * np.pi, 73)
    with np.errstate(invalid="ignore"):
        ellipse = (np.column_stack([2 * np.sqrt(variance[0]) * np.cos(theta),
                                    2 * np.sqrt(variance[1]) * np.sin(theta)])
                   @ rotation(angle).T)
    ellipse[~np.isfinite(ellipse)] = np.nan
    expected = own_expected(angle, lr, beta, sigma, steps)
    expected[~np.isfinite(expected)] = np.nan
    t = np.arange(steps + 1)
    return {"path": (points[:, 0, 0], points[:, 0, 1]),
            "ellipse": (ellipse[:, 0], ellipse[:, 1]),
            "cloud": (points[-1, :, 0], points[-1, :, 1]),
            "mean": (t, losses.mean(axis=1)),
            "expected": (t, expected),
            "floor": ([0.0, float(steps)], [floor, floor] if np.isfinite(floor)
                      else [np.nan, np.nan])}


def schedule_expected(values: dict) -> dict:
    """What ScheduleExplorer must draw for these slider values, computed without it."""
    args = SCHEDULE_CASE
    steps, replicas, seed, sigma = args["steps"], args["replicas"], args["seed"], args["noise"]
    name = list(default_schedules(steps))[int(values["schedule"])]
    mu = own_multipliers(name, steps)
    lr = values["lr"]
    _, losses = own_runs(0.0, lr, 0.0, sigma, replicas, steps, seed, multipliers=mu)
    every = max(1, steps // 40)
    t = np.arange(steps + 1)
    return {"multiplier": (t[1:], mu),
            "constant": (t, own_expected(0.0, lr, 0.0, sigma, steps)),
            "expected": (t, own_expected(0.0, lr, 0.0, sigma, steps, multipliers=mu)),
            "runs": (t[::every], losses.mean(axis=1)[::every])}


def assert_frame_equals(data: dict, expected: dict, where: str) -> None:
    assert set(data) == set(expected), where
    for key, (x, y) in expected.items():
        for got, want in ((data[key][0], x), (data[key][1], y)):
            np.testing.assert_allclose(np.asarray(got, float), np.asarray(want, float),
                                       rtol=1e-9, atol=1e-12, equal_nan=True,
                                       err_msg=f"{key} at {where}")


# --------------------------------------------------------------------------- frames
@pytest.mark.parametrize("name", list(NOISE_CASES))
def test_noise_frames_equal_independent_runs_and_recursions(name):
    ex = noise_explorer(name)
    assert ex.shape == (len(NOISE_CASES[name]["lrs"]), len(NOISE_CASES[name]["batch_sizes"]))
    for index in np.ndindex(*ex.shape):
        values = ex.values(index)
        data, _ = ex.frame(index)
        assert_frame_equals(data, noise_expected(name, values), f"{name} {values}")


def test_noise_grid_is_one_batched_run_with_common_replicated_noise():
    ex = noise_explorer("gd")
    assert ex.trajectory.points.shape == (41, 3, 2, 6, 2)
    assert ex.noisy.common is True and ex.noisy.replicas == 6 and ex.noisy.seed == 3


@pytest.mark.parametrize("name", list(NOISE_CASES))
def test_noise_readout_numbers(name):
    """Floor, runs' mean and exact mean over the last quarter, steps; or where it diverged."""
    ex = noise_explorer(name)
    angle, beta, replicas, steps, seed = noise_setting(name)
    tail = steps - steps // 4
    diverged = 0
    for index in np.ndindex(*ex.shape):
        values = ex.values(index)
        sigma = 1.0 / math.sqrt(values["batch_size"])
        _, losses = own_runs(angle, values["lr"], beta, sigma, replicas, steps, seed)
        floor, _ = own_floor(values["lr"], beta, sigma)
        exact = own_expected(angle, values["lr"], beta, sigma, steps)[tail:].mean()
        text = readout_text(ex.frame(index)[1])
        assert text.startswith(f"{ex.setting(index)}: σ_B = σ/√B = {sigma:.3g}, {steps} steps")
        assert f"mean over steps {tail}–{steps}" in text
        stop = first_divergence(losses)
        if stop >= 0:
            diverged += 1
            assert f"mean of the {replicas} runs | diverged at step {stop}" in text, text
            assert "noise floor (t → ∞) | ∞ (unstable" in text, text
        else:
            assert f"mean of the {replicas} runs | {losses[tail:].mean():.3g} |" in text, text
            assert f"noise floor (t → ∞) | {floor:.3g}" in text, text
        if np.isfinite(exact):
            assert f"exact E[f(wₜ)] − f* | {exact:.3g} |" in text, text
    if name == "gd":
        assert diverged == 2          # lr = 0.09 at both batch sizes


def test_noise_mean_of_many_runs_is_within_the_monte_carlo_band_of_the_exact_loss():
    """The default exploration: per stable grid point, the runs' mean loss over the last
    quarter lies within 4 standard errors (over the replicas) of the exploration's exact
    expected loss (which equals the recursion of this file)."""
    ex = NoiseExplorer()
    tail = ex.steps - ex.steps // 4
    gaps = ex.trajectory.losses[tail:].mean(axis=0)          # (A, B, R): each run's tail mean
    checked = 0
    for i, j in np.ndindex(*ex.shape):
        lr = ex.values((i, j))["lr"]
        sigma = ex.noise / math.sqrt(ex.values((i, j))["batch_size"])
        exact = ex.expected[i, j, tail:].mean()
        np.testing.assert_allclose(exact, own_expected(0.0, lr, 0.0, sigma, ex.steps)[tail:]
                                   .mean(), rtol=1e-9)
        runs = gaps[i, j]
        error = runs.std(ddof=1) / math.sqrt(runs.size)
        assert abs(runs.mean() - exact) <= 4 * error, (lr, sigma, runs.mean(), exact, error)
        checked += 1
    assert checked == 48


def noise_increments(points, lr, sigma, angle):
    """ξ_t recovered from a gradient-descent path: ((w_{t−1} − w_t)/α − H w_{t−1})/σ."""
    rot = rotation(angle)
    hessian = rot @ np.diag([1.0, 25.0]) @ rot.T
    return ((points[:-1] - points[1:]) / lr - points[:-1] @ hessian) / sigma


def test_moving_a_slider_keeps_the_same_noise_path():
    """common=True: two (α, B) settings show paths driven by the same ξ_1, ξ_2, ..."""
    ex = noise_explorer("gd")
    recovered = []
    for values in ({"lr": 0.01, "batch_size": 1}, {"lr": 0.04, "batch_size": 4}):
        index = ex.index_of(**values)
        x, y = ex.frame(index)[0]["path"]
        points = np.column_stack([x, y])
        recovered.append(noise_increments(points, values["lr"],
                                          1.0 / math.sqrt(values["batch_size"]), 0.0))
    np.testing.assert_allclose(recovered[0], recovered[1], rtol=1e-6, atol=1e-6)
    # and it is the documented draw of run 0
    want = np.array([noise_draw(3, t, 6)[0] for t in range(1, 41)])
    np.testing.assert_allclose(recovered[0], want, rtol=1e-6, atol=1e-6)


def test_schedule_frames_equal_independent_runs_and_recursions():
    ex = schedule_explorer()
    assert [s.text(k) for s in ex.sliders[:1] for k in range(len(s.values))] == list(
        default_schedules(SCHEDULE_CASE["steps"]))
    assert ex.sliders[0].text(ex.sliders[0].start_index) == "step decay"
    for index in np.ndindex(*ex.shape):
        values = ex.values(index)
        assert_frame_equals(ex.frame(index)[0], schedule_expected(values), str(values))


def test_schedule_readout_compares_the_final_loss_with_constant():
    ex = schedule_explorer()
    steps, replicas, seed, sigma = (SCHEDULE_CASE[k] for k in ("steps", "replicas", "seed",
                                                                 "noise"))
    for index in np.ndindex(*ex.shape):
        values = ex.values(index)
        name = ex.sliders[0].text(index[0])
        rows = []
        for label, mu in ((name, own_multipliers(name, steps)), ("constant α", None)):
            exact = own_expected(0.0, values["lr"], 0.0, sigma, steps, multipliers=mu)[-1]
            _, losses = own_runs(0.0, values["lr"], 0.0, sigma, replicas, steps, seed,
                                 multipliers=mu)
            rows.append(f"{label} | {exact:.3g} | {losses[-1].mean():.3g}")
        text = readout_text(ex.frame(index)[1])
        assert text == (f"{ex.setting(index)}, σ = {sigma:.3g}, T = {steps} | "
                        f"E[f(w_T)] − f*, exact | mean of {replicas} runs at T | "
                        + " | ".join(rows)), text


def test_schedules_share_the_noise_paths():
    """The same R noise paths under every schedule and α (where the step is not 0)."""
    ex = schedule_explorer()
    steps = SCHEDULE_CASE["steps"]
    reference = None
    for (k, name), (i, lr) in zip(enumerate(ex.schedules), [(0, 0.02), (1, 0.06)] * 3):
        mu = own_multipliers(name, steps)
        points = ex.runs[name].points[:, i]                          # (T+1, R, 2)
        use = mu > 1e-3
        xi = noise_increments(points, lr * mu[:, None, None], SCHEDULE_CASE["noise"], 0.0)
        if reference is None:
            reference = xi
        np.testing.assert_allclose(xi[use], reference[use], rtol=1e-5, atol=1e-5, err_msg=name)


def test_default_schedules_are_the_formulas_of_the_issue():
    for steps in (2, 7, 40, 200):
        for name, schedule in default_schedules(steps).items():
            got = (np.ones(steps) if schedule is None
                   else schedule(np.arange(1, steps + 1)))
            np.testing.assert_allclose(got, own_multipliers(name, steps), rtol=1e-12,
                                       atol=1e-15, err_msg=f"{name}, T = {steps}")


# --------------------------------------------------------------------------- the views
def explorers():
    return {"gd": (noise_explorer("gd"), lambda v: noise_expected("gd", v)),
            "momentum_rotated": (noise_explorer("momentum_rotated"),
                                 lambda v: noise_expected("momentum_rotated", v)),
            "schedule": (schedule_explorer(), schedule_expected)}


@pytest.mark.parametrize("which", ["gd", "momentum_rotated", "schedule"])
def test_static_frames_equal_the_independent_computation(which):
    ex, expected = explorers()[which]
    frames = ex.static_frames()
    assert len(frames) == int(np.prod(ex.shape))
    compared = 0
    for index in np.ndindex(*ex.shape):
        compared += check_static_frame(ex, frames, index, expected(ex.values(index)))
        stored = frames[int(np.ravel_multi_index(index, ex.shape))]["readout"]
        assert stored == ex.frame(index)[1]
        for s, i in zip(ex.sliders, index):
            assert f"{s.label} = {s.text(i)}" in strip_tags(stored)
    assert compared >= 10 * int(np.prod(ex.shape))


@pytest.mark.parametrize("which", ["gd", "schedule"])
def test_every_frame_shows_under_strict_float_settings(which):
    ex, _ = explorers()[which]
    with strict():
        for index in np.ndindex(*ex.shape):
            ex.update(index)
            ex.render()


def test_the_stationary_ellipse_is_two_standard_deviations_of_the_cloud():
    """Every vertex u (eigenbasis) satisfies Σ u_i² / (4 var_i) = 1 with the floor's var_i."""
    ex = noise_explorer("momentum_rotated")
    for index in np.ndindex(*ex.shape):
        values = ex.values(index)
        _, var = own_floor(values["lr"], 0.5, 1.0 / math.sqrt(values["batch_size"]))
        x, y = ex.frame(index)[0]["ellipse"]
        u = np.column_stack([x, y]) @ rotation(ROTATION)
        np.testing.assert_allclose((u ** 2 / (4 * var)).sum(axis=1), 1.0, rtol=1e-9)


def test_legends_and_colours_follow_the_book():
    gd, momentum, schedule = (noise_explorer("gd"), noise_explorer("momentum_rotated"),
                              schedule_explorer())
    assert gd._artists["cloud"].get_color() == COLORS["GradientDescent"]
    assert momentum._artists["cloud"].get_color() == COLORS["Momentum"]
    assert schedule._artists["expected"].get_color() == COLORS["GradientDescent"]
    labels = [e["label"] for e in gd.legend()]
    assert labels == ["one run's path", "stationary cloud, 2 s.d.", "the 6 runs at step 40",
                      "mean loss of the 6 runs", "exact E[f(wₜ)] − f*", "noise floor"]
    assert [e["label"] for e in schedule.legend()] == [
        "constant α", "the schedule", "exact E[f(wₜ)] − f* with the schedule",
        "mean of 6 noisy runs"]
    for ex in (gd, schedule):
        assert all(ax.get_legend() is None for ax in ex.figure.axes)
        assert optlib.plotting.legibility_problems(ex.figure) == []


def test_live_widget_updates_the_artists_to_the_independent_frames():
    ipywidgets = pytest.importorskip("ipywidgets")
    for which, moves in (("gd", [("batch_size", 4), ("lr", 0.09), ("lr", 0.01)]),
                         ("schedule", [("schedule", 2), ("lr", 0.02), ("schedule", 0)])):
        _, expected = explorers()[which]
        # fresh explorations: the views start at the sliders' initial values
        ex = (NoiseExplorer(**NOISE_CASES["gd"]) if which == "gd"
              else ScheduleExplorer(**SCHEDULE_CASE))
        view = ex.widget()
        if which == "schedule":
            assert isinstance(view.controls[0], ipywidgets.Dropdown)
        artists = dict(ex._artists)
        for name, value in moves:
            i = [s.name for s in ex.sliders].index(name)
            k = ex.sliders[i].values.index(value)
            assert view.controls[i].value != k, "the move must change the slider"
            png, readout = view.image.value, view.readout.value
            view.controls[i].value = k
            index = tuple(c.value for c in view.controls)
            want = expected(ex.values(index))
            for n, artist in artists.items():
                assert ex._artists[n] is artist
                got = {n: artist.get_data()}
                assert_frame_equals(got, {n: want[n]}, f"{which} {ex.values(index)}")
            assert view.image.value != png
            assert view.readout.value == ex.frame(index)[1] != readout
            assert view.status.value == ""


# --------------------------------------------------------------------------- arguments
BAD_ARGUMENTS = [
    ("noise: objective", lambda: NoiseExplorer(objective=Rosenbrock()), TypeError,
     ["objective", "Rosenbrock"]),
    ("noise: noise 0", lambda: NoiseExplorer(noise=0.0), ValueError, ["noise=0.0"]),
    ("noise: noise text", lambda: NoiseExplorer(noise="1"), TypeError, ["noise='1'"]),
    ("noise: lrs ≤ 0", lambda: NoiseExplorer(lrs=[0.0, 0.1]), ValueError,
     ["lrs", "[0.0, 0.1]"]),
    ("noise: lrs 2-d", lambda: NoiseExplorer(lrs=[[0.01, 0.1]]), ValueError, ["lrs"]),
    ("noise: batch 0", lambda: NoiseExplorer(batch_sizes=[0, 4]), ValueError,
     ["batch_sizes", "[0, 4]"]),
    ("noise: batch 2.5", lambda: NoiseExplorer(batch_sizes=[1, 2.5]), TypeError,
     ["batch_sizes", "2.5"]),
    ("noise: batch 2-d", lambda: NoiseExplorer(batch_sizes=[[1, 2]]), ValueError,
     ["batch_sizes", "[[1, 2]]"]),
    ("noise: beta 1", lambda: NoiseExplorer(beta=1.0), ValueError, ["beta=1.0"]),
    ("noise: beta -0.1", lambda: NoiseExplorer(beta=-0.1), ValueError, ["beta=-0.1"]),
    ("noise: replicas 0", lambda: NoiseExplorer(replicas=0), ValueError, ["replicas=0"]),
    ("noise: replicas 2.0", lambda: NoiseExplorer(replicas=2.0), TypeError,
     ["replicas=2.0"]),
    ("noise: steps 0", lambda: NoiseExplorer(steps=0), ValueError, ["steps=0"]),
    ("noise: seed -1", lambda: NoiseExplorer(seed=-1), ValueError, ["seed=-1"]),
    ("noise: name", lambda: NoiseExplorer(name=""), ValueError, ["name=''"]),
    ("noise: dpi", lambda: NoiseExplorer(dpi=0), ValueError, ["dpi=0"]),
    ("schedule: objective", lambda: ScheduleExplorer(objective="bowl"), TypeError,
     ["objective", "'bowl'"]),
    ("schedule: noise -1", lambda: ScheduleExplorer(noise=-1.0), ValueError,
     ["noise=-1.0"]),
    ("schedule: steps 1", lambda: ScheduleExplorer(steps=1), ValueError, ["steps=1"]),
    ("schedule: lrs text", lambda: ScheduleExplorer(lrs="0.1"), TypeError, ["lrs", "'0.1'"]),
    ("schedule: schedules a list", lambda: ScheduleExplorer(schedules=[None]), TypeError,
     ["schedules", "[None]"]),
    ("schedule: no schedules", lambda: ScheduleExplorer(schedules={}), ValueError,
     ["schedules={}"]),
    ("schedule: not callable", lambda: ScheduleExplorer(schedules={"half": 0.5}), TypeError,
     ["schedules['half']", "0.5"]),
    ("schedule: negative multiplier", lambda: ScheduleExplorer(
        schedules={"down": lambda t: 1.0 - t / 100}, steps=150), ValueError,
     ["schedules['down']", "t=101"]),
    ("schedule: not a number", lambda: ScheduleExplorer(schedules={"text": lambda t: "1"}),
     TypeError, ["schedules['text']", "'1'"]),
    ("schedule: key", lambda: ScheduleExplorer(schedules={1: None}), TypeError,
     ["schedules", "1"]),
    ("schedule: replicas", lambda: ScheduleExplorer(replicas=-2), ValueError,
     ["replicas=-2"]),
    ("default_schedules: steps 1", lambda: default_schedules(1), ValueError, ["steps=1"]),
]


@pytest.mark.parametrize("call, error, words", [b[1:] for b in BAD_ARGUMENTS],
                         ids=[b[0] for b in BAD_ARGUMENTS])
def test_bad_arguments_raise_up_front_naming_the_argument_and_value(call, error, words):
    assert_raises_naming(call, error, words)


def test_a_schedule_of_ones_own_is_drawn_and_run():
    """A schedule of one's own (a function of t) is drawn and run like the built-in ones."""
    ex = ScheduleExplorer(lrs=[0.05], steps=20, replicas=2,
                          schedules={"halve": lambda t: 0.5 ** (t > 10), "constant": None})
    assert ex.sliders[0].choices == ("halve", "constant")
    mu = np.where(np.arange(1, 21) > 10, 0.5, 1.0)
    np.testing.assert_array_equal(ex.frame((0, 0))[0]["multiplier"][1], mu)
    np.testing.assert_allclose(ex.frame((0, 0))[0]["expected"][1],
                               own_expected(0.0, 0.05, 0.0, 1.0, 20, multipliers=mu),
                               rtol=1e-10)
    assert isinstance(ex.sliders[1], Slider)
