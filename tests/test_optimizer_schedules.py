"""Learning-rate schedules in the optimizers: ``schedule=`` and ``opt.schedule``.

* a scheduled run of every optimizer equals its equations written out here with
  the learning rate α·μ_t of each step (never calling optlib), buffers included;
* it is bit for bit the run in which ``opt.lr`` is set to α·μ_t before each step,
  and a multiplier of exactly 1 (or no schedule) changes no bit;
* a batch of learning rates (K, 1) is scheduled like K separate runs;
* the schedule counts its own steps (``schedule_t``): from the constructor,
  from an assignment in the middle of a run, from ``reset``; ``optlib.run``
  (which skips the step's checks after the first step) schedules the same;
* a schedule that returns a bad multiplier, or raises, stops the step before it
  changes anything; a non-callable schedule is refused by the constructor and
  by assignment;
* AdamW's decoupled decay uses the scheduled α; a multiplier 0 moves nothing;
* the compiled loops (numba) receive the scheduled α.
"""

from __future__ import annotations

import copy
import inspect
import math

import numpy as np
import pytest

import optlib
from optlib import Adagrad, Adam, AdamW, GradientDescent, Momentum, RMSprop, _kernels, _settings
from optlib.objectives import Quadratic
from optlib.schedules import Cosine, Linear, StepDecay, Warmup

# --------------------------------------------------------------------------
# The equations with a learning rate per step (plain numpy, no optlib)
# --------------------------------------------------------------------------


def reference(name, w0, grads, lrs, **h):
    """Parameters and buffers after each step of optimizer ``name`` with lr ``lrs[t-1]``."""
    w = np.array(w0, dtype=np.float64)
    m, s, s_max = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    records = []
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        if name == "gd":
            w = w - lr * g
            records.append({"w": w})
        elif name in ("momentum", "nesterov"):
            b = h["beta"]
            m = b * m + (1 - b) * g
            w = w - lr * (b * m + (1 - b) * g) if name == "nesterov" else w - lr * m
            records.append({"w": w, "momentum_buffer": m})
        elif name == "rmsprop":
            s = h["beta"] * s + (1 - h["beta"]) * g**2
            w = w - lr * g / (np.sqrt(s) + h["eps"])
            records.append({"w": w, "square_avg": s})
        elif name == "adagrad":
            s = s + g**2
            w = w - lr * g / (np.sqrt(s) + h["eps"])
            records.append({"w": w, "sum_sq": s})
        else:                                            # adam, adam_l2, adam_amsgrad, adamw
            b1, b2, wd = h["beta1"], h["beta2"], h.get("weight_decay", 0.0)
            if name == "adamw":
                w = w * (1 - lr * wd)
            elif wd:
                g = g + wd * w
            m = b1 * m + (1 - b1) * g
            s = b2 * s + (1 - b2) * g**2
            record = {"exp_avg": m, "exp_avg_sq": s}
            used = s
            if name == "adam_amsgrad":
                s_max = np.maximum(s_max, s)
                record["max_exp_avg_sq"] = used = s_max
            w = w - lr * (m / (1 - b1**t)) / (np.sqrt(used / (1 - b2**t)) + h["eps"])
            record["w"] = w
            records.append(record)
    return records


HYPER = {
    "gd": dict(),
    "momentum": dict(beta=0.8),
    "nesterov": dict(beta=0.8),
    "rmsprop": dict(beta=0.9, eps=1e-8),
    "adagrad": dict(eps=1e-10),
    "adam": dict(beta1=0.9, beta2=0.99, eps=1e-8),
    "adam_l2": dict(beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1),
    "adam_amsgrad": dict(beta1=0.5, beta2=0.6, eps=1e-8),
    "adamw": dict(beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.3),
}


def make(name, lr, schedule=None):
    h = HYPER[name]
    if name == "gd":
        return GradientDescent(lr=lr, schedule=schedule)
    if name in ("momentum", "nesterov"):
        return Momentum(lr=lr, beta=h["beta"], nesterov=name == "nesterov", schedule=schedule)
    if name == "rmsprop":
        return RMSprop(lr=lr, schedule=schedule, **h)
    if name == "adagrad":
        return Adagrad(lr=lr, schedule=schedule, **h)
    if name == "adamw":
        return AdamW(lr=lr, schedule=schedule, **h)
    return Adam(lr=lr, amsgrad=name == "adam_amsgrad", schedule=schedule, **h)


