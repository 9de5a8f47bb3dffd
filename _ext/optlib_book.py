"""Sphinx extension of the book (listed in _config.yml under sphinx.local_extensions).

Small things the book needs from its build:

1. **Static explorations.** While the book is built, the notebooks' kernels
   inherit this process's environment. Setting OPTLIB_STATIC_EXPLORATIONS=1
   makes every exploration display only its self-contained static HTML: no
   kernel will ever drive a widget in the built book, and a widget would only
   add its state (and the CDN scripts that myst-nb loads for widget state) to
   the page.

2. **No duplicated inline scripts.** Sphinx 7.4 writes an inline script twice
   when an extension adds it with ``app.add_js_file(None, body=...)`` after the
   builder was created: the builder keeps it with the file name ``None``, and
   ``StandaloneHTMLBuilder.prepare_writing`` adds every registered script again
   as ``filename or ''``, which no longer compares equal, so the de-duplication
   of ``add_js_file`` misses it. sphinx-thebe (``const THEBE_JS_URL = ...``,
   added at ``env-before-read-docs``) and sphinx-togglebutton
   (``var togglebuttonSelector = ...``, added at ``builder-inited``) are hit,
   and the second ``const THEBE_JS_URL`` throws "Identifier 'THEBE_JS_URL' has
   already been declared" on every page. :func:`drop_duplicate_inline_scripts`
   keeps the first copy of each inline script of a page.

3. **Colab only for notebooks.** Colab opens ``.ipynb`` files from GitHub, not
   MyST text notebooks; sphinx-book-theme offers the Colab button on every page
   that was executed, the Markdown landing page included, where it would lead to
   an error. :func:`colab_only_for_ipynb` removes it there (Binder stays: it
   opens the repository in JupyterLab).

4. **No "Alias for field number 0" entries** in the API reference: the fields
   of optlib's NamedTuples are described in their class's "Attributes:"
   section; :func:`skip_namedtuple_fields` keeps autodoc from adding the
   generated field properties a second time.

5. **Nothing cut off at the right.** ``static/optlib_book.css`` (added to every
   page; :func:`add_static_path` puts ``_ext/static`` on ``html_static_path``)
   makes wide display equations, printed outputs, code cells and tables scroll
   inside their own box, with a shadow on the side where more is hidden.
   pydata-sphinx-theme already scrolls most of them, but with nothing but a
   scrollbar, which overlay scrollbars (macOS, phones, headless Chromium) hide:
   the content looked cut off. ``tests/test_rendering.py`` checks it in Chromium.

6. **The bibliography's labels are the citations' names.** The text cites
   author–year ("Kingma and Ba [2015]"); pybtex's default labels are alphabetic
   ([KB15]), so a reader could not find a citation in the list by its name. The
   formatting style ``authoryear`` (registered with pybtex here; ``_config.yml``
   sets ``bibtex_default_style``) labels each entry "Kingma and Ba, 2015" ("et al."
   from three authors) and sorts the list by author, year and title.

7. **Names a screen reader can match to what is seen** (axe-core's
   label-content-name-mismatch; ``tests/test_accessibility.py`` runs axe on every
   page). A control's accessible name must contain its visible text, so that a
   reader who says "click Show solution" reaches it:

   * the toggles of hidden cells (myst-nb's ``HideCodeCellNode``) were all named
     "Toggle hidden content" while they show "Show solution" or "Show code cell
     source": :func:`visit_hide_cell` writes the same ``<details>``/``<summary>``
     without the ``aria-label``, so the name is the visible prompt ("Show
     solution" when closed, "Hide solution" when open);
   * pydata-sphinx-theme's search button was named "Search" while it shows
     "Search Ctrl+K": ``templates/search-button-field.html`` drops its
     ``aria-label``, so its name is what it shows;
   * its colour-mode button is named "Color mode" while its visible icon carried a
     title ("Light", an SVG ``<title>`` once Font Awesome has drawn it), which
     counted as the button's text: ``templates/theme-switcher.html`` draws the
     icons without titles, as decoration (``aria-hidden``).

   Both templates are found before the theme's own (:func:`add_templates_path`).

8. **The bibliography is a list of list items.** docutils writes the entries as
   ``<div role="doc-biblioentry">`` inside ``<div role="list">``; ARIA 1.2
   deprecated that role, and a list whose children are not list items is
   invalid (axe: aria-required-children, critical). :func:`visit_citation`
   writes ``role="listitem"``.

9. **Formulas are not Tab stops; a formula that scrolls is.** MathJax's menu put
   every formula in the Tab order (206 presses to reach chapter 1's first
   slider, 80 now); ``_config.yml`` sets its ``inTabOrder`` to false. A display equation
   wider than the column scrolls sideways (item 5), and a keyboard can only
   scroll what it can focus (axe: scrollable-region-focusable):
   ``static/optlib_a11y.js`` makes each display equation that overflows its box
   a focusable, named region (``tabindex="0"``, ``role="region"``,
   ``aria-label`` "Equation (2.3), scrolls sideways"), and takes that back when
   it fits again (window resized), as pydata-sphinx-theme does for code and
   outputs. ``static/optlib_book.css`` draws their focus ring.

10. **Captions readable in dark mode.** The theme shows HTML outputs (the
    explorations' readout tables) on a light background in dark mode, but left
    their ``<caption>`` in dark mode's light grey (1.7:1); ``static/optlib_book.css``
    gives them the output's text colour.

11. **Solutions open in one click.** A worked solution's output is a closed
    ``<details>`` (``optlib.exercises.solution``: in a notebook, Run All would
    otherwise show every answer); the book hides the whole cell behind "Show
    solution" already, so ``static/optlib_solutions.js`` opens that fold.
"""

