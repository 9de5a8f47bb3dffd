r"""The book's figure style, shared by every chapter and exploration.

One style for every picture in the book:

* **Column size.** A figure is at most :data:`COLUMN_WIDTH` (7 inches) wide: the
  book's text column (688 CSS pixels ≈ 7.2 in at 96 px per inch), so it is shown
  at its natural size, never shrunk. Fonts are at least :data:`MIN_FONT_PT`
  (11 pt), which on screen is 11 pt too. :func:`show` displays a figure as a PNG
  drawn at twice the screen's resolution (crisp on high-density screens) and
  refuses a figure that breaks either rule (:func:`legibility_problems`).
* **One colour per optimizer** (:data:`COLORS`), chosen so that (a) each
  contrasts at least 3:1 (WCAG 2.1, 1.4.11) with the darkest fill of
  :func:`contour` (:data:`CONTOUR_FILL`) and with white, and (b) any two stay
  apart for readers with protanopia, deuteranopia or tritanopia (CIELAB
  distance > 25 between the simulated colours). Lines and reference marks that
  are not an optimizer use :data:`NEUTRAL`.
* **Figures without pyplot** (:func:`figure`): an exploration never shows a
  stray figure in a notebook; contour levels are spaced geometrically so both
  the flat floor and the steep walls of a bowl show.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
from cycler import cycler
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.text import Text

from ._validate import real, whole
from .objectives import window

__all__ = ["COLORS", "color_of", "NEUTRAL", "CONTOUR_FILL", "COLUMN_WIDTH", "SCREEN_DPI", "MIN_FONT_PT",
           "RC", "style", "use_style", "figure", "new_figure", "contour", "loss_axes",
           "legibility_problems", "show", "png_bytes"]

#: One colour per optimizer, the same in every figure and exploration of the book. It
#: maps a name ("GradientDescent", "Momentum", "Nesterov", "RMSprop", "Adagrad", "Adam",
#: "AdamW", "AMSGrad") to a hex colour.
COLORS = {
    "GradientDescent": "#cb3e53",
    "Momentum": "#153acd",
    "Nesterov": "#01869a",
    "RMSprop": "#004b0e",
    "Adagrad": "#ad6a0a",
    "Adam": "#5d1474",
    "AdamW": "#6e0e46",
    "AMSGrad": "#000000",
}

def color_of(label: str, k: int = 0) -> str:
    """The colour of optimizer ``label`` (:data:`COLORS`); for another label, the ``k``-th
    colour of the palette (so the ``k``-th of several unnamed series gets its own)."""
    palette = list(COLORS.values())
    return COLORS.get(label, palette[k % len(palette)])


#: Colours for what is not an optimizer (a signal, a prediction, a second coordinate);
#: three greys, each ≥ 3:1 against the contour fill (black is AMSGrad's).
NEUTRAL = ("#3b3b3b", "#5c5c5c", "#767676")

#: The fill of the contour plots, from the lowest level (darkest) to the highest.
CONTOUR_FILL = ("#d6e2ec", "#fbfcfd")

#: Width of the book's text column in inches; no figure is wider.
COLUMN_WIDTH = 7.0

#: Screen pixels per inch, as CSS counts them; a figure ``w`` inches wide is shown
#: ``96·w`` pixels wide.
SCREEN_DPI = 96

#: The smallest font size in a figure, in points (on screen, as figures are never shrunk).
MIN_FONT_PT = 11.0

#: The matplotlib settings of the book's style, as used by ``style`` and ``use_style``;
#: fonts of ``MIN_FONT_PT``, 96 pixels per inch on screen and twice that in saved
#: images, the optimizers' colours as the colour cycle.
#:
#: :meta hide-value:
RC = {
    "figure.dpi": SCREEN_DPI,
    "savefig.dpi": 2 * SCREEN_DPI,
    "figure.figsize": (COLUMN_WIDTH, 3.25),
    "figure.constrained_layout.use": True,
    "font.size": MIN_FONT_PT,
    "axes.titlesize": MIN_FONT_PT,
    "axes.labelsize": MIN_FONT_PT,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT,
    "figure.titlesize": 12.0,
    "lines.linewidth": 1.8,
    "axes.prop_cycle": cycler(color=list(COLORS.values())),
    "svg.hashsalt": "optlib",
}

_FILL = LinearSegmentedColormap.from_list("optlib_contour", CONTOUR_FILL)


@contextlib.contextmanager
def style():
    """Context manager: draw with the book's style (:data:`RC`), then restore the settings."""
    import matplotlib

    with matplotlib.rc_context(RC):
        yield