def mu_list(schedule, steps):
    """μ_1 … μ_steps written out from the formulas (not through optlib)."""
    t = np.arange(1, steps + 1)
    if schedule == "cosine":                                      # Cosine(8, final=0.1)
        return 0.1 + 0.9 * (1 + np.cos(np.pi * np.minimum(t - 1, 8) / 8)) / 2
    if schedule == "linear":                                      # Linear(6, 1.5, 0.2)
        return 1.5 + (0.2 - 1.5) * np.minimum(t - 1, 6) / 6
    if schedule == "step":                                        # StepDecay(3, 0.5)
        return 0.5 ** ((t - 1) // 3)
    return np.where(t <= 4, t / 4, 1.0 - np.minimum(t - 5, 5) / 5)   # Warmup(4, Linear(5))


SCHEDULES = {"cosine": Cosine(8, final=0.1), "linear": Linear(6, start=1.5, end=0.2),
             "step": StepDecay(3, 0.5), "warmup": Warmup(4, then=Linear(5))}

rng = np.random.default_rng(0)
W0 = rng.standard_normal((2, 3))
GRADS = [rng.standard_normal((2, 3)) for _ in range(14)]


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("name", list(HYPER))
def test_scheduled_run_is_the_equations_with_alpha_times_mu(name, schedule):
    alpha = 0.05
    lrs = alpha * mu_list(schedule, len(GRADS))
    expected = reference(name, W0, GRADS, lrs, **HYPER[name])
    opt, w = make(name, alpha, SCHEDULES[schedule]), W0.copy()
    for t, (g, record) in enumerate(zip(GRADS, expected), start=1):
        opt.step(w, g.copy())
        np.testing.assert_allclose(w, record["w"], rtol=1e-12, atol=1e-15,
                                   err_msg=f"w after step {t}")
        assert set(opt.state) == set(record) - {"w"}
        for buffer, value in opt.state.items():
            np.testing.assert_allclose(value, record[buffer], rtol=1e-12, atol=1e-15,
                                       err_msg=f"{buffer} after step {t}")
    assert opt.t == opt.schedule_t == len(GRADS)
    # the schedule matters here: without it the run ends elsewhere
    plain = reference(name, W0, GRADS, [alpha] * len(GRADS), **HYPER[name])
    assert np.max(np.abs(plain[-1]["w"] - w)) > 1e-4


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("name", list(HYPER))
def test_scheduled_run_is_bit_for_bit_setting_lr_each_step(name, schedule):
    """A schedule is the same as ``opt.lr = α μ_t`` before step t (μ_t > 0 here, as lr > 0)."""
    sched = SCHEDULES[schedule] if schedule != "warmup" else Warmup(4, then=Linear(5, end=0.1))
    alpha = 0.05
    scheduled, by_hand = make(name, alpha, sched), make(name, alpha)
    w1, w2 = W0.astype(np.float32), W0.astype(np.float32)
    for t, g in enumerate(GRADS, start=1):
        scheduled.step(w1, g.astype(np.float32))
        by_hand.lr = alpha * sched(t)
        by_hand.step(w2, g.astype(np.float32))
        assert np.array_equal(w1, w2), f"step {t}"
    for buffer, value in scheduled.state.items():
        assert np.array_equal(value, by_hand.state[buffer])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(HYPER))
def test_no_schedule_and_a_multiplier_of_one_change_no_bit(name, dtype):
    runs = [make(name, 0.05), make(name, 0.05, None), make(name, 0.05, Warmup(1)),
            make(name, 0.05, lambda t: 1), make(name, 0.05, Cosine(3, final=1.0))]
    ws = [W0.astype(dtype) for _ in runs]
    for g in GRADS:
        for opt, w in zip(runs, ws):
            opt.step(w, g.astype(dtype))
    for opt, w in zip(runs[1:], ws[1:]):
        assert np.array_equal(w, ws[0]) and w.dtype == dtype
        for buffer, value in opt.state.items():
            assert np.array_equal(value, runs[0].state[buffer])


