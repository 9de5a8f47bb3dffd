r"""Mini-batch training of the network: the loop, comparisons, learning-rate sweeps, progress bars.

* :func:`minibatches` — the index batches of one epoch;
* :func:`train` — one run, recorded in a :class:`History`;
* :func:`compare_optimizers` — one run per optimizer, same start, same batches;
* :func:`lr_sweep` — one run per learning rate, same start, same batches;
* :func:`progress_enabled` — whether a progress bar is shown.

Every function can also train each run's *shadow* (``shadow=True``): the same
run from a start one unit in the last place away
(:func:`~optlib.network.perturb_ulps`). ``History.erratic``
then says whether the run's outcome survives that change, the evidence needed
before printing it to three digits (see ``optlib.network.diagnostics``).

Every function can also clip each step's gradient by its global norm
(``clip=c``, :func:`optlib.clipping.clip_by_global_norm`) before the optimizer
sees it; ``clip=None`` (the default) leaves the loop exactly as it is without.

Training runs that diverge (a non-finite or exploding loss) stop quietly and say
so in their :class:`History`; no ``RuntimeWarning`` reaches the reader. Data with
``nan`` or ``inf`` are refused before any training, naming the part of the split.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .. import _settings
from .._engine import NonFiniteWarning
from .._validate import describe, flag, instance, real, reals, whole
from ..clipping import clip_by_global_norm
from ..optimizers import Optimizer
from .data import Digits, check_split
from .diagnostics import erratic, perturb_ulps, shadow_distance
from .model import MLP, one_blas_thread

__all__ = [
    "QUIET_ENV", "progress_enabled", "minibatches", "History", "train", "compare_optimizers",
    "lr_sweep", "check_factories",
]

#: The environment variable that switches off every progress bar when it is "1"
#: (``scripts/execute_notebooks.py`` sets it, so that stored notebooks hold no bars);
#: the same name as ``optlib._settings.QUIET``.
QUIET_ENV = _settings.QUIET


def progress_enabled(progress=None) -> bool:
    """Whether to show a progress bar: ``progress`` if it is True or False.

    ``None`` means "when someone is watching": on, unless progress bars are switched
    off (``optlib._settings.quiet()``: ``OPTLIB_QUIET=1``, or the book is being
    built).

    Examples:
        >>> progress_enabled(False)
        False
    """
    if progress is None:
        return not _settings.quiet()
    return flag("progress", progress)


def _bar(total: int, desc: str, progress):
    """A tqdm bar (a widget in a notebook, text on stderr elsewhere), or None."""
    if not progress_enabled(progress):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="epoch", leave=True)


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The index batches of one epoch: a random permutation of ``range(n)`` cut into pieces.

    Every index appears exactly once; all batches have ``batch_size`` rows except
    possibly the last, which holds the remainder (``ceil(n / batch_size)`` batches).

    Args:
        n: number of examples, ≥ 1.
        batch_size: rows per batch, ≥ 1.
        rng: a ``numpy.random.Generator``; one permutation is drawn from it.

    Examples:
        >>> import numpy as np
        >>> [b.size for b in minibatches(10, 4, np.random.default_rng(0))]
        [4, 4, 2]
    """
    n = whole("n", n, low=1)
    batch_size = whole("batch_size", batch_size, low=1)
    instance("rng", rng, np.random.Generator,
             "a numpy.random.Generator (numpy.random.default_rng(seed))")
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


