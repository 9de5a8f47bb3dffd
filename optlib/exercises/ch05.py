r"""Exercises of chapter 5, *Training a real network* (``chapters/05_training.ipynb``).

Every expected answer is computed with optlib (the digits split, the network, its
backward pass, the optimizers, the training loop), never typed in. The setting is the
chapter's: the split ``load_digits_split(test_fraction=0.25, seed=0)`` (1347 training
images) and the network ``MLP(sizes=(64, 32, 10), seed=0)``; each exercise changes one
thing (a batch size, a bias, the optimizer's hyperparameters, the depth, the learning
rate) so that no answer is printed in the chapter.

=====  =========  ====================  ==================================================  ==========
id     level      kind                  asks for                                            answer
=====  =========  ====================  ==================================================  ==========
5.1    warm-up    computation           with batches of 100 for 15 epochs: steps per        3 integers
                                        epoch, size of the last batch, steps in all          (exact)
5.2    warm-up    derivation            the loss of a blank network whose only non-zero     a number
                                        parameter is b2[8] = ln 9                            (4 digits)
5.3    core       derivation            that network's gradient: (db2[8], db2[0])           2 numbers
5.4    core       implement it          b2 after three Adam steps written by hand on the    10 numbers
                  yourself              params dict (lr 0.005, β₁ = 0.8, β₂ = 0.99)
5.5    core       predict, then run     one epoch of gradient descent (α = 0.5) with        a choice
                                        batches of 16 or of 256: which ends lower?
5.6    challenge  implement it          the backward pass of MLP(sizes=(64, 16, 16, 10),    3 numbers
                  yourself              seed=5) on 8 images: ‖dW1‖, ‖dW2‖, ‖dW3‖
5.7    challenge  predict, then run     100 full-batch steps at α = 2.5/λ_max: monotone,    a choice
                                        bumpy, dies or diverges?
=====  =========  ====================  ==================================================  ==========
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..optimizers import Adam, GradientDescent
from . import Exercise, register

#: the chapter's network and split
SIZES = (64, 32, 10)
SEED = 0
#: exercise 5.1: batch size and epochs
COUNT_BATCH, COUNT_EPOCHS = 100, 15
#: exercises 5.2 and 5.3: the one non-zero parameter, b2[DIGIT] = ln BIAS_ODDS
DIGIT, BIAS_ODDS = 8, 9.0
#: exercise 5.4: Adam's hyperparameters, the batch size and the number of steps
ADAM = dict(lr=0.005, beta1=0.8, beta2=0.99)
ADAM_BATCH, ADAM_STEPS = 64, 3
#: exercise 5.5: gradient descent's α and the two batch sizes, one epoch each
BATCH_LR, BATCH_SIZES = 0.5, (16, 256)
BATCH_CHOICES = ("smaller", "larger", "equal")
#: exercise 5.6: the deeper network and the number of images
DEEP_SIZES, DEEP_SEED, DEEP_IMAGES = (64, 16, 16, 10), 5, 8
#: exercise 5.7: α·λ_max and the number of full-batch steps
EDGE_FACTOR, EDGE_STEPS = 2.5, 100
#: a network whose full training loss stays above this has died (guessing gives ln 10 ≈ 2.3)
DEAD_LOSS = 2.0
EDGE_CHOICES = ("monotone", "bumpy", "dies", "diverges")


@lru_cache(maxsize=1)
def _setting():
    """The chapter's data and network (imported here: the data need scikit-learn)."""
    from ..network import MLP, load_digits_split

    return load_digits_split(test_fraction=0.25, seed=SEED), MLP(sizes=SIZES, seed=SEED)


def _counts() -> tuple[int, int, int]:
    """Batches of one epoch, rows of its last batch, batches of the whole run."""
    from ..network import minibatches

    data, _ = _setting()
    batches = minibatches(len(data.y_train), COUNT_BATCH, np.random.default_rng(SEED))
    return len(batches), int(batches[-1].size), len(batches) * COUNT_EPOCHS


def _blank():
    """Every parameter zero except b2[DIGIT] = ln BIAS_ODDS."""
    _, model = _setting()
    params = {k: np.zeros(s) for k, s in model.shapes().items()}
    params["b2"][DIGIT] = math.log(BIAS_ODDS)
    return params


def _blank_loss() -> float:
    data, model = _setting()
    return model.loss(_blank(), data.X_train, data.y_train)


def _blank_gradient() -> tuple[float, float]:
    data, model = _setting()
    _, grads = model.loss_and_grads(_blank(), data.X_train, data.y_train)
    return float(grads["b2"][DIGIT]), float(grads["b2"][0])


def _adam_b2() -> tuple[float, ...]:
    """b2 after ADAM_STEPS steps of optlib's Adam on the chapter's first mini-batches."""
    from ..network import minibatches

    data, model = _setting()
    X, y = data.X_train, data.y_train
    params = model.init_params()
    opt = Adam(**ADAM)
    for idx in minibatches(len(y), ADAM_BATCH, np.random.default_rng(SEED))[:ADAM_STEPS]:
        opt.step(params, model.loss_and_grads(params, X[idx], y[idx])[1])
    return tuple(params["b2"].tolist())


@lru_cache(maxsize=1)
def _batch_losses() -> tuple[float, float]:
    """The training loss after one epoch of gradient descent with each batch size."""
    from ..network import train

    data, model = _setting()
    return tuple(train(model, GradientDescent(lr=BATCH_LR), data, epochs=1, batch_size=b,
                       seed=SEED, progress=False).final_train_loss for b in BATCH_SIZES)


