"""optlib.partition: different optimizers for different parameters, in one step.

1. equality: a Partition's step is, bit for bit, each member stepping its own parameters
   alone (dict, list and single-array params; schedules; batched hyperparameters; a
   nested Partition; ``optlib.run``);
2. all or nothing: whatever rejects or fails in any group (a member's own checks, Muon
   given a vector, a hyperparameter that does not broadcast, a gradient with nan, a
   ``FloatingPointError``, a ``NonFiniteWarning`` made an error, memory shared across
   groups, the label), no parameter, state, step count or schedule position of any group
   changes, and the next step is that of a twin that never saw the bad one;
3. checkpoints: a resumed run is bit-identical; a checkpoint of another partition (groups,
   classes, labels) or a broken one is rejected, naming what differs, and changes nothing;
4. bad arguments name the argument and value; attributes cannot be set;
5. ``t``, ``reset``, ``state``, ``hyperparameters``, ``repr``;
6. the chapter-5 network trained end to end with a Partition (Adam on the weight
   matrices, gradient descent on the biases; AdamW + Momentum; Muon + AdamW), equal to the
   same loop written out with two separate optimizers.
"""

from __future__ import annotations

import contextlib
import copy
import pickle
import warnings

import numpy as np
import pytest

import optlib
from optlib import (Adam, AdamW, GradientDescent, Momentum, NonFiniteWarning, Optimizer,
                    RMSprop, ScheduleFreeSGD)
from optlib.network import MLP, compare_optimizers, load_digits_split, lr_sweep, train
from optlib.network.model import one_blas_thread
from optlib.partition import Partition, label_by_ndim
from optlib.schedules import Cosine, StepDecay, Warmup

Muon = getattr(optlib.optimizers, "Muon", None)
needs_muon = pytest.mark.skipif(Muon is None, reason="optlib has no Muon yet")


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def network_params(rng, dtype=np.float64):
    return {"W1": rng.standard_normal((4, 3)).astype(dtype), "b1": rng.standard_normal(3),
            "W2": rng.standard_normal((3, 2)).astype(dtype), "b2": rng.standard_normal(2)}


def like(params, rng):
    """Random gradients with the structure, shapes and dtypes of ``params``."""
    if isinstance(params, np.ndarray):
        return rng.standard_normal(params.shape).astype(params.dtype)
    if isinstance(params, list):
        return [like(p, rng) for p in params]
    return {k: like(p, rng) for k, p in params.items()}