@dataclass(frozen=True, eq=False)
class History:
    """What :func:`train` records.

    Per epoch (index 0 is before the first step, index ``e`` after epoch ``e``),
    on the *whole* training and test sets:

    Attributes:
        label: the run's name (e.g. the optimizer's).
        optimizer: ``repr`` of the optimizer.
        train_loss: the loss on the training set, an array of shape
            ``(epochs + 1,)``; ``nan`` from the epoch in which the run diverged.
        train_accuracy: the accuracy on the training set, likewise.
        test_loss: the loss on the test set, likewise.
        test_accuracy: the accuracy on the test set, likewise.
        step_loss: the loss of every mini-batch before its step, shape
            ``(epochs · steps_per_epoch,)``; ``nan`` from the divergence on.
        diverged_at_epoch: the epoch (1, 2, ...) in which the loss became
            non-finite or exceeded ``max_loss``; ``-1`` if it never did.
        diverged_at_step: the same as a step count (0-based index into ``step_loss``); -1.
        params: the parameters at the end (after a divergence: as they were
            when it was detected).
        epochs: the number of epochs of the run (a setting, as given to :func:`train`).
        batch_size: the run's mini-batch size (a setting).
        seed: the seed of the run's mini-batch order (a setting).
        shadow: the History of the run's shadow — the same run from its start
            moved by one ulp (:func:`~optlib.network.perturb_ulps`) —
            when it was trained with ``shadow=True``; else None.
        clip: the threshold of gradient clipping by the global norm (a setting),
            or None when the gradients were used as they are.
        grad_norm: with ``clip``, the global norm of every mini-batch gradient
            before clipping, shape ``(epochs · steps_per_epoch,)``, ``nan`` from the
            divergence on (a step was clipped where it exceeds ``clip``); else None.
    """

    label: str
    optimizer: str
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    test_loss: np.ndarray
    test_accuracy: np.ndarray
    step_loss: np.ndarray
    diverged_at_epoch: int
    diverged_at_step: int
    params: dict
    epochs: int
    batch_size: int
    seed: int
    shadow: "History | None" = None
    clip: float | None = None
    grad_norm: np.ndarray | None = None

    @property
    def diverged(self) -> bool:
        """True if the run was stopped because its loss blew up."""
        return self.diverged_at_epoch >= 0

    @property
    def steps_per_epoch(self) -> int:
        """Mini-batches (optimizer steps) per epoch."""
        return self.step_loss.size // max(self.epochs, 1)

    @property
    def final_train_accuracy(self) -> float:
        """Training accuracy after the last epoch (``nan`` if the run diverged)."""
        return float(self.train_accuracy[-1])

    @property
    def final_test_accuracy(self) -> float:
        """Test accuracy after the last epoch (``nan`` if the run diverged)."""
        return float(self.test_accuracy[-1])

    @property
    def final_train_loss(self) -> float:
        """Training loss after the last epoch (``nan`` if the run diverged)."""
        return float(self.train_loss[-1])

    @property
    def clipped_steps(self) -> int:
        """How many steps had their gradient clipped (norm above ``clip``); 0 without
        ``clip``."""
        if self.clip is None:
            return 0
        with np.errstate(invalid="ignore"):
            return int(np.sum(self.grad_norm > self.clip))

    @property
    def shadow_distance(self) -> float:
        """How far the shadow ends from the run
        (:func:`~optlib.network.shadow_distance`); ``nan`` without a shadow."""
        return np.nan if self.shadow is None else shadow_distance(self, self.shadow)

    @property
    def erratic(self) -> bool:
        """True if a start one ulp away changes the run's outcome
        (:func:`~optlib.network.erratic`): report it qualitatively.

        Raises:
            ValueError: if the run has no shadow (train it with ``shadow=True``).
        """
        if self.shadow is None:
            raise ValueError(f"History {self.label!r} has no shadow run, so whether it is "
                             f"erratic is unknown: train it with shadow=True")
        return erratic(self, self.shadow)


def _check_clip(clip):
    """``clip`` checked: None, or a finite threshold > 0 (as a float)."""
    return None if clip is None else real("clip", clip, low=0.0, low_inclusive=False)


def _check_training(model, data, epochs, batch_size, seed, max_loss):
    instance("model", model, MLP, "an optlib.network.MLP")
    data = check_split(data, model.sizes[0], model.sizes[-1])
    epochs = whole("epochs", epochs, low=1)
    batch_size = whole("batch_size", batch_size, low=1)
    seed = whole("seed", seed, low=0)
    max_loss = real("max_loss", max_loss, low=0.0, low_inclusive=False)
    return data, epochs, batch_size, seed, max_loss


def _start(model: MLP, params) -> dict:
    """A checked float64 copy of the starting parameters (default ``model.init_params()``)."""
    if params is None:
        return model.init_params()
    model.check_params(params)
    for key in model.keys:
        if not np.all(np.isfinite(params[key])):
            raise ValueError(f"params[{key!r}] must hold finite numbers to start a run from, "
                             f"got {describe(params[key])}")
    return {k: np.array(params[k], dtype=np.float64, copy=True) for k in model.keys}


def check_factories(optimizers, name: str = "optimizers") -> dict:
    """``optimizers`` checked: a non-empty dict label → function returning a fresh optimizer.

    Raises:
        TypeError: if it is not such a dict (the message names ``name``).
    """
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError(f"{name} must be a non-empty dict label -> factory (a function returning "
                        f"a fresh optimizer), got {name}={describe(optimizers)}")
    for label, make in optimizers.items():
        if not callable(make):
            raise TypeError(f"{name}[{label!r}] must be a function returning a fresh optimizer, "
                            f"got {describe(make)}")
    return dict(optimizers)


