r"""Explorations: figures with sliders that work live *and* in a static HTML book.

An exploration precomputes its data over the whole slider grid with optlib's
batched runs (one ``step`` call advances every configuration), then offers two
views of the same frames:

* **live** (:meth:`Exploration.widget`): ipywidgets sliders and a PNG image.
  Moving a slider updates the existing matplotlib artists (``set_data``) and
  redraws only them over a cached background (blitting), then encodes the PNG.
  A frame that cannot be shown leaves the last one in place and is explained
  in one line under the figure, never by a traceback;
* **static** (:meth:`Exploration.static_html`): a self-contained HTML fragment
  — the same background as an embedded PNG, the dynamic lines as SVG paths in
  the same pixel coordinates, the frames for every grid point as compact
  base64 int16 arrays, and a few lines of plain JavaScript. No network, no CDN,
  no kernel.

Displayed in a notebook, an exploration offers both (``_repr_mimebundle_``): a
live front end shows the widget, and the book's HTML builder is told to prefer
``text/html`` (``nb_mime_priority_overrides`` in ``_config.yml``).

The frames are computed once, so live and static views agree exactly on every
grid point: both draw :meth:`Exploration.frame`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import os
from dataclasses import dataclass

import numpy as np

from . import analysis
from ._validate import describe
from .objectives import Quadratic
from .optimizers import Momentum
from .plotting import COLORS, contour, loss_axes, new_figure
from .runs import run

__all__ = [
    "Slider",
    "Exploration",
    "TrajectoryExplorer",
    "MomentumRateExplorer",
    "EMAExplorer",
    "ComparisonExplorer",
    "SYMBOLS",
]

# How hyperparameters are shown to readers.
SYMBOLS = {"lr": "α", "beta": "β", "beta1": "β₁", "beta2": "β₂", "eps": "ε",
           "weight_decay": "λ", "angle": "θ", "t": "t"}

#: Set to "1" (the book build does) to display explorations without the live widget.
STATIC_ONLY_ENV = "OPTLIB_STATIC_EXPLORATIONS"

_SCALE = 10          # pixel coordinates are stored in tenths of a pixel
_BREAK = -32768      # int16 sentinel that ends a polyline
_CLIP = -32767       # int16 sentinel: the next vertex was made by clipping (no marker)


@dataclass(frozen=True)
class Slider:
    """A slider over a fixed grid of values.

    Args:
        name: the keyword it sets (``"lr"``, ``"beta"``, ...).
        values: the grid, a non-empty 1-d sequence of numbers.
        initial: the value to start at (the nearest grid value is used);
            default: the middle of the grid.
        label: what the reader sees; default from :data:`SYMBOLS`.
        fmt: format of a value, e.g. ``"{:.3g}"``.
        choices: names of the values for a categorical control (a dropdown):
            one string per value, shown instead of the formatted number.
    """

    name: str
    values: tuple
    initial: float | None = None
    label: str | None = None
    fmt: str = "{:.3g}"
    choices: tuple | None = None

    def __post_init__(self):
        raw = np.asarray(self.values)
        if raw.dtype.kind not in "iuf":
            raise TypeError(f"values of slider {self.name!r} must be numbers, got "
                            f"values={describe(self.values)}")
        vals = raw.astype(np.float64).ravel()
        if vals.size == 0 or not np.all(np.isfinite(vals)):
            raise ValueError(f"values of slider {self.name!r} must be a non-empty sequence of "
                             f"finite numbers, got values={describe(self.values)}")
        object.__setattr__(self, "values", tuple(vals.tolist()))
        if self.choices is not None:
            choices = tuple(str(c) for c in self.choices)
            if len(choices) != len(self.values):
                raise ValueError(f"choices of slider {self.name!r} must name each of its "
                                 f"{len(self.values)} values, got choices={self.choices!r}")
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
        """The value at index ``i`` as the reader sees it."""
        if self.choices is not None:
            return self.choices[i]
        return self.fmt.format(self.values[i])

    @classmethod
    def choice(cls, name: str, choices, initial: int = 0, label: str | None = None) -> "Slider":
        """A categorical control over ``choices`` (values 0, 1, ...), shown as a dropdown."""
        choices = tuple(choices)
        return cls(name, tuple(range(len(choices))), initial=initial, label=label,
                   choices=choices)


def _clip(points: np.ndarray, box):
    """Clip a polyline (n, 2) to ``box = (x0, y0, x1, y1)``.

    Returns ``(pieces, flags)``: the visible pieces, and for each piece a boolean
    array that is False for vertices made by the clipping (on the box edge, not
    data points: no marker is drawn there). Non-finite points break the line.
    Segments are clipped with Liang–Barsky, so a piece that leaves the box ends
    exactly on its edge, as matplotlib's clipping draws it; a lone finite point
    inside the box is a one-vertex piece.
    """
    x0, y0, x1, y1 = box
    finite = np.all(np.isfinite(points), axis=1)
    inside = finite & (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) \
        & (points[:, 1] <= y1)
    if inside.all():
        return ([points.copy()], [np.ones(len(points), bool)]) if len(points) else ([], [])
    pieces, flags, current, cflags = [], [], [], []

    def close():
        if current:
            pieces.append(np.array(current))
            flags.append(np.array(cflags))
            current.clear()
            cflags.clear()

    for k, (a, b) in enumerate(zip(points[:-1], points[1:])):
        if not (finite[k] and finite[k + 1]):
            close()
            continue
        d = b - a
        t0, t1 = 0.0, 1.0
        visible = True
        for p, q in ((-d[0], a[0] - x0), (d[0], x1 - a[0]), (-d[1], a[1] - y0), (d[1], y1 - a[1])):
            if p == 0:
                if q < 0:
                    visible = False
                    break
            else:
                r = q / p
                if p < 0:
                    t0 = max(t0, r)
                else:
                    t1 = min(t1, r)
        if not visible or t0 > t1:
            close()
            continue
        if not current or t0 > 0:
            close()
            current.append(a + t0 * d)
            cflags.append(t0 == 0)
        current.append(a + t1 * d)
        cflags.append(t1 == 1)
        if t1 < 1:
            close()
    close()
    # lone points (no finite neighbour) inside the box
    for k in np.flatnonzero(inside):
        if (k == 0 or not finite[k - 1]) and (k == len(points) - 1 or not finite[k + 1]):
            pieces.append(points[k:k + 1].copy())
            flags.append(np.ones(1, bool))
    return pieces, flags


def _clip_polyline(points: np.ndarray, box) -> list[np.ndarray]:
    """The visible pieces of a polyline clipped to ``box`` (see :func:`_clip`)."""
    return _clip(points, box)[0]


def _encode(pieces: list[np.ndarray], flags=None) -> str:
    """Polylines in pixels → base64 of little-endian int16, in tenths of a pixel.

    ``_BREAK`` ends a piece; ``_CLIP`` before a vertex marks it as made by
    clipping (``flags`` False), not a data point.
    """
    parts = []
    for k, piece in enumerate(pieces):
        coords = np.round(piece * _SCALE).astype("<i2")
        if flags is None or flags[k].all():
            parts.append(coords.ravel())
        else:
            for row, is_data in zip(coords, flags[k]):
                if not is_data:
                    parts.append(np.array([_CLIP], dtype="<i2"))
                parts.append(row)
        parts.append(np.array([_BREAK], dtype="<i2"))
    data = np.concatenate(parts) if parts else np.zeros(0, dtype="<i2")
    return base64.b64encode(data.tobytes()).decode("ascii")


def decode(text: str, data_only: bool = False) -> list[np.ndarray]:
    """Inverse of the static encoding: polylines in pixel coordinates (for tests).

    With ``data_only``, only the data vertices (where markers are drawn) are kept.
    """
    data = np.frombuffer(base64.b64decode(text), dtype="<i2")
    pieces, current, i, clip = [], [], 0, False
    while i < len(data):
        if data[i] == _BREAK:
            pieces.append(np.array(current, dtype=float).reshape(-1, 2) / _SCALE)
            current, i = [], i + 1
        elif data[i] == _CLIP:
            clip, i = True, i + 1
        else:
            if not (clip and data_only):
                current.append((data[i], data[i + 1]))
            clip, i = False, i + 2
    return [p for p in pieces if len(p)] if data_only else pieces


def _edge(artist):
    from matplotlib.colors import to_hex

    edge = artist.get_markeredgecolor()
    return "none" if isinstance(edge, str) and edge.lower() == "none" else to_hex(edge)


class Exploration:
    """Base class: sliders, frames, the live widget and the static HTML.

    A subclass builds its figure in ``_draw`` (background content plus the
    *dynamic* artists, which it returns by name) and computes, in
    :meth:`frame`, the data of every dynamic artist and a readout for one
    combination of slider indices. Everything else is shared.
    """

    #: short name, used by the benchmarks (``explore_latency_<name>``)
    name = "exploration"

    def __init__(self, sliders: list[Slider], width: float = 9.0, height: float = 3.6,
                 dpi: int = 80):
        if not sliders:
            raise ValueError("an exploration needs at least one slider")
        self.sliders = list(sliders)
        self._fig = new_figure(width, height, dpi)
        self._artists = self._draw(self._fig)
        for artist in self._artists.values():
            artist.set_animated(True)      # drawn by blitting only
        self._backgrounds, self._background_pngs, self._limits = [], [], []
        self._freeze_layout()
        for k in range(self._background_count()):
            if k > 0:
                self._show_background(k)
            self._fig.canvas.draw()
            self._backgrounds.append(self._fig.canvas.copy_from_bbox(self._fig.bbox))
            self._background_pngs.append(self._png(compress_level=9, colors=128))
            self._limits.append([(ax.get_xlim(), ax.get_ylim()) for ax in self._fig.axes])
        self._shown_background = len(self._backgrounds) - 1
        self._index = tuple(s.start_index for s in self.sliders)
        self._widget = None
        self._static_html = None

    #: name of the slider whose value selects the background (None for a single background)
    background_slider: str | None = None

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

    def index_of(self, **values) -> tuple[int, ...]:
        """Grid index of the given slider values (each must be on the grid)."""
        unknown = set(values) - {s.name for s in self.sliders}
        if unknown:
            raise ValueError(f"no slider named {sorted(unknown)}; the sliders are "
                             f"{[s.name for s in self.sliders]}")
        index = []
        for s in self.sliders:
            v = values.get(s.name, s.values[s.start_index])
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer,
                                                                      np.floating)):
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

    def render(self) -> bytes:
        """PNG of the current frame: cached background plus the dynamic artists."""
        canvas = self._fig.canvas
        canvas.restore_region(self._backgrounds[self._background_of(self._index)])
        for artist in self._artists.values():
            self._fig.draw_artist(artist)
        return self._png(compress_level=1)

    def _png(self, compress_level: int, colors: int | None = None) -> bytes:
        """The canvas as PNG; with ``colors``, a palette image (smaller, for the static page)."""
        from PIL import Image

        canvas = self._fig.canvas
        w, h = canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        image = image.convert("RGB")
        if colors is not None:
            image = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                   dither=Image.Dither.NONE)
        buf = io.BytesIO()
        image.save(buf, format="png", compress_level=compress_level)
        return buf.getvalue()

    # -- live view -----------------------------------------------------------
    def widget(self):
        """The live view: one slider per grid, the figure as an image, the readout.

        Each slider's value is shown in a read-only label beside it (the
        ipywidgets readout of a ``SelectionSlider`` accepts typed text but
        ignores it). If a frame cannot be shown, a status line under the figure
        says why, in one sentence; the figure and the readout keep the last
        frame that could be shown, and the next good change clears the message.

        Returns:
            An ``ipywidgets.VBox`` with attributes ``controls`` (one control per
            slider), ``labels`` (the value label of each slider; ``None`` for a
            dropdown), ``image``, ``readout`` and ``status`` (``ipywidgets.HTML``).
        """
        if self._widget is not None:
            return self._widget
        import ipywidgets as widgets

        controls, labels, rows = [], [], []
        for s, i in zip(self.sliders, self._index):
            options = [(s.text(k), k) for k in range(len(s.values))]
            if s.choices is not None:
                control = widgets.Dropdown(options=options, value=i, description=s.label)
                label, row = None, control
            else:
                control = widgets.SelectionSlider(
                    options=options, value=i, description=s.label, continuous_update=True,
                    readout=False, layout=widgets.Layout(width="300px"))
                label = widgets.Label(value=s.text(i), layout=widgets.Layout(
                    min_width="4em", margin="0 1.5em 0 0.3em"))
                row = widgets.HBox([control, label])
            controls.append(control)
            labels.append(label)
            rows.append(row)
        readout = self.update(self._index)
        image = widgets.Image(value=self.render(), format="png",
                              layout=widgets.Layout(max_width="100%"))
        text = widgets.HTML(value=readout)
        status = widgets.HTML(value="", layout=widgets.Layout(display="none"))
        self._widget = widgets.VBox([widgets.HBox(rows, layout=widgets.Layout(
            flex_flow="row wrap")), image, status, text])
        self._widget.controls = controls
        self._widget.labels = labels
        self._widget.image = image
        self._widget.readout = text
        self._widget.status = status

        def on_change(_change):
            self._on_control_change(self._widget)

        for control in controls:
            control.observe(on_change, names="value")
        return self._widget

    def _on_control_change(self, view) -> None:
        """A control moved: show the new frame, or say in ``view.status`` why it cannot be.

        Nothing escapes: an exception in a widget callback would print a
        traceback into the notebook's log instead of telling the reader.
        """
        try:
            index = tuple(c.value for c in view.controls)
            for s, label, k in zip(self.sliders, view.labels, index):
                if label is not None:
                    label.value = s.text(k)
        except Exception as error:  # noqa: BLE001
            _show_status(view.status, f"These slider values cannot be read: {_say(error)}")
            return
        previous = self._index
        try:
            readout = self.update(index)
            png = self.render()
        except Exception as error:  # noqa: BLE001 -- the reader gets a sentence, not a traceback
            try:
                self.update(previous)          # the figure keeps the frame it showed
            except Exception:  # noqa: BLE001
                pass
            _show_status(view.status, f"Cannot show {self._describe_index(index)}: "
                                      f"{_say(error)}. The figure still shows "
                                      f"{self._describe_index(previous)}.")
            return
        view.readout.value = readout
        view.image.value = png
        _show_status(view.status, "")

    def _describe_index(self, index) -> str:
        """``"α = 0.05, β = 0.9"`` for a grid index (what the reader sees on the controls)."""
        try:
            return ", ".join(f"{s.label} = {s.text(i)}" for s, i in zip(self.sliders, index))
        except Exception:  # noqa: BLE001 -- an index off the grid
            return f"index {index!r}"

    # -- static view ----------------------------------------------------------
    def _style(self, artist) -> dict:
        from matplotlib.colors import to_hex

        lw_px = artist.get_linewidth() * self._fig.dpi / 72.0
        marker = artist.get_marker()
        has_marker = marker not in (None, "None", "", " ")
        style = {
            "color": to_hex(artist.get_color()),
            "width": round(lw_px, 2),
            "alpha": artist.get_alpha() if artist.get_alpha() is not None else 1.0,
            "dash": artist.get_linestyle() in ("--", "dashed"),
            "line": artist.get_linestyle() not in ("None", "none", "", " "),
            "marker": round(artist.get_markersize() * self._fig.dpi / 72.0 / 2.0, 2)
            if has_marker else 0,
            "fill": to_hex(artist.get_markerfacecolor()) if has_marker else None,
            "edge": _edge(artist) if has_marker else None,
        }
        return style

    def _to_pixels(self, name: str, x, y):
        """Data coordinates → SVG pixels (origin top-left), and the axes box in SVG pixels."""
        ax = self._artists[name].axes
        xy = np.column_stack([np.asarray(x, dtype=float).ravel(),
                              np.asarray(y, dtype=float).ravel()])
        with np.errstate(all="ignore"):
            if ax.get_yscale() == "log":
                xy[xy[:, 1] <= 0, 1] = np.nan
            if ax.get_xscale() == "log":
                xy[xy[:, 0] <= 0, 0] = np.nan
            px = ax.transData.transform(xy)
        height = self._fig.bbox.height
        px[:, 1] = height - px[:, 1]
        b = ax.bbox
        return px, (b.x0, height - b.y1, b.x1, height - b.y0)

    @staticmethod
    def _inside(px, box) -> list[np.ndarray]:
        """The finite points inside ``box``, each as a one-point piece (markers)."""
        inside = (np.all(np.isfinite(px), axis=1) & (px[:, 0] >= box[0]) & (px[:, 0] <= box[2])
                  & (px[:, 1] >= box[1]) & (px[:, 1] <= box[3]))
        return [p[None, :] for p in px[inside]]

    def _pixel_pieces(self, name: str, x, y):
        """What the static view draws for an artist: ``(pieces, flags)`` in SVG pixels.

        A line is clipped to its axes (flags mark the data vertices, which get
        markers); a marker-only artist gives its visible points.
        """
        px, box = self._to_pixels(name, x, y)
        if self._artists[name].get_linestyle() in ("None", "none", "", " "):
            points = self._inside(px, box)
            return points, [np.ones(1, bool) for _ in points]
        return _clip(px, box)

    def static_frames(self) -> list[dict]:
        """Every grid point's frame, encoded, in C order of the slider indices.

        Each frame is ``{"lines": [...], "readout": ...}`` with one entry per
        dynamic artist: its clipped polylines (see :func:`decode`).
        """
        artists = self._artists
        frames = []
        shown = self._shown_background
        for index in itertools.product(*(range(n) for n in self.shape)):
            data, readout = self.frame(index)
            self._use_background(self._background_of(index))
            frames.append({
                "lines": [_encode(*self._pixel_pieces(n, *data[n])) for n in artists],
                "readout": readout})
        self._use_background(shown)
        return frames

    @staticmethod
    def _static_control(s: Slider, i: int) -> str:
        label = html.escape(s.label)
        if s.choices is not None:
            options = "".join(f'<option value="{k}"{" selected" if k == i else ""}>'
                              f"{html.escape(c)}</option>" for k, c in enumerate(s.choices))
            control = (f'<select data-name="{html.escape(s.name)}" '
                       f'aria-label="{html.escape(s.name)}">{options}</select>')
        else:
            control = (f'<input type="range" min="0" max="{len(s.values) - 1}" step="1" '
                       f'value="{i}" data-name="{html.escape(s.name)}" '
                       f'aria-label="{html.escape(s.name)}" '
                       f'style="vertical-align:middle;width:200px"> '
                       f'<output style="font-family:monospace">{html.escape(s.text(i))}</output>')
        return (f'<label style="margin-right:1.5em;white-space:nowrap">{label} {control}'
                f"</label>")

    def static_html(self) -> str:
        """A self-contained HTML fragment: background PNG, SVG overlay, sliders, plain JS."""
        if self._static_html is not None:
            return self._static_html
        w, h = self._fig.canvas.get_width_height(physical=True)
        start = tuple(s.start_index for s in self.sliders)
        spec = {
            "width": w, "height": h, "scale": _SCALE, "sizes": list(self.shape),
            "labels": [[s.text(k) for k in range(len(s.values))] for s in self.sliders],
            "styles": [self._style(a) for a in self._artists.values()],
            "frames": self.static_frames(),
            "background": None if self.background_slider is None else
            [s.name for s in self.sliders].index(self.background_slider),
            # the starting background is the <img>'s own src (null here: not stored twice)
            "images": [] if self.background_slider is None else
            [None if k == self._background_of(start) else
             "data:image/png;base64," + base64.b64encode(p).decode("ascii")
             for k, p in enumerate(self._background_pngs)],
        }
        payload = json.dumps(spec, separators=(",", ":"), ensure_ascii=False)
        start = tuple(s.start_index for s in self.sliders)
        png = base64.b64encode(self._background_pngs[self._background_of(start)]).decode("ascii")
        uid = "optlib-x-" + hashlib.sha1(payload.encode()).hexdigest()[:12]
        controls = "".join(self._static_control(s, i) for s, i in zip(self.sliders, start))
        self._static_html = (
            f'<div class="optlib-exploration" id="{uid}" data-exploration="{self.name}" '
            f'style="max-width:{w}px">'
            f'<div class="optlib-controls" style="margin:0.3em 0">{controls}</div>'
            f'<div style="position:relative;width:100%">'
            f'<img src="data:image/png;base64,{png}" alt="{html.escape(self.name)} exploration" '
            f'style="width:100%;height:auto;display:block;margin:0">'
            f'<svg viewBox="0 0 {w} {h}" preserveAspectRatio="none" '
            f'style="position:absolute;left:0;top:0;width:100%;height:100%"></svg></div>'
            f'<div class="optlib-readout" style="margin:0.3em 0;font-size:0.9em"></div>'
            f'<script type="application/json" class="optlib-data">{payload}</script>'
            f"<script>{_STATIC_JS}</script></div>"
        )
        return self._static_html

    # -- display ---------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": repr(self), "text/html": self.static_html()}
        if os.environ.get(STATIC_ONLY_ENV) == "1":
            # Building the static book: no kernel will ever drive a widget, and a widget
            # would only add its state (and CDN scripts) to the page.
            return bundle
        try:
            view = self.widget()._repr_mimebundle_()
        except Exception:  # no widget front end (e.g. plain Python): static view only
            view = {}
        bundle.update({k: v for k, v in view.items() if k != "text/plain"})
        return bundle

    def __repr__(self) -> str:
        grid = ", ".join(f"{s.name}: {len(s.values)} values" for s in self.sliders)
        return f"<{type(self).__name__} {self.name!r} ({grid})>"


def _say(error: BaseException) -> str:
    """An exception as one short sentence: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _show_status(status, message: str) -> None:
    """Show ``message`` (plain text) in the status line as an error, or hide it when empty."""
    if not message:
        status.value = ""
        status.layout.display = "none"
        return
    status.value = (f'<div class="optlib-status" role="alert" style="color:#b00020;'
                    f'border-left:4px solid #b00020;padding:0.2em 0.6em;margin:0.2em 0">'
                    f"✘ {html.escape(message)}</div>")
    status.layout.display = None


