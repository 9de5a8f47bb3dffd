"""`make claims`: every number in a chapter's prose is declared, and every result is right.

    python scripts/claims.py [chapters/01_oscillation.ipynb ...]

The prose of a chapter is its markdown cells. Each number written there is one of

* a **result**: something the chapter computes. The cell's metadata gives an
  expression for it, evaluated here with optlib (or read from a stored output of the
  notebook), and the number must equal the expression's value *at the precision it
  is printed with* ("0.08" checks ``round(value, 2) == 0.08``; "2303" checks the
  nearest whole number; "7.3e-3" two significant digits);
* an **input**: a number the author chose (a learning rate, a start point, a
  curvature), declared as such;
* **structure**: chapter, exercise, theorem and fact numbers, list markers, citation
  years, integers inside formulas (the 2 of 2/λ, the 1 of 1 − β) and the limits and
  indices of a formula's sub- and superscripts (the 0 of \\sum_{k=0}): recognised by pattern.

Thousands may be separated by commas ("2,303") or spaces ("20 000"); either is one number.

A number that is none of these fails, as does a result whose value differs; the
message names the chapter, the cell and the sentence. Nothing is re-executed: the
expressions are cheap calls into optlib, or read the notebook's stored outputs, so
the whole check takes seconds.

Declarations live in each markdown cell's metadata (invisible in JupyterLab, Colab
and the book; the prose stays plain text)::

    "claims": {
      "inputs": ["0.05", "25"],
      "results": [["0.08", "analysis.gd_stability_limit(bowl)"],
                  ["2303", "num(38, r'1000\\s+(\\d+)')"]]
    }

and the notebook's metadata ``claims_setup`` holds Python run once per chapter
before the expressions (``bowl = Quadratic()``). In expressions: ``np``, ``math``,
``optlib`` and its public names, ``out(i)`` (the stored text output of cell ``i``),
``num(i, pattern, group=1)`` (a number found in it), ``nums(i, pattern)`` (all of
them), and ``at_least(value, bound)`` / ``at_most(value, bound)`` for a bound the
prose states ("above 99 %": ``at_least(min(accuracies), 0.99)`` gives 0.99 exactly
when the bound holds, and the value that breaks it otherwise).

A chapter whose metadata has no ``claims_setup`` key and no cell with ``claims`` is
reported as *not declared yet* (with its count of numbers), and fails with
``--strict``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------
# Finding the numbers of the prose
# ---------------------------------------------------------------------------
FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
# directives whose body is prose (their numbers are checked); any other fence is code
PROSE_DIRECTIVES = ("{admonition}", "{note}", "{tip}", "{warning}", "{important}",
                    "{dropdown}", "{hint}", "{seealso}", "{attention}", "{caution}")
# thousands separated by commas ("2,303") or by a space ("20 000", also a thin or no-break space)
NUMBER = re.compile(
    r"(?<![\w.\\])(?P<num>[-−]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u2009\u202f\u00a0]\d{3})+(?![\d.,])"
    r"|\d+)(?:\.\d+)?(?:e[-+−]?\d+)?)"
    r"(?P<pct>\s?%)?(?![\w])")
STRUCTURE = [
    re.compile(r"(?i)\b(?:chapters?|ch\.|exercises?|sections?|§|figures?|fig\.|tables?|cells?)\s*"
               r"(?P<num>\d+(?:\.\d+)?)(?:\s*(?:–|-|and|,)\s*(?P<num2>\d+(?:\.\d+)?))*"),
    re.compile(r"^\s*(?P<num>\d+)\.\s", re.M),                     # list markers
    re.compile(r"(?P<num>(?:19|20)\d\d)[a-z]?\)"),                 # (Kingma & Ba, 2015)
    re.compile(r"(?i)(?P<num>\d+)(?:st|nd|rd|th)\b"),
    re.compile(r"(?i)\b(?:theorems?|facts?|lemmas?|propositions?|corollary|parts?)\s*"
               r"(?P<num>\d+)(?:\s*(?:–|-|and|,)\s*(?P<num2>\d+))*"),
]
ROLE = re.compile(r"\{[a-z:]+\}`[^`]*`")          # {cite}`kingma2015`, {numref}`fig-x`
CODE = re.compile(r"`[^`\n]*`")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
HTML = re.compile(r"</?[A-Za-z][^<>]*>")
DIRECTIVE_OPTION = re.compile(r"^:[\w-]+:.*$", re.M)
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]+?\$", re.S)


@dataclass
class Token:
    text: str          # as written, e.g. "0.08", "2,303", "95.5 %"
    value: float
    sentence: str
    in_math: bool


def prose_of(source: str) -> str:
    """The markdown with code, roles, link targets, HTML and directive options removed."""
    lines, keep, inside, prose_fence = source.splitlines(), [], None, False
    for line in lines:
        m = FENCE.match(line.strip())
        if m and inside is None:
            inside, prose_fence = m.group(1), m.group(2).strip().startswith(PROSE_DIRECTIVES)
            continue
        if m and inside is not None and line.strip() == inside:
            inside = None
            continue
        if inside is None or prose_fence:
            keep.append(line)
    text = "\n".join(keep)
    for pattern in (ROLE, CODE, LINK_TARGET, HTML, DIRECTIVE_OPTION):
        text = pattern.sub(" ", text)
    return text


def _value(text: str) -> float:
    return float(re.sub(r"[,\s\u2009\u202f\u00a0]", "", text.replace("−", "-")))


def sentence_around(text: str, start: int, width: int = 70) -> str:
    """The sentence (or list item) holding position ``start``, cut to ``width`` characters
    on either side of it."""
    bounds = [text.rfind(mark, 0, start) for mark in (". ", "\n\n", "\n* ", "\n- ", ";")]
    left = max(max(bounds) + 1, start - width)
    ends = [i for i in (text.find(". ", start), text.find("\n\n", start), text.find("\n* ", start),
                        text.find(";", start)) if i >= 0]
    right = min(min(ends) + 1 if ends else len(text), start + width)
    return " ".join(text[left:right].split())


def tokens(source: str) -> tuple[list[Token], int]:
    """The numbers of a markdown cell that need a declaration, and how many were structure.

    Inside math only decimals and numbers right after ``=``, ``≈`` or ``\\approx``
    count (a formula's own integers are structure).
    """
    text = prose_of(source)
    structural = set()
    for pattern in STRUCTURE:
        for m in pattern.finditer(text):
            for group in ("num", "num2"):
                if group in m.groupdict() and m.group(group):
                    structural.add(m.start(group))
    math_spans = [(m.start(), m.end()) for m in MATH.finditer(text)]
    found, skipped = [], 0
    for m in NUMBER.finditer(text):
        start = m.start("num")
        in_math = any(a <= start < b for a, b in math_spans)
        if start in structural:
            skipped += 1
            continue
        raw = m.group("num")
        if in_math:
            before = text[max(0, start - 12):start].rstrip()
            relation = re.search(r"(=|≈|\\approx)\s*[-−]?$", before)
            # after "=", a number that goes on as a formula (2\,artanh(1/κ), 1 - 1/κ) is
            # one of the formula's coefficients, not a result
            span_end = next(b for a, b in math_spans if a <= start < b)
            rest = text[m.end():span_end].lstrip("$ ").lstrip()
            ends = not rest or rest.startswith((",", ";", ")", ".", "\\quad", "\\qquad",
                                                "\\text", "\\;", "}", "&", "\\%", "%",
                                                "\\\\", "\\le", "\\ge", "<", ">"))
            math_start = next(a for a, b in math_spans if a <= start < b)
            # a summation limit or an index (\sum_{k=0}, x^{t-1}) belongs to the formula
            in_script = re.search(r"[_^]\{[^{}]*$", text[math_start:start])
            if in_script or ("." not in raw and not (relation and ends)):
                skipped += 1
                continue
            # x 10^{k}: the mantissa and the exponent are one number
            tail = text[m.end():m.end() + 16]
            power = re.match(r"\s*(?:\\times|\\cdot)\s*10\^\{?([-−]?\d+)\}?", tail)
            if power:
                raw = f"{raw}e{power.group(1)}"
        text_form = raw + (m.group("pct") or "").replace(" ", "")
        value = _value(raw.replace("e−", "e-"))
        found.append(Token(text_form, value, sentence_around(text, start), in_math))
    return found, skipped


# ---------------------------------------------------------------------------
# Checking a result at its printed precision
# ---------------------------------------------------------------------------
def agrees(text: str, value) -> bool:
    """Whether ``value`` printed the way ``text`` is printed gives ``text``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return False
    if not math.isfinite(value):
        return False
    body = re.sub(r"[,\s\u2009\u202f\u00a0]", "", text.rstrip("%").replace("−", "-"))
    if text.endswith("%"):
        value *= 100
    if "e" in body:
        mantissa, _, _ = body.partition("e")
        digits = len(mantissa.replace("-", "").replace(".", "").lstrip("0")) or 1
        return float(f"{value:.{digits - 1}e}") == float(body)
    decimals = len(body.partition(".")[2])
    shown = round(value, decimals)
    # both signs of a magnitude the prose states without one ("by 0.25") are accepted
    return shown == float(body) or (not body.startswith("-") and -shown == float(body))


# ---------------------------------------------------------------------------
# A chapter
# ---------------------------------------------------------------------------
@dataclass
class Report:
    path: Path
    checked: int = 0
    inputs: int = 0
    structural: int = 0
    problems: list[str] = field(default_factory=list)
    declared: bool = True


def stored_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
        elif "text/plain" in out.get("data", {}):
            data = out["data"]["text/plain"]
            parts.append("".join(data) if isinstance(data, list) else data)
    return "".join(parts)


def namespace(nb) -> dict:
    import optlib
    from optlib import analysis, experiments, objectives, optimizers

    cells = nb["cells"]

    def out(i: int) -> str:
        if cells[i]["cell_type"] != "code":
            raise ValueError(f"cell {i} is not a code cell")
        return stored_text(cells[i])

    def num(i: int, pattern: str, group: int = 1) -> float:
        m = re.search(pattern, out(i), re.S)
        if not m:
            raise ValueError(f"pattern {pattern!r} not found in the output of cell {i}")
        return _value(m.group(group))

    def nums(i: int, pattern: str, group: int = 1) -> list[float]:
        found = [_value(m.group(group)) for m in re.finditer(pattern, out(i))]
        if not found:
            raise ValueError(f"pattern {pattern!r} not found in the output of cell {i}")
        return found

    def at_least(value, bound):
        """``bound`` if ``value >= bound`` (the prose's "at least" / "above" holds), else
        ``value`` (which then disagrees with the prose)."""
        return bound if value >= bound else value

    def at_most(value, bound):
        """``bound`` if ``value <= bound``, else ``value``."""
        return bound if value <= bound else value

    ns = {"np": np, "math": math, "optlib": optlib, "analysis": analysis,
          "experiments": experiments, "out": out, "num": num, "nums": nums,
          "at_least": at_least, "at_most": at_most, "run": optlib.run}
    ns.update({name: getattr(objectives, name) for name in objectives.__all__})
    ns.update({name: getattr(optimizers, name) for name in optimizers.__all__})
    setup = nb.get("metadata", {}).get("claims_setup", "")
    exec(compile(setup, "claims_setup", "exec"), ns)
    return ns


def check(path: Path) -> Report:
    nb = json.loads(path.read_text(encoding="utf-8"))
    report = Report(path)
    declared = "claims_setup" in nb.get("metadata", {}) or any(
        "claims" in c.get("metadata", {}) for c in nb["cells"])
    ns = None

    def where_of(token, index):
        return f"{path.name}, cell {index}: {token.text!r} in “{token.sentence}”"

    def evaluate(token, expression, index):
        nonlocal ns
        if ns is None:
            ns = namespace(nb)
        try:
            value = eval(expression, ns)
        except Exception as error:          # report, do not stop
            report.problems.append(f"{where_of(token, index)}: {expression} raised {error!r}")
            return
        report.checked += 1
        if not agrees(token.text, value):
            report.problems.append(f"{where_of(token, index)}: the computation ({expression}) "
                                   f"gives {float(value):.6g}")

    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        found, skipped = tokens("".join(cell["source"]))
        report.structural += skipped
        if not declared:
            report.checked += len(found)
            continue
        claims = cell.get("metadata", {}).get("claims", {})
        inputs = list(claims.get("inputs", []))
        results = [list(r) for r in claims.get("results", [])]
        unmatched = []
        for token in found:
            match = next((r for r in results if r[0] == token.text), None)
            if match is not None:
                results.remove(match)
                evaluate(token, match[1], index)
            elif token.text in inputs:
                inputs.remove(token.text)
                report.inputs += 1
            else:
                unmatched.append(token)
        # a number that is no declared text: the next result left over is what it
        # should say (a changed result); with none left it was never declared
        for token in unmatched:
            if results:
                evaluate(token, results.pop(0)[1], index)
            else:
                report.problems.append(f"{where_of(token, index)}: not declared as a result "
                                       "or an input")
        for text, expression in results:
            report.problems.append(f"{path.name}, cell {index}: the result {text!r} "
                                   f"({expression}) is not in the prose")
        for text in inputs:
            report.problems.append(f"{path.name}, cell {index}: the input {text!r} is not in "
                                   "the prose")
    report.declared = declared
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--strict", action="store_true",
                        help="a chapter without declarations fails")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    failed = False
    for path in paths:
        report = check(path)
        if not report.declared:
            print(f"{path.name}: not declared yet: {report.checked} prose numbers "
                  f"({report.structural} structural)")
            failed |= args.strict
            continue
        print(f"{path.name}: {report.checked} results checked, {report.inputs} inputs, "
              f"{report.structural} structural, {len(report.problems)} problems")
        for problem in report.problems:
            print(f"  {problem}")
        failed |= bool(report.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