def identical(a, b, path="x"):
    """Same structure; arrays byte-identical with the same dtype and shape."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.tobytes() == b.tobytes(), f"{path} differs"
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} vs {list(b)}"
        for k in a:
            identical(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            identical(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def everything(opt, params):
    """What a step may change, copied: params, the Partition's and every member's checkpoint."""
    return copy.deepcopy((params, opt.t, opt.state, opt.state_dict(),
                          {g: (m.t, m.schedule_t) for g, m in opt.optimizers.items()}))


def by_name(names):
    """A label: the group of each parameter from a dict ``name -> group``."""
    return lambda name, array: names[name]


# ==========================================================================
# 1. A Partition is its members, each alone on its own parameters
# ==========================================================================
MEMBERS = {
    "adam+gd": lambda: {"matrices": Adam(lr=0.01, weight_decay=0.1),
                        "others": GradientDescent(lr=0.1)},
    "adamw+momentum": lambda: {"matrices": AdamW(lr=0.02, amsgrad=True),
                               "others": Momentum(lr=0.1, beta=0.8, nesterov=True)},
    "scheduled": lambda: {"matrices": RMSprop(lr=0.01, schedule=Warmup(2, then=Cosine(5))),
                          "others": Momentum(lr=0.1, schedule=StepDecay(every=2, factor=0.5))},
    "schedule-free+adam": lambda: {"matrices": ScheduleFreeSGD(lr=0.05, schedule=Warmup(3)),
                                   "others": Adam(lr=0.03, amsgrad=True)},
}


@pytest.mark.parametrize("members", list(MEMBERS))
def test_dict_params_step_as_each_member_alone(members):
    """Six steps of Partition.by_ndim on a network's W1, b1, W2, b2 are, bit for bit, the
    matrices' optimizer on {W1, W2} and the others' on {b1, b2}, stepped separately."""
    rng = np.random.default_rng(0)
    params = network_params(rng, np.float32)
    grads = [like(params, rng) for _ in range(6)]
    opt = Partition.by_ndim(**MEMBERS[members]())
    alone = MEMBERS[members]()
    ours = copy.deepcopy(params)
    theirs = {g: {k: params[k].copy() for k in keys}
              for g, keys in (("matrices", ("W1", "W2")), ("others", ("b1", "b2")))}
    for step, g in enumerate(grads, start=1):
        assert opt.step(ours, g) is ours
        for group, part in theirs.items():
            alone[group].step(part, {k: g[k] for k in part})
        assert opt.t == step
    for group, part in theirs.items():
        for k, p in part.items():
            identical(ours[k], p, k)
        identical(opt.optimizers[group].state_dict(), alone[group].state_dict(), group)
    identical(opt.state, {k: ({**alone["matrices"].state, **alone["others"].state})[k]
                          for k in params})


def test_list_params_are_named_by_their_index():
    """A list goes to the members as dicts keyed by the original index: each member's
    result is that of the member alone on its list of parameters, and its state and
    messages name params[2], not its position in the group."""
    rng = np.random.default_rng(1)
    params = [rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal((2, 3)),
              rng.standard_normal(2)]
    grads = [like(params, rng) for _ in range(4)]
    opt = Partition.by_ndim(matrices=Adam(lr=0.05), others=Momentum(lr=0.1))
    alone_m, alone_o = Adam(lr=0.05), Momentum(lr=0.1)
    ours, mats, vecs = copy.deepcopy(params), [params[0].copy(), params[2].copy()], \
        [params[1].copy(), params[3].copy()]
    for g in grads:
        opt.step(ours, g)
        alone_m.step(mats, [g[0], g[2]])
        alone_o.step(vecs, [g[1], g[3]])
    identical([ours[0], ours[2], ours[1], ours[3]], mats + vecs)
    assert list(opt.optimizers["matrices"].state) == [0, 2]
    state = opt.state
    assert isinstance(state, list) and len(state) == 4
    identical(state[2], alone_m.state[1])
    identical(state[3], alone_o.state[1])


def test_a_single_array_goes_whole_to_its_group():
    """label(None, array): one array is one group's, stepped as by that optimizer alone;
    the other group takes no step."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal((5, 3))
    grads = [like(w, rng) for _ in range(3)]
    opt = Partition.by_ndim(matrices=Adam(lr=0.1), others=GradientDescent(lr=1.0))
    alone, mine = Adam(lr=0.1), w.copy()
    for g in grads:
        opt.step(w, g)
        alone.step(mine, g)
    identical(w, mine)
    identical(opt.state, alone.state)
    assert (opt.t, opt.optimizers["matrices"].t, opt.optimizers["others"].t) == (3, 3, 0)
    seen = []
    Partition({"all": GradientDescent(lr=1.0)},
              lambda name, array: seen.append(name) or "all").step(np.ones(2), np.ones(2))
    assert seen == [None]


def test_batched_hyperparameters_pass_through():
    """A member's array lr (K, 1) broadcasts against its (K, 2) parameter as it does alone."""
    lr = np.array([[0.1], [0.01], [0.001]])
    rng = np.random.default_rng(3)
    params = {"w": rng.standard_normal((3, 2)), "v": rng.standard_normal(4)}
    opt = Partition({"batch": Momentum(lr=lr), "rest": Adam(lr=0.1)},
                    by_name({"w": "batch", "v": "rest"}))
    alone, w = Momentum(lr=lr), params["w"].copy()
    for _ in range(3):
        g = like(params, rng)
        opt.step(params, g)
        alone.step(w, g["w"])
    identical(params["w"], w)


def test_a_schedule_set_on_a_member_mid_run_counts_its_own_steps():
    rng = np.random.default_rng(4)
    params = network_params(rng)
    grads = [like(params, rng) for _ in range(6)]
    opt = Partition.by_ndim(matrices=Adam(lr=0.01), others=GradientDescent(lr=0.1))
    alone, bias = GradientDescent(lr=0.1), {k: params[k].copy() for k in ("b1", "b2")}
    for i, g in enumerate(grads):
        if i == 3:
            opt.optimizers["others"].schedule = Cosine(total=3)
            alone.schedule = Cosine(total=3)
        opt.step(params, g)
        alone.step(bias, {k: g[k] for k in bias})
    identical({k: params[k] for k in bias}, bias)
    assert opt.optimizers["others"].schedule_t == 3 and opt.t == opt.schedule_t == 6


