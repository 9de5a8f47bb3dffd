"""Qualitative claims of chapter 5's exercises, recomputed with plain numpy (a network and
its backward pass written again here, not optlib's):

* exercise 5.3: a network whose weights all start at zero moves only b2 under gradient
  descent, for ever — the hidden layer never starts (and random weights break this);
* exercise 5.7: full-batch gradient descent at α = 2.5/λ_max rises at some steps, keeps
  learning, and ends where the sharpness is below 2/α (it left the sharp region).

Each test also runs the false version of its claim and shows that the check would catch it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from network_reference import forward_backward, sharpness_by_lanczos


@pytest.fixture(scope="module")
def train_set():
    from optlib.network import load_digits_split

    split = load_digits_split(test_fraction=0.25, seed=0)
    return split.X_train, split.y_train


def start(seed=0):
    """MLP(sizes=(64, 32, 10), seed) as its docstring defines the start (He, then Glorot)."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0.0, math.sqrt(2 / 64), (64, 32)), "b1": np.zeros(32),
            "W2": rng.normal(0.0, math.sqrt(2 / 42), (32, 10)), "b2": np.zeros(10)}


def gd(params, X, y, lr, steps):
    p = {k: v.copy() for k, v in params.items()}
    losses = []
    for _ in range(steps):
        loss, g = forward_backward(p, X, y)
        losses.append(loss)
        for k in p:
            p[k] -= lr * g[k]
    return p, np.array(losses)


def moved(params, after):
    return {k for k in params if not np.array_equal(params[k], after[k])}


def test_the_start_is_the_chapters():
    from optlib.network import MLP

    ours = MLP(sizes=(64, 32, 10), seed=0).init_params()
    assert all(np.array_equal(ours[k], v) for k, v in start().items())


def test_zero_weights_move_only_b2_for_ever(train_set):
    X, y = train_set
    blank = {"W1": np.zeros((64, 32)), "b1": np.zeros(32), "W2": np.zeros((32, 10)),
             "b2": np.zeros(10)}
    blank["b2"][8] = math.log(9)
    after, losses = gd(blank, X, y, lr=0.5, steps=200)
    assert moved(blank, after) == {"b2"}
    # what b2 alone can do: the loss of predicting the class shares, no better
    shares = np.bincount(y, minlength=10) / len(y)
    assert losses[-1] >= -np.sum(shares * np.log(shares)) - 1e-12
    # the false version: with random first-layer weights the hidden layer does start (W2
    # moves at the first step, W1 and b1 at the second); random W2 alone would not do it,
    # since ReLU(0) = 0 passes no gradient
    control = dict(blank, W1=start()["W1"])
    assert moved(control, gd(control, X, y, lr=0.5, steps=1)[0]) == {"W2", "b2"}
    assert moved(control, gd(control, X, y, lr=0.5, steps=2)[0]) == {"W1", "b1", "W2", "b2"}


def test_above_the_limit_the_run_is_bumpy_and_leaves_the_sharp_region(train_set):
    X, y = train_set
    p0 = start()
    lam0 = sharpness_by_lanczos(p0, X, y)
    lr = 2.5 / lam0
    end, losses = gd(p0, X, y, lr, steps=100)
    assert np.any(np.diff(losses) > 0)                     # rises at some steps
    assert forward_backward(end, X, y)[0] < 0.5            # keeps learning, far below ln 10
    assert sharpness_by_lanczos(end, X, y) < 2 / lr                 # the sharpness fell below 2/α
    # the false version: below the limit (α = 0.5/λ_max) the loss never rises
    assert not np.any(np.diff(gd(p0, X, y, 0.5 / lam0, steps=100)[1]) > 0)


def _stored_output(id_prefix: str) -> str:
    """The stored text output of the solution cell whose source ends with check(id_prefix...):
    its printed text (a worked solution's output is one fold, ``optlib.exercises.solution``,
    whose text/plain is what the block printed)."""
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parent.parent / "chapters" / "05_training.ipynb")
                    .read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and f'check("{id_prefix}"' in "".join(cell["source"]):
            return "".join("".join(o.get("text", "") or o.get("data", {}).get("text/plain", ""))
                           for o in cell["outputs"])
    raise AssertionError(f"no solution cell for {id_prefix}")


def test_exercise_outputs_print_the_same_from_a_one_ulp_shadow():
    """What the solutions of 5.5 and 5.7 print is not a property of the last bit: the run
    from a start one ulp away (History.shadow) prints the same text."""
    from optlib import GradientDescent
    from optlib.network import MLP, load_digits_split, sharpness, train

    data = load_digits_split(test_fraction=0.25, seed=0)
    model = MLP(sizes=(64, 32, 10), seed=0)
    stored = _stored_output("5.5")
    for b in (16, 256):
        h = train(model, GradientDescent(lr=0.5), data, epochs=1, batch_size=b, seed=0,
                  progress=False, shadow=True)
        texts = {f"{run.final_train_loss:.3f}" for run in (h, h.shadow)}
        assert len(texts) == 1 and f"one epoch {texts.pop()}" in stored

    lam0 = sharpness(model, model.init_params(), data.X_train, data.y_train)
    h = train(model, GradientDescent(lr=2.5 / lam0), data, epochs=100,
              batch_size=len(data.y_train), seed=0, progress=False, shadow=True)
    lines = {(run.diverged, bool(np.any(np.diff(run.step_loss) > 0)), run.final_train_loss < 0.5)
             for run in (h, h.shadow)}
    assert lines == {(False, True, True)}
    assert "the loss rose at some steps: True; it ends far below ln 10 (below 0.5): True" \
        in _stored_output("5.7")
