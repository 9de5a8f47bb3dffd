r"""The static view of an exploration: one self-contained HTML fragment, no kernel.

:func:`page` writes

* the background as an embedded PNG drawn at twice the figure's resolution, with
  exact colours (for a ``background_slider``, one per value);
* the legend as an HTML list of colour keys above the picture (never drawn over it);
* an SVG over it, in the same pixel coordinates, where the dynamic artists are drawn;
* one control per slider (``<input type="range">`` with an ``<output>``, or a
  ``<select>`` for a categorical slider) and a readout region;
* the frame of every grid point (:func:`frames`): each dynamic artist's polylines
  in SVG pixels, clipped to its axes, as base64 of little-endian int16 in tenths
  of a pixel (:func:`decode` reads them back), and the readout;
* the script ``static.js`` (package data, inline: the page makes no request).

Everything that is text goes through an escaper: :func:`html.escape` for text
and attribute values, and a JSON encoder that also escapes ``<``, ``>`` and
``&`` for the frames (so no label can end the ``<script>`` element).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import importlib.resources
import itertools
import json

import numpy as np

from .model import HALO_PT, _plain

__all__ = ["page", "frames", "decode", "script", "start_svg", "RUN_NOTE", "FALLBACK_NOTE"]

_SCALE = 10          # pixel coordinates are stored in tenths of a pixel
_BREAK = -32768      # int16 sentinel that ends a polyline
_CLIP = -32767       # int16 sentinel: the next vertex was made by clipping (no marker)


# --------------------------------------------------------------------------- geometry
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


# --------------------------------------------------------------------------- encoding
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

    Args:
        text: one entry of a static frame's ``"lines"`` (base64 of int16).
        data_only: keep only the data vertices (where markers are drawn), not
            the points where a line was clipped at the edge of its axes.

    Returns:
        The polylines, each an array of shape (n, 2) in SVG pixels (origin top left).

    Examples:
        >>> decode("ZAAyAMgAlgAAgA==")      # (10, 5) → (20, 15), then the end mark
        [array([[10.,  5.],
               [20., 15.]])]
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


# --------------------------------------------------------------------------- frames
def _edge(artist):
    from matplotlib.colors import to_hex

    edge = artist.get_markeredgecolor()
    return "none" if isinstance(edge, str) and edge.lower() == "none" else to_hex(edge)


def _style(exploration, artist) -> dict:
    """How ``static.js`` draws an artist: colour, width and dashes, marker size and colours."""
    from matplotlib.colors import to_hex

    dpi = _figure_dpi(exploration)
    lw_px = artist.get_linewidth() * dpi / 72.0
    marker = artist.get_marker()
    has_marker = marker not in (None, "None", "", " ")
    return {
        "color": to_hex(artist.get_color()),
        "width": round(lw_px, 2),
        "alpha": artist.get_alpha() if artist.get_alpha() is not None else 1.0,
        "dash": artist.get_linestyle() in ("--", "dashed"),
        "line": artist.get_linestyle() not in ("None", "none", "", " "),
        "marker": round(artist.get_markersize() * dpi / 72.0 / 2.0, 2) if has_marker else 0,
        "fill": to_hex(artist.get_markerfacecolor()) if has_marker else None,
        "edge": _edge(artist) if has_marker else None,
        # a white casing under a line (as optlib.explore.model draws it in the live view)
        "halo": round(lw_px + HALO_PT * dpi / 72.0, 2) if artist.get_path_effects() else 0,
    }


def _figure_dpi(exploration) -> float:
    """Figure pixels per inch: the canvas draws ``device_pixel_ratio`` device pixels for each."""
    fig = exploration.figure
    return fig.dpi / fig.canvas.device_pixel_ratio


def _to_pixels(exploration, name: str, x, y):
    """Data coordinates → SVG pixels (figure pixels, origin top-left), and the axes box."""
    ax = exploration._artists[name].axes
    xy = np.column_stack([np.asarray(x, dtype=float).ravel(),
                          np.asarray(y, dtype=float).ravel()])
    with np.errstate(all="ignore"):
        if ax.get_yscale() == "log":
            xy[xy[:, 1] <= 0, 1] = np.nan
        if ax.get_xscale() == "log":
            xy[xy[:, 0] <= 0, 0] = np.nan
        px = ax.transData.transform(xy)      # device pixels
    ratio = exploration.figure.canvas.device_pixel_ratio
    px /= ratio
    height = exploration.figure.bbox.height / ratio
    px[:, 1] = height - px[:, 1]
    x0, y0, x1, y1 = (v / ratio for v in ax.bbox.extents)
    return px, (x0, height - y1, x1, height - y0)


def _inside(px, box) -> list[np.ndarray]:
    """The finite points inside ``box``, each as a one-point piece (markers)."""
    inside = (np.all(np.isfinite(px), axis=1) & (px[:, 0] >= box[0]) & (px[:, 0] <= box[2])
              & (px[:, 1] >= box[1]) & (px[:, 1] <= box[3]))
    return [p[None, :] for p in px[inside]]


def _pixel_pieces(exploration, name: str, x, y):
    """What the static view draws for an artist: ``(pieces, flags)`` in SVG pixels.

    A line is clipped to its axes (flags mark the data vertices, which get
    markers); a marker-only artist gives its visible points.
    """
    px, box = _to_pixels(exploration, name, x, y)
    if exploration._artists[name].get_linestyle() in ("None", "none", "", " "):
        points = _inside(px, box)
        return points, [np.ones(1, bool) for _ in points]
    return _clip(px, box)


def frames(exploration) -> list[dict]:
    """Every grid point's frame, encoded, in C order of the slider indices.

    Each frame is ``{"lines": [...], "readout": ...}`` with one entry per
    dynamic artist: its clipped polylines (see :func:`decode`), and the
    readout HTML of :meth:`~optlib.explore.model.Exploration.frame`.
    """
    names = list(exploration._artists)
    out = []
    shown = exploration._shown_background
    for index in itertools.product(*(range(n) for n in exploration.shape)):
        data, readout = exploration.frame(index)
        exploration._use_background(exploration._background_of(index))
        out.append({"lines": [_encode(*_pixel_pieces(exploration, n, *data[n])) for n in names],
                    "readout": readout})
    exploration._use_background(shown)
    return out


# --------------------------------------------------------------------------- the page
@functools.cache
def script() -> str:
    """The text of ``static.js`` (package data), embedded inline in every static page."""
    text = importlib.resources.files(__package__).joinpath("static.js").read_text(
        encoding="utf-8")
    if "</script" in text.lower() or "<!--" in text:
        raise RuntimeError("static.js must not contain '</script' or '<!--': it is "
                           "embedded inline in a <script> element")
    return text


def _script_json(value) -> str:
    """JSON for a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` can only occur inside JSON strings, where their
    escapes ``\\u003c``, ``\\u003e``, ``\\u0026`` mean the same characters; so
    no text (a label, a readout) can close the element or open a comment.
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _attribute(text: str) -> str:
    return html.escape(str(text), quote=True)


def _control(s, i: int) -> str:
    """The HTML control of slider ``s`` at index ``i`` (a range with an output, or a select)."""
    name = _attribute(s.name)
    label = _attribute(s.label)
    if s.choices is not None:
        options = "".join(f'<option value="{k}"{" selected" if k == i else ""}>'
                          f"{html.escape(c)}</option>" for k, c in enumerate(s.choices))
        control = f'<select data-name="{name}" aria-label="{label}">{options}</select>'
    else:
        # the visible symbol names the slider, and a screen reader hears "α = 0.050", not the
        # position on the grid (static.js keeps aria-valuetext up to date)
        control = (f'<input type="range" min="0" max="{len(s.values) - 1}" step="1" '
                   f'value="{i}" data-name="{name}" aria-label="{label}" '
                   f'aria-valuetext="{_attribute(f"{s.label} = {s.text(i)}")}" '
                   f'style="vertical-align:middle;width:200px"> '
                   f'<output style="font-family:monospace" aria-hidden="true">'
                   f'{html.escape(s.text(i))}</output>')
    return (f'<label style="margin-right:1.5em;white-space:nowrap">{html.escape(s.label)} '
            f"{control}</label>")


def description(exploration) -> str:
    """A text description of the exploration's picture, for its ``alt`` text.

    It names each panel by its title and axes, and the sliders with their ranges, e.g.
    "An interactive figure in 2 panels: 'gradient descent on the bowl' (W1 across, W2 up);
    'loss gap' (step t across, f(w_t) − f* up). The sliders set α from 0.005 to 0.085. Each
    setting redraws the paths; the text below the figure gives its numbers."
    """
    panels = []
    for ax in exploration.figure.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        title = _plain(ax.get_title())
        x, y = (_plain(t) for t in (ax.get_xlabel(), ax.get_ylabel()))
        axes = ", ".join(part for part in (f"{x} across" if x else "",
                                           f"{y} up" if y else "") if part)
        panels.append((f"'{title}'" if title else "a panel") + (f" ({axes})" if axes else ""))
    ranges = []
    for sl in exploration.sliders:
        if sl.choices is not None:
            ranges.append(f"{sl.label} (one of {', '.join(sl.choices)})")
        else:
            first, last = sl.text(0), sl.text(len(sl.values) - 1)
            ranges.append(f"{sl.label} from {first} to {last}")
    count = f"{len(panels)} panels" if len(panels) != 1 else "one panel"
    return (f"An interactive figure in {count}: {'; '.join(panels)}. "
            f"The sliders set {', '.join(ranges)}. Each setting redraws the paths; the text "
            "below the figure gives its numbers.")


def start_svg(exploration, spec: dict, index: int) -> str:
    """The dynamic artists of frame ``index`` as a standalone SVG, drawn as ``static.js`` draws
    them (casing, line, dots), from the same encoded frame.

    The page shows it over the background until its script runs, so a viewer that runs no
    script (an untrusted notebook, a file viewer) still shows the starting setting's paths.
    """
    w, h = spec["width"], spec["height"]
    parts = []
    for text, st in zip(spec["frames"][index]["lines"], spec["styles"]):
        opacity = f' opacity="{st["alpha"]:g}"' if st["alpha"] != 1 else ""
        if st["line"]:
            d = "".join("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in piece)
                        for piece in decode(text) if len(piece))
            if d:
                if st["halo"]:
                    parts.append(f'<path d="{d}" fill="none" stroke="#ffffff" '
                                 f'stroke-width="{st["halo"]:g}" stroke-linejoin="round"'
                                 f"{opacity}/>")
                dash = (f' stroke-dasharray="{3.7 * st["width"]:g} {1.6 * st["width"]:g}"'
                        if st["dash"] else "")
                parts.append(f'<path d="{d}" fill="none" stroke="{st["color"]}" '
                             f'stroke-width="{st["width"]:g}" stroke-linejoin="round"'
                             f"{dash}{opacity}/>")
        if st["marker"] > 0:
            dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{st["marker"]:g}"/>'
                           for piece in decode(text, data_only=True) for x, y in piece)
            if dots:
                parts.append(f'<g fill="{st["fill"]}" stroke="{st["edge"]}" stroke-width="1"'
                             f"{opacity}>{dots}</g>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
            f'height="{h}">{"".join(parts)}</svg>')


#: The line a viewer that runs no script shows above a stored static view (an untrusted
#: notebook before its cells run); ``static.js`` removes it.
RUN_NOTE = ("▶ Run this cell to make the sliders live; until then the figure shows the "
            "starting setting.")

#: The line above the static view when it stands in for a live view that is gone (a
#: reopened notebook: the widget lived in a kernel that has stopped); shown by ``static.js``.
FALLBACK_NOTE = ("The live view ended with the kernel that drew it; these sliders replay "
                 "precomputed settings. Run this cell to make it live again.")


def page(exploration, fallback: bool = False) -> str:
    """The static view: a self-contained HTML fragment (see the module's description).

    Args:
        exploration: an :class:`~optlib.explore.model.Exploration`.
        fallback: the page stands in for a live view displayed just before it (see
            ``Exploration._ipython_display_``): it starts hidden,
            and its script shows it, with :data:`FALLBACK_NOTE`, in place of that view
            when the view reports that its widget is gone (JupyterLab, Notebook 7).

    Returns:
        ``<div class="optlib-exploration" ...>...</div>``: controls, background
        image, SVG, readout, the frames as JSON and ``static.js``, all inline. The
        starting frame is also drawn without the script: its paths as an image over the
        background, its readout, and :data:`RUN_NOTE` (the script removes the note).
    """
    fig = exploration.figure
    w, h = fig.canvas.get_width_height()        # figure pixels (the SVG's coordinates)
    sliders = exploration.sliders
    start = tuple(s.start_index for s in sliders)
    first = exploration._background_of(start)
    pngs = exploration._background_pngs
    spec = {
        "width": w, "height": h, "scale": _SCALE, "sizes": list(exploration.shape),
        "labels": [[s.text(k) for k in range(len(s.values))] for s in sliders],
        "styles": [_style(exploration, a) for a in exploration._artists.values()],
        "frames": exploration.static_frames(),
        "background": None if exploration.background_slider is None else
        [s.name for s in sliders].index(exploration.background_slider),
        # the starting background is the <img>'s own src (null here: not stored twice)
        "images": [] if exploration.background_slider is None else
        [None if k == first else "data:image/png;base64," + base64.b64encode(p).decode("ascii")
         for k, p in enumerate(pngs)],
    }
    payload = _script_json(spec)
    png = base64.b64encode(pngs[first]).decode("ascii")
    k0 = int(np.ravel_multi_index(start, exploration.shape)) if start else 0
    paths = base64.b64encode(start_svg(exploration, spec, k0).encode()).decode("ascii")
    uid = "optlib-x-" + hashlib.sha1(payload.encode()).hexdigest()[:12]
    controls = "".join(_control(s, i) for s, i in zip(sliders, start))
    name = _attribute(exploration.name)
    note = ('<p class="{cls}" style="margin:0.3em 0;font-size:0.9em;color:#3b3b3b"{hidden}>'
            "{text}</p>")
    return (
        f'<div class="optlib-exploration" id="{uid}" data-exploration="{name}" '
        + ('data-optlib-fallback="1" ' if fallback else "")
        + f'style="max-width:{w}px{";display:none" if fallback else ""}">'
        + (note.format(cls="optlib-fallback-note", hidden=" hidden",
                       text=html.escape(FALLBACK_NOTE)) if fallback else "")
        + note.format(cls="optlib-norun", hidden="", text=html.escape(RUN_NOTE))
        + f'<div class="optlib-controls" style="margin:0.3em 0">{controls}</div>'
        f"{exploration.legend_html()}"
        f'<div class="optlib-figure" style="position:relative;width:100%">'
        f'<img src="data:image/png;base64,{png}" alt="{_attribute(description(exploration))}" '
        f'style="width:100%;height:auto;display:block;margin:0">'
        f'<img class="optlib-start" src="data:image/svg+xml;base64,{paths}" alt="" '
        f'style="position:absolute;left:0;top:0;width:100%;height:100%;margin:0">'
        f'<svg viewBox="0 0 {w} {h}" preserveAspectRatio="none" aria-hidden="true" '
        f'style="position:absolute;left:0;top:0;width:100%;height:100%"></svg></div>'
        f'<div class="optlib-readout" role="status" aria-live="polite" '
        f'style="margin:0.3em 0;font-size:0.9em">{spec["frames"][k0]["readout"]}</div>'
        f'<script type="application/json" class="optlib-data">{payload}</script>'
        f"<script>{script()}</script></div>"
    )