def _grid_text(s: Slider) -> str:
    """The grid of a slider for a message: its values, or its range when there are many."""
    if len(s.values) <= 8:
        return "one of " + ", ".join(s.text(k) for k in range(len(s.values)))
    return (f"{len(s.values)} values from {s.text(0)} to {s.text(len(s.values) - 1)}")


# The whole client side of a static exploration. It finds its own container,
# decodes the frame for the current slider indices and draws it as SVG paths.
_STATIC_JS = r"""
(function () {
  var root = document.currentScript.parentElement;
  var spec = JSON.parse(root.querySelector("script.optlib-data").textContent);
  var svg = root.querySelector("svg"), NS = "http://www.w3.org/2000/svg";
  var inputs = root.querySelectorAll("input[type=range], select");
  var img = root.querySelector("img"), firstImage = img.getAttribute("src");
  var readout = root.querySelector(".optlib-readout");
  function layer(attrs) {
    var p = document.createElementNS(NS, "path");
    for (var a in attrs) p.setAttribute(a, attrs[a]);
    svg.appendChild(p);
    return p;
  }
  var layers = spec.styles.map(function (s) {
    return {
      line: s.line ? layer({"fill": "none", "stroke": s.color, "stroke-width": s.width,
                            "opacity": s.alpha, "stroke-linejoin": "round",
                            "stroke-dasharray": s.dash ? 3.7 * s.width + " " + 1.6 * s.width
                                                       : "none"}) : null,
      dots: s.marker > 0 ? layer({"fill": s.fill, "stroke": s.edge, "stroke-width": 1,
                                  "opacity": s.alpha}) : null
    };
  });
  function decode(b64) {
    var bin = atob(b64), out = new Int16Array(bin.length >> 1);
    for (var i = 0; i < out.length; i++) {
      out[i] = ((bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8)) << 16) >> 16;
    }
    return out;
  }
  function points(data, each) {
    var start = true, clip = false, k = spec.scale;
    for (var i = 0; i < data.length; ) {
      if (data[i] === -32768) { start = true; i += 1; continue; }
      if (data[i] === -32767) { clip = true; i += 1; continue; }
      each(data[i] / k, data[i + 1] / k, start, !clip);
      start = false;
      clip = false;
      i += 2;
    }
  }
  function draw(data, style, layer) {
    var line = [], dots = [], r = style.marker;
    if (layer.line) {
      points(data, function (x, y, start) {
        line.push((start ? "M" : "L") + x.toFixed(1) + " " + y.toFixed(1));
      });
      layer.line.setAttribute("d", line.join(""));
    }
    if (layer.dots) {
      points(data, function (x, y, start, isData) {
        if (isData) dots.push("M" + (x - r).toFixed(1) + " " + y.toFixed(1) + "a" + r + " " + r +
                  " 0 1 0 " + 2 * r + " 0a" + r + " " + r + " 0 1 0 " + -2 * r + " 0");
      });
      layer.dots.setAttribute("d", dots.join(""));
    }
  }
  function show() {
    var k = 0;
    for (var i = 0; i < inputs.length; i++) {
      var v = +inputs[i].value;
      k = k * spec.sizes[i] + v;
      var out = inputs[i].parentElement.querySelector("output");
      if (out) out.textContent = spec.labels[i][v];
      if (i === spec.background) {
        var image = spec.images[v] || firstImage;
        if (img.getAttribute("src") !== image) img.setAttribute("src", image);
      }
    }
    var frame = spec.frames[k];
    for (var j = 0; j < layers.length; j++) {
      draw(decode(frame.lines[j]), spec.styles[j], layers[j]);
    }
    readout.innerHTML = frame.readout;
  }
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener("input", show);
    inputs[i].addEventListener("change", show);
  }
  show();
})();
"""


