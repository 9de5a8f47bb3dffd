/* Solutions in the book (added by _ext/optlib_book.py).
 *
 * A worked solution's output is folded by optlib.exercises.solution: a closed <details>
 * (in a notebook, Run All would otherwise show every answer under its question). In the
 * book the whole solution cell is already behind its "Show solution" toggle, so the fold
 * inside it is opened: one click shows the code and what it prints.
 */
(function () {
  "use strict";
  function open() {
    var folds = document.querySelectorAll("details.optlib-solution");
    for (var i = 0; i < folds.length; i++) folds[i].open = true;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", open);
  else open();
})();
