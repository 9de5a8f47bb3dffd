r"""The model of an exploration: sliders over fixed grids, and the frame of every grid point.

An exploration is a figure whose *dynamic* artists (lines, markers) take new
data for every combination of slider values. The model holds

* the :class:`Slider` grids and the index arithmetic (:meth:`Exploration.index_of`,
  :meth:`Exploration.values`, :meth:`Exploration.update`);
* the matplotlib figure both views draw: its background (everything that does
  not move, one per value of a ``background_slider``), drawn once with the axes
  frozen in place, and the dynamic artists;
* :meth:`Exploration.frame`, implemented by each kind of exploration: the data
  of every dynamic artist and the readout for one grid index.

The views only read the model: :mod:`optlib.explore.live` moves the artists and
encodes PNGs in a kernel, :mod:`optlib.explore.static` encodes every frame
into a self-contained HTML page. Neither computes anything of its own, so both
show the same frames.
"""

from __future__ import annotations

import html
import io
import numbers
import re
from dataclasses import dataclass

import numpy as np

from .. import _settings
from .._validate import as_array, describe, instance, real, reals, whole
from ..plotting import COLUMN_WIDTH, SCREEN_DPI, new_figure, png_bytes, style

# How hyperparameters are shown to readers.
SYMBOLS = {"lr": "α", "beta": "β", "beta1": "β₁", "beta2": "β₂", "eps": "ε",
           "weight_decay": "δ", "angle": "θ", "t": "t"}

#: Largest width or height of a figure in pixels: the static view stores pixel
#: coordinates in tenths of a pixel as 16-bit integers (at most 32767).
MAX_PIXELS = 3276

#: Device pixels per figure pixel: the live view's PNGs and the static view's backgrounds
#: are drawn at twice the figure's resolution and shown at its size (crisp on high-density
#: screens). Coordinates (``frame``, the static view's SVG) stay in figure pixels.
PIXEL_RATIO = 2


#: The MIME type of a widget's view in a notebook output (ipywidgets).
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (where a widget can have a front end), not plain Python."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def format_value(x) -> str:
    """A number as the readouts show it: three significant digits, ``"—"`` if not finite.

    Args:
        x: a real number (or a one-element array of one).

    Returns:
        ``f"{x:.3g}"``, or ``"—"`` for nan and ±inf (a run that diverged).

    Raises:
        TypeError: if ``x`` is not a real number.

    Examples:
        >>> format_value(0.123456)
        '0.123'
        >>> format_value(2.5e7)
        '2.5e+07'
        >>> format_value(float("nan"))
        '—'
    """
    arr = as_array("x", x, what="a real number")
    if arr.size != 1:
        raise TypeError(f"x must be a real number, got x={describe(x)}")
    value = float(arr.reshape(()))
    return f"{value:.3g}" if np.isfinite(value) else "—"


def _text(name: str, value, *, optional: bool = False) -> str | None:
    """A non-empty string argument (or ``None`` when ``optional``)."""
    if optional and value is None:
        return None
    instance(name, value, str, "a string" + (" or None" if optional else ""))
    if not value:
        raise ValueError(f"{name} must not be empty, got {name}={value!r}")
    return value


