r"""A fair comparison of optimizers: tune on a validation split, test once, several seeds.

Comparing optimizers on a network is easy to get wrong: one seed hides the spread
between runs; a learning rate chosen by looking at the test set makes the test
accuracy optimistic; a finer search for one optimizer than for another favours it.
This module does it the way a careful experiment does:

1. :func:`validation_split` carves a validation set out of the *training* data;
   the test set is not touched while choosing;
2. :func:`tune_learning_rate` trains each learning rate of a grid with several
   seeds (the initial weights and the mini-batch order both change with the
   seed) and picks the rate with the lowest mean final validation loss. Every
   optimizer gets the same budget: a grid of the same size, the same seeds, the
   same epochs;
3. :func:`repeat_runs` trains the chosen setting on the whole training set with
   several seeds and evaluates the test set once, at the end: the mean and the
   spread of the test accuracy are what the comparison reports
   (:class:`Repeats`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._validate import flag, instance, real, reals, whole
from ..optimizers import Optimizer
from .data import Digits, check_split
from .model import MLP, one_blas_thread
from .training import History, _check_clip, train

__all__ = ["validation_split", "Tuning", "tune_learning_rate", "Repeats", "repeat_runs",
           "TOLERANCE"]

#: Mean validation losses within this fraction of the lowest one count as a tie, which
#: the smallest of the tied learning rates wins (:attr:`Tuning.best_index`).
TOLERANCE = 0.02


def validation_split(data, fraction: float = 0.2, seed: int = 0) -> Digits:
    """The training data split again into training and validation parts.

    Args:
        data: a :class:`Digits` (or ``(X_train, y_train, X_test, y_test)``); only
            its training part is used.
        fraction: the share of the training examples held out for validation,
            in (0, 1).
        seed: the seed of the random choice of the held-out examples.

    Returns:
        A :class:`Digits` whose ``X_train, y_train`` are the remaining training
        examples and whose ``X_test, y_test`` are the **validation** examples (so
        that :func:`~optlib.network.train` reports validation loss and accuracy as
        its "test" curves). The real test set is not in it.

    Examples:
        >>> import numpy as np
        >>> X, y = np.random.default_rng(0).random((10, 3)), np.arange(10) % 2
        >>> part = validation_split((X, y, X[:1], y[:1]), fraction=0.3)
        >>> part.X_train.shape, part.X_test.shape
        ((7, 3), (3, 3))
    """
    if isinstance(data, tuple) and not isinstance(data, Digits) and len(data) == 4:
        data = Digits(*data)
    instance("data", data, Digits, "a Digits split (X_train, y_train, X_test, y_test)")
    X_train, y_train, _, _ = check_split(
        data, np.shape(data.X_train)[-1],
        int(max(np.max(data.y_train), np.max(data.y_test))) + 1)
    fraction = real("fraction", fraction, low=0.0, high=1.0, low_inclusive=False,
                    high_inclusive=False)
    seed = whole("seed", seed, low=0)
    n = len(y_train)
    held = int(round(fraction * n))
    if not 1 <= held <= n - 1:
        raise ValueError(f"fraction={fraction} of {n} training examples leaves no validation "
                         "or no training example")
    order = np.random.default_rng(seed).permutation(n)
    val, rest = np.sort(order[:held]), np.sort(order[held:])
    return Digits(X_train[rest], y_train[rest], X_train[val], y_train[val])


def _seeds(seeds) -> tuple[int, ...]:
    values = tuple(whole(f"seeds[{i}]", s, low=0) for i, s in enumerate(
        instance("seeds", seeds, (list, tuple, range), "a sequence of whole numbers")))
    if not values or len(set(values)) != len(values):
        raise ValueError(f"seeds must be distinct whole numbers, at least one, got {seeds!r}")
    return values


def _run(make_optimizer, data, seed, sizes, activation, epochs, batch_size, label,
         shadow=False, clip=None) -> History:
    optimizer = make_optimizer()
    instance("the optimizer factory's result", optimizer, Optimizer, "an optlib optimizer")
    model = MLP(sizes=sizes, activation=activation, seed=seed)
    with one_blas_thread():         # the same bits whatever the machine's thread count
        return train(model, optimizer, data, epochs=epochs, batch_size=batch_size, seed=seed,
                     progress=False, label=label, shadow=shadow, clip=clip)


def _choice(mean, lrs, tolerance) -> int:
    good = np.flatnonzero(mean <= (1.0 + tolerance) * np.min(mean))
    return int(good[np.argmin(lrs[good])])


@dataclass(frozen=True)
class Tuning:
    """The result of :func:`tune_learning_rate` for one optimizer.

    Attributes:
        label: the optimizer's name.
        lrs: the learning rates tried, shape ``(L,)``.
        seeds: the seeds, one run per seed and rate.
        val_loss: the final validation loss of each run, shape ``(S, L)``;
            ``inf`` where the run diverged.
        tolerance: the relative margin of a tie (:data:`~optlib.network.TOLERANCE`).
        shadow_val_loss: with ``shadow=True``, the same for every run's shadow (its
            start one ulp away); else None.
        erratic_runs: with ``shadow=True``, whether each run is erratic
            (:attr:`History.erratic <optlib.network.History.erratic>`: its shadow ends
            elsewhere), shape ``(S, L)``; else None.
    """

    label: str
    lrs: np.ndarray
    seeds: tuple
    val_loss: np.ndarray
    tolerance: float = TOLERANCE
    shadow_val_loss: np.ndarray | None = None
    erratic_runs: np.ndarray | None = None

    @property
    def mean_val_loss(self) -> np.ndarray:
        """The mean over the seeds per rate, ``(L,)``; ``inf`` if any seed diverged."""
        return self.val_loss.mean(axis=0)

    @property
    def best_index(self) -> int:
        """The index of the chosen rate, the *smallest* rate whose mean validation loss
        is within ``tolerance`` (relative) of the lowest one.

        Rates that are as good as the best within that margin are a tie: the smaller
        one keeps a distance from the cliff where training breaks down, and the
        choice does not hinge on the last digits of two nearly equal losses.
        """
        mean = self.mean_val_loss
        if not np.isfinite(mean).any():
            raise ValueError(f"every learning rate diverged for {self.label!r}: try smaller ones")
        return _choice(mean, self.lrs, self.tolerance)

    @property
    def reproducible(self) -> bool:
        """Whether the shadow runs, one ulp away, make the same choice (with
        ``shadow=True`` only): a choice that hangs on an erratic run would not."""
        if self.shadow_val_loss is None:
            raise ValueError(f"Tuning {self.label!r} has no shadow runs: tune with shadow=True")
        return _choice(self.shadow_val_loss.mean(axis=0), self.lrs,
                       self.tolerance) == self.best_index

    @property
    def erratic(self) -> np.ndarray:
        """Per rate, ``(L,)``: whether any seed's run there is erratic, so that its mean
        validation loss hangs on the last bit of the start and should not be printed as a
        number (with ``shadow=True`` only)."""
        if self.erratic_runs is None:
            raise ValueError(f"Tuning {self.label!r} has no shadow runs: tune with shadow=True")
        return self.erratic_runs.any(axis=0)

    @property
    def best_lr(self) -> float:
        """The chosen learning rate."""
        return float(self.lrs[self.best_index])


def tune_learning_rate(make: Callable[[float], Optimizer], lrs, data, *, seeds=(0, 1, 2),
                       sizes=(64, 32, 10), activation: str = "relu", epochs: int = 20,
                       batch_size: int = 64, label: str = "", shadow: bool = False,
                       clip: float | None = None) -> Tuning:
    r"""Choose a learning rate on validation data by the mean final validation loss.

    Each rate is trained once per seed, from ``MLP(sizes, activation, seed=s)``'s
    initial weights with mini-batch order ``s``, for ``epochs`` epochs; a run that
    diverges counts as an infinite loss.

    Args:
        make: ``lr -> optimizer``, e.g. ``lambda lr: Adam(lr=lr)``.
        lrs: the grid, distinct positive rates; give every optimizer a grid of the
            same size (the same budget).
        data: the output of :func:`validation_split` (its "test" part is the
            validation set).
        seeds, sizes, activation, epochs, batch_size: the runs' settings.
        label: the optimizer's name, for the result.
        shadow: also train every run's shadow (see :attr:`Tuning.reproducible`).
        clip: None, or clip every gradient by its global norm at this threshold
            (as in :func:`~optlib.network.train`).

    Returns:
        A :class:`Tuning`; its :attr:`~Tuning.best_lr` is the smallest rate whose mean
        validation loss is within :data:`~optlib.network.TOLERANCE` of the lowest.
    """
    lrs = reals("lrs", lrs, low=0.0, low_inclusive=False, ndim=1)
    if len(np.unique(lrs)) != lrs.size:
        raise ValueError(f"lrs must be distinct, got lrs={lrs.tolist()}")
    seeds = _seeds(seeds)
    if not callable(make):
        raise TypeError(f"make must be a function lr -> optimizer, got make={make!r}")
    shadow = flag("shadow", shadow)
    clip = _check_clip(clip)
    losses = np.empty((len(seeds), lrs.size))
    shadows = np.empty_like(losses) if shadow else None
    erratic_runs = np.zeros(losses.shape, dtype=bool) if shadow else None
    for i, seed in enumerate(seeds):
        for j, lr in enumerate(lrs):
            h = _run(lambda: make(float(lr)), data, seed, sizes, activation, epochs,
                     batch_size, label, shadow, clip)
            losses[i, j] = _final_loss(h)
            if shadow:
                shadows[i, j] = _final_loss(h.shadow)
                erratic_runs[i, j] = h.erratic
    return Tuning(label=label, lrs=lrs, seeds=seeds, val_loss=losses, shadow_val_loss=shadows,
                  erratic_runs=erratic_runs)


def _final_loss(h: History) -> float:
    final = h.test_loss[-1]
    return np.inf if h.diverged or not np.isfinite(final) else float(final)


@dataclass(frozen=True)
class Repeats:
    """Runs of one setting with several seeds, evaluated on the test set at the end.

    Attributes:
        label: the optimizer's name.
        histories: one :class:`~optlib.network.History` per seed.
    """

    label: str
    histories: tuple

    @property
    def test_accuracy(self) -> np.ndarray:
        """The final test accuracy of each seed (``nan`` where a run diverged)."""
        return np.array([h.final_test_accuracy for h in self.histories])

    @property
    def mean(self) -> float:
        """The mean final test accuracy over the seeds."""
        return float(np.mean(self.test_accuracy))

    @property
    def std(self) -> float:
        """The sample standard deviation of the final test accuracy over the seeds."""
        return float(np.std(self.test_accuracy, ddof=1)) if len(self.histories) > 1 else 0.0

    @property
    def erratic(self) -> int:
        """How many of the runs are erratic (their shadow, one ulp away, ends elsewhere);
        trained with ``shadow=True`` only."""
        return sum(h.erratic for h in self.histories)


def repeat_runs(make: Callable[[], Optimizer], data, *, seeds=(0, 1, 2, 3, 4),
                sizes=(64, 32, 10), activation: str = "relu", epochs: int = 20,
                batch_size: int = 64, label: str = "", shadow: bool = False,
                clip: float | None = None) -> Repeats:
    """Train one setting with several seeds on the whole training set; test once.

    Args:
        make: a factory of fresh optimizers, e.g. ``lambda: Adam(lr=0.003)``.
        data: the :class:`Digits` split whose test set is evaluated (after the last
            epoch; :attr:`Repeats.test_accuracy` reads only that value).
        seeds, sizes, activation, epochs, batch_size, label: as in
            :func:`tune_learning_rate`.
        shadow: also train each run's shadow (:func:`~optlib.network.train`), so that
            :attr:`Repeats.erratic` can tell whether the numbers reproduce.
        clip: as in :func:`tune_learning_rate`.

    Returns:
        A :class:`Repeats`.
    """
    if not callable(make):
        raise TypeError(f"make must be a function () -> optimizer, got make={make!r}")
    seeds = _seeds(seeds)
    clip = _check_clip(clip)
    runs = tuple(_run(make, data, seed, sizes, activation, epochs, batch_size, label, shadow,
                      clip) for seed in seeds)
    return Repeats(label=label, histories=runs)
