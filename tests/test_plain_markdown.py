"""The chapters' markdown reads well where MyST is not rendered (issue 13, deliverable 2).

Colab, GitHub's notebook view and a JupyterLab without jupyterlab-myst show a markdown cell
as plain CommonMark (plus tables and LaTeX math): a MyST directive written as a backtick fence
becomes a code block that starts with its option lines (the learning goals once read
":class: tip" and then the goals as raw text, math and lists unrendered). The chapters
therefore use only forms whose plain reading is prose:

* admonitions as colon fences without option lines, ``:::{admonition} Learning goals`` …
  ``:::``, each fence line a paragraph of its own: plain CommonMark shows the line
  ":::{admonition} Learning goals", the content as ordinary markdown (lists, bold, math) and
  a line ":::". (The book styles the class docutils derives from the title,
  ``admonition-learning-goals``, like a tip: _ext/static/optlib_book.css.)
* the roles ``{cite}``, ``{cite:t}`` and ``{numref}`` (sphinxcontrib-bibtex and Sphinx need
  them for the bibliography and the figure numbers): plain CommonMark shows "{cite}" and
  the key as code, so every key must read as a name and a year (``kingma2015``) and exist in
  references.bib, and every figure reference names a figure (``fig-ch01-bowl``).

Each markdown cell is rendered with markdown-it-py's CommonMark renderer (math replaced by a
placeholder first, as Colab and GitHub hand it to MathJax/KaTeX); every text that would read
as raw markup fails, with the chapter, the cell and the text. ``python tests/test_plain_markdown.py``
prints the same findings as a list.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))

PLAIN = MarkdownIt("commonmark").enable("table")   # GitHub/Colab: CommonMark + tables
MATH = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$[^$]+?(?<!\\)\$", re.S)
PLACEHOLDER = "MATHPLACEHOLDER"

# Roles whose plain reading ("{cite}" + the key in code) the book accepts, and what the
# text inside the backticks must look like: keys that read as author + year, figure labels.
CITE_KEY = re.compile(r"^[a-z]+(?:-[a-z]+)*\d{4}[a-z]?$")
ACCEPTED_ROLES = {"cite": "cite", "cite:t": "cite", "cite:p": "cite", "numref": "figure"}
FIGURE_LABEL = re.compile(r"^fig-[a-z0-9-]+$")
ROLE_TEXT = re.compile(r"\{([\w:+-]+)\}$")                 # "{cite}" right before a code span
# A colon-fence line that degrades to a readable paragraph: an admonition with a title
# (":::{admonition} Learning goals"), or one whose name says what it is (":::{tip}",
# ":::{tip} Learning goals" as jupyterlab-myst reads it). Any other directive's line (a
# figure's path, a math label, options) does not read as prose.
COLON_OPEN = re.compile(r"^:{3,}(?:\{admonition\} \S.*|\{(?:note|tip|hint|important|seealso|"
                        r"warning|caution|attention|danger|error)\}(?: \S.*)?)$")
COLON_CLOSE = re.compile(r"^:{3,}$")
COLON_ANY = re.compile(r"^:{3,}")
OPTION_LINE = re.compile(r"^\s*:[\w-]+:(?:\s|$)")          # ":class: tip", ":label: x"
DIRECTIVE_START = re.compile(r"^\s*\{[\w:-]+\}")
# other MyST syntax with no plain reading: targets "(label)=", comments "% ...",
# block breaks "+++", substitutions "{{ name }}", equation labels "$$ (label)".
MYST_LINE = [(re.compile(r"^\([\w:.-]+\)=\s*$"), "a MyST target '(label)='"),
             (re.compile(r"^%"), "a MyST comment '% ...'"),
             (re.compile(r"^\+\+\+"), "a MyST block break '+++'")]
SUBSTITUTION = re.compile(r"\{\{[^}]*\}\}")
EQUATION_LABEL = re.compile(r"\$\$\s*\([\w:.-]+\)")


def _bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text(), re.M))


def markdown_cells(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            source = cell["source"]
            yield index, "".join(source) if isinstance(source, list) else source


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit] + "…")


def plain_problems(source: str, bib_keys: set[str] | None = None) -> list[str]:
    """What of ``source`` reads as raw markup when rendered as plain CommonMark."""
    problems = []
    for m in EQUATION_LABEL.finditer(source):
        problems.append(f"equation label shows raw: {_short(m.group(0))}")
    masked = MATH.sub(PLACEHOLDER, source)
    tokens = PLAIN.parse(masked)
    for k, tok in enumerate(tokens):
        if tok.type in ("fence", "code_block"):
            first = tok.content.lstrip("\n").splitlines()[0] if tok.content.strip() else ""
            if tok.info.strip().startswith("{") or DIRECTIVE_START.match(first):
                problems.append(f"MyST directive shown as a code block: "
                                f"{_short(tok.markup + tok.info + ' ' + tok.content)}")
            options = [ln for ln in tok.content.splitlines() if OPTION_LINE.match(ln)]
            if options:
                problems.append(f"directive option line shown in a code block: {_short(options[0])}")
            continue
        if tok.type != "inline":
            continue
        lines = tok.content.splitlines()
        for line in lines:
            if OPTION_LINE.match(line):
                problems.append(f"directive option line shown as text: {_short(line)}")
            for pattern, what in MYST_LINE:
                if pattern.match(line):
                    problems.append(f"{what} shown as text: {_short(line)}")
            if COLON_ANY.match(line):
                if not (COLON_OPEN.match(line) or COLON_CLOSE.match(line)):
                    problems.append(f"a directive that reads as raw markup: {_short(line)}")
                elif len(lines) > 1:
                    problems.append("a colon-fence line runs into the text around it (put a "
                                    f"blank line before and after it): {_short(tok.content)}")
        for m in SUBSTITUTION.finditer(tok.content):
            problems.append(f"a MyST substitution shown as text: {_short(m.group(0))}")
        children = tok.children or []
        for j, child in enumerate(children):
            if child.type != "text":
                continue
            role = ROLE_TEXT.search(child.content)
            follows_code = j + 1 < len(children) and children[j + 1].type == "code_inline"
            if role and follows_code:
                name, target = role.group(1), children[j + 1].content
                kind = ACCEPTED_ROLES.get(name)
                if kind is None:
                    problems.append(f"role {{{name}}} shows as raw markup: "
                                    f"{_short('{' + name + '}`' + target + '`')}")
                elif kind == "cite":
                    for key in (k.strip() for k in target.split(",")):
                        if not CITE_KEY.match(key):
                            problems.append(f"citation key does not read as author+year: {key!r}")
                        elif bib_keys is not None and key not in bib_keys:
                            problems.append(f"citation key not in references.bib: {key!r}")
                elif kind == "figure" and not FIGURE_LABEL.match(target):
                    problems.append(f"figure reference does not name a figure: {target!r}")
            elif re.search(r"\{[\w:+-]+\}`", child.content):
                problems.append(f"broken role markup shown as text: {_short(child.content)}")
    return problems


def chapter_problems(path: Path) -> list[str]:
    keys = _bib_keys()
    return [f"{path.name}, cell {index}: {problem}"
            for index, source in markdown_cells(path)
            for problem in plain_problems(source, keys)]


# --- the checker itself: it flags the forms the book gave up, and passes the ones it uses ---
OLD_GOALS = ("# Title\n\n```{admonition} Learning goals\n:class: tip\n\nAfter this chapter you "
             "can\n\n1. derive $\\alpha < 2/\\lambda_{\\max}$;\n2. explain it.\n```\n")
NEW_GOALS = ("# Title\n\n:::{admonition} Learning goals\n\nAfter this chapter you "
             "can\n\n1. derive $\\alpha < 2/\\lambda_{\\max}$;\n2. explain it.\n\n:::\n")


@pytest.mark.parametrize("source, expected", [
    (OLD_GOALS, ["MyST directive shown as a code block", "option line shown in a code block"]),
    (":::{admonition} Learning goals\n:class: tip\n\nText.\n:::\n",
     ["runs into the text", "option line shown as text", "runs into the text"]),
    ("```{note}\nText.\n```\n", ["MyST directive shown as a code block"]),
    ("As {ref}`sec-x` shows.\n", ["role {ref} shows as raw markup"]),
    ("See {cite}`Kingma:2015`.\n", ["does not read as author+year"]),
    ("See {cite}`nobody1999`.\n", ["not in references.bib"]),
    ("{numref}`ch01-bowl` shows it.\n", ["does not name a figure"]),
    (":::{figure} img.png\n:::\n", ["reads as raw markup", "runs into the text"]),
    ("(sec-x)=\n## Heading\n", ["MyST target"]),
    ("$$\nx = 1\n$$ (eq-x)\n", ["equation label"]),
])
def test_checker_flags_raw_markup(source, expected):
    problems = plain_problems(source, {"kingma2015"})
    assert len(problems) == len(expected), problems
    for what in expected:
        assert sum(what in p for p in problems) == expected.count(what), (what, problems)


@pytest.mark.parametrize("source", [
    NEW_GOALS,
    NEW_GOALS.replace("{admonition}", "{tip}"),
    ":::{note}\n\nA note.\n\n:::\n",
    "Adam {cite}`kingma2015` and {cite:t}`kingma2015,kingma2015`; {numref}`fig-ch01-bowl`.\n",
    "A set $\\{x : f(x) < 1\\}$ and $\\{\\alpha\\}$ stay math.\n\n```python\ncheck('1.1', x)\n```\n",
])
def test_checker_accepts_the_book_forms(source):
    assert plain_problems(source, {"kingma2015"}) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_markdown_reads_well_without_myst(path):
    problems = chapter_problems(path)
    assert not problems, (f"{len(problems)} place(s) in {path.name} read as raw markup in plain "
                          "CommonMark (Colab, GitHub):\n" + "\n".join(problems))


def test_learning_goals_render_as_markdown_without_myst():
    """The goals are a numbered list in plain CommonMark too, after a 'Learning goals' line."""
    for path in CHAPTERS:
        index, source = next(markdown_cells(path))
        html = PLAIN.render(MATH.sub(PLACEHOLDER, source))
        title = re.search(r"<p>:::\{(?:admonition|tip)\} Learning goals</p>", html)
        assert title, f"{path.name}, cell {index}: no 'Learning goals' line of its own"
        goals = html[title.end():].split("<p>:::</p>", 1)
        assert len(goals) == 2, f"{path.name}, cell {index}: the admonition has no closing ':::' line"
        assert goals[0].count("<li>") >= 3 and "<ol>" in goals[0] and "<pre>" not in goals[0], \
            f"{path.name}, cell {index}: the goals are not a rendered numbered list"


if __name__ == "__main__":
    total = 0
    for chapter in CHAPTERS:
        found = chapter_problems(chapter)
        total += len(found)
        print("\n".join(found) or f"{chapter.name}: nothing reads as raw markup")
    print(f"{total} problem(s)")
    sys.exit(1 if total else 0)
