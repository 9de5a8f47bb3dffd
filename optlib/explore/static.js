// The client side of a static exploration. optlib/explore/static.py embeds this file
// inline as the last child of the exploration's container, after the JSON block with
// the frames. It finds its container (the script's parent), decodes the frame for the
// current slider indices and draws it as SVG paths over the background image. Frames
// are little-endian int16 in tenths of a pixel: -32768 ends a polyline, -32767 marks
// the next vertex as made by clipping (no marker there). No network, no kernel.
// Until it runs, the page shows the starting frame without it (an image of its paths, its
// readout, and a note saying to run the cell); it removes those first. A page marked
// data-optlib-fallback stands in for the live view displayed just before it: it stays
// hidden while that view shows its widget, and takes its place when the widget is gone.
(function () {
  var root = document.currentScript.parentElement;
  var stale = root.querySelectorAll(".optlib-start, .optlib-norun");
  for (var s = 0; s < stale.length; s++) stale[s].parentNode.removeChild(stale[s]);
  var spec = JSON.parse(root.querySelector("script.optlib-data").textContent);
  var svg = root.querySelector(".optlib-figure > svg"), NS = "http://www.w3.org/2000/svg";
  var inputs = root.querySelectorAll("input[type=range], select");
  var img = root.querySelector(".optlib-figure > img"), firstImage = img.getAttribute("src");
  var readout = root.querySelector(".optlib-readout");
  function layer(attrs) {
    var p = document.createElementNS(NS, "path");
    for (var a in attrs) p.setAttribute(a, attrs[a]);
    svg.appendChild(p);
    return p;
  }
  var layers = spec.styles.map(function (s) {
    return {
      halo: s.line && s.halo ? layer({"fill": "none", "stroke": "#ffffff",
                                      "stroke-width": s.halo, "opacity": s.alpha,
                                      "stroke-linejoin": "round"}) : null,
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
      if (layer.halo) layer.halo.setAttribute("d", layer.line.getAttribute("d"));
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
      if (inputs[i].type === "range") {
        inputs[i].setAttribute("aria-valuetext",
                               inputs[i].getAttribute("aria-label") + " = " + spec.labels[i][v]);
      }
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
  if (root.hasAttribute("data-optlib-fallback")) standIn();

  // JupyterLab, Notebook 7 and nbconvert's HTML put each output in a .jp-OutputArea-child;
  // the live view is the previous one. Its widget is gone when the renderer says "Error
  // displaying widget..." (the model is gone: a reopened notebook), hides itself (the widget
  // was closed, e.g. the kernel restarted), or still holds no widget a few seconds on (no
  // widget manager: an exported page). Whenever the view holds its widget, this page hides
  // again. Anywhere else (no such structure) this page stays hidden.
  function standIn() {
    var child = root.closest(".jp-OutputArea-child");
    var live = child && child.previousElementSibling;
    if (!live) return;
    var note = root.querySelector(".optlib-fallback-note");
    var patient = true;
    function check() {
      var out = live.querySelector(".jp-OutputArea-output");
      if (!out) return;
      var widget = out.querySelector(".widget-vbox");
      var gone = !patient || /Error displaying widget/.test(out.textContent) ||
                 out.classList.contains("lm-mod-hidden");
      if (widget) {
        live.style.display = "";
        root.style.display = "none";
      } else if (gone) {
        live.style.display = "none";
        root.style.display = "";
        note.hidden = false;
      }
    }
    check();
    new MutationObserver(check).observe(live, {subtree: true, childList: true,
                                               characterData: true, attributes: true,
                                               attributeFilter: ["class"]});
    setTimeout(function () { patient = false; check(); }, 3000);
  }
})();