@dataclass(frozen=True)
class Slider:
    """A slider over a fixed grid of values.

    Args:
        name: the keyword it sets (``"lr"``, ``"beta"``, ...), a non-empty string.
        values: the grid, a non-empty 1-d sequence of finite numbers.
        initial: the value to start at (the nearest grid value is used);
            default: the middle of the grid.
        label: what the reader sees; default from :data:`SYMBOLS`.
        fmt: format of a value, e.g. ``"{:.3g}"``; it must format every value.
        choices: names of the values for a categorical control (a dropdown):
            one string per value, shown instead of the formatted number.

    Raises:
        TypeError, ValueError: for an argument of the wrong kind or value; the
            message names the slider, the argument and the value.

    Examples:
        >>> s = Slider("lr", [0.01, 0.05, 0.1], initial=0.04)
        >>> s.label, s.start_index, s.text(s.start_index)
        ('α', 1, '0.05')
    """

    name: str
    values: tuple
    initial: float | None = None
    label: str | None = None
    fmt: str = "{:.3g}"
    choices: tuple | None = None

    def __post_init__(self):
        _text("name", self.name)
        try:
            self._check()
        except (TypeError, ValueError) as error:
            raise type(error)(f"slider {self.name!r}: {error}") from None

    def _check(self) -> None:
        values = reals("values", self.values, ndim=1)
        object.__setattr__(self, "values", tuple(values.tolist()))
        if self.initial is not None:
            object.__setattr__(self, "initial", real("initial", self.initial))
        _text("label", self.label, optional=True)
        instance("fmt", self.fmt, str, "a format string such as '{:.3g}'")
        for v in self.values:
            try:
                self.fmt.format(v)
            except (ValueError, TypeError, IndexError, KeyError, AttributeError) as error:
                raise ValueError(f"fmt must format a number, e.g. '{{:.3g}}'; fmt={self.fmt!r} "
                                 f"cannot format {v!r} ({type(error).__name__}: {error})"
                                 ) from None
        if self.choices is not None:
            if isinstance(self.choices, (str, bytes)) or not hasattr(self.choices, "__iter__"):
                raise TypeError(f"choices must be a sequence of strings, got "
                                f"choices={describe(self.choices)}")
            choices = tuple(self.choices)
            for k, c in enumerate(choices):
                instance(f"choices[{k}]", c, str, "a string")
            if len(choices) != len(self.values):
                raise ValueError(f"choices must name each of the {len(self.values)} values, "
                                 f"got choices={describe(self.choices)}")
            object.__setattr__(self, "choices", choices)
        if self.label is None:
            object.__setattr__(self, "label", SYMBOLS.get(self.name, self.name))

    @property
    def start_index(self) -> int:
        """Index of the initial value in the grid."""
        if self.initial is None:
            return len(self.values) // 2
        return int(np.argmin(np.abs(np.asarray(self.values) - self.initial)))

    def text(self, i: int) -> str:
        """The value at index ``i`` as the reader sees it (plain text, not HTML)."""
        if self.choices is not None:
            return self.choices[i]
        return self.fmt.format(self.values[i])

    @classmethod
    def choice(cls, name: str, choices, initial: int = 0, label: str | None = None) -> "Slider":
        """A categorical control over ``choices`` (values 0, 1, ...), shown as a dropdown.

        Args:
            name: the keyword it sets.
            choices: the names of the options, a non-empty sequence of strings.
            initial: the index of the option to start at.
            label: what the reader sees; default from :data:`SYMBOLS`.

        Examples:
            >>> s = Slider.choice("objective", ["bowl", "banana"], initial=1)
            >>> s.values, s.text(s.start_index)
            ((0.0, 1.0), 'banana')
        """
        if isinstance(choices, (str, bytes)) or not hasattr(choices, "__iter__"):
            raise TypeError(f"choices must be a sequence of strings, got "
                            f"choices={describe(choices)}")
        choices = tuple(choices)
        if not choices:
            raise ValueError(f"choices must name at least one option, got choices={choices!r}")
        initial = whole("initial", initial, low=0, high=len(choices) - 1)
        return cls(name, tuple(range(len(choices))), initial=initial, label=label,
                   choices=choices)


def check_sliders(sliders) -> list[Slider]:
    """``sliders`` as a list: one or more :class:`Slider` with distinct names."""
    if isinstance(sliders, (Slider, str, bytes)) or not hasattr(sliders, "__iter__"):
        raise TypeError(f"sliders must be a list of Slider, got sliders={describe(sliders)}")
    sliders = list(sliders)
    if not sliders:
        raise ValueError("an exploration needs at least one slider, got sliders=[]")
    for k, s in enumerate(sliders):
        instance(f"sliders[{k}]", s, Slider)
    names = [s.name for s in sliders]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"sliders must have distinct names, got {names} ({twice} more than "
                         "once)")
    return sliders