# --------------------------------------------------------------------------
# Trajectories on a contour plot, with a loss curve
# --------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:.3g}" if np.isfinite(x) else "—"


#: a run is stopped as diverged once f(w) exceeds this many times max(1, |f(w₀)|)
#: (``optlib.run``'s default rule, passed explicitly so that the readout can quote the bound)
_BLOWUP = 1e6


def _max_loss(objective, start) -> float | None:
    """The loss bound of a run from ``start`` (``None`` for a batch of start points)."""
    start = np.asarray(start, dtype=float)
    if start.shape != (2,):
        return None
    with np.errstate(all="ignore"):
        f0 = float(objective.value(start))
    return _BLOWUP * max(1.0, abs(f0)) if np.isfinite(f0) else None


def _diverged_text(step: int, max_loss: float | None) -> str:
    """``"diverged at step 7: f(w) exceeded 5e+07, so the run stops there"``."""
    if max_loss is None:
        return f"<b>diverged</b> at step {int(step)}"
    return (f"<b>diverged</b> at step {int(step)}: f(w) exceeded {_fmt(max_loss)}, so the run "
            f"stops there")


class TrajectoryExplorer(Exploration):
    r"""An optimizer's path on a contour plot and its loss curve, per slider setting.

    Args:
        objective: the objective (``optlib.objectives``).
        optimizer: optimizer class or factory called with keyword hyperparameters;
            slider hyperparameters arrive as arrays of shape ``(n1, ..., nk, 1)``.
        sliders: the sliders, one per hyperparameter.
        fixed: further hyperparameters, held constant.
        steps: steps per run.
        start: start point (default ``objective.start``).
        eigenbasis: add a panel with the path in the Hessian's eigenbasis
            (for a rotated :class:`~optlib.objectives.Quadratic`).
        panel: the right-hand panel: ``"loss"`` (:math:`f(w_t) - f^*`) or
            ``"steps"``, the effective step size of each coordinate,
            :math:`-\Delta w_i / g_i` (:math:`\alpha` for gradient descent,
            :math:`\alpha/(\sqrt{s_i}+\varepsilon)` for RMSprop).
        note: optional ``note(values) -> str`` appended to the readout, e.g. a
            closed-form prediction for these slider values.
        name: short name for benchmarks and the HTML.

    Examples:
        >>> from optlib import GradientDescent
        >>> from optlib.objectives import Quadratic
        >>> ex = TrajectoryExplorer(Quadratic(), GradientDescent,
        ...                         [Slider("lr", [0.01, 0.05, 0.09])], steps=30)
        >>> ex.frame((2,))[1].startswith("α = 0.09")
        True
    """

    def __init__(self, objective, optimizer, sliders, *, fixed=None, steps: int = 60,
                 start=None, eigenbasis: bool = False, note=None, name: str = "trajectory",
                 panel: str = "loss", color: str | None = None, width: float | None = None,
                 height: float = 3.6, dpi: int = 80):
        if panel not in ("loss", "steps"):
            raise ValueError(f"panel must be 'loss' or 'steps', got panel={panel!r}")
        self.panel = panel
        self.objective = objective
        self.steps = steps
        self.note = note
        self.name = name
        self.eigenbasis = eigenbasis
        self._color = color or COLORS.get(getattr(optimizer, "__name__", ""), "#d62728")
        sliders = list(sliders)
        grids = np.meshgrid(*[np.asarray(s.values) for s in sliders], indexing="ij")
        hyper = {s.name: g[..., None] for s, g in zip(sliders, grids)}
        hyper.update(fixed or {})
        self.optimizer = optimizer(**hyper)
        start = objective.start if start is None else np.asarray(start, dtype=float)
        self.max_loss = _max_loss(objective, start)
        self.trajectory = run(self.optimizer, objective, start, steps, max_loss=self.max_loss)
        self._gap = np.maximum(self.trajectory.losses - objective.min_value, 1e-300)
        if panel == "steps":
            self.effective_steps = self.trajectory.effective_steps()
        width = width if width is not None else (12.0 if eigenbasis else 9.0)
        super().__init__(sliders, width=width, height=height, dpi=dpi)

    def _draw(self, fig):
        n = 3 if self.eigenbasis else 2
        axes = fig.subplots(1, n, width_ratios=[1.6] * (n - 1) + [1])
        contour(axes[0], self.objective)
        axes[0].set_title(self.objective.name)
        artists = {
            "path": axes[0].plot([], [], "-o", color=self._color, lw=1.5, ms=2.5, mec="none")[0],
            "end": axes[0].plot([], [], "o", color=self._color, ms=7, mec="black")[0],
        }
        if self.eigenbasis:
            flat = Quadratic(curvatures=self.objective.curvatures)
            contour(axes[1], flat, xlabel="$u_1$ (flat eigendirection)",
                    ylabel="$u_2$ (steep eigendirection)")
            axes[1].set_title("the same run in the eigenbasis")
            artists["eigen"] = axes[1].plot([], [], "-", color=self._color, lw=1.5)[0]
        if self.panel == "steps":
            artists.update(self._steps_panel(axes[-1]))
            return artists
        finite = self._gap[np.isfinite(self._gap)]
        lo = max(finite.min(), 1e-12) if finite.size else 1e-12
        hi = max(finite.max(), lo * 10) if finite.size else 1.0
        loss_axes(axes[-1], self.steps, title=r"$f(w_t) - f^*$", ylim=(lo / 3, hi * 3))
        axes[-1].set_title("loss")
        artists["loss"] = axes[-1].plot([], [], "-", color=self._color, lw=1.5)[0]
        return artists

    def _steps_panel(self, ax) -> dict:
        eff = self.effective_steps
        finite = eff[np.isfinite(eff) & (eff > 0)]
        # Percentiles, not extremes: where a gradient passes through 0 the ratio spikes.
        lo, hi = np.percentile(finite, [0.5, 99.5]) if finite.size else (1e-3, 1.0)
        loss_axes(ax, self.steps, title=r"effective step $-\Delta w_i / g_i$",
                  ylim=(lo / 2, hi * 2))
        ax.set_title("step size per coordinate")
        xl, yl = getattr(self.objective, "labels", ("$W_1$", "$W_2$"))
        lines = {"step1": ax.plot([], [], "-", color="#ff7f0e", lw=1.8, label=xl)[0],
                 "step2": ax.plot([], [], "-", color="#2ca02c", lw=1.8, label=yl)[0]}
        ax.legend(loc="lower right", fontsize=8)
        return lines

    def frame(self, index):
        index = tuple(index)
        pts = self.trajectory.points[(slice(None),) + index]
        gap = self._gap[(slice(None),) + index]
        finite = np.all(np.isfinite(pts), axis=-1)
        last = pts[finite][-1:]
        data = {"path": (pts[:, 0], pts[:, 1]), "end": (last[:, 0], last[:, 1])}
        if self.panel == "steps":
            eff = self.effective_steps[(slice(None),) + index]
            t = np.arange(1, self.steps + 1)
            data["step1"], data["step2"] = (t, eff[:, 0]), (t, eff[:, 1])
        else:
            data["loss"] = (np.arange(self.steps + 1), gap)
        if self.eigenbasis:
            u = (pts - self.objective.minimum) @ self.objective.eigenvectors
            data["eigen"] = (u[:, 0], u[:, 1])
        return data, self._readout(index, gap)

    def _readout(self, index, gap) -> str:
        values = self.values(index)
        head = ", ".join(f"{s.label} = {s.text(i)}" for s, i in zip(self.sliders, index))
        diverged_at = np.asarray(self.trajectory.diverged_at)[index]
        if diverged_at >= 0:
            body = _diverged_text(diverged_at, self.max_loss)
        else:
            body = f"after {self.steps} steps f(w) − f* = {_fmt(gap[-1])}"
            if gap[-1] > gap[0]:
                body += f", up from {_fmt(gap[0])} at the start"
        text = f"{head}: {body}"
        if self.note is not None:
            text += f"; {self.note(values)}"
        return text


