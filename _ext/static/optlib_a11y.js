/* The book's keyboard access to wide display equations (added by _ext/optlib_book.py,
 * item 9).
 *
 * Formulas are not Tab stops (_config.yml: MathJax's menu setting inTabOrder is false).
 * A display equation wider than the column scrolls sideways inside its own box
 * (optlib_book.css), and a keyboard can scroll a box only when it can focus it (WCAG
 * 2.1.1; axe-core's scrollable-region-focusable). So each display equation that
 * overflows its box becomes a Tab stop with a role and a name ("Equation (2.3), scrolls
 * sideways"), and stops being one when it fits again; pydata-sphinx-theme does the same
 * for code blocks and outputs. Whether an equation overflows depends on the window's
 * width and on the fonts, so this is decided in the page, after MathJax has typeset it.
 */
(function () {
  "use strict";
  var BOXES = 'div.math mjx-container[display="true"]';
  var MARK = "data-optlib-scrolls";   // set on the boxes this script made focusable

  function equationName(box) {
    var math = box.closest("div.math");
    var number = math && math.querySelector(".eqno");
    var text = number ? number.textContent.replace(/[#¶]/g, "").trim() : "";
    return (text ? "Equation " + text : "Equation") + ", scrolls sideways";
  }

  function update() {
    document.querySelectorAll(BOXES).forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute(MARK)) {
        box.setAttribute(MARK, box.getAttribute("tabindex") || "");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", equationName(box));
      } else if (!scrolls && box.hasAttribute(MARK)) {
        var before = box.getAttribute(MARK);
        if (before) box.setAttribute("tabindex", before);
        else box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        box.removeAttribute(MARK);
      }
    });
  }

  var pending = null;
  function later() {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { pending = null; update(); });
  }

  function start() {
    var mj = window.MathJax;
    var typeset = mj && mj.startup && mj.startup.promise;
    var ready = typeset ? typeset : Promise.resolve();
    ready.then(function () { update(); return document.fonts ? document.fonts.ready : null; })
      .then(update);
    window.addEventListener("resize", later);
  }

  // MathJax (a deferred script after this one) and what it loads itself have run by the
  // window's load event; its startup promise resolves once the page is typeset.
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