def use_style() -> None:
    """Make the book's style (:data:`RC`) matplotlib's default from now on (a chapter's
    first cell calls it once)."""
    import matplotlib

    matplotlib.rcParams.update(RC)


def new_figure(width: float = COLUMN_WIDTH, height: float = 3.25,
               dpi: int = SCREEN_DPI) -> Figure:
    """A pyplot-free figure with constrained layout, drawn by Agg."""
    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure(nrows: int = 1, ncols: int = 1, *, height: float = 3.25,
           width: float = COLUMN_WIDTH, mosaic=None, **subplots):
    """A figure in the book's style and its axes: ``fig, axes = figure(1, 2, height=3)``.

    It applies :func:`use_style` (so titles, labels and legends added afterwards
    get the book's fonts) and makes a pyplot-free figure at most the column's
    width, to be displayed with :func:`show`.

    Args:
        nrows, ncols: the grid of axes (whole numbers ≥ 1).
        height: inches (> 0).
        width: inches, at most :data:`COLUMN_WIDTH`.
        mosaic: instead of a grid, a layout for matplotlib's ``Figure.subplot_mosaic``,
            e.g. ``[["top", "top"], ["left", "right"]]`` (one wide panel over two);
            ``nrows`` and ``ncols`` are then ignored.
        **subplots: passed on to matplotlib's ``Figure.subplots`` (or
            ``subplot_mosaic``): ``width_ratios``, ``sharey``, ``squeeze``, ...

    Returns:
        ``(fig, axes)`` as matplotlib's ``pyplot.subplots`` returns them; with
        ``mosaic``, ``axes`` is a dict of axes by the mosaic's names.

    Raises:
        ValueError: for a width above the column's or a size that is not positive.
    """
    nrows = whole("nrows", nrows, low=1)
    ncols = whole("ncols", ncols, low=1)
    height = real("height", height, low=0.0, low_inclusive=False)
    width = real("width", width, low=0.0, high=COLUMN_WIDTH, low_inclusive=False)
    use_style()
    fig = new_figure(width, height)
    if mosaic is not None:
        return fig, fig.subplot_mosaic(mosaic, **subplots)
    return fig, fig.subplots(nrows, ncols, **subplots)


def contour(ax, objective, n: int = 160, levels: int = 14, xlabel: str | None = None,
            ylabel: str | None = None, mark_minimum: bool = True, bounds=None):
    """Filled contour plot of ``objective`` over its ``bounds`` (or the window
    ``bounds=((xmin, xmax), (ymin, ymax))``) on ``ax``.

    Levels are geometric in :math:`f - f^* + \\delta` so both flat and steep
    regions show. The fill runs from :data:`CONTOUR_FILL`'s first colour (the
    lowest level) to its second, light enough that every colour of
    :data:`COLORS` contrasts at least 3:1 with it. Returns the contour set.
    """
    if bounds is not None:
        bounds = window("bounds", bounds)
    x, y, z = objective.grid(n, bounds=bounds)
    gap = z - z.min()
    top = np.percentile(gap, 95)
    low = max(top * 1e-4, 1e-12)
    lv = z.min() + np.geomspace(low, top, levels)
    cs = ax.contourf(x, y, z, levels=np.concatenate([[z.min()], lv, [z.max()]]), cmap=_FILL)
    ax.contour(x, y, z, levels=lv, colors="#9fb2c4", linewidths=0.6)
    if mark_minimum and getattr(objective, "minimum", None) is not None:
        m = objective.minimum
        ax.plot([m[0]], [m[1]], marker="*", color="gold", markersize=13,
                markeredgecolor="black", linestyle="none", zorder=5)
    (x0, x1), (y0, y1) = objective.bounds if bounds is None else bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    labels = getattr(objective, "labels", ("$W_1$", "$W_2$"))
    ax.set_xlabel(labels[0] if xlabel is None else xlabel)
    ax.set_ylabel(labels[1] if ylabel is None else ylabel)
    return cs