def test_a_nested_partition_is_a_member_like_any_other():
    rng = np.random.default_rng(5)
    params = network_params(rng)
    inner = Partition({"first": Adam(lr=0.02), "second": Momentum(lr=0.1)},
                      lambda name, array: "first" if name == "W1" else "second")
    opt = Partition.by_ndim(matrices=inner, others=GradientDescent(lr=0.5))
    adam, mom, gd = Adam(lr=0.02), Momentum(lr=0.1), GradientDescent(lr=0.5)
    w1, w2, b = params["W1"].copy(), params["W2"].copy(), {k: params[k].copy()
                                                          for k in ("b1", "b2")}
    for _ in range(3):
        g = like(params, rng)
        opt.step(params, g)
        adam.step(w1, g["W1"])
        mom.step(w2, g["W2"])
        gd.step(b, {k: g[k] for k in b})
    identical((params["W1"], params["W2"], params["b1"], params["b2"]), (w1, w2, b["b1"], b["b2"]))
    assert "matrices.first.lr" in opt.hyperparameters


def test_optlib_run_accepts_a_partition():
    """optlib.run (its checked first step, then the unchecked fast path) with a Partition is
    the run of its member."""
    bowl = optlib.objectives.Quadratic(curvatures=(1.0, 25.0))
    opt = Partition.by_ndim(matrices=Adam(lr=0.05), others=Momentum(lr=0.02, beta=0.9))
    ours = optlib.run(opt, bowl, bowl.start, steps=40)
    alone = optlib.run(Momentum(lr=0.02, beta=0.9), bowl, bowl.start, steps=40)
    identical(ours.points, alone.points)
    assert opt.t == 40 and opt.optimizers["others"].t == 40 and opt.optimizers["matrices"].t == 0


# ==========================================================================
# 2. All or nothing across groups
# ==========================================================================
def two_good_steps(make, params, seed=10):
    opt, rng = make(), np.random.default_rng(seed)
    for _ in range(2):
        opt.step(params, like(params, rng))
    return opt


def adam_and_momentum():
    """Adam on the (small) biases, Momentum on the (larger) matrices: the biases step first,
    so a failure of the matrices' group must undo the biases' step."""
    return Partition.by_ndim(matrices=Momentum(lr=0.1, beta=0.5),
                             others=Adam(lr=0.1, amsgrad=True))


def set_member(group, name, value):
    def prepare(opt, params, grads):
        setattr(opt.optimizers[group], name, value)
    return prepare


def nan_in(key):
    def prepare(opt, params, grads):
        grads[key][0] = np.nan
    return prepare


def alias(key, other):
    """grads[key] becomes a row of the parameter ``other`` (of another group)."""
    def prepare(opt, params, grads):
        grads[key] = params[other][0]
    return prepare


def overflowing(key):
    """A gradient of 1e308 in ``key`` and a learning rate of 1e10 for its group (the
    matrices'): the step overflows there."""
    def prepare(opt, params, grads):
        grads[key][...] = 1e308
        opt.optimizers["matrices"].lr = 1e10
    return prepare


def raising_errstate():
    return np.errstate(over="raise")


@contextlib.contextmanager
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteWarning)
        yield