def figure_size(width, height, dpi) -> tuple[float, float, int]:
    """Checked figure size: inches > 0, ``dpi`` ≥ 1, at most :data:`MAX_PIXELS` per side."""
    width = real("width", width, low=0.0, low_inclusive=False)
    height = real("height", height, low=0.0, low_inclusive=False)
    dpi = whole("dpi", dpi, low=1)
    for name, inches in (("width", width), ("height", height)):
        if inches * dpi > MAX_PIXELS:
            raise ValueError(f"{name} × dpi must be at most {MAX_PIXELS} pixels (the static "
                             f"view stores tenths of a pixel in 16-bit integers), got "
                             f"{name}={inches!r}, dpi={dpi!r}: {inches * dpi:g} pixels")
    return width, height, dpi


class Exploration:
    """Base class: sliders over a grid, a figure with dynamic artists, and their frames.

    A subclass builds its figure in ``_draw`` (background content plus the
    *dynamic* artists, which it returns by name) and computes, in
    :meth:`frame`, the data of every dynamic artist and a readout for one
    combination of slider indices. Everything else is shared: the live view
    (:meth:`widget`), the static view (:meth:`static_html`) and the notebook
    display, which offers both.

    Args:
        sliders: one or more :class:`Slider` with distinct names.
        width, height: figure size in inches (> 0).
        dpi: pixels per inch (a whole number ≥ 1); a side of the figure may
            have at most 3276 pixels (the static view stores tenths of a pixel
            in 16-bit integers).

    Attributes:
        name: short name, used by the benchmarks (``explore_latency_<name>``)
            and the HTML (``data-exploration``).
        background_slider: name of the slider whose value selects the
            background (``None`` for a single background).
        sliders: the sliders, in the order of an index's entries.
    """

    name = "exploration"
    background_slider: str | None = None

    def __init__(self, sliders, width: float = COLUMN_WIDTH, height: float = 3.25,
                 dpi: int = SCREEN_DPI):
        self.sliders = check_sliders(sliders)
        width, height, dpi = figure_size(width, height, dpi)
        with style():  # the book's fonts and lines (optlib.plotting.RC)
            self._fig = new_figure(width, height, dpi)
            # the canvas draws PIXEL_RATIO device pixels per figure pixel (fig.dpi follows)
            self._fig.canvas._set_device_pixel_ratio(PIXEL_RATIO)
            self._artists = self._draw(self._fig)
            for artist in self._artists.values():
                artist.set_animated(True)      # drawn by blitting only
                if artist.get_linestyle() not in ("None", "none", "", " "):
                    artist.set_path_effects(_halo(artist))
            self._backgrounds, self._background_pngs, self._limits = [], [], []
            self._freeze_layout()
            for k in range(self._background_count()):
                if k > 0:
                    self._show_background(k)
                self._fig.canvas.draw()
                self._backgrounds.append(self._fig.canvas.copy_from_bbox(self._fig.bbox))
                # the static page's background: every colour exact (no palette), drawn at
                # the canvas's device resolution; savefig leaves out the animated (dynamic)
                # artists
                self._background_pngs.append(png_bytes(self._fig, compress_level=9,
                                                       dpi=PIXEL_RATIO * dpi))
                self._limits.append([(ax.get_xlim(), ax.get_ylim()) for ax in self._fig.axes])
        self._shown_background = len(self._backgrounds) - 1
        self._index = tuple(s.start_index for s in self.sliders)
        self._widget = None
        self._static_html = {}
        self._static_frames = None

    def _freeze_layout(self) -> None:
        """Fix every axes' position (pixels must not move between frames or backgrounds).

        With several backgrounds, each gets the constrained layout it needs (tick
        labels differ) and every axes takes the box that fits all of them.
        """
        fig = self._fig
        boxes = []
        for k in range(self._background_count()):
            if k > 0:
                self._show_background(k)
            fig.canvas.draw()
            boxes.append([ax.get_position() for ax in fig.axes])
        fig.set_layout_engine("none")
        if len(boxes) > 1:
            for j, ax in enumerate(fig.axes):
                x0 = max(b[j].x0 for b in boxes)
                y0 = max(b[j].y0 for b in boxes)
                x1 = min(b[j].x1 for b in boxes)
                y1 = min(b[j].y1 for b in boxes)
                ax.set_position([x0, y0, x1 - x0, y1 - y0])
            self._show_background(0)

    def _background_count(self) -> int:
        if self.background_slider is None:
            return 1
        return len(self._slider(self.background_slider).values)

    def _slider(self, name: str) -> Slider:
        for s in self.sliders:
            if s.name == name:
                return s
        raise ValueError(f"no slider named {name!r}; the sliders are "
                         f"{[s.name for s in self.sliders]}")

    def _background_of(self, index) -> int:
        if self.background_slider is None:
            return 0
        return index[[s.name for s in self.sliders].index(self.background_slider)]

    def _use_background(self, k: int) -> None:
        """Make the axes limits those of background ``k`` (transforms follow them)."""
        if k != self._shown_background:
            for ax, (xlim, ylim) in zip(self._fig.axes, self._limits[k]):
                ax.set_xlim(xlim)
                ax.set_ylim(ylim)
            self._shown_background = k

    def _show_background(self, k: int) -> None:
        """Draw background ``k``'s content (only with a ``background_slider``)."""
        raise NotImplementedError

    # -- for subclasses ----------------------------------------------------
    def _draw(self, fig) -> dict:
        """Create the axes and background; return ``{name: dynamic Line2D}``."""
        raise NotImplementedError

    def frame(self, index: tuple[int, ...]) -> tuple[dict, str]:
        """Data of every dynamic artist at slider ``index``, and the readout HTML.

        Any text in the readout that is not markup (labels, names, notes) is
        escaped with ``html.escape``.

        Returns:
            ``({artist name: (x, y)}, readout)`` in data coordinates.
        """
        raise NotImplementedError

    # -- shared ------------------------------------------------------------
    @property
    def figure(self):
        """The matplotlib figure (its dynamic artists show the current frame)."""
        return self._fig

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of grid values of each slider."""
        return tuple(len(s.values) for s in self.sliders)

    def values(self, index) -> dict:
        """Slider values at ``index``, by name."""
        return {s.name: s.values[i] for s, i in zip(self.sliders, index)}

    def setting(self, index) -> str:
        """The slider values at ``index`` as the reader sees them, ``"α = 0.05, β = 0.9"``.

        Plain text (escape it before putting it into HTML).
        """
        return ", ".join(f"{s.label} = {s.text(i)}" for s, i in zip(self.sliders, index))

    def index_of(self, **values) -> tuple[int, ...]:
        """Grid index of the given slider values (each must be on the grid)."""
        unknown = set(values) - {s.name for s in self.sliders}
        if unknown:
            raise ValueError(f"no slider named {sorted(unknown)}; the sliders are "
                             f"{[s.name for s in self.sliders]}")
        index = []
        for s in self.sliders:
            v = values.get(s.name, s.values[s.start_index])
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
                raise TypeError(f"{s.name} must be a number on the grid of slider {s.name!r} "
                                f"({_grid_text(s)}), got {s.name}={describe(v)}")
            hits = np.flatnonzero(np.isclose(s.values, v, rtol=1e-12, atol=0))
            if hits.size == 0:
                raise ValueError(f"{s.name}={v!r} is not on the grid of slider {s.name!r}: "
                                 f"{s.values}")
            index.append(int(hits[0]))
        return tuple(index)

    def _check_index(self, index) -> tuple[int, ...]:
        """``index`` as a tuple of whole numbers, one per slider, each within its grid."""
        try:
            items = tuple(index)
        except TypeError:
            items = None
        if items is None or len(items) != len(self.sliders) or not all(
                isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))
                for i in items):
            raise TypeError(f"index must be {len(self.sliders)} whole number(s), one per "
                            f"slider {[s.name for s in self.sliders]}, got "
                            f"index={describe(index)}")
        for s, i in zip(self.sliders, items):
            if not 0 <= i < len(s.values):
                raise ValueError(f"index {int(i)} is out of range for slider {s.name!r}: it "
                                 f"has {len(s.values)} values, indices 0 to "
                                 f"{len(s.values) - 1}; got index={describe(index)}")
        return tuple(int(i) for i in items)

    def update(self, index) -> str:
        """Show frame ``index`` in the figure; returns the readout.

        Args:
            index: one grid index per slider.

        Returns:
            The readout (HTML) of that frame.

        Raises:
            TypeError, ValueError: if ``index`` is not one whole number per slider
                within its grid; the figure is left as it was.
        """
        index = self._check_index(index)
        data, readout = self.frame(index)
        self._use_background(self._background_of(index))
        for name, (x, y) in data.items():
            self._artists[name].set_data(x, y)
        self._index = tuple(index)
        return readout

    def legend(self) -> list[dict]:
        """The figure's legend, shown as HTML beside the picture (never drawn over it).

        Every line of the figure whose label does not start with ``_``, in the
        order drawn: ``{"label", "color", "dash", "marker"}`` (label as plain
        text; dash and marker as booleans). Labels that repeat (the same
        optimizer in two panels) appear once.
        """
        from matplotlib.colors import to_hex

        entries, seen = [], set()
        for ax in self._fig.axes:
            for line in ax.get_lines():
                label = line.get_label()
                if not label or label.startswith("_") or label in seen:
                    continue
                seen.add(label)
                marker = line.get_marker()
                entries.append({
                    "label": _plain(label),
                    "color": to_hex(line.get_color()),
                    "dash": line.get_linestyle() in ("--", "dashed"),
                    "line": line.get_linestyle() not in ("None", "none", "", " "),
                    "marker": marker not in (None, "None", "", " "),
                })
        return entries

    def legend_html(self) -> str:
        """:meth:`legend` as an HTML list of colour keys ("" without entries)."""
        entries = self.legend()
        if not entries:
            return ""
        items = "".join(f'<li style="display:inline-block;margin-right:1.2em">'
                        f'{key(e["color"], e["dash"], e["line"], e["marker"])} '
                        f'{html.escape(e["label"])}</li>' for e in entries)
        return (f'<ul class="optlib-legend" aria-label="legend" '
                f'style="list-style:none;margin:0.2em 0;padding:0">{items}</ul>')

    def _png(self, compress_level: int) -> bytes:
        """The canvas (background and the current frame) as PNG, for the live view."""
        from PIL import Image

        canvas = self._fig.canvas
        w, h = canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        image = image.convert("RGB")
        buf = io.BytesIO()
        image.save(buf, format="png", compress_level=compress_level)
        return buf.getvalue()

    # -- the views (optlib.explore.live, optlib.explore.static) ---------------
    def render(self) -> bytes:
        """PNG of the current frame: cached background plus the dynamic artists."""
        from .live import render

        return render(self)

    def widget(self):
        """The live view (built once; ``optlib/explore/live.py``).

        One slider (or dropdown) per grid with its value in a read-only label
        beside it, the figure as an image, the readout, and a status line that
        explains in one sentence a frame that cannot be shown (the figure keeps
        the last frame that could).

        Returns:
            An ``ipywidgets.VBox`` with attributes ``controls`` (one control per
            slider), ``labels`` (the value label of each slider; ``None`` for a
            dropdown), ``image``, ``readout`` and ``status`` (``ipywidgets.HTML``).
        """
        if self._widget is None:
            from .live import widget

            self._widget = widget(self)
        return self._widget

    def static_frames(self) -> list[dict]:
        """Every grid point's frame, encoded, in C order of the slider indices.

        Each frame is ``{"lines": [...], "readout": ...}`` with one entry per
        dynamic artist: its polylines in SVG pixels, clipped to its axes (see
        :func:`decode`). Computed once (the static view and its stand-in share them).
        """
        if self._static_frames is None:
            from .static import frames

            self._static_frames = frames(self)
        return self._static_frames

    def static_html(self, fallback: bool = False) -> str:
        """The static view (built once; ``optlib/explore/static.py``).

        A self-contained HTML fragment: the background as an embedded PNG, the
        dynamic artists as SVG paths over it, one control per slider, every
        frame, and the script ``static.js`` inline. No network, no kernel.
        ``fallback=True`` gives the same page as the stand-in for a live view
        (hidden until that view's widget is gone; see ``_ipython_display_``).
        """
        fallback = bool(fallback)
        if fallback not in self._static_html:
            from .static import page

            self._static_html[fallback] = page(self, fallback=fallback)
        return self._static_html[fallback]

    # -- display ---------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None):
        """The static view (``text/html``) and the repr: what a notebook stores and the
        book shows (see ``_ipython_display_`` for what a live kernel displays)."""
        return {"text/plain": repr(self), "text/html": self.static_html()}

    def _ipython_display_(self):
        """Display the exploration: live where a kernel can drive it, static otherwise.

        In a kernel (and not building the book, ``OPTLIB_STATIC_EXPLORATIONS``) it
        displays two outputs: the live view (the widget; its text says to run the cell,
        which is what a front end that cannot show the widget prints) and, after it, the
        static view marked as its stand-in. The stand-in stays hidden while the widget
        shows; when a reopened notebook's widget is gone (its model lived in a kernel
        that stopped), the stand-in takes its place with a note, and its sliders still
        work. Elsewhere (the book build, plain Python) only the static view is shown.
        """
        from IPython.display import display

        view = None
        if not _settings.static_explorations() and _in_kernel():
            try:
                view = self.widget()._repr_mimebundle_()
            except Exception:  # noqa: BLE001 -- no widget front end: the static view only
                view = None
        if not view or WIDGET_VIEW not in view:
            display(self._repr_mimebundle_(), raw=True)
            return
        display({WIDGET_VIEW: view[WIDGET_VIEW],
                 "text/plain": f"{self!r}: run this cell to make it live."}, raw=True)
        display({"text/html": self.static_html(fallback=True)}, raw=True)

    def __repr__(self) -> str:
        grid = ", ".join(f"{s.name}: {len(s.values)} values" for s in self.sliders)
        return f"<{type(self).__name__} {self.name!r} ({grid})>"


_TEX = {r"\alpha": "α", r"\beta": "β", r"\lambda": "λ", r"\varepsilon": "ε",
        r"\epsilon": "ε", r"\sigma": "σ", r"\rho": "ρ", r"\kappa": "κ", r"\theta": "θ",
        r"\omega": "ω", r"\delta": "δ", r"\eta": "η", r"\infty": "∞", r"\cdot": "·",
        r"\times": "×", r"\sqrt": "√", r"\approx": "≈", r"\le": "≤", r"\ge": "≥",
        r"\|": "‖", r"\max": "max", r"\min": "min", r"\ln": "ln", r"\log": "log",
        r"\hat": "", r"\mathrm": "", r"\,": " ", r"\;": " ", r"\ ": " "}
_SUB_CHARS = "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"
_SUB = str.maketrans("0123456789+-=()aehijklmnoprstuvx", _SUB_CHARS)


_SUP_CHARS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵗᵏ"
_SUP = str.maketrans("0123456789+-=()nitk", _SUP_CHARS)


def _plain(text: str) -> str:
    """Matplotlib's mathtext as plain text for a screen reader: "$f(w_t) - f^*$" → "f(wₜ) − f*"."""
    def sub(match):
        body = match.group(1) or match.group(2)
        small = body.translate(_SUB)
        return small if all(c in _SUB_CHARS for c in small) else body
    out = text.replace("$", "")
    for command in sorted(_TEX, key=len, reverse=True):
        out = out.replace(command, _TEX[command])
    out = re.sub(r"_\{([^{}]*)\}|_(\w)", sub, out)
    def sup(match):
        body = match.group(1) or match.group(2)
        if body == "*":
            return "*"
        small = body.translate(_SUP)
        return small if all(c in _SUP_CHARS for c in small) else "^" + body
    out = re.sub(r"\^\{([^{}]*)\}|\^(\S)", sup, out)
    out = out.replace("{", "").replace("}", "").replace(" - ", " − ")
    return " ".join(out.split())