def loss_axes(ax, steps: int, title: str = "loss", log: bool = True, ylim=None):
    """Prepare ``ax`` for a loss curve over ``steps`` steps."""
    ax.set_xlim(0, steps)
    if log:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(title)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def legibility_problems(fig: Figure) -> list[str]:
    """What keeps ``fig`` from being legible in the book's column, one sentence each.

    A figure is wider than :data:`COLUMN_WIDTH`, a visible text (title, label,
    tick label, legend, annotation) is smaller than :data:`MIN_FONT_PT`, or a
    text reaches past the figure's edge (where it would be cut off).
    The figure is drawn first, so tick labels exist. An empty list: legible.
    """
    problems = []
    width = fig.get_figwidth()
    if width > COLUMN_WIDTH + 1e-9:
        problems.append(f"the figure is {width:g} in wide; the column is {COLUMN_WIDTH:g} in "
                        "(it would be shrunk, and its text with it)")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    small, outside = {}, []
    box = fig.bbox
    # tick labels are placed by the layout, and those of ticks outside the view limits
    # are never drawn: only the other texts are checked against the edge
    ticks = {id(label) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
             for tick in axis.get_major_ticks() + axis.get_minor_ticks()
             for label in (tick.label1, tick.label2)}
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.get_figure() is not None:
            size = text.get_fontsize()
            if size < MIN_FONT_PT - 1e-9:
                small.setdefault(round(size, 1), []).append(text.get_text())
            if id(text) in ticks:
                continue
            extent = text.get_window_extent(renderer)
            if (extent.x0 < box.x0 - 1 or extent.x1 > box.x1 + 1 or extent.y0 < box.y0 - 1
                    or extent.y1 > box.y1 + 1):
                outside.append(text.get_text())
    if outside:
        shown = ", ".join(repr(t) for t in outside[:3]) + (" ..." if len(outside) > 3 else "")
        problems.append(f"{len(outside)} text(s) cut off at the figure's edge: {shown}")
    for size, texts in sorted(small.items()):
        shown = ", ".join(repr(t) for t in texts[:3]) + (" ..." if len(texts) > 3 else "")
        problems.append(f"{len(texts)} text(s) at {size:g} pt, below {MIN_FONT_PT:g} pt: "
                        f"{shown}")
    return problems


def png_bytes(fig: Figure, compress_level: int = 6, dpi: float | None = None) -> bytes:
    """The figure as PNG bytes (deterministic: no metadata), at ``dpi`` (default: the
    figure's own)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, dpi=dpi or fig.dpi,
                pil_kwargs={"compress_level": compress_level})
    return buf.getvalue()


def show(fig: Figure, alt: str | None = None) -> None:
    """Display ``fig`` in a notebook at its natural size, as a PNG at twice that resolution.

    The output carries the displayed width (``width`` metadata, which JupyterLab
    and the book both honour; the height follows the picture), so a 7-inch figure
    is 672 pixels wide on screen, drawn with 1344, and narrower on a phone. ``alt``, if given, is the output's plain-text form.

    Raises:
        ValueError: if :func:`legibility_problems` finds any (the figure is not shown).
    """
    from IPython.display import display

    problems = legibility_problems(fig)
    if problems:
        raise ValueError("the figure is not legible in the book: " + "; ".join(problems))
    png = png_bytes(fig, dpi=2 * SCREEN_DPI)
    width = round(fig.get_figwidth() * SCREEN_DPI)
    height = round(fig.get_figheight() * SCREEN_DPI)
    # only the width: a narrower screen scales the picture down and its height follows
    # (a fixed height would squash it)
    display({"image/png": png, "text/plain": alt or f"<figure {width}×{height} px>"}, raw=True,
            metadata={"image/png": {"width": width}})