def _loop(model: MLP, optimizer, data: Digits, epochs, batch_size, seed, params, max_loss,
          label, bar, clip=None) -> History:
    """The training loop; arguments already checked, ``params`` updated in place."""
    rng = np.random.default_rng(seed)
    n = data.X_train.shape[0]
    per_epoch = -(-n // batch_size)
    curves = np.full((4, epochs + 1), np.nan)       # train loss/acc, test loss/acc
    step_loss = np.full(epochs * per_epoch, np.nan)
    grad_norm = None if clip is None else np.full(epochs * per_epoch, np.nan)
    diverged_epoch = diverged_step = -1

    def evaluate(e):
        curves[0, e], curves[1, e] = model.evaluate(params, data.X_train, data.y_train,
                                                    validate=False)
        curves[2, e], curves[3, e] = model.evaluate(params, data.X_test, data.y_test,
                                                    validate=False)
        return bool(np.isfinite(curves[0, e]) and curves[0, e] <= max_loss)

    # Overflow on the way to a divergence is expected, and detected below (a non-finite
    # or too large loss): it must not reach the reader as a RuntimeWarning, nor as the
    # optimizer's NonFiniteWarning (the History records the divergence).
    @contextlib.contextmanager
    def quiet():
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", NonFiniteWarning)
            yield

    optimizer.reset()
    with quiet():
        ok = evaluate(0)
    if not ok:
        curves[:, 0] = np.nan
        diverged_epoch, diverged_step = 0, 0
    step = 0
    for epoch in range(1, epochs + 1) if ok else ():
        with quiet():
            for idx in minibatches(n, batch_size, rng):
                loss, grads = model.loss_and_grads(params, data.X_train[idx],
                                                   data.y_train[idx], validate=False)
                finite = np.isfinite(loss) and loss <= max_loss and all(
                    np.all(np.isfinite(g)) for g in grads.values())
                if finite and clip is not None:
                    grads, grad_norm[step] = clip_by_global_norm(grads, clip)
                    finite = bool(np.isfinite(grad_norm[step]))     # the squares overflowed
                if not finite:
                    diverged_epoch, diverged_step = epoch, step
                    break
                step_loss[step] = loss
                optimizer.step(params, grads)
                step += 1
            evaluated = diverged_epoch < 0 and evaluate(epoch)
        if diverged_epoch < 0 and not evaluated:
            diverged_epoch, diverged_step = epoch, step
        if diverged_epoch >= 0:
            curves[:, epoch:] = np.nan
            step_loss[diverged_step:] = np.nan
            if grad_norm is not None:
                grad_norm[diverged_step:] = np.nan
            if bar is not None:
                bar.set_postfix_str("diverged")
                bar.update(epochs - epoch + 1)
            break
        if bar is not None:
            bar.set_postfix(loss=f"{curves[0, epoch]:.4f}", test_acc=f"{curves[3, epoch]:.4f}",
                            refresh=False)
            bar.update(1)
    return History(label=label, optimizer=repr(optimizer), train_loss=curves[0],
                   train_accuracy=curves[1], test_loss=curves[2], test_accuracy=curves[3],
                   step_loss=step_loss, diverged_at_epoch=diverged_epoch,
                   diverged_at_step=diverged_step, params=params, epochs=epochs,
                   batch_size=batch_size, seed=seed, clip=clip, grad_norm=grad_norm)


def _runs(model, named, data, epochs, batch_size, seed, start, max_loss, shadow, bar,
          clip=None):
    """Train each ``(label, optimizer)`` of ``named`` from a copy of ``start`` (and, with
    ``shadow``, first from a copy of ``perturb_ulps(start)``); the Histories in order."""
    near = perturb_ulps(start) if shadow else None
    out = []
    with one_blas_thread():
        for label, optimizer in named:
            if bar is not None:
                bar.set_description(str(label), refresh=False)
            twin = None
            if shadow:      # first, so that the optimizer ends with the run's own state
                twin = _loop(model, optimizer, data, epochs, batch_size, seed,
                             {k: v.copy() for k, v in near.items()}, max_loss,
                             f"{label} (shadow)", bar, clip)
            run = _loop(model, optimizer, data, epochs, batch_size, seed,
                        {k: v.copy() for k, v in start.items()}, max_loss, str(label), bar,
                        clip)
            out.append(run if twin is None else replace(run, shadow=twin))
    return out


def train(model: MLP, optimizer: Optimizer, data, epochs: int = 20, batch_size: int = 64,
          seed: int = 0, params=None, progress=None, label: str | None = None,
          max_loss: float = 1e3, shadow: bool = False, clip: float | None = None) -> History:
    r"""Train ``model`` with mini-batches: one ``optimizer.step(params, grads)`` per batch.

    Each epoch visits the training set once in a fresh random order
    (:func:`minibatches`, drawn from ``numpy.random.default_rng(seed)``); after each
    epoch the loss and accuracy on the whole training and test sets are recorded.
    The optimizer is :meth:`~optlib.optimizers.Optimizer.reset` first and the
    starting parameters are copied, so the same arguments give the same
    :class:`History`, bit for bit.

    A run *diverges* when a mini-batch loss or gradient is not finite, or a loss
    exceeds ``max_loss`` (the loss of guessing is :math:`\ln 10 \approx 2.3`): it
    stops there quietly, its curves are ``nan`` from that epoch on, and
    ``diverged_at_epoch`` says when.

    Args:
        model: the :class:`MLP`.
        optimizer: any optlib optimizer (hyperparameters are used as they are).
        data: a :class:`Digits` split, or ``(X_train, y_train, X_test, y_test)``;
            every part is checked (finite features, labels in range) before training.
        epochs: passes over the training set, ≥ 1.
        batch_size: examples per step, ≥ 1 (``len(X_train)`` for full-batch
            gradient descent).
        seed: seed of the mini-batch order.
        params: starting parameters (copied; finite); default ``model.init_params()``.
        progress: show a progress bar over the epochs: True, False, or None (the
            default) for "unless quiet" (see :func:`progress_enabled`).
        label: the run's name in the History and on the bar.
        max_loss: a loss above this counts as divergence.
        shadow: also train the run's shadow, from the start moved by one ulp, and
            attach it (``History.shadow``, ``History.erratic``). Doubles the cost.
        clip: None (the default: the gradients as they are), or a threshold
            :math:`c > 0`: every mini-batch gradient is clipped by its global norm,
            :math:`g \leftarrow \min(1, c/\lVert g\rVert)\, g`
            (:func:`optlib.clipping.clip_by_global_norm`), before the step; the norms
            are recorded (``History.grad_norm``). A norm that overflows counts as
            divergence.

    Returns:
        A :class:`History`.

    Examples:
        >>> import numpy as np
        >>> from optlib import GradientDescent
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.random((40, 4)), rng.integers(0, 3, size=40)
        >>> h = train(MLP(sizes=(4, 8, 3)), GradientDescent(lr=0.1), (X, y, X, y), epochs=3,
        ...           batch_size=10, progress=False, shadow=True)
        >>> h.train_loss.shape, h.steps_per_epoch, h.diverged, h.erratic
        ((4,), 4, False, False)
    """
    data, epochs, batch_size, seed, max_loss = _check_training(
        model, data, epochs, batch_size, seed, max_loss)
    instance("optimizer", optimizer, Optimizer, "an optlib optimizer")
    shadow = flag("shadow", shadow)
    clip = _check_clip(clip)
    start = _start(model, params)
    label = type(optimizer).__name__ if label is None else str(label)
    bar = _bar(epochs * (2 if shadow else 1), label, progress)
    try:
        return _runs(model, [(label, optimizer)], data, epochs, batch_size, seed, start,
                     max_loss, shadow, bar, clip)[0]
    finally:
        if bar is not None:
            bar.close()


def _made(optimizers, name: str = "optimizers") -> list[tuple[str, Optimizer]]:
    """Call every factory once; each must return an optlib optimizer."""
    made = []
    for label, make in check_factories(optimizers, name).items():
        opt = make()
        if not isinstance(opt, Optimizer):
            raise TypeError(f"{name}[{label!r}]() must return an optlib optimizer, got "
                            f"{describe(opt)}")
        made.append((label, opt))
    return made


def _train_all(model, named, data, epochs, batch_size, seed, params, progress, max_loss,
               shadow, clip=None) -> list[History]:
    data, epochs, batch_size, seed, max_loss = _check_training(
        model, data, epochs, batch_size, seed, max_loss)
    shadow = flag("shadow", shadow)
    clip = _check_clip(clip)
    start = _start(model, params)
    bar = _bar(epochs * len(named) * (2 if shadow else 1), "training", progress)
    try:
        return _runs(model, named, data, epochs, batch_size, seed, start, max_loss, shadow, bar,
                     clip)
    finally:
        if bar is not None:
            bar.close()


def compare_optimizers(model: MLP, optimizers: dict, data, epochs: int = 20,
                       batch_size: int = 64, seed: int = 0, params=None, progress=None,
                       max_loss: float = 1e3, shadow: bool = False,
                       clip: float | None = None) -> dict[str, History]:
    """Train one run per optimizer from the same start, in the same mini-batch order.

    Every run starts from a copy of the same parameters (``params``, default
    ``model.init_params()``) and uses the same ``seed``, hence the same sequence of
    mini-batches: the optimizers are the only difference.

    Args:
        model, data, epochs, batch_size, seed, max_loss, shadow, clip: as in :func:`train`.
        optimizers: ``{label: factory}``; ``factory()`` returns a fresh optimizer,
            e.g. ``{"Adam": lambda: Adam(lr=1e-3)}``.
        params: the common start (default ``model.init_params()``).
        progress: one bar over all runs' epochs (see :func:`train`).

    Returns:
        ``{label: History}`` in the order of ``optimizers``.
    """
    named = _made(optimizers)
    runs = _train_all(model, named, data, epochs, batch_size, seed, params, progress, max_loss,
                      shadow, clip)
    return {label: h for (label, _), h in zip(named, runs)}


def _sweep_labels(lrs: np.ndarray) -> list[str]:
    """``α = {lr:g}``, or the exact ``repr`` for rates that ``:g`` cannot tell apart."""
    short = [f"{lr:g}" for lr in lrs]
    return [f"α = {s}" if short.count(s) == 1 else f"α = {float(lr)!r}"
            for s, lr in zip(short, lrs)]


def lr_sweep(model: MLP, optimizer: Callable[..., Optimizer], lrs, data, epochs: int = 20,
             batch_size: int = 64, seed: int = 0, params=None, progress=None,
             max_loss: float = 1e3, shadow: bool = False, clip: float | None = None,
             **hyperparameters) -> dict[float, History]:
    """Train with each learning rate in ``lrs``, from the same start and mini-batch order.

    Every learning rate is one run, keyed by its value: the rates must be distinct
    (a repeated rate would be the same run twice, bit for bit, and cannot be a second
    key). Rates that differ only in the last digits — even by one ulp — are distinct
    runs and keep their own labels (the exact ``repr`` where ``:g`` would print
    both alike).

    Args:
        optimizer: an optimizer class (or factory) called as
            ``optimizer(lr=lr, **hyperparameters)``.
        lrs: the learning rates, distinct positive numbers (one or a 1-d sequence).
        model, data, epochs, batch_size, seed, params, progress, max_loss, shadow, clip: as
            in :func:`compare_optimizers`.

    Returns:
        ``{lr: History}`` in the order of ``lrs``; each History's ``label`` is
        ``"α = <lr>"``.

    Raises:
        ValueError: if a learning rate is repeated, not positive or not finite.

    Examples:
        >>> import numpy as np
        >>> from optlib import GradientDescent
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.random((20, 4)), rng.integers(0, 3, size=20)
        >>> runs = lr_sweep(MLP(sizes=(4, 3)), GradientDescent, [0.1, 0.1000000001], (X, y, X, y),
        ...                 epochs=1, progress=False)
        >>> [h.label for h in runs.values()]
        ['α = 0.1', 'α = 0.1000000001']
    """
    values = reals("lrs", lrs, low=0.0, low_inclusive=False)
    if values.ndim > 1:
        raise ValueError(f"lrs must be a number or a 1-d sequence of learning rates, got "
                         f"lrs={describe(lrs)} of shape {values.shape}")
    values = np.atleast_1d(values)
    unique, counts = np.unique(values, return_counts=True)
    if np.any(counts > 1):
        repeated = ", ".join(f"{float(v)!r} ({c} times)" for v, c in zip(unique, counts) if c > 1)
        raise ValueError(f"lrs must be distinct learning rates (each is one run, keyed by its "
                         f"value): repeated {repeated}, got lrs={describe(lrs)}")
    if not callable(optimizer):
        raise TypeError(f"optimizer must be an optimizer class or a function lr -> optimizer, "
                        f"got optimizer={describe(optimizer)}")
    named = []
    for label, lr in zip(_sweep_labels(values), values.tolist()):
        opt = optimizer(lr=lr, **hyperparameters)
        instance(f"optimizer(lr={lr!r})", opt, Optimizer, "an optlib optimizer")
        named.append((label, opt))
    runs = _train_all(model, named, data, epochs, batch_size, seed, params, progress, max_loss,
                      shadow, clip)
    return dict(zip(values.tolist(), runs))
