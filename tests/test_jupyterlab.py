"""A learner's JupyterLab, in a real browser: open a chapter, Run All, move a slider, save,
shut the kernel down, reopen.

The project's own environment (the one ``make lab`` uses, with jupyterlab-myst from
requirements.txt and the book's defaults from ``scripts/lab_settings.py``) serves JupyterLab
on 127.0.0.1 with a copy of one chapter; headless Chromium (the Debian package, as in
test_browser.py) drives it, with every request outside this machine refused. Jupyter's
config, data, runtime and workspace folders are temporary, so nothing the learner would
have (a trusted-notebook database, saved settings) leaks in or out. The server is stopped
at the end, and with it the kernels it started.

What is checked, step by step (one test: the steps depend on each other):

1. **Opened as cloned** (untrusted): the MyST markup renders (no raw ``:class:``,
   ``{cite}``, ``{numref}`` or fences; the learning goals are a box); every exploration
   shows its static view with the starting frame's paths and readout and the line that
   says to run the cell, although JupyterLab runs no script in an untrusted output;
   every solution cell's source and outputs are collapsed.
2. **Run All**: every exploration is live (a widget) and its static stand-in hidden; no
   widget error, no traceback; the solutions' sources stay collapsed and their outputs
   (which JupyterLab unfolds for every cell it runs) are closed folds, so no result shows;
   in the saved notebook every solution's self-check says ✔.
3. **A slider moves**: the live picture changes; it is shown at its figure's width, from a
   PNG with twice the pixels.
4. **Save, shut the kernel down, reopen**: no "Error displaying widget" anywhere; every
   exploration's stand-in shows in its place with its note, and its slider still redraws.

Timings (Run All, slider to new picture, reopen) are written to the test's report
(``pytest -rP`` or ``-s`` shows them). Without Chromium the test is skipped, except under
CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_browser import _offline_page, chromium, require_browser  # noqa: F401 (fixture)

from optlib.explore.static import FALLBACK_NOTE, RUN_NOTE

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
CHAPTER = "02_momentum.ipynb"        # 3 explorations, 7 solutions, citations; Run All ≈ 20 s
START_TIMEOUT_S = 90
RUN_ALL_TIMEOUT_S = 600
STEP_TIMEOUT_MS = 60_000
TRACEBACK = "Traceback (most recent call last)"


# --------------------------------------------------------------------------- the server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab from this environment on 127.0.0.1, serving a copy of one chapter.

    Yields ``(url, folder, log)``: the notebook's URL with the token, the served folder
    and the server's log file. Stops the server (and its kernels) afterwards.
    """
    tmp = tmp_path_factory.mktemp("lab")
    served = tmp / "chapters"
    served.mkdir()
    shutil.copy(REPO / "chapters" / CHAPTER, served / CHAPTER)
    # the book's JupyterLab defaults, as `make lab` and Binder's postBuild install them
    subprocess.run([sys.executable, str(REPO / "scripts" / "lab_settings.py")], check=True,
                   capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "OPTLIB_"))}
    for name, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                      ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                      ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                      ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("MPLCONFIGDIR", "mpl")):
        env[name] = str(tmp / sub)
    # Test set-up only: render every cell, not just those in view (JupyterLab's default
    # windowing leaves cells far from the viewport unrendered, which a query cannot see).
    tracker = tmp / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).with_name("jupyter")
    log = tmp / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served}",
             "--allow-root", "--LabApp.extension_manager=readonly"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=served)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield f"{base}/lab/tree/{CHAPTER}?token={token}", served, log
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