@pytest.mark.parametrize("name", list(HYPER))
def test_a_batch_of_learning_rates_is_scheduled_like_separate_runs(name):
    lrs = np.array([[0.01], [0.05], [0.2]])
    schedule = Warmup(3, then=Cosine(6, final=0.05))
    batched, w = make(name, lrs, schedule), np.tile(W0[0], (3, 1))
    for g in GRADS:
        batched.step(w, np.tile(g[0], (3, 1)))
    for k in range(3):
        single, row = make(name, float(lrs[k, 0]), schedule), W0[0].copy()
        for g in GRADS:
            single.step(row, g[0].copy())
        assert np.array_equal(w[k], row), f"row {k}"


# --------------------------------------------------------------------------
# The schedule's position
# --------------------------------------------------------------------------
def test_the_schedule_counts_from_when_it_is_set():
    lin = Linear(total=4, start=1.0, end=0.0)        # 1, 0.75, 0.5, 0.25, 0, 0 ...
    opt = GradientDescent(lr=1.0, schedule=lin)
    w = np.zeros(1)
    moves = []
    for _ in range(3):
        before = w[0]
        opt.step(w, np.ones(1))
        moves.append(before - w[0])
    assert moves == [1.0, 0.75, 0.5] and opt.t == opt.schedule_t == 3

    opt.schedule = Cosine(total=2)                   # set mid-run: starts at its step 1
    assert (opt.t, opt.schedule_t) == (3, 0)
    for _ in range(3):
        before = w[0]
        opt.step(w, np.ones(1))
        moves.append(before - w[0])
    assert moves[3:] == [1.0, 0.5, 0.0] and (opt.t, opt.schedule_t) == (6, 3)

    opt.schedule = opt.schedule                      # even the same one restarts
    assert opt.schedule_t == 0
    opt.schedule = None
    opt.step(w, np.ones(1))
    assert opt.schedule_t == 1                       # counted without a schedule too
    opt.schedule = lin
    opt.reset()
    assert (opt.t, opt.schedule_t) == (0, 0) and opt.schedule is lin   # reset keeps it


def test_run_schedules_like_a_loop_of_steps_and_restarts_it():
    """optlib.run skips the step's checks after its first step; the schedule still advances
    there, and run's reset restarts it (two runs with one optimizer are the same)."""
    bowl = Quadratic(curvatures=(1.0, 10.0))
    opt = Momentum(lr=0.15, beta=0.5, schedule=Warmup(5, then=Cosine(20, final=0.01)))
    first = optlib.run(opt, bowl, bowl.start, steps=30)
    assert opt.t == opt.schedule_t == 30
    second = optlib.run(opt, bowl, bowl.start, steps=30)
    assert np.array_equal(first.points, second.points)

    loop = Momentum(lr=0.15, beta=0.5, schedule=Warmup(5, then=Cosine(20, final=0.01)))
    w = np.array(bowl.start, dtype=np.float64)
    points = [w.copy()]
    for _ in range(30):
        loop.step(w, bowl.grad(w))
        points.append(w.copy())
    assert np.array_equal(first.points, np.array(points))
    unscheduled = optlib.run(Momentum(lr=0.15, beta=0.5), bowl, bowl.start, steps=30)
    assert not np.allclose(unscheduled.points, first.points)
    assert "schedule=Warmup(steps=5" in first.optimizer


def test_run_stops_at_a_bad_multiplier():
    bowl = Quadratic()

    def fails_at_seven(t):
        return math.nan if t == 7 else 1.0

    with pytest.raises(ValueError, match="at t=7"):
        optlib.run(GradientDescent(lr=0.01, schedule=fails_at_seven), bowl, bowl.start, steps=10)


# --------------------------------------------------------------------------
# Bad schedules change nothing
# --------------------------------------------------------------------------
def later_bad(value):
    """Good for two steps, then ``value`` (or raises it, if it is an exception)."""
    def schedule(t):
        if t <= 2:
            return 0.5
        if isinstance(value, Exception):
            raise value
        return value
    return schedule