# --------------------------------------------------------------------------
# Momentum: the convergence-rate map over (α, β) with a probe
# --------------------------------------------------------------------------
class MomentumRateExplorer(Exploration):
    r"""Heatmap of momentum's rate over (α, β) on a quadratic, with a movable probe.

    The map shows the spectral radius of the iteration matrix
    (:func:`optlib.analysis.momentum_spectral_radius`); the star marks the
    theoretical optimum :func:`optlib.analysis.momentum_optimal`. The probe's
    (α, β) run is drawn on the contour plot, and the readout compares its
    measured rate with the predicted one.
    """

    name = "momentum_rate"

    def __init__(self, objective=None, lrs=None, betas=None, steps: int = 80, fine: int = 160,
                 dpi: int = 80):
        self.objective = objective if objective is not None else Quadratic()
        lam = self.objective.curvatures
        limit = analysis.gd_stability_limit(lam)
        lrs = np.geomspace(limit / 20, limit * 20, 17) if lrs is None else lrs
        betas = np.round(np.linspace(0.0, 0.95, 20), 4) if betas is None else betas
        self.steps = steps
        self.optimum = analysis.momentum_optimal(lam)
        sliders = [Slider("lr", lrs, initial=self.optimum.lr),
                   Slider("beta", betas, initial=self.optimum.beta, fmt="{:.2f}")]
        self._fine_lr = np.geomspace(min(lrs), max(lrs), fine)
        self._fine_beta = np.linspace(min(betas), max(betas), fine)
        self._rates = analysis.momentum_spectral_radius(self._fine_lr[None, :],
                                                        self._fine_beta[:, None], lam)
        grid_lr, grid_beta = np.meshgrid(sliders[0].values, sliders[1].values, indexing="ij")
        self.max_loss = _max_loss(self.objective, self.objective.start)
        self.trajectory = run(Momentum(lr=grid_lr[..., None], beta=grid_beta[..., None]),
                              self.objective, self.objective.start, steps,
                              max_loss=self.max_loss)
        self.predicted = analysis.momentum_spectral_radius(grid_lr, grid_beta, lam)
        super().__init__(sliders, width=10.0, height=3.8, dpi=dpi)

    def _draw(self, fig):
        ax_map, ax_path = fig.subplots(1, 2, width_ratios=[1, 1.4])
        import matplotlib

        cmap = matplotlib.colormaps["viridis_r"].with_extremes(over="0.75")
        image = ax_map.pcolormesh(self._fine_lr, self._fine_beta, self._rates, cmap=cmap,
                                  vmin=self.optimum.rate * 0.9, vmax=1.0, shading="auto")
        ax_map.contour(self._fine_lr, self._fine_beta, self._rates, levels=[1.0],
                       colors="red", linewidths=1.0)
        ax_map.set_xscale("log")
        ax_map.plot([self.optimum.lr], [self.optimum.beta], "*", color="gold", ms=13,
                    mec="black", label="optimum")
        ax_map.set_xlabel(r"learning rate $\alpha$")
        ax_map.set_ylabel(r"momentum $\beta$")
        ax_map.set_title(r"rate $\rho(\alpha, \beta)$ (grey: diverges)")
        fig.colorbar(image, ax=ax_map, extend="max", label=r"$\rho$ (lower is faster)")
        contour(ax_path, self.objective)
        ax_path.set_title("the probe's run")
        color = COLORS["Momentum"]
        return {
            "probe": ax_map.plot([], [], "o", color="white", ms=8, mec="black")[0],
            "path": ax_path.plot([], [], "-o", color=color, lw=1.5, ms=2.5, mec="none")[0],
        }

    def frame(self, index):
        i, j = index
        pts = self.trajectory.points[:, i, j]
        lr, beta = self.sliders[0].values[i], self.sliders[1].values[j]
        rho = float(self.predicted[i, j])
        if self.trajectory.diverged[i, j]:
            measured = _diverged_text(self.trajectory.diverged_at[i, j], self.max_loss)
        else:
            measured = f"measured rate {_fmt(self._measured(i, j))}"
        regime = analysis.momentum_regime(lr, beta, self.objective.curvatures[-1])
        readout = (f"α = {self.sliders[0].text(i)}, β = {self.sliders[1].text(j)}: predicted "
                   f"rate ρ = {_fmt(rho)}, {measured}; steep direction: {regime}. "
                   f"Optimum α* = {_fmt(self.optimum.lr)}, β* = {_fmt(self.optimum.beta)}, "
                   f"ρ* = {_fmt(self.optimum.rate)}")
        return {"probe": ([lr], [beta]), "path": (pts[:, 0], pts[:, 1])}, readout

    def _measured(self, i, j) -> float:
        d = np.linalg.norm(self.trajectory.points[:, i, j] - self.objective.minimum, axis=-1)
        use = np.flatnonzero(d > 1e-9 * d[0])
        if use.size < 10:
            return float("nan")
        tail = use[use.size // 2:]
        return float(np.exp(np.polyfit(tail, np.log(d[tail]), 1)[0]))


# --------------------------------------------------------------------------
# Exponentially weighted averages
# --------------------------------------------------------------------------
class EMAExplorer(Exploration):
    r"""The weights of an exponentially weighted average, and the average of a noisy signal.

    .. math::

        v_t = \beta\, v_{t-1} + (1-\beta)\, g_t = \sum_{k=1}^{t} (1-\beta)\beta^{t-k} g_k

    Left: the weight of :math:`g_{t-k}` in :math:`v_t`; the dashed line marks the
    window :math:`1/(1-\beta)`. Right: a noisy signal, its average (biased
    toward 0 at the start) and the bias-corrected average :math:`v_t/(1-\beta^t)`.
    """

    name = "ema"

    def __init__(self, betas=None, steps: int = 100, lags: int = 60, seed: int = 0,
                 dpi: int = 80):
        betas = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98) if betas is None else betas
        self.steps, self.lags = steps, lags
        rng = np.random.default_rng(seed)
        t = np.arange(1, steps + 1)
        self.signal = 1.0 + 0.5 * np.sin(t / 12.0) + rng.normal(0.0, 0.4, steps)
        beta = np.asarray(betas, dtype=float)[:, None]
        # v_t for every beta at once, exactly as Momentum's buffer accumulates it.
        v = np.zeros((beta.shape[0], steps))
        acc = np.zeros((beta.shape[0], 1))
        for k in range(steps):
            acc = beta * acc + (1.0 - beta) * self.signal[k]
            v[:, k] = acc[:, 0]
        self.average = v
        self.corrected = v / analysis.ema_bias(beta, t[None, :])
        super().__init__([Slider("beta", betas, initial=0.9, fmt="{:.2f}")], width=9.0,
                         height=3.4, dpi=dpi)

    def _draw(self, fig):
        ax_w, ax_s = fig.subplots(1, 2)
        ax_w.set_xlim(-0.5, self.lags + 0.5)
        ax_w.set_ylim(0, 1.05)
        ax_w.set_xlabel(r"lag $k$ (weight of $g_{t-k}$)")
        ax_w.set_ylabel("weight")
        ax_w.set_title(r"weights $(1-\beta)\beta^k$")
        ax_s.plot(np.arange(1, self.steps + 1), self.signal, ".", color="0.6", ms=4,
                  label="signal $g_t$")
        ax_s.set_xlim(0, self.steps)
        ax_s.set_ylim(min(0.0, self.signal.min()) - 0.1, self.signal.max() + 0.1)
        ax_s.set_xlabel("step $t$")
        ax_s.set_ylabel("value")
        ax_s.set_title("the average of a noisy signal")
        artists = {
            "weights": ax_w.plot([], [], "-", color=COLORS["Momentum"], lw=4)[0],
            "window": ax_w.plot([], [], "--", color="black", lw=1)[0],
            "average": ax_s.plot([], [], "-", color=COLORS["Momentum"], lw=2,
                                 label=r"$v_t$")[0],
            "corrected": ax_s.plot([], [], "--", color=COLORS["Adam"], lw=2,
                                   label=r"$v_t / (1-\beta^t)$")[0],
        }
        ax_s.legend(loc="lower right", fontsize=8)
        return artists

    def frame(self, index):
        (i,) = index
        beta = self.sliders[0].values[i]
        k = np.arange(self.lags + 1, dtype=float)
        w = (1.0 - beta) * beta ** k
        # stems: (k, 0) → (k, w), separated by breaks
        sx = np.column_stack([k, k, np.full_like(k, np.nan)]).ravel()
        sy = np.column_stack([np.zeros_like(w), w, np.full_like(w, np.nan)]).ravel()
        window = analysis.ema_window(beta)
        t = np.arange(1, self.steps + 1)
        readout = (f"β = {self.sliders[0].text(i)}: window 1/(1−β) ≈ {_fmt(window)} steps; "
                   f"after 1 step the average is (1−β)·g₁ = {_fmt(1 - beta)}·g₁, after 10 steps "
                   f"the weights sum to 1 − β¹⁰ = {_fmt(analysis.ema_bias(beta, 10))}")
        return {"weights": (sx, sy), "window": ([window, window], [0, 1.05]),
                "average": (t, self.average[i]), "corrected": (t, self.corrected[i])}, readout