# id -> (prepare(opt, params, grads) before the bad step, exception, match, context)
FAILURES = {
    "lr-does-not-broadcast-in-the-last-group": (
        set_member("matrices", "lr", np.full((5, 1), 0.1)), ValueError,
        r"the group 'matrices' \(Momentum\): lr of shape \(5, 1\) does not broadcast", None),
    "amsgrad-toggled-in-the-first-group": (
        set_member("others", "amsgrad", False), ValueError,
        r"the group 'others' \(Adam\): amsgrad was changed", None),
    "nan-gradient-in-one-group": (nan_in("b2"), ValueError,
                                  r"grads\['b2'\] has 1 non-finite", None),
    "gradient-aliases-a-parameter-of-another-group": (
        alias("b1", "W1"), ValueError, r"grads\['b1'\] shares memory with a parameter", None),
    "overflow-raises-under-errstate-in-the-last-group": (
        overflowing("W2"), FloatingPointError, "overflow", raising_errstate),
    "non-finite-warning-as-error-in-the-last-group": (
        overflowing("W2"), NonFiniteWarning, r"params\['W2'\]", warnings_are_errors),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_failing_group_changes_no_group(case):
    prepare, error, match, context = FAILURES[case]
    rng = np.random.default_rng(11)
    params = network_params(rng)
    opt = two_good_steps(adam_and_momentum, params)
    grads = like(params, np.random.default_rng(12))
    prepare(opt, params, grads)
    before = everything(opt, params)
    with context() if context else contextlib.nullcontext():
        with pytest.raises(error, match=match):
            opt.step(params, grads)
    identical(everything(opt, params), before)
    assert opt.t == 2 and opt.optimizers["others"].t == 2


@pytest.mark.parametrize("case", ["lr-does-not-broadcast-in-the-last-group",
                                  "overflow-raises-under-errstate-in-the-last-group"])
def test_after_a_failure_the_run_goes_on_as_if_it_never_happened(case):
    """The failed step leaves nothing behind: the next good step equals a twin's."""
    prepare, error, match, context = FAILURES[case]
    params = network_params(np.random.default_rng(11))
    twin_params = copy.deepcopy(params)
    opt = two_good_steps(adam_and_momentum, params)
    twin = two_good_steps(adam_and_momentum, twin_params)
    grads = like(params, np.random.default_rng(12))
    prepare(opt, params, grads)
    with context() if context else contextlib.nullcontext():
        with pytest.raises(error, match=match):
            opt.step(params, grads)
    opt.optimizers["matrices"].lr = twin.optimizers["matrices"].lr
    good = like(params, np.random.default_rng(13))
    opt.step(params, good)
    twin.step(twin_params, copy.deepcopy(good))
    identical((params, opt.state_dict()), (twin_params, twin.state_dict()))


def test_a_gradient_that_is_a_parameter_of_an_earlier_group_is_rejected():
    """grads["t"] is the parameter "s" of the group stepped first: stepped group by group,
    "t" would move by the already updated "s" (each member alone sees no overlap in its own
    arrays); the whole structure is checked first, so the step is refused."""
    s, t, u = np.ones((2, 3)), np.full((2, 3), 2.0), np.zeros(10)
    params = {"s": s, "t": t, "u": u}
    opt = Partition({"small": GradientDescent(lr=1.0), "large": GradientDescent(lr=1.0)},
                    by_name({"s": "small", "t": "large", "u": "large"}))
    with pytest.raises(ValueError, match=r"grads\['t'\] shares memory with a parameter"):
        opt.step(params, {"s": np.ones((2, 3)), "t": s, "u": np.ones(10)})
    identical((s, t, u, opt.t), (np.ones((2, 3)), np.full((2, 3), 2.0), np.zeros(10), 0))


@needs_muon
def test_muon_given_a_vector_changes_no_group():
    """A label that gives the bias b2 to Muon: Muon rejects it, and the AdamW group (b1,
    stepped first: it is smaller) is put back; no state anywhere."""
    rng = np.random.default_rng(14)
    params = network_params(rng)
    names = {"W1": "muon", "W2": "muon", "b1": "adamw", "b2": "muon"}
    opt = Partition({"muon": Muon(lr=0.02), "adamw": AdamW(lr=0.01)}, by_name(names))
    before = everything(opt, params)
    with pytest.raises(ValueError, match=r"the group 'muon' \(Muon\): Muon updates 2-D .*"
                                         r"params\['b2'\] has shape \(2,\)"):
        opt.step(params, like(params, rng))
    identical(everything(opt, params), before)
    assert opt.t == 0 and all(m.t == 0 and m.state == {} for m in opt.optimizers.values())


@needs_muon
def test_muon_failing_after_good_steps_undoes_the_other_group():
    """Two good steps, then a gradient that overflows in Muon's step under
    np.errstate(over="raise"): the AdamW group, stepped first (it is smaller), is put back."""
    rng = np.random.default_rng(15)
    params = network_params(rng)
    opt = two_good_steps(lambda: Partition.by_ndim(matrices=Muon(lr=0.02),
                                                    others=AdamW(lr=0.01)), params)
    grads = like(params, rng)
    grads["W1"][...] = 1e200                     # its square overflows
    before = everything(opt, params)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        opt.step(params, grads)
    identical(everything(opt, params), before)


EVERY_RULE = {
    "GradientDescent": lambda: GradientDescent(lr=0.1),
    "Momentum": lambda: Momentum(lr=0.1, nesterov=True),
    "RMSprop": lambda: RMSprop(lr=0.01),
    "Adagrad": lambda: optlib.Adagrad(lr=0.1),
    "Adam-amsgrad": lambda: Adam(lr=0.01, amsgrad=True, weight_decay=0.1),
    "AdamW": lambda: AdamW(lr=0.01),
    "ScheduleFreeSGD": lambda: ScheduleFreeSGD(lr=0.05, schedule=Warmup(3)),
    "ScheduleFreeAdamW": lambda: optlib.ScheduleFreeAdamW(lr=0.01),
    "Lion": lambda: optlib.optimizers.Lion(lr=1e-3, weight_decay=0.1),
    "Muon": lambda: Muon(lr=0.02),
}


@pytest.mark.parametrize("rule", list(EVERY_RULE))
def test_every_rule_stepped_first_is_undone(rule):
    """The undo of a group stepped before a failing one restores everything its step
    changed -- buffers, step count, schedule position, running scalars -- for every rule:
    a check that the copy taken before its step covers all it writes."""
    if rule in ("Lion", "Muon") and not hasattr(optlib.optimizers, rule):
        pytest.skip(f"optlib has no {rule} yet")
    rng = np.random.default_rng(19)
    params = {"s": rng.standard_normal((2, 3)), "big": rng.standard_normal((6, 5)),
              "v": rng.standard_normal(7)}
    opt = two_good_steps(lambda: Partition(
        {"first": EVERY_RULE[rule](), "last": Momentum(lr=0.1)},
        by_name({"s": "first", "big": "last", "v": "last"})), params)
    opt.optimizers["last"].lr = np.full((4, 1), 0.1)    # broadcasts against no parameter of it
    before = everything(opt, params)
    with pytest.raises(ValueError, match=r"the group 'last' \(Momentum\): lr of shape"):
        opt.step(params, like(params, rng))
    identical(everything(opt, params), before)


def test_a_rejected_first_step_creates_no_state_in_any_group():
    rng = np.random.default_rng(16)
    params = network_params(rng)
    opt = adam_and_momentum()
    opt.optimizers["matrices"].lr = np.full((7,), 0.1)
    before = everything(opt, params)
    with pytest.raises(ValueError, match=r"the group 'matrices'"):
        opt.step(params, like(params, rng))
    identical(everything(opt, params), before)
    assert opt.state == {} and opt.optimizers["others"].state == {}


@pytest.mark.parametrize("label, error, match", [
    (lambda name, array: "weights", ValueError,
     r"label returned 'weights' for params\['W1'\], which is not a group of this Partition: "
     r"its groups are \['matrices', 'others'\]"),
    (lambda name, array: 2, TypeError, r"label must return the name of a group .*got 2 for "
                                       r"params\['W1'\]"),
    (lambda name, array: 1 / 0, ValueError,
     r"label=.*<lambda> raised ZeroDivisionError for params\['W1'\] \(shape \(4, 3\)"),
    (lambda name, array: array.fill(0.0) or "others", ValueError,
     r"raised ValueError .*read-only"),
])
def test_a_bad_label_is_named_and_changes_nothing(label, error, match):
    rng = np.random.default_rng(17)
    params = network_params(rng)
    opt = Partition({"matrices": Adam(), "others": GradientDescent(lr=0.1)}, label)
    before = everything(opt, params)
    with pytest.raises(error, match=match):
        opt.step(params, like(params, rng))
    identical(everything(opt, params), before)


def test_params_that_differ_from_the_first_step_are_rejected():
    rng = np.random.default_rng(18)
    params = network_params(rng)
    opt = two_good_steps(adam_and_momentum, params)
    before = everything(opt, params)
    fewer = {k: v for k, v in params.items() if k != "b2"}
    with pytest.raises(ValueError, match=r"do not match the structure.*call reset\(\)"):
        opt.step(fewer, like(fewer, rng))
    with pytest.raises(ValueError, match=r"do not match the structure"):
        opt.step(list(params.values()), like(list(params.values()), rng))
    identical(everything(opt, params), before)


# ==========================================================================
# 3. Checkpoints
# ==========================================================================
def made(members="adam+gd", **kwargs):
    return Partition.by_ndim(**MEMBERS[members](), **kwargs)


@pytest.mark.parametrize("members", list(MEMBERS))
@pytest.mark.parametrize("structure", ["dict", "list", "array"])
def test_a_resumed_run_is_bit_identical(members, structure):
    rng = np.random.default_rng(20)
    net = network_params(rng)
    start = {"dict": net, "list": list(net.values()), "array": net["W1"]}[structure]
    grads = [like(start, rng) for _ in range(7)]
    straight, p1 = made(members), copy.deepcopy(start)
    for g in grads:
        straight.step(p1, g)
    first, p2 = made(members), copy.deepcopy(start)
    for g in grads[:3]:
        first.step(p2, g)
    checkpoint = pickle.loads(pickle.dumps(first.state_dict()))
    first.step(copy.deepcopy(p2), grads[3])        # the original moves on; the copy must not
    other = {g: type(m)(lr=0.77) for g, m in MEMBERS[members]().items()}
    resumed = Partition.by_ndim(**other)            # same classes, other hyperparameters
    resumed.load_state_dict(checkpoint)
    assert resumed.t == 3
    for g in grads[3:]:
        resumed.step(p2, g)
    identical(p2, p1)
    identical(resumed.state_dict(), straight.state_dict())
    assert repr(resumed) == repr(straight)


def test_checkpoint_layout_and_a_checkpoint_before_the_first_step():
    opt = made()
    d = opt.state_dict()
    assert (d["optimizer"], d["format"], d["t"], d["structure"], d["labels"]) == \
        ("Partition", 1, 0, None, None)
    assert list(d["optimizers"]) == ["matrices", "others"]
    params = network_params(np.random.default_rng(21))
    opt.step(params, like(params, np.random.default_rng(22)))
    d = opt.state_dict()
    assert d["labels"] == {"W1": "matrices", "b1": "others", "W2": "matrices", "b2": "others"}
    assert d["params"]["b1"] == {"shape": (3,), "dtype": "float64"}
    assert d["optimizers"]["matrices"]["state"]["W1"]["exp_avg"].shape == (4, 3)
    fresh = made()
    stepped = made()
    stepped.step(params, like(params, np.random.default_rng(23)))
    stepped.load_state_dict(fresh.state_dict())
    assert stepped.t == 0 and stepped.state == {} and stepped.optimizers["matrices"].t == 0


def checkpoint_of(opt=None, steps=2):
    opt = opt or made()
    rng = np.random.default_rng(24)
    params = network_params(rng)
    for _ in range(steps):
        opt.step(params, like(params, rng))
    return opt.state_dict()


def edited(change):
    d = checkpoint_of()
    change(d)
    return d


BAD_CHECKPOINTS = {
    "not a dict": (lambda: [1], TypeError, "state_dict must be a dict"),
    "a plain optimizer's": (lambda: Adam().state_dict(), ValueError,
                            "state_dict is a checkpoint of 'Adam', not of a Partition"),
    "missing key": (lambda: edited(lambda d: d.pop("labels")), ValueError,
                    r"missing \['labels'\]"),
    "format": (lambda: edited(lambda d: d.update(format=2)), ValueError, "format 2"),
    "t": (lambda: edited(lambda d: d.update(t=-1)), ValueError, r"state_dict\['t'\]"),
    "other group names": (
        lambda: checkpoint_of(Partition({"weights": Adam(lr=0.01), "others": GradientDescent(
            lr=0.1)}, lambda n, a: "weights" if a.ndim == 2 else "others")),
        ValueError, r"holds the groups \['weights', 'others'\], this Partition has "
                    r"\['matrices', 'others'\]: missing \['matrices'\], unexpected \['weights'\]"),
    "other member class": (
        lambda: checkpoint_of(Partition.by_ndim(matrices=Adam(lr=0.01),
                                                others=Momentum(lr=0.1))),
        ValueError, r"state_dict\['optimizers'\]\['others'\]: state_dict is a checkpoint of "
                    r"'Momentum', not of GradientDescent"),
    "other labels": (
        lambda: checkpoint_of(Partition({"matrices": Adam(lr=0.01), "others": GradientDescent(
            lr=0.1)}, lambda n, a: "matrices" if n != "b2" else "others")),
        ValueError, r"state_dict puts params\['b1'\] in the group 'matrices', this Partition's "
                    r"label in 'others'"),
    "label not a group": (lambda: edited(lambda d: d["labels"].update(b1="biases")), ValueError,
                          r"state_dict\['labels'\]\['b1'\] is 'biases'"),
    "labels and params differ": (lambda: edited(lambda d: d["labels"].pop("b2")), ValueError,
                                 "hold different parameters"),
    "member holds another group's parameter": (
        lambda: edited(lambda d: d["optimizers"]["others"]["params"].update(
            W1={"shape": (4, 3), "dtype": "float64"}) or d["optimizers"]["others"][
            "state"].update(W1={})),
        ValueError, r"state_dict\['optimizers'\]\['others'\] holds the parameters"),
    "bad buffer in the second group": (
        lambda: edited(lambda d: d["optimizers"]["others"].update(t=-3)), ValueError,
        r"state_dict\['optimizers'\]\['others'\]: state_dict\['t'\]"),
    "param shape": (lambda: edited(lambda d: d["params"]["W1"].update(shape=(3, 3))), ValueError,
                    r"state_dict\['optimizers'\]\['matrices'\] holds the parameters"),
    "no structure but a stepped member": (
        lambda: edited(lambda d: d.update(structure=None, params=None, labels=None, t=0)),
        ValueError, r"holds the parameters .* taken no step"),
}


@pytest.mark.parametrize("case", list(BAD_CHECKPOINTS))
def test_a_bad_checkpoint_is_rejected_and_changes_nothing(case):
    make_bad, error, match = BAD_CHECKPOINTS[case]
    opt = made()
    rng = np.random.default_rng(25)
    params = network_params(rng)
    for _ in range(3):
        opt.step(params, like(params, rng))
    opt.optimizers["others"].lr = 0.3              # (a checkpoint restores it: it must not)
    before = everything(opt, params)
    with pytest.raises(error, match=match):
        opt.load_state_dict(make_bad())
    identical(everything(opt, params), before)
    opt.step(params, like(params, rng))            # and it still works
    assert opt.t == 4


# ==========================================================================
# 4. Bad arguments
# ==========================================================================
@pytest.mark.parametrize("optimizers, label, error, match", [
    ([Adam()], label_by_ndim, TypeError, r"optimizers must be a dict .*got optimizers=\["),
    ({}, label_by_ndim, ValueError, r"at least one group, got optimizers=\{\}"),
    ({1: Adam()}, label_by_ndim, TypeError, r"keyed by group names \(str\), got the key 1"),
    ({"matrices": Adam}, label_by_ndim, TypeError,
     r"optimizers\['matrices'\] must be an optlib optimizer, got .*Adam.*pass an instance"),
    ({"matrices": 0.1}, label_by_ndim, TypeError,
     r"optimizers\['matrices'\] must be an optlib optimizer, got 0.1"),
    ({"matrices": "adam"}, label_by_ndim, TypeError, r"got 'adam'"),
    ({"matrices": Adam()}, "matrices", TypeError,
     r"label must be a function label\(name, array\) .*got label='matrices'"),
    ({"matrices": Adam()}, None, TypeError, r"got label=None"),
])
def test_constructor_rejects(optimizers, label, error, match):
    with pytest.raises(error, match=match):
        Partition(optimizers, label)


def test_the_same_optimizer_cannot_serve_two_groups():
    adam = Adam()
    with pytest.raises(ValueError, match=r"optimizers\['others'\] is the same object as "
                                         r"optimizers\['matrices'\]"):
        Partition.by_ndim(matrices=adam, others=adam)


def test_a_member_that_has_stepped_is_refused():
    used = Adam()
    used.step(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match=r"optimizers\['others'\] has taken 1 step\(s\)"):
        Partition.by_ndim(matrices=Adam(), others=used)


@pytest.mark.parametrize("name", ["optimizers", "label", "schedule", "lr", "t", "lrr"])
def test_attributes_cannot_be_set(name):
    opt = made()
    with pytest.raises(AttributeError, match=rf"Partition.{name} cannot be set.*"
                                             r"partition.optimizers\['matrices'\].lr"):
        setattr(opt, name, 0.1)
    assert opt.schedule is None


def test_members_cannot_be_swapped_through_the_mapping():
    opt = made()
    with pytest.raises(TypeError):
        opt.optimizers["matrices"] = Adam()


# ==========================================================================
# 5. t, reset, state, hyperparameters, repr
# ==========================================================================
def test_reset_forgets_every_group_and_asks_the_label_again():
    calls = []

    def label(name, array):
        calls.append(name)
        return label_by_ndim(name, array)

    opt = Partition({"matrices": Adam(), "others": Momentum(lr=0.1)}, label)
    rng = np.random.default_rng(30)
    params = network_params(rng)
    for _ in range(3):
        opt.step(params, like(params, rng))
    assert calls == ["W1", "b1", "W2", "b2"]        # asked once, on the first step
    assert opt.t == opt.schedule_t == 3 and opt.state != {}
    opt.reset()
    assert opt.t == 0 and opt.state == {} and all(m.t == 0 and m.state == {}
                                                   for m in opt.optimizers.values())
    opt.step([params["W1"]], [np.ones((4, 3))])     # new params after a reset: fine
    assert calls[4:] == [0] and opt.t == 1


def test_hyperparameters_and_repr():
    opt = Partition.by_ndim(matrices=Adam(lr=0.01), others=GradientDescent(lr=0.1))
    hyper = opt.hyperparameters
    assert hyper["matrices.lr"] == 0.01 and hyper["others.lr"] == 0.1
    assert len(hyper) == 6
    assert repr(opt) == ("Partition({'matrices': Adam(lr=0.01, beta1=0.9, beta2=0.999, "
                         "eps=1e-08, weight_decay=0.0, decoupled=False, amsgrad=False), "
                         "'others': GradientDescent(lr=0.1)}, label=label_by_ndim)")
    assert "0x" not in repr(Partition({"a": Adam()}, lambda n, a: "a"))   # no memory address
    assert isinstance(opt, Optimizer)


# ==========================================================================
# 6. The chapter-5 network, end to end
# ==========================================================================
@pytest.fixture(scope="module")
def small_digits():
    d = load_digits_split()
    return type(d)(d.X_train[:300], d.y_train[:300], d.X_test[:100], d.y_test[:100])


def written_out(model, make_matrices, make_others, data, epochs, batch_size, seed):
    """The training loop of optlib.network.train, written out with two separate optimizers
    (one on W1, W2, one on b1, b2): the parameters after ``epochs`` epochs."""
    params = model.init_params()
    matrices, others = make_matrices(), make_others()
    rng = np.random.default_rng(seed)
    n = data.X_train.shape[0]
    with one_blas_thread(), np.errstate(all="ignore"):
        for _ in range(epochs):
            order = rng.permutation(n)
            for i in range(0, n, batch_size):
                idx = order[i:i + batch_size]
                _, grads = model.loss_and_grads(params, data.X_train[idx], data.y_train[idx])
                matrices.step({k: params[k] for k in ("W1", "W2")},
                              {k: grads[k] for k in ("W1", "W2")})
                others.step({k: params[k] for k in ("b1", "b2")},
                            {k: grads[k] for k in ("b1", "b2")})
    return params


@pytest.mark.parametrize("make_matrices, make_others", [
    (lambda: Adam(lr=1e-2), lambda: GradientDescent(lr=0.1)),
    (lambda: AdamW(lr=1e-2, weight_decay=0.05), lambda: Momentum(lr=0.1, beta=0.9)),
])
def test_training_the_network_with_a_partition(small_digits, make_matrices, make_others):
    """train() takes a Partition as any optimizer: two epochs equal the loop written out
    with two optimizers bit for bit, the loss falls, and the History names both members."""
    model = MLP(sizes=(64, 16, 10), seed=1)
    opt = Partition.by_ndim(matrices=make_matrices(), others=make_others())
    h = train(model, opt, small_digits, epochs=2, batch_size=32, seed=3, progress=False)
    expected = written_out(model, make_matrices, make_others, small_digits, 2, 32, 3)
    identical(h.params, expected)
    assert not h.diverged and h.train_loss[-1] < 0.8 * h.train_loss[0]
    assert h.optimizer == repr(opt) and "label=label_by_ndim" in h.optimizer
    assert opt.t == h.steps_per_epoch * 2 == 20


def test_compare_optimizers_takes_partition_factories(small_digits):
    model = MLP(sizes=(64, 16, 10), seed=2)
    runs = compare_optimizers(
        model, {"Adam + GD": lambda: Partition.by_ndim(matrices=Adam(lr=1e-2),
                                                       others=GradientDescent(lr=0.1)),
                "Adam": lambda: Adam(lr=1e-2)},
        small_digits, epochs=2, batch_size=64, progress=False)
    assert set(runs) == {"Adam + GD", "Adam"}
    assert not np.array_equal(runs["Adam + GD"].params["b1"], runs["Adam"].params["b1"])
    assert runs["Adam + GD"].optimizer.startswith("Partition({'matrices': Adam(lr=0.01")


def test_lr_sweep_takes_a_function_of_lr_that_makes_a_partition(small_digits):
    model = MLP(sizes=(64, 16, 10), seed=2)
    runs = lr_sweep(model, lambda lr: Partition.by_ndim(matrices=Adam(lr=lr),
                                                        others=GradientDescent(lr=0.1)),
                    [1e-2, 1e-3], small_digits, epochs=1, batch_size=64, progress=False)
    assert [h.label for h in runs.values()] == ["α = 0.01", "α = 0.001"]
    assert "Adam(lr=0.01" in runs[1e-2].optimizer and "Adam(lr=0.001" in runs[1e-3].optimizer


@needs_muon
def test_muon_on_the_matrices_and_adamw_on_the_biases(small_digits):
    """Chapter 7's combination trains the network: the written-out loop, bit for bit."""
    model = MLP(sizes=(64, 16, 10), seed=1)
    make_muon, make_adamw = (lambda: Muon(lr=0.02, weight_decay=0.0)), (lambda: AdamW(lr=3e-3))
    opt = Partition.by_ndim(matrices=make_muon(), others=make_adamw())
    h = train(model, opt, small_digits, epochs=2, batch_size=32, seed=3, progress=False)
    identical(h.params, written_out(model, make_muon, make_adamw, small_digits, 2, 32, 3))
    assert not h.diverged and h.train_loss[-1] < 0.8 * h.train_loss[0]
