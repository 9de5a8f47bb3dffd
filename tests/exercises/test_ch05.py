"""Chapter 5's exercise checks: answers worked out by hand pass, likely mistakes fail with
a hint, and every expected answer agrees with an independent computation (counted from the
data set's class sizes, a closed form, or scipy's Lanczos eigensolver). What every
exercise must do for a learner (malformed answers, messages) is tested for all chapters
in tests/exercises/test_registry.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optlib.exercises import Feedback, check, exercises
from optlib.exercises import ch05

IDS = ("5.1", "5.2", "5.3", "5.4", "5.5")

# The digits: 1797 images, of which round(0.25 · n_c) per class are held out (450 in all).
N_TRAIN = 1797 - 450
STEPS = (math.ceil(N_TRAIN / 64), math.ceil(N_TRAIN / 64) * 20)        # (22, 440)

# Answers worked out by hand from the formulas of the chapter (not by optlib), except 5.5,
# a measured curvature (its independent check is below).
RIGHT = {
    "5.1": STEPS,
    "5.2": math.log(10),                       # uniform softmax over 10 classes
    "5.3": "b2",                               # ReLU(0) = 0 blocks every other gradient
    "5.4": (1 - 0.01 * 0.01) ** STEPS[1],      # (1 − αλ) per step
    "5.5": None,                               # filled in by the fixture below
}
WRONG = {
    "5.1": (21, 420),                          # forgot the last, partial mini-batch
    "5.2": 0.1,
    "5.3": "W2",
    "5.4": 1 - 0.01 * 0.01 * 20,               # one step per epoch instead of per batch
    "5.5": 0.5,
}


@pytest.fixture(scope="module", autouse=True)
def limit():
    RIGHT["5.5"] = exercises()["5.5"].expected()
    return RIGHT["5.5"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_answers_worked_out_by_hand_pass(exercise_id):
    feedback = check(exercise_id, RIGHT[exercise_id])
    assert isinstance(feedback, Feedback)
    assert feedback.correct, feedback.message


@pytest.mark.parametrize("exercise_id", IDS)
def test_likely_mistakes_fail_with_a_hint(exercise_id):
    feedback = check(exercise_id, WRONG[exercise_id])
    assert not feedback.correct
    assert "Hint:" in feedback.message


def test_rounded_answers_pass():
    assert check("5.3", "  B2 ").correct
    assert check("5.1", [22, 440]).correct
    assert not check("5.1", (440, 22)).correct          # order matters: per epoch first
    assert check("5.2", 2.3026).correct
    assert check("5.4", 0.9569).correct


# --------------------------------------------------------------------------- independent checks


def test_5_1_counts_from_the_class_sizes():
    from sklearn.datasets import load_digits

    sizes = np.bincount(load_digits().target)
    n_train = int(sum(n - round(0.25 * n) for n in sizes))
    assert n_train == N_TRAIN
    assert exercises()["5.1"].expected() == STEPS


def test_5_2_and_5_3_follow_from_uniform_probabilities():
    assert exercises()["5.2"].expected() == pytest.approx(math.log(10), rel=1e-12)
    assert exercises()["5.3"].expected() == "b2"


def test_5_4_is_the_closed_form():
    assert exercises()["5.4"].expected() == pytest.approx(RIGHT["5.4"], rel=1e-12)


def test_5_5_agrees_with_a_lanczos_eigensolver(limit):
    """scipy's eigsh (Lanczos) on the network's Hessian-vector products, both ends of the
    spectrum: the largest eigenvalue is positive and larger in size than the smallest."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    data, model = ch05._setting()
    params = model.init_params()
    keys, shapes = model.keys, model.shapes()
    cuts = np.cumsum([int(np.prod(shapes[k])) for k in keys])[:-1]

    def matvec(v):
        parts = np.split(np.ravel(v), cuts)
        hv = model.hessian_vector_product(params, data.X_train, data.y_train,
                                          {k: p.reshape(shapes[k]) for k, p in zip(keys, parts)})
        return np.concatenate([hv[k].ravel() for k in keys])

    op = LinearOperator((model.n_params, model.n_params), matvec=matvec, dtype=float)
    top = eigsh(op, k=1, which="LA", tol=1e-10, v0=np.ones(model.n_params))[0][0]
    bottom = eigsh(op, k=1, which="SA", tol=1e-10, v0=np.ones(model.n_params))[0][0]
    assert abs(bottom) < top
    assert 2 / top == pytest.approx(limit, rel=1e-6)
    assert 0.5 < limit < 2.0
