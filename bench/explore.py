"""Figures `explore_latency_<name>`, `static_bytes_<name>` and `static_redraw_<name>` for the
chapters' explorations.

:func:`explorations` runs the chapters' own code (``chapters/*.ipynb``, code cells in
order) and keeps every exploration a cell displays, so the benchmark measures exactly
what the book shows and cannot drift from it. For each one:

* ``explore_latency_<name>`` — median milliseconds from a programmatic slider
  change (``widget().controls[i].value = k``) to the new PNG being set on the
  image widget. The widget's callback is synchronous (update the artists,
  blit, encode the PNG, set ``image.value``), so the assignment is timed. The
  sliders are cycled in turn, each through its whole grid, after a warm-up.
* ``static_bytes_<name>`` — bytes of its self-contained static HTML
  (``static_html()``, UTF-8).
* ``static_redraw_<name>`` — median milliseconds, in headless Chromium, from a slider
  step of the static version (its value set and an ``input`` event dispatched, as a
  keyboard or mouse step does) to the updated picture: the script's redraw of the SVG
  paths and the readout, the decoding of a new background image where the step changes
  it, and the style and layout that follow (forced by reading the picture's size). Paint
  itself is left out: it waits for the next frame, which would measure the frame clock.

Goals: ≤ 50 ms per slider change in the kernel, ≤ 16 ms (one frame at 60 Hz) per step
of a static exploration.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

from optlib.explore import Exploration

from .common import emit, log

WARMUP = 5        # slider changes before timing
CHANGES = 60      # timed slider changes (median over these)
GOAL_MS = 50.0
STATIC_GOAL_MS = 16.0
CHROMIUM = "/usr/bin/chromium"
CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"


def _run_cells(path: Path) -> list:
    """Execute a notebook's code cells in one namespace; return the explorations displayed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found, namespace = [], {"__name__": "__chapter__"}
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, str(path), "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), str(path), "eval"), namespace)
            if isinstance(value, Exploration):
                found.append(value)
    plt.close("all")
    return found


def explorations() -> list:
    """Every exploration the chapters display, built by the chapters' own cells."""
    os.environ.setdefault("OPTLIB_QUIET", "1")       # no progress bars from training cells
    found = []
    cwd = Path.cwd()
    try:
        os.chdir(CHAPTERS)
        for path in sorted(CHAPTERS.glob("*.ipynb")):
            log(f"explore: running the cells of {path.name} ...")
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")          # e.g. plt.show() under Agg
                found.extend(_run_cells(path))
    finally:
        os.chdir(cwd)
    return found


def _changes(controls, count: int):
    """(control, new value) pairs: the sliders in turn, each stepping through its grid."""
    n = [len(c.options) for c in controls]
    values = [c.value for c in controls]
    for j in range(count):
        i = j % len(controls)
        values[i] = (values[i] + 1) % n[i]
        yield controls[i], values[i]


def latency_ms(exploration) -> tuple[float, int]:
    """Median ms of a slider change → new PNG on the image widget; and the number timed."""
    view = exploration.widget()
    image = view.image
    times = []
    for j, (control, value) in enumerate(_changes(view.controls, WARMUP + CHANGES)):
        before = image.value
        start = time.perf_counter()
        control.value = value
        elapsed = time.perf_counter() - start
        if image.value is before:
            raise RuntimeError(f"{exploration.name}: a slider change did not set a new PNG")
        if j >= WARMUP:
            times.append(elapsed)
    return statistics.median(times) * 1e3, len(times)


# Runs in the page: step the sliders in turn (as `_changes` does) and time each redraw.
_REDRAW_JS = """
async ([warmup, count]) => {
  const inputs = Array.from(document.querySelectorAll("input[type=range], select"));
  const img = document.querySelector("img"), svg = document.querySelector("svg");
  const size = el => el.tagName === "SELECT" ? el.options.length : (+el.max - +el.min + 1);
  const times = [];
  for (let j = 0; j < warmup + count; j++) {
    const el = inputs[j % inputs.length];
    const before = img ? img.getAttribute("src") : null;
    const start = performance.now();
    if (el.tagName === "SELECT") el.selectedIndex = (el.selectedIndex + 1) % size(el);
    else el.value = String(+el.min + ((+el.value - +el.min + 1) % size(el)));
    el.dispatchEvent(new Event("input", {bubbles: true}));
    if (img && img.getAttribute("src") !== before) await img.decode();
    svg.getBoundingClientRect();          // style and layout of the new picture
    const elapsed = performance.now() - start;
    if (j >= warmup) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return [times[times.length >> 1], times.length];
}
"""


def redraw_ms(explorations_: list) -> dict:
    """``{name: (median ms, steps timed)}`` of each static exploration in headless Chromium."""
    import tempfile

    from playwright.sync_api import sync_playwright

    results = {}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            for exploration in explorations_:
                page_file = Path(folder) / f"{exploration.name}.html"
                page_file.write_text("<!doctype html><meta charset=utf-8><body>"
                                     + exploration.static_html() + "</body>", encoding="utf-8")
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(page_file.as_uri())
                page.wait_for_function("document.querySelector('svg path') !== null")
                ms, n = page.evaluate(_REDRAW_JS, [WARMUP, CHANGES])
                results[exploration.name] = (float(ms), int(n))
                page.close()
        finally:
            browser.close()
    return results


def main() -> None:
    log("explore: building the chapters' explorations ...")
    start = time.perf_counter()
    built = explorations()
    log(f"explore: built {len(built)} explorations in {time.perf_counter() - start:.1f} s")
    for exploration in built:
        name = exploration.name
        log(f"explore: {name} {exploration.shape}: timing {CHANGES} slider changes ...")
        ms, n = latency_ms(exploration)
        if ms > GOAL_MS:
            log(f"explore: {name}: {ms:.1f} ms per change is above the {GOAL_MS:.0f} ms goal")
        emit(f"explore_latency_{name}", round(ms, 2), "ms", repeats=n,
             grid=list(exploration.shape))
        log(f"explore: {name}: encoding the static HTML ...")
        size = len(exploration.static_html().encode("utf-8"))
        emit(f"static_bytes_{name}", size, "bytes", frames=int(np.prod(exploration.shape)))
    if not Path(CHROMIUM).exists():
        log(f"explore: {CHROMIUM} is missing: no static_redraw figures (make test installs it)")
        return
    log("explore: timing the static versions' redraw in headless Chromium ...")
    for name, (ms, n) in redraw_ms(built).items():
        if ms > STATIC_GOAL_MS:
            log(f"explore: {name}: {ms:.2f} ms per static step is above the "
                f"{STATIC_GOAL_MS:.0f} ms goal")
        emit(f"static_redraw_{name}", round(ms, 3), "ms", repeats=n)