BAD_MULTIPLIERS = {
    "nan": (math.nan, ValueError, "finite number ≥ 0, got nan at t=3"),
    "inf": (math.inf, ValueError, "got inf at t=3"),
    "negative": (-0.1, ValueError, "got -0.1 at t=3"),
    "bool": (True, TypeError, "real number, got True"),
    "string": ("0.5", TypeError, "real number, got '0.5'"),
    "array": (np.array([0.5, 0.5]), TypeError, "real number"),
    "none": (None, TypeError, "real number, got None"),
    "raises": (ZeroDivisionError("inside the schedule"), ZeroDivisionError, "inside"),
    "step decay overflow": (StepDecay(1, 1e300)(4), ValueError, "got inf"),
}


@pytest.mark.parametrize("structure", ["array", "dict"])
@pytest.mark.parametrize("case", list(BAD_MULTIPLIERS))
@pytest.mark.parametrize("name", ["gd", "nesterov", "adam_amsgrad", "adamw"])
def test_a_bad_multiplier_stops_the_step_and_changes_nothing(name, case, structure):
    value, error, match = BAD_MULTIPLIERS[case]
    opt = make(name, 0.1, later_bad(value))
    params = W0.copy() if structure == "array" else {"W": W0.copy(), "b": W0[0].copy()}

    def grads(g):
        return g.copy() if structure == "array" else {"W": g.copy(), "b": g[0].copy()}

    for g in GRADS[:2]:
        opt.step(params, grads(g))
    before, saved = copy.deepcopy(params), opt.state_dict()
    with pytest.raises(error, match=match):
        opt.step(params, grads(GRADS[2]))
    after = opt.state_dict()
    assert after["t"] == saved["t"] == 2 and after["schedule_t"] == saved["schedule_t"] == 2
    for p, q in zip(*(list(x.values()) if isinstance(x, dict) else [x] for x in (params, before))):
        assert np.array_equal(p, q)
    state = after["state"] if structure == "array" else after["state"]["W"]
    saved_state = saved["state"] if structure == "array" else saved["state"]["W"]
    assert all(np.array_equal(state[k], saved_state[k]) for k in state)
    opt.schedule = Cosine(5)                         # a good schedule: the run goes on
    opt.step(params, grads(GRADS[2]))
    assert (opt.t, opt.schedule_t) == (3, 1)


def test_every_optimizer_takes_a_schedule():
    classes = [getattr(optlib.optimizers, n) for n in optlib.optimizers.__all__ if n != "Optimizer"]
    assert len(classes) >= 6
    for cls in classes:
        parameter = inspect.signature(cls).parameters.get("schedule")
        assert parameter is not None and parameter.default is None, cls.__name__
        assert cls(lr=0.1, schedule=Cosine(3)).schedule == Cosine(3)


def test_a_schedule_class_instead_of_a_schedule_fails_at_the_step():
    """``schedule=Cosine`` (the class) is callable, so only its value can tell: Cosine(1) is
    no number, and the first step is refused."""
    opt, w = GradientDescent(lr=0.1, schedule=Cosine), np.ones(2)
    with pytest.raises(TypeError, match="must return a real number, got Cosine"):
        opt.step(w, np.ones(2))
    assert opt.t == 0 and opt.state == {} and np.array_equal(w, np.ones(2))


@pytest.mark.parametrize("bad", [0.5, "cosine", 3, [1.0, 0.5]])
def test_a_schedule_must_be_callable(bad):
    with pytest.raises(TypeError, match=r"schedule must be a schedule .*schedule="):
        GradientDescent(lr=0.1, schedule=bad)
    opt = Adam(schedule=Linear(4))
    opt.step(np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="schedule"):
        opt.schedule = bad
    assert opt.schedule == Linear(4) and opt.schedule_t == 1       # kept, position too


def test_repr_shows_a_schedule_only_when_there_is_one():
    assert repr(GradientDescent(lr=0.1)) == "GradientDescent(lr=0.1)"
    assert repr(GradientDescent(lr=0.1, schedule=StepDecay(2, 0.5))) == \
        "GradientDescent(lr=0.1, schedule=StepDecay(every=2, factor=0.5))"
    with pytest.raises(AttributeError):
        GradientDescent(lr=0.1).schedule_t = 3