#: Width in points that a dynamic line's white casing adds (live view and static page).
HALO_PT = 2.5


def _halo(artist):
    """A white casing under a line, so it stands out of any fill it crosses."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=artist.get_linewidth() + HALO_PT,
                                   foreground="white")]


def key(color: str, dash: bool = False, line: bool = True, marker: bool = False) -> str:
    """A colour key: a short inline SVG sample of a line (and/or marker), hidden from
    screen readers (the label beside it names the series)."""
    color = html.escape(color, quote=True)
    parts = []
    if line:
        parts.append(f'<line x1="1" y1="6" x2="25" y2="6" stroke="{color}" stroke-width="2.5"'
                     + (' stroke-dasharray="6 3"' if dash else "") + "/>")
    if marker:
        parts.append(f'<circle cx="13" cy="6" r="3.5" fill="{color}" stroke="black" '
                     'stroke-width="0.8"/>')
    return ('<svg width="26" height="12" viewBox="0 0 26 12" aria-hidden="true" '
            f'style="vertical-align:middle">{"".join(parts)}</svg>')


def readout_table(caption: str, header, rows) -> str:
    """A readout as a small HTML table with a colour key per row.

    Args:
        caption: plain text above the table (escaped here).
        header: the column headings (plain text), the first one for the row labels.
        rows: ``(label, color, dash, cells)`` per row: the row's name, its line's
            colour and dash, and one plain-text cell per further column.
    """
    head = "".join(f'<th scope="col" style="text-align:left;padding:0 0.8em 0 0">'
                   f"{html.escape(h)}</th>" for h in header)
    body = []
    for label, color, dash, cells in rows:
        tds = "".join(f'<td style="padding:0 0.8em 0 0">{html.escape(c)}</td>' for c in cells)
        body.append(f'<tr><th scope="row" style="text-align:left;font-weight:normal;'
                    f'padding:0 0.8em 0 0;white-space:nowrap">{key(color, dash)} '
                    f"{html.escape(label)}</th>{tds}</tr>")
    return (f'<table class="optlib-readout-table" style="border-collapse:collapse;'
            f'font-size:0.95em;margin:0"><caption style="text-align:left;caption-side:top">'
            f"{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def readout_text(readout: str) -> str:
    """A readout's HTML as one line of plain text, table cells separated by `` | ``."""
    text = re.sub(r"<(caption|th|td)\b[^>]*>", "\x00", readout)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    cells = [" ".join(part.split()) for part in text.split("\x00")]
    return " | ".join(c for c in cells if c)


def _grid_text(s: Slider) -> str:
    """The grid of a slider for a message: its values, or its range when there are many."""
    if len(s.values) <= 8:
        return "one of " + ", ".join(s.text(k) for k in range(len(s.values)))
    return (f"{len(s.values)} values from {s.text(0)} to {s.text(len(s.values) - 1)}")