def _batch_winner() -> str:
    small, large = _batch_losses()
    return "equal" if small == large else "smaller" if small < large else "larger"


def _deep_norms() -> tuple[float, float, float]:
    from ..network import MLP

    data, _ = _setting()
    net = MLP(sizes=DEEP_SIZES, seed=DEEP_SEED)
    _, grads = net.loss_and_grads(net.init_params(), data.X_train[:DEEP_IMAGES],
                                  data.y_train[:DEEP_IMAGES])
    return tuple(float(np.linalg.norm(grads[f"W{l}"])) for l in range(1, net.layers + 1))


def edge_outcome(step_losses, diverged: bool) -> str:
    """The class of a full-batch run: diverged, died (final loss ≥ DEAD_LOSS), rose at some
    step, or fell at every step."""
    losses = np.asarray(step_losses, dtype=float)
    if diverged:
        return "diverges"
    if losses[-1] >= DEAD_LOSS:
        return "dies"
    return "bumpy" if np.any(np.diff(losses) > 0) else "monotone"


@lru_cache(maxsize=1)
def _edge_run():
    """Full-batch gradient descent at α = EDGE_FACTOR/λ_max from the chapter's start."""
    from ..network import sharpness, train

    data, model = _setting()
    params = model.init_params()
    lr = EDGE_FACTOR / sharpness(model, params, data.X_train, data.y_train)
    return lr, train(model, GradientDescent(lr=lr), data, epochs=EDGE_STEPS,
                     batch_size=len(data.y_train), seed=SEED, progress=False)


def _edge() -> str:
    _, history = _edge_run()
    return edge_outcome(history.step_loss, history.diverged)


register(
    Exercise(
        id="5.1",
        question=f"With mini-batches of {COUNT_BATCH} from the 1347 training images, how many "
                 "optimizer steps does one epoch take, how many images are in its last "
                 f"batch, and how many steps do {COUNT_EPOCHS} epochs take? Answer the triple "
                 "(per epoch, last batch, total).",
        expected=_counts,
        rtol=0.0,
        hint="Hint: one step per mini-batch; an epoch has ⌈n/100⌉ batches and the last one "
             "holds the remainder.",
    ),
    Exercise(
        id="5.2",
        question="Every parameter of MLP(sizes=(64, 32, 10)) is zero except b2[8] = ln 9. "
                 "What is its cross-entropy loss on the training set, to four significant "
                 "digits?",
        expected=_blank_loss,
        rtol=2e-4,                      # four significant digits of a number near 2.7
        hint="Hint: the logits of every image are (0, …, ln 9, 0): digit 8 gets the "
             "probability 9/18, every other digit 1/18; count how many training images "
             "are 8s (np.bincount(y_train)).",
    ),
    Exercise(
        id="5.3",
        question="For the network of exercise 5.2, what are db2[8] and db2[0] on the whole "
                 "training set? Answer the pair (db2[8], db2[0]).",
        expected=_blank_gradient,
        rtol=1e-3,
        hint="Hint: dZ2 = P − Y and db2 is its mean over the images: P_k minus the share "
             "of the images labelled k.",
    ),
    Exercise(
        id="5.4",
        question="From model.init_params(), take three Adam steps (α = 0.005, β₁ = 0.8, "
                 "β₂ = 0.99, ε = 1e-8) on the first three mini-batches of 64 "
                 "(minibatches(1347, 64, np.random.default_rng(0))), your own v_dW, s_dW "
                 "update on the whole params dict. What is b2 afterwards (10 numbers)?",
        expected=_adam_b2,
        rtol=1e-3,
        hint="Hint: v ← β₁v + (1 − β₁)g, s ← β₂s + (1 − β₂)g², and the step "
             "α v̂/(√ŝ + ε) with v̂ = v/(1 − β₁ᵗ), ŝ = s/(1 − β₂ᵗ), t = 1, 2, 3; every "
             "parameter moves, and the next gradient is taken at the new parameters.",
    ),
    Exercise(
        id="5.5",
        question="One epoch of gradient descent (α = 0.5) from the chapter's start, once with "
                 "batches of 16 and once with batches of 256 (seed 0). Which ends with the "
                 "lower training loss: 'smaller' batches, 'larger' batches, or 'equal'?",
        expected=_batch_winner,
        choices=BATCH_CHOICES,
        hint="Hint: count the steps each takes in one epoch.",
    ),
    Exercise(
        id="5.6",
        question="Write the backward pass of MLP(sizes=(64, 16, 16, 10), seed=5) yourself and "
                 "apply it at its init_params() to the first 8 training images. What are the "
                 "Frobenius norms (‖dW1‖, ‖dW2‖, ‖dW3‖)?",
        expected=_deep_norms,
        rtol=1e-3,
        hint="Hint: dZ3 = P − Y, dW = Aᵀ dZ / n with A the layer's input, "
             "dZ below = (dZ Wᵀ) ⊙ [Z > 0]; the mean over the 8 images, not the sum.",
    ),
    Exercise(
        id="5.7",
        question="Full-batch gradient descent from the chapter's start with α = 2.5/λ_max "
                 "(λ_max the sharpness there) for 100 steps: does the training loss fall at "
                 "every step ('monotone'), rise at some steps but keep learning ('bumpy'), "
                 "end near ln 10 with dead units ('dies'), or diverge ('diverges')?",
        expected=_edge,
        choices=EDGE_CHOICES,
        hint="Hint: α·λ_max/2 = 1.25 puts the start above chapter 1's limit; compare with "
             "the sweep's α = 1.5 and α = 3.",
    ),
)
