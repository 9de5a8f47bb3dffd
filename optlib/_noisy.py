r"""Gradient noise: :class:`Noisy` wraps an objective and adds reproducible noise to its
gradient; :func:`minibatch_noise` gives the noise of a mini-batch.

Part of ``optlib.objectives``, which imports both names: use them from there
(``optlib.objectives.Noisy``). They live in this module of their own because the noise
(where its randomness comes from, how a run gets a fresh stream, how a batch of runs
shares it) is one idea, and the deterministic objectives another.
"""

from __future__ import annotations

import numpy as np

from . import _validate
from ._validate import describe
from .objectives import Objective, _as_points, _frozen

__all__ = ["Noisy", "minibatch_noise"]


def _noise_level(name: str, value):
    """σ: a number ≥ 0 (a Python float), or an array of them (read-only float64) whose
    last axis has length 1 or 2, so that it broadcasts against points ``(..., 2)``."""
    sigma = _validate.hyperparameter(name, value, low=0.0, low_inclusive=True)
    if isinstance(sigma, np.ndarray) and sigma.shape[-1] not in (1, 2):
        raise ValueError(f"{name} must be a number ≥ 0 or an array of them whose last axis has "
                         f"length 1 or 2 (one σ per coordinate), got {name}={describe(value)} "
                         f"of shape {sigma.shape}")
    return sigma