# --------------------------------------------------------------------------- what the page shows
STATE = """() => {
  const shown = e => !!e && e.getClientRects().length > 0 && getComputedStyle(e).display !== 'none';
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const pages = [...nb.querySelectorAll('.optlib-exploration')];
  const plain = pages.filter(e => !e.hasAttribute('data-optlib-fallback'));
  const standIns = pages.filter(e => e.hasAttribute('data-optlib-fallback'));
  // jupyterlab-myst renders a markdown cell into a .myst widget (JupyterLab's own renderer
  // into .jp-RenderedMarkdown)
  const md = [...nb.querySelectorAll('.jp-MarkdownCell .myst, .jp-MarkdownCell .jp-RenderedMarkdown')];
  return {
    text: nb.innerText,
    markdown: md.map(e => e.innerText),
    goals: [...nb.querySelectorAll('.jp-MarkdownCell aside, .jp-MarkdownCell .admonition')]
             .filter(e => /Learning goals/.test(e.innerText)).length,
    staticShown: plain.filter(shown).length,
    staticTotal: plain.length,
    runNotes: plain.map(e => { const n = e.querySelector('.optlib-norun'); return n && shown(n) ? n.innerText : null; }),
    startImages: plain.map(e => { const i = e.querySelector('img.optlib-start'); return i && shown(i) && i.complete ? i.naturalWidth : 0; }),
    readouts: plain.map(e => e.querySelector('.optlib-readout').innerText.trim()),
    standInsShown: standIns.filter(shown).length,
    standInsTotal: standIns.length,
    fallbackNotes: standIns.filter(shown).map(e => e.querySelector('.optlib-fallback-note').innerText),
    live: [...nb.querySelectorAll('.jp-OutputArea-output .widget-vbox')].filter(shown).length,
    widgetErrors: [...nb.querySelectorAll('.jp-OutputArea-output')]
                    .filter(e => shown(e) && /Error displaying widget/.test(e.innerText)).length,
    inputsCollapsed: nb.querySelectorAll('.jp-Cell .jp-InputPlaceholder').length,
    outputsCollapsed: nb.querySelectorAll('.jp-Cell .jp-OutputPlaceholder').length,
    foldsClosed: [...nb.querySelectorAll('details.optlib-solution')].filter(d => shown(d) && !d.open).length,
    foldsOpen: [...nb.querySelectorAll('details.optlib-solution')].filter(d => d.open).length,
    prompts: [...nb.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.innerText.trim()),
  };
}"""