# --------------------------------------------------------------------------
# Every optimizer on a choice of objectives
# --------------------------------------------------------------------------
class ComparisonExplorer(Exploration):
    r"""Several optimizers on a choice of objectives, from one start, with a shared step slider.

    Args:
        objectives: ``{name: objective}``; the dropdown chooses one.
        optimizers: ``{label: factory}`` where ``factory(objective)`` returns a
            fresh optimizer (so a learning rate may depend on the objective).
        steps: the step slider's values (each ≤ ``max(steps)``, the run length).
        tol: tolerance on :math:`f - f^*` for the steps-to-tolerance readout.
        name: short name for benchmarks and the HTML.

    Attributes:
        trajectories: ``{objective name: {optimizer label: Trajectory}}``.
        max_losses: ``{objective name: bound}``: a run whose f(w) exceeds the bound
            is stopped as diverged (the readout quotes it).
    """

    background_slider = "objective"

    def __init__(self, objectives: dict, optimizers: dict, steps=(0, 5, 10, 20, 40, 80, 150, 300),
                 tol: float = 1e-6, name: str = "comparison", dpi: int = 80):
        if not objectives or not optimizers:
            raise ValueError("objectives and optimizers must each name at least one entry")
        self.objectives, self.name, self.tol = dict(objectives), name, tol
        self.labels = list(optimizers)
        total = int(max(steps))
        self.max_losses = {key: _max_loss(obj, obj.start) for key, obj in self.objectives.items()}
        self.trajectories = {
            key: {label: run(make(obj), obj, obj.start, total, max_loss=self.max_losses[key])
                  for label, make in optimizers.items()}
            for key, obj in self.objectives.items()}
        self._background_parts = []
        sliders = [Slider.choice("objective", list(self.objectives), label="objective"),
                   Slider("t", steps, initial=steps[len(steps) // 2], fmt="{:.0f}")]
        super().__init__(sliders, width=10.0, height=3.8, dpi=dpi)

    def _color(self, label: str, k: int) -> str:
        palette = ["#d62728", "#1f77b4", "#17becf", "#2ca02c", "#8c564b", "#9467bd", "#e377c2",
                   "#7f7f7f", "#bcbd22"]
        return COLORS.get(label, palette[k % len(palette)])

    def _draw(self, fig):
        self._ax_path, self._ax_loss = fig.subplots(1, 2, width_ratios=[1.3, 1])
        artists = {}
        for k, label in enumerate(self.labels):
            color = self._color(label, k)
            artists[f"path:{label}"] = self._ax_path.plot([], [], "-", color=color, lw=1.6,
                                                          label=label)[0]
            artists[f"end:{label}"] = self._ax_path.plot([], [], "o", color=color, ms=6,
                                                         mec="black")[0]
            artists[f"loss:{label}"] = self._ax_loss.plot([], [], "-", color=color, lw=1.6,
                                                          label=label)[0]
        self._ax_loss.legend(loc="upper right", fontsize=7, ncol=2)
        self._show_background(0)
        return artists

    def _show_background(self, k: int) -> None:
        for part in self._background_parts:
            part.remove()
        ax, key = self._ax_path, list(self.objectives)[k]
        objective = self.objectives[key]
        before = set(ax.get_children())
        contour(ax, objective)
        ax.set_title(key)
        self._background_parts = [a for a in ax.get_children() if a not in before]
        gaps = np.concatenate([self._gap(t).ravel() for t in self.trajectories[key].values()])
        finite = gaps[np.isfinite(gaps)]
        lo = max(finite.min(), 1e-16) if finite.size else 1e-12
        hi = max(finite.max(), lo * 10) if finite.size else 1.0
        loss_axes(self._ax_loss, int(self.sliders[1].values[-1]), title=r"$f(w_t) - f^*$",
                  ylim=(lo / 3, hi * 3))
        self._ax_loss.set_title("loss")

    @staticmethod
    def _gap(trajectory) -> np.ndarray:
        return np.maximum(trajectory.losses - trajectory.objective.min_value, 1e-300)

    def frame(self, index):
        k, i = index
        key = list(self.objectives)[k]
        t = int(self.sliders[1].values[i])
        data, parts = {}, []
        for label, traj in self.trajectories[key].items():
            pts, gap = traj.points[:t + 1], self._gap(traj)[:t + 1]
            finite = np.all(np.isfinite(pts), axis=-1)
            last = pts[finite][-1:]
            data[f"path:{label}"] = (pts[:, 0], pts[:, 1])
            data[f"end:{label}"] = (last[:, 0], last[:, 1])
            data[f"loss:{label}"] = (np.arange(t + 1), gap)
            reached = traj.steps_to(self.tol)
            gap_t = traj.losses[t] - traj.objective.min_value if t < len(traj.losses) else np.nan
            if traj.diverged and traj.diverged_at <= t:
                limit = self.max_losses[key]
                status = f"diverged at step {traj.diverged_at}" + (
                    "" if limit is None else f" (f(w) > {_fmt(limit)})")
            else:
                status = f"f − f* = {_fmt(gap_t)}"
            if 0 <= reached <= t:
                status += f" (≤ {self.tol:g} from step {reached})"
            parts.append(f"<b>{html.escape(label)}</b> {status}")
        readout = f"{html.escape(key)}, step {t}: " + " · ".join(parts)
        return data, readout

    def steps_table(self) -> str:
        """Steps to reach f − f* ≤ tol for every optimizer (rows) and objective (columns)."""
        keys = list(self.objectives)
        width = max(len(label) for label in self.labels) + 2
        lines = [" " * width + "".join(f"{key:>20}" for key in keys)]
        for label in self.labels:
            cells = []
            for key in keys:
                traj = self.trajectories[key][label]
                n = traj.steps_to(self.tol)
                cells.append("diverged" if traj.diverged else ("—" if n < 0 else str(n)))
            lines.append(f"{label:<{width}}" + "".join(f"{c:>20}" for c in cells))
        return "\n".join(lines)
