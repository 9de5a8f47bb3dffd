r"""Two-dimensional test objectives for gradient-descent experiments.

Every objective maps points :math:`w = (x, y) \in \mathbb{R}^2` to a real
number and provides its analytic gradient and Hessian. All evaluation
methods are batched: they accept array-likes of shape ``(..., 2)`` (any
number of leading batch dimensions, including none) and return values of
shape ``(...)``, gradients of shape ``(..., 2)`` and Hessians of shape
``(..., 2, 2)``. Results are float64, or float32 for float32 input.

The objectives are

* :class:`Quadratic` -- the elongated (optionally rotated) bowl
  :math:`\tfrac12 (w-c)^\top H (w-c)`;
* :class:`Rosenbrock` -- the banana-shaped valley;
* :class:`Beale` -- a flat plateau with steep walls;
* :class:`Saddle` -- a saddle point between two minima;
* :class:`LinearRegression` -- the :math:`(W, b)` bowl of a least-squares line fit;
* :class:`Noisy` -- any of them with reproducible gradient noise
  :math:`g = \nabla f(w) + \sigma \odot \xi` (:func:`minibatch_noise` turns a
  batch size into :math:`\sigma`).

:data:`OBJECTIVES` maps short keys to zero-argument factories of the
default instances.

Examples:
    >>> from optlib.objectives import OBJECTIVES
    >>> f = OBJECTIVES["rosenbrock"]()
    >>> float(f([0.0, 0.0]))
    1.0
    >>> f.grad([[0.0, 0.0], [-1.0, 1.0]]).tolist()
    [[-2.0, 0.0], [-4.0, 0.0]]
"""

from __future__ import annotations

import abc
import functools
import math
import reprlib
from collections.abc import Callable

import numpy as np

from . import _validate

__all__ = [
    "OBJECTIVES",
    "Beale",
    "LinearRegression",
    "Noisy",
    "Objective",
    "Quadratic",
    "Rosenbrock",
    "Saddle",
    "minibatch_noise",
]


# --------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------


def _as_points(w) -> np.ndarray:
    """Converts ``w`` to a floating array of points of shape ``(..., 2)``.

    Floating input keeps its precision (at least float32); integer input
    becomes float64.

    Raises:
        TypeError: If ``w`` is not numeric (strings, objects, booleans,
            complex numbers).
        ValueError: If ``w`` is ragged or its last dimension is not 2.
    """
    try:
        arr = np.asarray(w)
    except ValueError as err:
        raise ValueError(
            f"w must be an array of shape (..., 2), got ragged w={reprlib.repr(w)}"
        ) from err
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind == "f":
        arr = arr.astype(np.result_type(arr.dtype, np.float32), copy=False)
    else:
        raise TypeError(
            f"w must contain real numbers, got w={reprlib.repr(w)} with dtype {arr.dtype}"
        )
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"w must have shape (..., 2), got w with shape {arr.shape}")
    return arr


def _real(name: str, value, positive: bool = False) -> float:
    """Returns ``value`` as a finite (optionally positive) Python float (see
    :func:`optlib._validate.real`: a wrong kind is a TypeError, a wrong value a
    ValueError, each naming ``name``)."""
    if positive:
        return _validate.real(name, value, low=0.0, low_inclusive=False)
    return _validate.real(name, value)


def _pair(name: str, value) -> tuple[float, float]:
    """Returns ``value`` as a pair of finite floats, or raises naming ``name``."""
    arr = _validate.reals(name, value)
    if arr.shape != (2,):
        raise ValueError(f"{name} must be two finite numbers, got "
                         f"{name}={_validate.describe(value)}")
    return (float(arr[0]), float(arr[1]))


def _frozen(values) -> np.ndarray:
    """Returns a read-only float64 array holding ``values``."""
    arr = np.array(values, dtype=np.float64)
    arr.flags.writeable = False
    return arr


def _stack(*components: np.ndarray) -> np.ndarray:
    """Stacks broadcast components along a new last axis."""
    return np.stack(np.broadcast_arrays(*components), axis=-1)


def _symmetric(hxx: np.ndarray, hxy: np.ndarray, hyy: np.ndarray) -> np.ndarray:
    """Assembles batched symmetric 2x2 matrices of shape ``(..., 2, 2)``."""
    return _stack(_stack(hxx, hxy), _stack(hxy, hyy))