import os
import re
from pathlib import Path

from docutils import nodes
from markupsafe import escape
from myst_nb.sphinx_ import HideCodeCellNode
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle

from optlib.explore import STATIC_ONLY_ENV

STATIC = Path(__file__).resolve().parent / "static"   # the book's CSS and JS, copied to _static
TEMPLATES = Path(__file__).resolve().parent / "templates"   # theme templates the book overrides


def _inline_key(script):
    """The attributes (``body`` among them) of an inline <script>; None for a file."""
    filename = getattr(script, "filename", script)
    if filename:  # a file (or an external URL): Sphinx de-duplicates those itself
        return None
    attributes = getattr(script, "attributes", {}) or {}
    return tuple(sorted((k, str(v)) for k, v in attributes.items()))


def drop_duplicate_inline_scripts(app, pagename, templatename, context, doctree):
    """Keep only the first copy of every inline script in ``script_files``."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    kept = []
    for script in scripts:
        key = _inline_key(script)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(script)
    if len(kept) != len(scripts):
        scripts[:] = kept  # the builder's own list (it is restored for every page)


def colab_only_for_ipynb(app, pagename, templatename, context, doctree):
    """Remove the Colab launch button from pages whose source is not an .ipynb."""
    if Path(app.env.doc2path(pagename)).suffix == ".ipynb":
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            group["buttons"] = [b for b in group.get("buttons", []) if b.get("text") != "Colab"]


def skip_namedtuple_fields(app, what, name, obj, skip, options):
    """autodoc-skip-member: skip the field accessors that NamedTuple generates."""
    doc = getattr(obj, "__doc__", None) or ""
    if what == "class" and doc.startswith("Alias for field number"):
        return True
    return None


def add_static_path(app):
    """builder-inited: copy ``_ext/static`` (the book's CSS) into ``_static``."""
    path = str(STATIC)
    if path not in app.config.html_static_path:
        app.config.html_static_path.append(path)


def add_templates_path(app, config):
    """config-inited: look up templates in ``_ext/templates`` before the theme's own."""
    path = str(TEMPLATES)
    if path not in config.templates_path:
        config.templates_path.insert(0, path)


def visit_hide_cell(self, node):
    """myst-nb's toggle of a hidden cell, named by its visible prompt (no aria-label)."""
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n')
    self.body.append("<summary>\n")
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def depart_hide_cell(self, node):
    self.body.append("</details>\n")


def visit_citation(self, node):
    """docutils' citation, as a list item of the citation list (not doc-biblioentry)."""
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def depart_citation(self, node):
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


def _surname(person) -> str:
    """A person's last name(s) as printed: BibTeX braces and accents' markup removed."""
    return re.sub(r"[{}\\]", "", " ".join(person.prelast_names + person.last_names))


class AuthorYearLabels(BaseLabelStyle):
    """Labels "Polyak, 1964", "Kingma and Ba, 2015", "Duchi et al., 2011"."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_surname(p) for p in people]
            if not names:
                who = entry.fields.get("title", entry.key)
            elif len(names) == 1:
                who = names[0]
            elif len(names) == 2:
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            yield f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    """pybtex's unsrt entries, labelled and sorted by author and year."""

    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


def setup(app):
    os.environ[STATIC_ONLY_ENV] = "1"
    app.setup_extension("sphinx.ext.autodoc")  # its event must exist before we connect
    app.setup_extension("myst_nb")  # so that its HideCodeCellNode handlers are replaced here
    app.add_node(HideCodeCellNode, override=True, html=(visit_hide_cell, depart_hide_cell))
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    app.connect("config-inited", add_templates_path)
    # After sphinx-book-theme's header and launch buttons (priority 501) and after
    # every extension that adds scripts to the page (default priority 500).
    app.connect("html-page-context", drop_duplicate_inline_scripts, priority=900)
    app.connect("html-page-context", colab_only_for_ipynb, priority=900)
    app.connect("autodoc-skip-member", skip_namedtuple_fields)
    app.connect("builder-inited", add_static_path)
    # Every stylesheet and script in _ext/static, in name order, after the theme's own (so
    # equal selectors win); a new file there needs no change here.
    for path in sorted(STATIC.iterdir()):
        if path.suffix == ".css":
            app.add_css_file(path.name)
        elif path.suffix == ".js":
            app.add_js_file(path.name, defer="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
