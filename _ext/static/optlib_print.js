// The printed edition of the book (`make pdf`, scripts/pdf.py) and a reader's own "Print".
//
// A static exploration (optlib/explore/static.py) cannot be moved on paper, so when the page
// is printed each one is shown as small multiples: the same picture at a few representative
// settings of its sliders, each with a caption naming the setting ("α = 0.050, β = 0.90").
// For each exploration (<div class="optlib-exploration">) this script sets its controls
// (<input type="range"> / <select>) to each setting, lets the exploration's own script redraw
// (it listens to "input" and "change"), copies what the exploration shows at that setting
// (everything but its controls and scripts: the figure, a legend, the readout) into a
// print-only <figure class="optlib-print-multiples"> placed right after the exploration, and
// finally puts the controls back where the reader left them. optlib_print.css shows the
// multiples instead of the live exploration in print, and never on screen.
//
// Which settings: one slider, 4 positions (both ends, the starting one, and one in the widest
// gap between them); two sliders, a 3 × 2 grid (the one with more positions gets 3); three or
// more, the starting setting and each slider alone moved to its ends (at most 8). A <select>
// with few choices shows them all.
//
// It runs on "beforeprint" (a reader printing a page) and through
// window.optlibPreparePrint(), which scripts/pdf.py calls before it prints: both do the work
// once (idempotent). optlibPreparePrint() returns a Promise of a summary
// {explorations, multiples: [{name, settings}]}, and waits a frame after each setting so that
// an exploration that redraws on the next animation frame is copied after it has redrawn.
// Nothing happens on screen before printing: the page as a reader sees it is untouched.
(function () {
  "use strict";

  var MAX_ONE_AT_A_TIME = 8;
  var state = null;   // the summary, once the multiples are built

  // ---------------------------------------------------------------- which positions
  // k positions out of 0..n-1 that include the start s and both ends where k allows, sorted.
  function pick(n, s, k) {
    var i, out = [];
    if (k >= n) {
      for (i = 0; i < n; i++) out.push(i);
      return out;
    }
    if (k <= 1) return [s];
    if (k === 2) return [s, n - 1 - s >= s ? n - 1 : 0].sort(numeric);
    var set = {};
    set[0] = set[s] = set[n - 1] = true;
    out = keys(set);
    while (out.length < k) {   // add the middle of the widest gap between chosen positions
      var best = -1, at = 0;
      for (i = 0; i + 1 < out.length; i++) {
        if (out[i + 1] - out[i] > best) { best = out[i + 1] - out[i]; at = i; }
      }
      if (best < 2) break;
      set[Math.round((out[at] + out[at + 1]) / 2)] = true;
      out = keys(set);
    }
    return out;
  }
  function numeric(a, b) { return a - b; }
  function keys(set) { return Object.keys(set).map(Number).sort(numeric); }

  // The settings (one index per control) to print, in reading order.
  function settings(sizes, starts, isSelect) {
    var m = sizes.length, out = [], i, j;
    if (m === 0) return [];
    if (m === 1) {
      var k = isSelect[0] && sizes[0] <= 6 ? sizes[0] : 4;
      return pick(sizes[0], starts[0], k).map(function (v) { return [v]; });
    }
    if (m === 2) {
      // rows: the control with more positions (a select with few choices: all of them, up to
      // 3); across a row (2 per printed row): the other one, at its start and its far end
      var rows = sizes[1] > sizes[0] || (isSelect[1] && !isSelect[0]) ? 1 : 0, cols = 1 - rows;
      var a = pick(sizes[rows], starts[rows], 3), b = pick(sizes[cols], starts[cols], 2);
      for (i = 0; i < a.length; i++) {
        for (j = 0; j < b.length; j++) {
          var s = [0, 0];
          s[rows] = a[i];
          s[cols] = b[j];
          out.push(s);
        }
      }
      return out;
    }
    // three or more: the start, then each control alone at its ends
    out.push(starts.slice());
    for (i = 0; i < m && out.length < MAX_ONE_AT_A_TIME; i++) {
      var ends = [0, sizes[i] - 1];
      for (j = 0; j < ends.length && out.length < MAX_ONE_AT_A_TIME; j++) {
        if (ends[j] === starts[i]) continue;
        var t = starts.slice();
        t[i] = ends[j];
        out.push(t);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- one exploration
  function controlsOf(root) {
    return Array.prototype.slice.call(root.querySelectorAll("input[type=range], select"));
  }
  function startOf(control) {   // the position the page opens with (not the reader's)
    if (control.tagName === "SELECT") {
      for (var i = 0; i < control.options.length; i++) {
        if (control.options[i].defaultSelected) return i;
      }
      return 0;
    }
    var v = parseInt(control.getAttribute("value"), 10);
    return isNaN(v) ? +control.value : v;
  }
  function sizeOf(control) {
    if (control.tagName === "SELECT") return control.options.length;
    return Math.round((+control.max - +control.min) / (+control.step || 1)) + 1;
  }
  function setTo(control, index) {
    if (control.tagName === "SELECT") control.selectedIndex = index;
    else control.value = String(+control.min + index * (+control.step || 1));
    control.dispatchEvent(new Event("input", {bubbles: true}));
    control.dispatchEvent(new Event("change", {bubbles: true}));
  }
  function specOf(root) {
    var data = root.querySelector("script.optlib-data");
    try { return data ? JSON.parse(data.textContent) : {}; } catch (e) { return {}; }
  }
  function nameOf(control, i, spec) {
    var label = control.getAttribute("aria-label");
    if (!label && control.closest && control.closest("label")) {
      label = control.closest("label").textContent.trim().split(/\s/)[0];
    }
    return label || ("slider " + (i + 1));
  }
  function valueText(control, i, index, spec) {
    if (spec.labels && spec.labels[i] && spec.labels[i][index] !== undefined) {
      return String(spec.labels[i][index]);
    }
    if (control.tagName === "SELECT") return control.options[index].text;
    return String(control.value);
  }
  function caption(controls, setting, spec) {
    return controls.map(function (c, i) {
      return nameOf(c, i, spec) + " = " + valueText(c, i, setting[i], spec);
    }).join(", ");
  }

  // What the exploration shows now, without its controls, scripts, ids and live regions.
  function snapshot(root) {
    var copy = root.cloneNode(true);
    var drop = copy.querySelectorAll(".optlib-controls, script, input, select, button");
    for (var i = 0; i < drop.length; i++) {
      if (drop[i].parentNode) drop[i].parentNode.removeChild(drop[i]);
    }
    var all = [copy].concat(Array.prototype.slice.call(copy.querySelectorAll("*")));
    for (i = 0; i < all.length; i++) {
      all[i].removeAttribute("id");
      all[i].removeAttribute("aria-live");
      if (all[i].getAttribute("role") === "status") all[i].removeAttribute("role");
    }
    copy.classList.remove("optlib-exploration");
    copy.classList.add("optlib-print-copy");
    copy.removeAttribute("style");
    return copy;
  }

  function nextFrame() {
    return new Promise(function (resolve) {
      // a hidden or background page may never run animation frames: a timeout backs it up
      var done = false, finish = function () { if (!done) { done = true; resolve(); } };
      if (window.requestAnimationFrame) {
        window.requestAnimationFrame(function () { window.requestAnimationFrame(finish); });
      }
      setTimeout(finish, 100);
    });
  }

  // Builds the multiples of one exploration; `wait` (a function returning a Promise) or null.
  function multiplesOf(root, wait) {
    var controls = controlsOf(root), spec = specOf(root);
    var sizes = controls.map(sizeOf), starts = controls.map(startOf);
    var isSelect = controls.map(function (c) { return c.tagName === "SELECT"; });
    var reader = controls.map(function (c) {
      return c.tagName === "SELECT" ? c.selectedIndex :
        Math.round((+c.value - +c.min) / (+c.step || 1));
    });
    var list = settings(sizes, starts, isSelect);
    var figure = document.createElement("figure");
    figure.className = "optlib-print-multiples";
    figure.setAttribute("data-exploration", root.getAttribute("data-exploration") || "");
    var grid = document.createElement("div");
    grid.className = "optlib-print-grid";
    figure.appendChild(grid);
    var letters = "abcdefghijklmnopqrstuvwxyz";

    function one(n) {
      var setting = list[n];
      for (var i = 0; i < controls.length; i++) setTo(controls[i], setting[i]);
      var cell = document.createElement("figure");
      cell.className = "optlib-print-multiple";
      cell.appendChild(snapshot(root));
      var cap = document.createElement("figcaption");
      var text = caption(controls, setting, spec);
      var isStart = setting.every(function (v, i) { return v === starts[i]; });
      cap.textContent = "(" + letters[n % 26] + ") " + text + (isStart ? " (as the page opens)" : "");
      cell.appendChild(cap);
      grid.appendChild(cell);
    }
    function finish() {
      for (var i = 0; i < controls.length; i++) setTo(controls[i], reader[i]);
      var note = document.createElement("figcaption");
      note.className = "optlib-print-note";
      note.textContent = "An interactive exploration, printed at " + list.length + " settings (" +
        letters[0] + "–" + letters[Math.max(0, list.length - 1) % 26] + ") of its " +
        (controls.length === 1 ? "slider" : controls.length + " sliders") +
        "; in the online book you move " + (controls.length === 1 ? "it" : "them") + " yourself.";
      figure.appendChild(note);
      root.parentNode.insertBefore(figure, root.nextSibling);
      root.classList.add("optlib-printed-as-multiples");
      return {name: root.getAttribute("data-exploration"), settings: list.length};
    }
    if (!list.length) return wait ? Promise.resolve(null) : null;
    if (!wait) {
      for (var n = 0; n < list.length; n++) one(n);
      return finish();
    }
    var chain = Promise.resolve();
    list.forEach(function (_, n) {
      chain = chain.then(function () {
        for (var i = 0; i < controls.length; i++) setTo(controls[i], list[n][i]);
        return wait();
      }).then(function () {
        // set again (a no-op redraw) and copy what is drawn now
        one(n);
      });
    });
    return chain.then(finish);
  }

  function explorations() {
    return Array.prototype.slice.call(document.querySelectorAll(".optlib-exploration"))
      .filter(function (root) { return !root.classList.contains("optlib-printed-as-multiples"); });
  }

  // A collapsed solution prints as one line saying where it is (optlib_print.css); every
  // other hidden cell (<details class="hide">, e.g. plotting code) is not printed at all.
  function markSolutions() {
    var toggles = document.querySelectorAll("details.hide");
    for (var i = 0; i < toggles.length; i++) {
      var summaryText = toggles[i].querySelector("summary");
      if (summaryText && /solution/i.test(summaryText.textContent)) {
        toggles[i].classList.add("optlib-print-solution");
      }
    }
  }

  function summary(results) {
    markSolutions();
    state = {explorations: results.length, multiples: results.filter(Boolean)};
    return state;
  }

  // The synchronous path: a reader's "Print" (beforeprint must change the page at once).
  function prepareNow() {
    if (state) return state;
    return summary(explorations().map(function (root) { return multiplesOf(root, null); }));
  }

  var pending = null;
  window.optlibPreparePrint = function () {
    if (state) return Promise.resolve(state);
    if (!pending) {
      var roots = explorations(), results = [], chain = Promise.resolve();
      roots.forEach(function (root) {
        chain = chain.then(function () { return multiplesOf(root, nextFrame); })
          .then(function (r) { results.push(r); });
      });
      pending = chain.then(function () { return summary(results); });
    }
    return pending;
  };
  window.addEventListener("beforeprint", function () {
    if (!state && !pending) prepareNow();
  });
})();