def window(name: str, value) -> tuple[tuple[float, float], tuple[float, float]]:
    """A plotting window ``((xmin, xmax), (ymin, ymax))`` of finite numbers with
    ``xmin < xmax`` and ``ymin < ymax``, or an error naming ``name``."""
    arr = _validate.reals(name, value)
    if arr.shape != (2, 2) or not (arr[0, 0] < arr[0, 1] and arr[1, 0] < arr[1, 1]):
        raise ValueError(f"{name} must be ((xmin, xmax), (ymin, ymax)) with xmin < xmax and "
                         f"ymin < ymax, got {name}={_validate.describe(value)}")
    return ((float(arr[0, 0]), float(arr[0, 1])), (float(arr[1, 0]), float(arr[1, 1])))


# --------------------------------------------------------------------------
# Base class
# --------------------------------------------------------------------------


class Objective(abc.ABC):
    r"""A smooth function :math:`f:\mathbb{R}^2 \to \mathbb{R}` with analytic derivatives.

    Subclasses implement ``_value``, ``_grad`` and ``_hessian``
    on already validated point arrays of shape ``(..., 2)`` and set
    ``_minimum``, ``min_value``, ``bounds`` and ``_start`` in ``__init__``.

    Attributes:
        name: Human-readable name, for plot titles.
        min_value: The value :math:`f(w^\star)` at :attr:`minimum`.
        bounds: Plotting window ``((xmin, xmax), (ymin, ymax))`` containing
            :attr:`minimum` and :attr:`start`.
    """

    name: str = "Objective"

    def __init_subclass__(cls, **kwargs):
        """Objectives are immutable: once the outermost ``__init__`` has run, setting or
        deleting an attribute raises (``Quadratic.curvatures = ...`` would otherwise
        leave the Hessian, the minimum and the bounds describing another function)."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def sealing_init(self, *args, **kw):
            init(self, *args, **kw)
            if type(self) is cls:
                object.__setattr__(self, "_sealed", True)

        cls.__init__ = sealing_init

    def __setattr__(self, name, value):
        if self.__dict__.get("_sealed"):
            raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}; "
                                 f"make a new objective instead")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if self.__dict__.get("_sealed"):
            raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")
        object.__delattr__(self, name)

    #: axis labels of the two coordinates, for plots, in matplotlib's mathtext
    #: (by default W₁ and W₂; (W, b) for a line fit)
    #:
    #: :meta hide-value:
    labels: tuple[str, str] = ("$W_1$", "$W_2$")
    min_value: float
    bounds: tuple[tuple[float, float], tuple[float, float]]
    _minimum: np.ndarray
    _start: np.ndarray

    @property
    def minimum(self) -> np.ndarray:
        r"""A global minimiser :math:`w^\star`, shape ``(2,)`` (a fresh copy)."""
        return self._minimum.copy()

    @property
    def start(self) -> np.ndarray:
        """The default starting point for runs, shape ``(2,)`` (a fresh copy)."""
        return self._start.copy()

    def value(self, w) -> np.ndarray:
        r"""Evaluates :math:`f(w)`.

        Args:
            w: Points, array-like of shape ``(..., 2)``.

        Returns:
            The values, shape ``(...)`` (a NumPy scalar for a single point).

        Raises:
            TypeError: If ``w`` is not numeric.
            ValueError: If the last dimension of ``w`` is not 2.
        """
        return self._value(_as_points(w))

    def grad(self, w) -> np.ndarray:
        r"""Evaluates the gradient :math:`\nabla f(w)`.

        Args:
            w: Points, array-like of shape ``(..., 2)``.

        Returns:
            The gradients, shape ``(..., 2)``.

        Raises:
            TypeError: If ``w`` is not numeric.
            ValueError: If the last dimension of ``w`` is not 2.
        """
        return self._grad(_as_points(w))

    def value_and_grad(self, w) -> tuple[np.ndarray, np.ndarray]:
        r"""Evaluates :math:`f(w)` and :math:`\nabla f(w)` together.

        Args:
            w: Points, array-like of shape ``(..., 2)``.

        Returns:
            ``(value, grad)`` with shapes ``(...)`` and ``(..., 2)``.
        """
        return self._value_and_grad(_as_points(w))

    def hessian_at(self, w) -> np.ndarray:
        r"""Evaluates the Hessian :math:`\nabla^2 f(w)`.

        Args:
            w: Points, array-like of shape ``(..., 2)``.

        Returns:
            The symmetric Hessians, shape ``(..., 2, 2)``.
        """
        return self._hessian(_as_points(w))

    def __call__(self, w) -> np.ndarray:
        """Same as :meth:`value`."""
        return self.value(w)

    def grid(self, n: int = 200, bounds=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples the objective on a regular grid over ``bounds``.

        Args:
            n: Number of grid points per axis, an integer >= 2.
            bounds: ``((xmin, xmax), (ymin, ymax))``, another window than the
                objective's own ``bounds`` (which cannot change: objectives
                are immutable).

        Returns:
            ``(X, Y, Z)``, each of shape ``(n, n)``, as from
            ``np.meshgrid(xs, ys)`` with ``Z = value(stack(X, Y))``; ready
            for ``plt.contour(X, Y, Z)``.

        Raises:
            TypeError: If ``n`` is not an integer.
            ValueError: If ``n < 2``.

        Examples:
            >>> X, Y, Z = Beale().grid(50)
            >>> Z.shape
            (50, 50)
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"n must be an integer, got n={n!r}")
        if n < 2:
            raise ValueError(f"n must be at least 2, got n={n!r}")
        (xmin, xmax), (ymin, ymax) = self.bounds if bounds is None else window("bounds", bounds)
        X, Y = np.meshgrid(np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n))
        return X, Y, self.value(np.stack([X, Y], axis=-1))

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={val!r}" for key, val in self._params().items())
        return f"{type(self).__name__}({args})"

    def _params(self) -> dict[str, object]:
        """Constructor arguments, for :meth:`__repr__`."""
        return {}

    def _value_and_grad(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Value and gradient at validated points; override to share work."""
        return self._value(p), self._grad(p)

    @abc.abstractmethod
    def _value(self, p: np.ndarray) -> np.ndarray:
        """Value at validated points ``p`` of shape ``(..., 2)``."""

    @abc.abstractmethod
    def _grad(self, p: np.ndarray) -> np.ndarray:
        """Gradient at validated points ``p`` of shape ``(..., 2)``."""

    @abc.abstractmethod
    def _hessian(self, p: np.ndarray) -> np.ndarray:
        """Hessian at validated points ``p`` of shape ``(..., 2)``."""