def _standard_normal(seed: int, step: int, shape: tuple) -> np.ndarray:
    r"""The standard normal draw :math:`\xi_t` of ``step`` t, shape ``shape``, float64:
    ``np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(t,)))``, a generator
    of its own for each step (NumPy's way to make independent streams)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(step,)))
    return rng.standard_normal(shape)


def minibatch_noise(noise, batch_size):
    r"""The gradient noise :math:`\sigma_B = \sigma_1 / \sqrt{B}` of a mini-batch of size B.

    A mini-batch gradient is the mean of B per-example gradients. If these are
    independent draws around the full gradient with standard deviation
    :math:`\sigma_1` per coordinate (examples sampled with replacement, or B much
    smaller than the data set), the mean has variance :math:`\sigma_1^2 / B`:

    .. math::

        \sigma_B = \frac{\sigma_1}{\sqrt{B}}.

    Sampling without replacement from n examples shrinks it further, by the factor
    :math:`\sqrt{(n - B)/(n - 1)}`, which this function leaves out (it is close to 1
    for :math:`B \ll n`). See McCandlish et al. (2018), *An empirical model of
    large-batch training*, and Zhang et al. (2019), *Which algorithmic choices matter
    at which batch sizes?* (the noisy quadratic model).

    Args:
        noise: :math:`\sigma_1`, the noise of one example: a number ≥ 0 or an array.
        batch_size: B, a whole number ≥ 1 or an array of them; arrays broadcast
            against ``noise`` (a ``(K, 1)`` array of batch sizes gives the ``noise``
            of :class:`Noisy` for K configurations of a batched run).

    Returns:
        :math:`\sigma_B`: a float when both arguments are scalars, else an array.

    Raises:
        TypeError: If ``noise`` is not numeric or ``batch_size`` not whole numbers.
        ValueError: If ``noise`` is negative or not finite, ``batch_size`` < 1, or
            their shapes do not broadcast.

    Examples:
        >>> minibatch_noise(2.0, 16)
        0.5
        >>> minibatch_noise(1.0, [[1], [4], [100]]).ravel().tolist()
        [1.0, 0.5, 0.1]
    """
    sigma = _validate.hyperparameter("noise", noise, low=0.0, low_inclusive=True)
    size = _validate.wholes("batch_size", batch_size, low=1)
    try:
        shape = np.broadcast_shapes(np.shape(sigma), size.shape)
    except ValueError:
        raise ValueError(f"noise of shape {np.shape(sigma)} and batch_size of shape {size.shape} "
                         f"do not broadcast, got noise={describe(noise)}, "
                         f"batch_size={describe(batch_size)}") from None
    result = np.asarray(sigma) / np.sqrt(size.astype(np.float64))
    return float(result) if shape == () else result


class Noisy(Objective):
    r"""Reproducible gradient noise on an objective: :math:`g = \nabla f(w) + \sigma \odot \xi`.

    At step :math:`t = 1, 2, \ldots` of a run the optimizer receives

    .. math::

        g_t = \nabla f(w_{t-1}) + \sigma \odot \xi_t, \qquad
        \xi_t \sim \mathcal N(0, I) \text{ independent across steps},

    the setting of stochastic approximation (Robbins & Monro, 1951) and, on a
    quadratic, the noisy quadratic model of Zhang et al. (2019). On the bowl
    ``Noisy(Quadratic(), noise=σ, seed=0)`` this is :math:`g = Hw + \sigma\xi`: the
    iterates first decay as for exact gradients, then wander in a cloud around the
    minimum whose mean loss is the noise floor
    (:func:`optlib.analysis.noise_floor`).

    **Where the randomness lives.** The object holds no random state (it is
    immutable, as every objective). The noise of step t is a fixed function of
    ``seed`` and t: :math:`\xi_t` is drawn by
    ``np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(t,)))``, a
    generator of its own for each step. So

    * :func:`~optlib.runs.run` gives the same trajectory every time (it asks the objective
      for a fresh :meth:`stream` per run, which counts the steps from 1);
    * two optimizers run on the same ``Noisy`` see the same noise sequence
      :math:`\xi_1, \xi_2, \ldots` (common random numbers: their difference is the
      optimizers', not the luck of the draw), and another ``seed`` gives another
      sequence;
    * a direct call names its step: ``grad(w, step=t)`` is the gradient that step t
      of a run at point ``w`` receives. ``grad(w)`` without a step raises
      ``TypeError`` rather than guess: a loop of one's own that called it would
      otherwise get the same noise at every step (a constant bias, not noise). A
      loop of one's own uses :meth:`stream`, or ``grad(w, step=t)``.

    :meth:`~Objective.value` is the noise-free loss :math:`f(w)`, so a run's ``losses``
    and averages over runs estimate :math:`\mathbb E[f(w_t)]` with the true loss;
    :meth:`~Objective.hessian_at`, :attr:`~Objective.minimum`, ``min_value``,
    :attr:`~Objective.start`, ``bounds`` and ``labels`` are those of the wrapped
    objective, and so is any other public attribute it has (``curvatures``,
    ``hessian``, ``eigenvectors`` of a :class:`Quadratic`, ...).

    **Batched runs.** For points of shape ``(..., 2)`` (K runs ``(K, 2)``, a grid of
    configurations ``(A, B, 2)``):

    * ``common=False`` (the default): every run in the batch gets its own
      independent noise (:math:`\xi_t` has the points' shape). A batch is then K
      independent samples: the cloud of iterates, and Monte Carlo averages of the
      loss over the batch axis. This is the default because it is what "K runs"
      means statistically; sharing noise is a choice to make explicitly.
    * ``common=True``: every run in the batch gets the same noise (:math:`\xi_t`
      has shape ``(2,)``): common random numbers across configurations, so a
      batched run of K learning rates equals, row by row, the K single runs, and a
      slider moves the same noisy path instead of drawing a new one.
    * ``common=True, replicas=R``: :math:`\xi_t` has shape ``(R, 2)``: R
      independent replicas on the last batch axis, shared by every configuration on
      the axes before it (points ``(A, B, R, 2)`` from hyperparameters of shape
      ``(A, B, 1, 1)`` and a start of shape ``(R, 2)``): a cloud of R runs for each
      configuration, the same R noise paths for all of them. Each configuration's
      runs equal those of its hyperparameters alone on ``Noisy(objective, noise,
      seed)`` (``common=False``) from the same ``(R, 2)`` start.

    With ``common=False`` the noise of a run depends on the shape of the batch it
    is in (a row of a ``(K, 2)`` batch is not the single run with that seed).

    Args:
        objective: the noise-free objective :math:`f` (an optlib objective, not
            itself ``Noisy``).
        noise: :math:`\sigma \ge 0`: a number, one per coordinate (shape ``(2,)``),
            or an array that broadcasts to the points' shape, e.g. ``(K, 1)`` for one
            σ per configuration of a ``(K, 2)`` batch (:func:`minibatch_noise` makes
            it from batch sizes). ``noise=0`` gives the exact gradients.
        seed: a whole number ≥ 0 that fixes the noise sequence.
        common: share the noise across the runs of a batch (see above).
        replicas: with ``common=True``, the length R of the last batch axis whose
            runs get independent noise; ``None`` for none.

    Attributes:
        objective: the wrapped noise-free objective.
        noise: σ as given (a float, or a read-only float64 array).
        seed: as given.
        common: as given.
        replicas: as given (``None`` without replicas).

    Raises:
        TypeError: If ``objective`` is not an optlib objective (or is ``Noisy``),
            ``noise`` is not numeric, ``seed``/``replicas`` are not whole numbers or
            ``common`` is not a bool.
        ValueError: If ``noise`` is negative, not finite or of a shape whose last
            axis is not 1 or 2, ``seed`` < 0, ``replicas`` < 1, or ``replicas`` is
            given without ``common=True``.

    Examples:
        >>> from optlib.objectives import Noisy, Quadratic
        >>> f = Noisy(Quadratic(curvatures=(1.0, 25.0)), noise=0.5, seed=0)
        >>> float(f.value([1.0, 1.0]))          # the loss is noise-free
        13.0
        >>> g1 = f.grad([1.0, 1.0], step=1)      # the gradient that step 1 receives
        >>> bool(np.array_equal(g1, f.grad([1.0, 1.0], step=1)))
        True
        >>> bool(np.array_equal(g1, f.grad([1.0, 1.0], step=2)))
        False
    """

    def __init__(self, objective, noise, seed=0, *, common=False, replicas=None):
        _validate.instance("objective", objective, Objective,
                           "an optlib objective (optlib.objectives.Quadratic(), for example)")
        if isinstance(objective, Noisy):
            raise TypeError("objective must be a noise-free objective, got objective="
                            f"{describe(objective)}; wrap its objective (.objective) with the "
                            "total noise instead")
        sigma = _noise_level("noise", noise)
        seed = _validate.whole("seed", seed, low=0)
        common = _validate.flag("common", common)
        if replicas is not None:
            replicas = _validate.whole("replicas", replicas, low=1)
            if not common:
                raise ValueError(f"replicas={replicas!r} shares noise across the axes before the "
                                 "replicas' axis, which needs common=True, got common=False")
        self.objective = objective
        self.noise = sigma
        self.seed = seed
        self.common = common
        self.replicas = replicas
        self.name = f"{objective.name}, noisy gradients (σ = {_format_sigma(sigma)})"
        self.labels = objective.labels
        self.min_value = objective.min_value
        self.bounds = objective.bounds
        self._minimum = _frozen(objective.minimum)
        self._start = _frozen(objective.start)

    def __getattr__(self, name):
        # Only called for names not found normally: the wrapped objective's public
        # attributes (curvatures, hessian, eigenvectors, ...) read through.
        inner = self.__dict__.get("objective")
        if name.startswith("_") or inner is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(inner, name)

    def grad(self, w, step=None) -> np.ndarray:
        r"""The noisy gradient :math:`\nabla f(w) + \sigma \odot \xi_t` that step t receives.

        Args:
            w: Points, array-like of shape ``(..., 2)`` (a batch draws its noise as
                the class describes).
            step: t, a whole number ≥ 1. Required: the noise is a function of the seed
                and the step.

        Returns:
            The gradients, shape ``(..., 2)``.

        Raises:
            TypeError: If ``step`` is missing or not a whole number, or ``w`` is not
                numeric.
            ValueError: If ``step`` < 1, or ``w`` has a shape the noise does not fit.
        """
        p = _as_points(w)
        t = self._step(step)
        grad = self.objective._grad(p)
        return self._add_noise(grad, t)

    def value_and_grad(self, w, step=None) -> tuple[np.ndarray, np.ndarray]:
        r"""The noise-free :math:`f(w)` and the noisy gradient of step t (see :meth:`grad`)."""
        p = _as_points(w)
        t = self._step(step)
        value, grad = self.objective._value_and_grad(p)
        return value, self._add_noise(grad, t)

    def stream(self, shape):
        r"""A fresh gradient stream for one run on points of shape ``shape``.

        Returns a function ``value_and_grad(w)`` whose k-th call returns
        :math:`f(w)` and the noisy gradient of step k, k = 1, 2, …, i.e.
        ``value_and_grad(w, step=k)``. :func:`~optlib.runs.run` takes one per run, which
        is why a run is reproducible; use one for a loop of one's own::

            oracle = f.stream(np.shape(w))
            for t in range(1, steps + 1):
                loss, g = oracle(w)
                w = w - lr * g

        Args:
            shape: the shape ``(..., 2)`` of the points every call passes.

        Raises:
            TypeError: If ``shape`` is not a tuple of whole numbers.
            ValueError: If the noise does not fit points of this shape, at once, and
                at a call with points of another shape.
        """
        if not isinstance(shape, tuple) or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0
                for n in shape):
            raise TypeError(f"shape must be a tuple of whole numbers, got shape={describe(shape)}")
        shape = tuple(int(n) for n in shape)
        if not shape or shape[-1] != 2:
            raise ValueError(f"shape must be (..., 2), got shape={shape}")
        self._check_fit(shape)
        steps = iter(range(1, 2**63))
        objective = self.objective

        def value_and_grad(w):
            p = _as_points(w)
            if p.shape != shape:
                raise ValueError(f"this stream was made for points of shape {shape}, got w of "
                                 f"shape {p.shape}")
            value, grad = objective._value_and_grad(p)
            return value, self._add_noise(grad, next(steps), check=False)

        return value_and_grad

    def _step(self, step) -> int:
        if step is None:
            raise TypeError(
                f"{type(self).__name__}.grad needs step=t (t = 1, 2, ...): its noise is a "
                "function of the seed and the step. Call grad(w, step=t), use stream(shape) for "
                "a loop of your own, or .objective.grad(w) (the wrapped objective) for the "
                "noise-free gradient")
        return _validate.whole("step", step, low=1)

    def _draw_shape(self, shape: tuple) -> tuple:
        """The shape of :math:`\\xi_t` for points of shape ``shape``."""
        if self.replicas is not None:
            return (self.replicas, 2)
        return (2,) if self.common else shape

    def _check_fit(self, shape: tuple) -> None:
        """Raises ``ValueError`` unless the noise broadcasts to points of shape ``shape``."""
        draw = self._draw_shape(shape)
        if self.replicas is not None and (len(shape) < 2 or shape[-2] != self.replicas):
            raise ValueError(f"replicas={self.replicas} needs points whose last batch axis has "
                             f"length {self.replicas}, got points of shape {shape}")
        try:
            fits = np.broadcast_shapes(shape, draw, np.shape(self.noise)) == shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"noise of shape {np.shape(self.noise)} must broadcast to the "
                             f"points' shape, got noise={describe(self.noise)} and points of "
                             f"shape {shape}")

    def _add_noise(self, grad: np.ndarray, step: int, check: bool = True) -> np.ndarray:
        """Adds :math:`\\sigma \\odot \\xi_t` to the fresh gradient array ``grad`` in place
        (``check=False``: the caller has checked that the noise fits its shape)."""
        if check:
            self._check_fit(grad.shape)
        xi = _standard_normal(self.seed, step, self._draw_shape(grad.shape))
        # computed in float64, rounded once to the points' precision
        np.add(grad, self.noise * xi, out=grad, casting="same_kind")
        return grad

    def _params(self) -> dict[str, object]:
        noise = self.noise.tolist() if isinstance(self.noise, np.ndarray) else self.noise
        params: dict[str, object] = {"objective": self.objective, "noise": noise,
                                     "seed": self.seed}
        if self.common:
            params["common"] = True
        if self.replicas is not None:
            params["replicas"] = self.replicas
        return params

    def _value(self, p: np.ndarray) -> np.ndarray:
        return self.objective._value(p)

    def _grad(self, p: np.ndarray) -> np.ndarray:
        return self.grad(p)     # raises: the noise needs a step

    def _hessian(self, p: np.ndarray) -> np.ndarray:
        return self.objective._hessian(p)


def _format_sigma(sigma) -> str:
    """σ for a name: ``0.5``, ``(0.5, 2)``, or ``per run`` for a larger array."""
    if not isinstance(sigma, np.ndarray):
        return f"{sigma:g}"
    if sigma.size <= 2:
        return "(" + ", ".join(f"{s:g}" for s in sigma.ravel()) + ")"
    return "per run"