# --------------------------------------------------------------------------
# What α the rules receive
# --------------------------------------------------------------------------
def test_adamw_decay_uses_the_scheduled_learning_rate():
    """With zero gradients Adam's step is 0: AdamW only decays, w_t = w_0 Π (1 − α μ_k δ)."""
    alpha, delta = 0.1, 0.5
    schedule = Warmup(2, then=Cosine(4, final=0.2))
    opt, w = AdamW(lr=alpha, weight_decay=delta, schedule=schedule), np.array([1.0, -3.0])
    expected = np.array([1.0, -3.0])
    mus = [0.5, 1.0, 1.0, 0.2 + 0.8 * (1 + math.cos(math.pi / 4)) / 2, 0.6,
           0.2 + 0.8 * (1 + math.cos(3 * math.pi / 4)) / 2, 0.2, 0.2]
    for mu in mus:
        opt.step(w, np.zeros(2))
        expected = expected * (1 - alpha * mu * delta)
        np.testing.assert_allclose(w, expected, rtol=1e-15)


def test_a_multiplier_of_zero_moves_nothing_but_updates_the_averages():
    opt = Adam(lr=0.1, schedule=Linear(total=2))     # μ = 1, 0.5, 0, 0, ...
    w = np.array([1.0, 2.0])
    for _ in range(2):
        opt.step(w, np.array([1.0, -1.0]))
    before, v_before = w.copy(), opt.state["exp_avg"].copy()
    opt.step(w, np.array([4.0, 4.0]))
    assert np.array_equal(w, before) and opt.t == 3
    np.testing.assert_allclose(opt.state["exp_avg"], 0.9 * v_before + 0.1 * 4.0, rtol=1e-15)


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov"])
def test_the_compiled_loops_get_the_scheduled_learning_rate(name, monkeypatch):
    """Large float32 steps of GD and Momentum run numba's loops, with α μ_t: the same bits as
    the numpy chain and as setting lr by hand."""
    pytest.importorskip("numba", reason="numba is optional (pip install optlib[fast])")
    monkeypatch.delenv(_settings.KERNELS, raising=False)
    kernels = _kernels.get()
    assert kernels is not None
    loop = {"gd": "gradient_descent", "momentum": "momentum",
            "nesterov": "momentum_nesterov"}[name]
    calls = []                   # the last scalar of each call: GD's lr in the parameter dtype
    original = getattr(kernels, loop)
    monkeypatch.setattr(kernels, loop, lambda *args: calls.append(args[-1]) or original(*args))

    n = 3 * _kernels.MIN_ELEMENTS + 5
    r = np.random.default_rng(4)
    w0 = r.standard_normal(n).astype(np.float32)
    gs = [r.standard_normal(n).astype(np.float32) for _ in range(6)]
    schedule = Warmup(2, then=StepDecay(2, 0.3))

    def run(opt):
        w = w0.copy()
        for t, g in enumerate(gs, start=1):
            if opt.schedule is None:
                opt.lr = 0.2 * schedule(t)
            opt.step(w, g)
        return w

    compiled = run(make(name, 0.2, schedule))
    assert len(calls) >= 6, "the compiled loop did not run"
    if name == "gd":
        expected = {np.float32(0.2 * m) for m in (0.5, 1.0, 1.0, 1.0, 0.3, 0.3)}
        assert set(calls) == expected and all(type(c) is np.float32 for c in calls)
    monkeypatch.setenv(_settings.KERNELS, "numpy")
    calls.clear()
    chain = run(make(name, 0.2, schedule))
    by_hand = run(make(name, 0.2))
    assert not calls
    assert np.array_equal(compiled, chain) and np.array_equal(compiled, by_hand)
    assert not np.array_equal(compiled, run(make(name, 0.2, Cosine(2))))


@pytest.mark.parametrize("cls", [GradientDescent, Momentum, RMSprop, Adagrad, Adam, AdamW,
                                 optlib.ScheduleFreeSGD, optlib.ScheduleFreeAdamW])
def test_a_schedule_is_called_once_per_step(cls):
    """Every rule, the schedule-free ones too (their averaging weights use μ_t as well),
    evaluates the schedule once per step, at the schedule's own step count."""
    calls = []

    def mu(t):
        calls.append(t)
        return 1.0 / t

    opt = cls(lr=0.01, schedule=mu)
    w = np.array([1.0, -2.0])
    for _ in range(3):
        opt.step(w, np.array([0.5, 0.25]))
    assert calls == [1, 2, 3]