# --------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------


def _rotation(angle: float) -> np.ndarray:
    r"""The rotation matrix :math:`R(\theta)` by ``angle`` radians."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


class Quadratic(Objective):
    r"""The elongated bowl :math:`f(w) = \tfrac12 (w-c)^\top H (w-c)`.

    The Hessian is :math:`H = R(\theta)\,\mathrm{diag}(\lambda_1, \lambda_2)\,
    R(\theta)^\top` with :math:`R(\theta)` the rotation by ``angle``
    :math:`\theta` (radians). With :math:`\theta = 0` coordinate 1 (``x``) is
    the direction of curvature :math:`\lambda_1` (flat by default) and
    coordinate 2 (``y``) that of :math:`\lambda_2` (steep by default).

    The default start is :math:`c + R(\theta)\,(-8, 1.5)^\top`, i.e. far out
    along the first eigenvector and slightly off along the second. The
    plotting window is the bounding box of the level set
    :math:`f(w) = f(\text{start})` (an ellipse), enlarged by 10 %.

    Args:
        curvatures: The eigenvalues :math:`(\lambda_1, \lambda_2)` of
            :math:`H`, two positive finite numbers.
        angle: Rotation angle :math:`\theta` in radians, finite.
        center: The minimiser :math:`c`, two finite numbers.

    Attributes:
        curvatures: :math:`(\lambda_1, \lambda_2)` as a tuple of floats.
        angle: :math:`\theta` as a float.
        center: :math:`c` as a tuple of floats.
        lambda_max: :math:`\max(\lambda_1, \lambda_2)`.
        lambda_min: :math:`\min(\lambda_1, \lambda_2)`.
        condition_number: :math:`\kappa = \lambda_{\max} / \lambda_{\min}`.

    Raises:
        TypeError: If an argument is not numeric.
        ValueError: If an argument is non-finite, has the wrong length, or a
            curvature is not positive.

    Examples:
        >>> f = Quadratic(curvatures=(1.0, 25.0))
        >>> float(f([1.0, 1.0]))
        13.0
        >>> f.grad([1.0, 1.0]).tolist()
        [1.0, 25.0]
        >>> f.condition_number
        25.0
    """

    #: the name shown in titles; a rotated bowl adds its angle ("…, rotated 30°")
    name = "Elongated quadratic"

    def __init__(self, curvatures=(1.0, 25.0), angle=0.0, center=(0.0, 0.0)):
        lambdas = _pair("curvatures", curvatures)
        if min(lambdas) <= 0:
            raise ValueError(
                f"curvatures must be positive finite numbers, got curvatures={curvatures!r}"
            )
        self.curvatures = lambdas
        self.angle = _real("angle", angle)
        if self.angle % (2 * np.pi) != 0.0 and type(self).name == Quadratic.name:
            # a rotated bowl says so where its name is shown (an exploration's panel title)
            self.name = f"{Quadratic.name}, rotated {np.degrees(self.angle):.4g}°"
        self.center = _pair("center", center)
        rotation = _rotation(self.angle)
        self._eigenvectors = _frozen(rotation)
        hessian = rotation @ np.diag(lambdas) @ rotation.T
        self._hessian_matrix = _frozen(0.5 * (hessian + hessian.T))  # exactly symmetric
        self._minimum = _frozen(self.center)
        self.min_value = 0.0
        self._start = _frozen(self._minimum + rotation @ np.array([-8.0, 1.5]))
        self.bounds = self._level_set_box(float(self._value(self._start)))

    @property
    def hessian(self) -> np.ndarray:
        """The constant Hessian :math:`H`, shape ``(2, 2)`` (a fresh copy)."""
        return self._hessian_matrix.copy()

    @property
    def eigenvectors(self) -> np.ndarray:
        r"""Unit eigenvectors of :math:`H` as columns, i.e. :math:`R(\theta)`."""
        return self._eigenvectors.copy()

    @property
    def lambda_max(self) -> float:
        """The largest curvature."""
        return max(self.curvatures)

    @property
    def lambda_min(self) -> float:
        """The smallest curvature."""
        return min(self.curvatures)

    @property
    def condition_number(self) -> float:
        r"""The condition number :math:`\lambda_{\max} / \lambda_{\min}`."""
        return self.lambda_max / self.lambda_min

    def _level_set_box(self, level: float) -> tuple[tuple[float, float], tuple[float, float]]:
        r"""The 10 %-enlarged bounding box of the ellipse :math:`f(w) = \text{level}`.

        The ellipse has semi-axes :math:`a_i = \sqrt{2\,\text{level} / \lambda_i}`
        along the eigenvectors; its half-widths along the coordinate axes are
        :math:`\sqrt{\sum_i (R_{ki}\, a_i)^2}`.
        """
        semi_axes = np.sqrt(2.0 * level / np.array(self.curvatures))
        half = 1.1 * np.sqrt((self._eigenvectors**2) @ semi_axes**2)
        (cx, cy), (hx, hy) = self.center, half.tolist()
        return ((cx - hx, cx + hx), (cy - hy, cy + hy))

    def _params(self) -> dict[str, object]:
        params: dict[str, object] = {"curvatures": self.curvatures, "angle": self.angle}
        if self.center != (0.0, 0.0):
            params["center"] = self.center
        return params

    def _value_and_grad(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Written out per component: for a batch of many points this is several
        # times faster than a stacked matmul with a 2x2 matrix (the sweep's hot loop).
        (hxx, hxy), (_, hyy) = self._hessian_matrix.tolist()
        cx, cy = self.center
        dx, dy = p[..., 0] - cx, p[..., 1] - cy
        grad = np.empty_like(p)
        gx, gy = grad[..., 0], grad[..., 1]
        np.multiply(dx, hxx, out=gx)
        gx += hxy * dy
        np.multiply(dy, hyy, out=gy)
        gy += hxy * dx
        value = dx * gx
        value += dy * gy
        value *= 0.5
        if self.min_value:
            value += self.min_value
        return value, grad

    def _value(self, p: np.ndarray) -> np.ndarray:
        return self._value_and_grad(p)[0]

    def _grad(self, p: np.ndarray) -> np.ndarray:
        return self._value_and_grad(p)[1]

    def _hessian(self, p: np.ndarray) -> np.ndarray:
        h = self._hessian_matrix.astype(p.dtype)
        return np.broadcast_to(h, p.shape[:-1] + (2, 2)).copy()


class Rosenbrock(Objective):
    r"""Rosenbrock's valley :math:`f(x, y) = (a - x)^2 + b\,(y - x^2)^2`.

    The unique minimiser is :math:`(a, a^2)` with value 0, at the end of a
    long, curved, flat-bottomed valley. With :math:`s = \max(|a|, 1)` the
    default start is :math:`(-1.5 s, 2 s^2)` and the plotting window
    :math:`[-2s, 2s] \times [-s^2, 3s^2]`; for :math:`a = 1` these are
    :math:`(-1.5, 2)` and :math:`[-2, 2] \times [-1, 3]`.

    Args:
        a: Position parameter, a finite number.
        b: Valley steepness, a positive finite number.

    Raises:
        TypeError: If an argument is not numeric.
        ValueError: If ``a`` is non-finite or ``b`` is not positive finite.

    Examples:
        >>> f = Rosenbrock()
        >>> float(f([0.0, 0.0])), f.grad([0.0, 0.0]).tolist()
        (1.0, [-2.0, 0.0])
    """

    name = "Rosenbrock"

    def __init__(self, a=1.0, b=100.0):
        self.a = _real("a", a)
        self.b = _real("b", b, positive=True)
        s = max(abs(self.a), 1.0)
        self._minimum = _frozen([self.a, self.a**2])
        self.min_value = 0.0
        self._start = _frozen([-1.5 * s, 2.0 * s**2])
        self.bounds = ((-2.0 * s, 2.0 * s), (-(s**2), 3.0 * s**2))

    def _params(self) -> dict[str, object]:
        return {"a": self.a, "b": self.b}

    def _value(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def _grad(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        valley = y - x**2
        return _stack(-2.0 * (self.a - x) - 4.0 * self.b * x * valley, 2.0 * self.b * valley)

    def _hessian(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        hxx = 2.0 - 4.0 * self.b * (y - 3.0 * x**2)
        hxy = -4.0 * self.b * x
        return _symmetric(hxx, hxy, np.full_like(x, 2.0 * self.b))


class Beale(Objective):
    r"""Beale's function :math:`f(x, y) = \sum_{k=1}^{3} r_k^2` with residuals
    :math:`r_k = c_k - x + x y^k` and :math:`c = (1.5,\ 2.25,\ 2.625)`.

    The unique minimiser is :math:`(3, 0.5)` with value 0; a flat plateau
    around it is bounded by very steep walls near the corners of the
    window :math:`[-4.5, 4.5]^2`. From the default start :math:`(1, 1.5)`
    plain gradient descent with learning rates :math:`10^{-3}` to
    :math:`10^{-2}` reaches the minimum.

    Examples:
        >>> f = Beale()
        >>> float(f([0.0, 0.0]))
        14.203125
        >>> f.grad([0.0, 0.0]).tolist()
        [-12.75, 0.0]
    """

    name = "Beale"
    _C = (1.5, 2.25, 2.625)

    def __init__(self):
        self._minimum = _frozen([3.0, 0.5])
        self.min_value = 0.0
        self._start = _frozen([1.0, 1.5])
        self.bounds = ((-4.5, 4.5), (-4.5, 4.5))

    def _residuals(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""Residuals :math:`r_k` and their partials, each shaped ``(3, ...)``.

        :math:`\partial_x r_k = y^k - 1`, :math:`\partial_y r_k = k x y^{k-1}`.
        """
        x, y = p[..., 0], p[..., 1]
        powers = np.stack([np.ones_like(y), y, y**2, y**3])  # y^0 .. y^3
        c = np.array(self._C, dtype=p.dtype).reshape((3,) + (1,) * x.ndim)
        r = c - x + x * powers[1:]
        dr_dx = powers[1:] - 1.0
        dr_dy = np.array([1.0, 2.0, 3.0], dtype=p.dtype).reshape(c.shape) * x * powers[:-1]
        return r, dr_dx, dr_dy

    def _value_and_grad(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, dr_dx, dr_dy = self._residuals(p)
        grad = _stack(2.0 * np.sum(r * dr_dx, axis=0), 2.0 * np.sum(r * dr_dy, axis=0))
        return np.sum(r**2, axis=0), grad

    def _value(self, p: np.ndarray) -> np.ndarray:
        return self._value_and_grad(p)[0]

    def _grad(self, p: np.ndarray) -> np.ndarray:
        return self._value_and_grad(p)[1]

    def _hessian(self, p: np.ndarray) -> np.ndarray:
        r"""Gauss--Newton part :math:`2 J^\top J` plus :math:`2 \sum_k r_k \nabla^2 r_k`.

        :math:`\partial_{xx} r_k = 0`, :math:`\partial_{xy} r_k = k y^{k-1}`,
        :math:`\partial_{yy} r_k = k (k-1) x y^{k-2}`.
        """
        x, y = p[..., 0], p[..., 1]
        r, dr_dx, dr_dy = self._residuals(p)
        one = np.ones_like(y)
        d2r_dxdy = np.stack([one, 2.0 * y, 3.0 * y**2])
        d2r_dy2 = np.stack([np.zeros_like(x), 2.0 * x, 6.0 * x * y])
        hxx = 2.0 * np.sum(dr_dx**2, axis=0)
        hxy = 2.0 * np.sum(dr_dx * dr_dy + r * d2r_dxdy, axis=0)
        hyy = 2.0 * np.sum(dr_dy**2 + r * d2r_dy2, axis=0)
        return _symmetric(hxx, hxy, hyy)


class Saddle(Objective):
    r"""A saddle between two minima:
    :math:`f(x, y) = \tfrac12 a x^2 + b\,(\tfrac14 y^4 - \tfrac12 y^2)`.

    The origin is a saddle point (curvature :math:`a` along ``x``,
    :math:`-b` along ``y``); the minima are :math:`(0, \pm 1)` with value
    :math:`-b/4`. The default start :math:`(1.5, 10^{-3})` lies just off the
    saddle's stable manifold :math:`y = 0`, so runs first slide towards the
    saddle and then slowly escape to the minimum :math:`(0, 1)`.

    Args:
        a: Curvature along ``x``, a positive finite number.
        b: Depth scale along ``y``, a positive finite number.

    Attributes:
        saddle_point: The saddle point :math:`(0, 0)`, shape ``(2,)``.
        minima: Both minimisers as rows, shape ``(2, 2)``.

    Raises:
        TypeError: If an argument is not numeric.
        ValueError: If an argument is not positive finite.

    Examples:
        >>> f = Saddle()
        >>> f.grad([[0.0, 0.0], [0.0, -1.0]]).tolist()
        [[0.0, 0.0], [0.0, 0.0]]
        >>> f.min_value
        -0.25
    """

    name = "Saddle"

    def __init__(self, a=1.0, b=1.0):
        self.a = _real("a", a, positive=True)
        self.b = _real("b", b, positive=True)
        self._minimum = _frozen([0.0, 1.0])
        self.min_value = -self.b / 4.0
        self._start = _frozen([1.5, 1e-3])
        self.bounds = ((-2.0, 2.0), (-2.0, 2.0))

    @property
    def saddle_point(self) -> np.ndarray:
        """The saddle point :math:`(0, 0)` (a fresh copy)."""
        return np.zeros(2)

    @property
    def minima(self) -> np.ndarray:
        """Both minimisers :math:`(0, 1)` and :math:`(0, -1)` as rows (a fresh copy)."""
        return np.array([[0.0, 1.0], [0.0, -1.0]])

    def _params(self) -> dict[str, object]:
        return {"a": self.a, "b": self.b}

    def _value(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        return 0.5 * self.a * x**2 + self.b * (0.25 * y**4 - 0.5 * y**2)

    def _grad(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        return _stack(self.a * x, self.b * (y**3 - y))

    def _hessian(self, p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        return _symmetric(np.full_like(x, self.a), np.zeros_like(x), self.b * (3.0 * y**2 - 1.0))


class LinearRegression(Quadratic):
    r"""Fitting a line :math:`\hat y = W x + b` by least squares: a bowl in :math:`(W, b)`.

    .. math::

        f(W, b) = \frac{1}{2n} \sum_{i=1}^{n} (W x_i + b - y_i)^2

    is a quadratic with Hessian
    :math:`H = \begin{pmatrix} \overline{x^2} & \bar x \\ \bar x & 1 \end{pmatrix}`:
    when the inputs are not centred (:math:`\bar x^2` close to
    :math:`\overline{x^2}`), it is an elongated, rotated bowl, the two-parameter
    problem of the momentum chapter, with gradients :math:`dW` and :math:`db`.

    Coordinate 1 is :math:`W`, coordinate 2 is :math:`b`. The minimum is the
    least-squares line and ``min_value`` the remaining half mean squared error.

    Args:
        x, y: the data, equal-length 1-d sequences of finite numbers with at least
            two distinct x values. Default: 40 points with x uniform in [1, 4]
            and :math:`y = 1.5 x + 2 + \mathcal N(0, 0.5^2)` (seed 0).
        start: start point (W, b); default (−1, −1).
    """

    name = "Line fit (least squares)"
    labels = ("$W$", "$b$")

    def __init__(self, x=None, y=None, start=(-1.0, -1.0)):
        if x is None and y is None:
            rng = np.random.default_rng(0)
            x = rng.uniform(1.0, 4.0, 40)
            y = 1.5 * x + 2.0 + rng.normal(0.0, 0.5, 40)
        xs, ys = (np.asarray(v, dtype=np.float64) if np.asarray(v).dtype.kind in "iuf" else None
                  for v in (x, y))
        if xs is None or ys is None:
            raise TypeError(f"x and y must be sequences of real numbers, got x={reprlib.repr(x)}, "
                            f"y={reprlib.repr(y)}")
        if xs.ndim != 1 or xs.shape != ys.shape or not np.all(np.isfinite(xs)) \
                or not np.all(np.isfinite(ys)) or np.ptp(xs) == 0:
            raise ValueError("x and y must be finite 1-d sequences of equal length with at least "
                             f"two distinct x values, got x of shape {xs.shape} and y of shape "
                             f"{ys.shape}")
        self.x, self.y = _frozen(xs), _frozen(ys)
        hessian = np.array([[np.mean(xs * xs), np.mean(xs)], [np.mean(xs), 1.0]])
        center = np.linalg.solve(hessian, [np.mean(xs * ys), np.mean(ys)])
        lambdas, vectors = np.linalg.eigh(hessian)
        angle = math.atan2(vectors[1, 0], vectors[0, 0])
        super().__init__(curvatures=tuple(lambdas), angle=angle, center=tuple(center))
        self.min_value = 0.5 * float(np.mean((center[0] * xs + center[1] - ys) ** 2))
        self._start = _frozen(_pair("start", start))
        # The window spans start and minimum with a margin (the level set through the
        # start would be a long diagonal strip, mostly empty).
        lo = np.minimum(self._start, self._minimum)
        hi = np.maximum(self._start, self._minimum)
        pad = 0.35 * np.maximum(hi - lo, 1.0)
        self.bounds = ((float(lo[0] - pad[0]), float(hi[0] + pad[0])),
                       (float(lo[1] - pad[1]), float(hi[1] + pad[1])))

    def _params(self) -> dict[str, object]:
        return {"n": len(self.x)}


#: Short keys to zero-argument factories of the default objectives.
OBJECTIVES: dict[str, Callable[[], Objective]] = {
    "quadratic": Quadratic,
    "rotated_quadratic": lambda: Quadratic(angle=math.pi / 6),
    "rosenbrock": Rosenbrock,
    "beale": Beale,
    "saddle": Saddle,
    "line_fit": LinearRegression,
}

# Gradient noise (optlib/_noisy.py, part of this module's API): imported last, since
# ``Noisy`` is an ``Objective`` and checks the objectives it wraps against this module.
from ._noisy import Noisy, minibatch_noise  # noqa: E402
