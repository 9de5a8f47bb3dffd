r"""Exercises of chapter 5, *Training a real network* (``chapters/05_training.ipynb``).

Every expected answer is computed with optlib (the digits split, the network, the
optimizers), never typed in. The settings are those of the chapter: the network
``MLP(sizes=(64, 32, 10), seed=0)``, the split ``load_digits_split()``, mini-batches
of 64 for 20 epochs, and ``AdamW(lr=0.01, weight_decay=0.01)``.

=====  ==============================================================  =========
id     asks for                                                        answer
=====  ==============================================================  =========
5.1    optimizer steps per epoch, and in the whole run                 2 numbers
5.2    the loss of a network whose parameters are all zero             a number
5.3    which parameter gets a gradient when all parameters are zero    a choice
5.4    the factor by which AdamW's decoupled decay alone shrinks a     a number
       weight over the run
5.5    chapter 1's stability limit 2/λ_max for the untrained network   a number
=====  ==============================================================  =========
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..optimizers import AdamW
from . import Exercise, register

#: the chapter's network, training run and AdamW
SIZES = (64, 32, 10)
SEED = 0
EPOCHS = 20
BATCH_SIZE = 64
ADAMW_LR = 0.01
ADAMW_DECAY = 0.01
PARAMETERS = ("W1", "b1", "W2", "b2")


@lru_cache(maxsize=1)
def _setting():
    """The chapter's data and network (imported here: the data need scikit-learn)."""
    from ..network import MLP, load_digits_split

    return load_digits_split(), MLP(sizes=SIZES, seed=SEED)


def _steps() -> tuple[int, int]:
    """Mini-batches of one epoch (one optimizer step each), and of the whole run."""
    from ..network import minibatches

    data, _ = _setting()
    per_epoch = len(minibatches(data.X_train.shape[0], BATCH_SIZE, np.random.default_rng(SEED)))
    return per_epoch, per_epoch * EPOCHS


def _zeros():
    data, model = _setting()
    return {k: np.zeros(s) for k, s in model.shapes().items()}


def _zero_loss() -> float:
    data, model = _setting()
    return model.loss(_zeros(), data.X_train, data.y_train)


def _moving_parameter() -> str:
    """The one parameter whose gradient is non-zero at all-zero parameters."""
    data, model = _setting()
    _, grads = model.loss_and_grads(_zeros(), data.X_train, data.y_train)
    moving = [k for k in model.keys if np.any(grads[k])]
    return moving[0] if len(moving) == 1 else "several"


def _decay_factor() -> float:
    """AdamW on a weight with zero gradient for the whole run: only the decay acts."""
    w = np.ones(1)
    opt = AdamW(lr=ADAMW_LR, weight_decay=ADAMW_DECAY)
    for _ in range(_steps()[1]):
        opt.step(w, np.zeros(1))
    return float(w[0])


@lru_cache(maxsize=1)
def _stability_limit() -> float:
    from ..network import sharpness

    data, model = _setting()
    return 2.0 / sharpness(model, model.init_params(), data.X_train, data.y_train)


register(
    Exercise(
        id="5.1",
        question=f"With mini-batches of {BATCH_SIZE} from the training set of "
                 "load_digits_split(), how many optimizer steps does one epoch take, and how "
                 f"many does a run of {EPOCHS} epochs take? Answer the pair (per epoch, total).",
        expected=_steps,
        rtol=1e-9,
        hint="Hint: one step per mini-batch; the last mini-batch of an epoch takes the "
             "remainder, so an epoch has ⌈n/64⌉ of them.",
    ),
    Exercise(
        id="5.2",
        question="Set every parameter of MLP(sizes=(64, 32, 10)) to zero. What is its "
                 "cross-entropy loss on the training set?",
        expected=_zero_loss,
        rtol=1e-4,
        hint="Hint: zero parameters give zero logits for every class, so the softmax "
             "assigns every class the same probability.",
    ),
    Exercise(
        id="5.3",
        question="With every parameter of MLP(sizes=(64, 32, 10)) zero, which parameter gets "
                 "a non-zero gradient: 'W1', 'b1', 'W2' or 'b2'?",
        expected=_moving_parameter,
        choices=PARAMETERS,
        hint="Hint: follow the backward pass: dW2 = A1ᵀ dZ2 / n with A1 = ReLU(0) = 0, and "
             "dZ1 = (dZ2 W2ᵀ) ⊙ [Z1 > 0].",
    ),
    Exercise(
        id="5.4",
        question=f"AdamW(lr={ADAMW_LR}, weight_decay={ADAMW_DECAY}) trains for the steps of "
                 "exercise 5.1. By what factor does its decoupled weight decay alone shrink "
                 "a weight over the whole run (a weight whose gradient stays zero)?",
        expected=_decay_factor,
        rtol=1e-4,
        hint="Hint: decoupled decay multiplies every weight by 1 − αλ at every step.",
    ),
    Exercise(
        id="5.5",
        question="Chapter 1's stability limit for the untrained network: what is 2/λ_max, "
                 "λ_max the largest eigenvalue of the Hessian of the training loss at "
                 "MLP(sizes=(64, 32, 10), seed=0).init_params()?",
        expected=_stability_limit,
        rtol=0.01,
        hint="Hint: optlib.network.sharpness estimates λ_max by power iteration on "
             "Hessian-vector products.",
    ),
)