IDLE = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')].map(e => e.innerText);
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return prompts.length > 0 && prompts.every(t => !t.includes('*'))
      && status && status.getAttribute('data-status') === 'idle';
}"""


def _chapter_facts() -> dict:
    """What the stored chapter holds: explorations, solution cells and their outputs."""
    nb = json.loads((REPO / "chapters" / CHAPTER).read_text(encoding="utf-8"))
    solutions = [c for c in nb["cells"] if c["cell_type"] == "code"
                 and c["metadata"].get("jupyter", {}).get("source_hidden")]
    explorations = [c for c in nb["cells"] if c["cell_type"] == "code" and any(
        "optlib-exploration" in "".join(o.get("data", {}).get("text/html", ""))
        for o in c.get("outputs", []))]
    return {"solutions": solutions, "explorations": len(explorations)}


def _menu(page, menu: str, item: str) -> None:
    page.click(f".lm-MenuBar-itemLabel:text-is('{menu}')")
    page.click(f".lm-Menu-itemLabel:text-is('{item}')")


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=STEP_TIMEOUT_MS)
    # the kernel connects (JupyterLab starts one for the notebook) and the outputs settle
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
        "?.getAttribute('data-status') === 'idle'", timeout=STEP_TIMEOUT_MS)
    # every markdown cell rendered (jupyterlab-myst renders them one by one)
    page.wait_for_function(
        "() => { const n = document.querySelectorAll('.jp-MarkdownCell').length;"
        " return n > 0 && document.querySelectorAll('.jp-MarkdownCell .myst,"
        " .jp-MarkdownCell .jp-RenderedMarkdown').length === n; }", timeout=STEP_TIMEOUT_MS)
    page.wait_for_timeout(2000)


def _assert_markup_renders(state) -> None:
    assert len(state["markdown"]) >= 10, f"{len(state['markdown'])} markdown cells rendered"
    raw = [(k, t[:120]) for k, t in enumerate(state["markdown"]) for marker in
           (":class:", "{cite", "{numref", ":::", "```{") if marker in t]
    assert not raw, f"raw MyST markup in rendered markdown cells: {raw}"
    assert state["goals"] == 1, "the learning goals are not rendered as a box"


def test_a_learner_runs_saves_and_reopens_a_chapter(lab, chromium, record_property):
    browser = require_browser(chromium)
    url, served, log = lab
    facts = _chapter_facts()
    n_ex, solutions = facts["explorations"], facts["solutions"]
    assert n_ex >= 1 and len(solutions) >= 4
    # what the solutions print: their checks ("✔ Exercise 2.1: correct.") and their results
    answers = [line.strip() for c in solutions for o in c.get("outputs", [])
               for line in "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                               ).splitlines() if len(line.strip()) > 12]
    assert any(a.startswith("✔") for a in answers), (
        "the stored solutions print no check: the collapse check would be vacuous")
    context, page, outside = _offline_page(browser)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    timings = {}
    try:
        # 1. opened as cloned: untrusted, no script runs in the outputs
        _open(page, url)
        state = page.evaluate(STATE)
        _assert_markup_renders(state)
        assert state["staticTotal"] == n_ex and state["staticShown"] == n_ex, state
        assert state["runNotes"] == [RUN_NOTE] * n_ex, state["runNotes"]
        assert all(w > 0 for w in state["startImages"]), (
            f"the starting frame's paths are not shown without script: {state['startImages']}")
        assert all(state["readouts"]), "a static view shows no readout without script"
        assert state["inputsCollapsed"] == len(solutions), state["inputsCollapsed"]
        assert state["outputsCollapsed"] == len(solutions), state["outputsCollapsed"]
        assert not any(a in state["text"] for a in answers), "a solution's result is shown"

        # 2. Run All
        start = time.perf_counter()
        _menu(page, "Run", "Run All Cells")
        page.wait_for_timeout(2000)
        page.wait_for_function(IDLE, timeout=RUN_ALL_TIMEOUT_S * 1000)
        page.wait_for_timeout(2000)
        timings["run_all_s"] = round(time.perf_counter() - start, 1)
        state = page.evaluate(STATE)
        # (a collapsed cell shows no prompt: the saved notebook below shows that it ran)
        unrun = [(k, p) for k, p in enumerate(state["prompts"])
                 if p and not re.fullmatch(r"\[\d+\]:", p)]
        assert not unrun, f"code cells not run (position, prompt): {unrun}"
        assert TRACEBACK not in state["text"] and "Error" not in "".join(
            t for t in state["text"].splitlines() if t.startswith(("ValueError", "TypeError"))), \
            "a cell failed"
        assert state["widgetErrors"] == 0 and state["live"] == n_ex, state
        assert state["standInsTotal"] == n_ex and state["standInsShown"] == 0, state
        assert state["staticTotal"] == 0, "a plain static view is left after running"
        # JupyterLab unfolds the outputs of every cell it runs: the solutions' outputs are
        # shown, each folded into a closed <details> (optlib.exercises.solution)
        assert state["inputsCollapsed"] == len(solutions), state["inputsCollapsed"]
        assert state["foldsClosed"] == len(solutions) and state["foldsOpen"] == 0, state
        assert not any(a in state["text"] for a in answers), "a solution's result is shown"

        # 3. a slider moves the live picture, which is crisp and at its figure's width
        image = page.locator(".widget-vbox img").first
        image.scroll_into_view_if_needed()
        size = image.evaluate("i => [i.clientWidth, i.naturalWidth, i.naturalHeight, i.clientHeight]")
        assert size[1] == 2 * size[0] and size[2] == 2 * size[3], (
            f"shown {size[0]}x{size[3]} px from a {size[1]}x{size[2]} PNG: not 2x")
        assert 600 <= size[0] <= 700, f"the live picture is {size[0]} px wide, not its own width"
        handle = page.locator(".widget-vbox .noUi-handle, .widget-vbox [role=slider]").first
        handle.focus()
        waits = []
        for key in ("ArrowLeft", "ArrowLeft", "ArrowRight", "ArrowRight", "ArrowRight"):
            before = image.get_attribute("src")
            start = time.perf_counter()
            page.keyboard.press(key)
            page.wait_for_function(
                "s => document.querySelector('.widget-vbox img').getAttribute('src') !== s",
                arg=before, timeout=STEP_TIMEOUT_MS)
            waits.append(time.perf_counter() - start)
        timings["slider_to_picture_ms_median"] = round(1000 * sorted(waits)[len(waits) // 2])

        # 4. save, shut the kernel down, reopen
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')",
                               timeout=STEP_TIMEOUT_MS)
        saved = json.loads((served / CHAPTER).read_text(encoding="utf-8"))
        saved_outputs = [o for c in saved["cells"] if c["cell_type"] == "code"
                         for o in c.get("outputs", [])]
        assert sum("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                   for o in saved_outputs) == n_ex, "the saved notebook lacks the live views"
        code = [c for c in saved["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] for c in code), "a code cell did not run"
        assert not any(o["output_type"] == "error" for o in saved_outputs)
        # the self-checks work when the learner runs them: every solution checks ✔
        for c in saved["cells"]:
            if c["cell_type"] == "code" and c["metadata"].get("jupyter", {}).get("source_hidden"):
                said = "".join("".join(o.get("text", "") or o.get("data", {}).get("text/plain", ""))
                               for o in c["outputs"])
                assert "✔" in said and "✘" not in said, said
                assert any('<details class="optlib-solution">' in "".join(
                    o.get("data", {}).get("text/html", "")) for o in c["outputs"]), said
        _menu(page, "Kernel", "Shut Down Kernel")
        page.wait_for_timeout(3000)
        start = time.perf_counter()
        _open(page, url)
        timings["reopen_s"] = round(time.perf_counter() - start, 1)
        state = page.evaluate(STATE)
        _assert_markup_renders(state)
        assert "Error displaying widget" not in state["text"], "a widget error is shown"
        assert state["widgetErrors"] == 0 and state["live"] == 0, state
        assert state["standInsShown"] == n_ex, (
            f"{state['standInsShown']} of {n_ex} explorations show their static stand-in")
        assert state["fallbackNotes"] == [FALLBACK_NOTE] * n_ex, state["fallbackNotes"]
        assert state["inputsCollapsed"] == len(solutions)
        assert state["foldsClosed"] == len(solutions) and state["foldsOpen"] == 0, state
        assert not any(a in state["text"] for a in answers), "a solution's result is shown"
        # the stand-in's slider redraws (its script runs: the saved notebook is trusted)
        moved = page.evaluate("""() => {
          const page = [...document.querySelectorAll('.optlib-exploration[data-optlib-fallback]')]
            .find(e => getComputedStyle(e).display !== 'none');
          const input = page.querySelector('input[type=range], select');
          const paths = () => [...page.querySelectorAll('svg path')].map(p => p.getAttribute('d')).join('|');
          const before = paths();
          input.value = String(input.type === 'range' ? (+input.value > 0 ? +input.value - 1 : 1)
                                                      : (input.selectedIndex ? 0 : 1));
          input.dispatchEvent(new Event('input'));
          return before !== paths() && before.length > 0;
        }""")
        assert moved, "the stand-in's slider does not redraw the paths"
        assert not outside, f"requests outside this machine: {outside}"
        assert not errors, f"errors in the page: {errors}"
    finally:
        context.close()
        for name, value in timings.items():
            record_property(name, value)
        print(f"JupyterLab timings ({CHAPTER}): {timings}")
        print(f"outside requests: {outside}; page errors: {errors}")


def test_an_exported_notebook_shows_each_stand_in_in_place_of_its_widget(chromium, tmp_path):
    """A notebook run with a live kernel and exported without widget state (``jupyter
    nbconvert --to html``: what a file viewer shows) has no widget to show; the static
    stand-in takes the live view's place after a few seconds, with working sliders."""
    browser = require_browser(chromium)
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from optlib.explore import EMAExplorer\nEMAExplorer()")]
    env_before = os.environ.pop("OPTLIB_STATIC_EXPLORATIONS", None)
    try:
        NotebookClient(nb, kernel_name="python3", store_widget_state=False,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if env_before is not None:
            os.environ["OPTLIB_STATIC_EXPLORATIONS"] = env_before
    kinds = [sorted(o.get("data", {})) for o in nb.cells[0].outputs]
    assert kinds == [["application/vnd.jupyter.widget-view+json", "text/plain"], ["text/html"]]
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    page_file = tmp_path / "exported.html"
    page_file.write_text(body, encoding="utf-8")
    context, page, outside = _offline_page(browser)
    try:
        page.goto(page_file.as_uri())
        page.wait_for_function(
            "() => { const e = document.querySelector('.optlib-exploration[data-optlib-fallback]');"
            " return e && getComputedStyle(e).display !== 'none'; }", timeout=STEP_TIMEOUT_MS)
        shown = page.evaluate("""() => {
          const e = document.querySelector('.optlib-exploration[data-optlib-fallback]');
          const live = e.closest('.jp-OutputArea-child').previousElementSibling;
          const input = e.querySelector('input[type=range]');
          const paths = () => [...e.querySelectorAll('svg path')].map(p => p.getAttribute('d')).join('|');
          const before = paths();
          input.value = String(+input.value > 0 ? +input.value - 1 : 1);
          input.dispatchEvent(new Event('input'));
          return {note: e.querySelector('.optlib-fallback-note').innerText,
                  liveHidden: getComputedStyle(live).display === 'none', moved: before !== paths()};
        }""")
    finally:
        context.close()
    assert shown == {"note": FALLBACK_NOTE, "liveHidden": True, "moved": True}, shown
