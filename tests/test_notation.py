"""One notation in the whole book (notation.md): the forms it replaced do not come back.

The book writes the first moment $v$ and the second moment $s$ everywhere (Adam's paper writes
$m$ and $v$), weight decay $\\delta$ (papers write $\\lambda$, which here is a curvature), the
EMA's response $G(\\omega)$ (not $H$, the Hessian), every average with the index
$v_t = \\beta v_{t-1} + (1-\\beta) g_t$, the trace of momentum's matrix $\\operatorname{tr} M$,
and $u$ only for eigen-coordinates. This test searches the chapters' markdown, the landing and
notation pages and optlib's docstrings for the old forms.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: old form -> what the book writes instead
FORBIDDEN = {
    r"\\hat\s*\{?m\}?(?![a-zA-Z])|m̂": "Adam's first moment is v̂ (v with a hat), not m̂",
    r"\\sqrt\{\\hat\s*\{?v\}?(?![a-zA-Z])|√v̂": "the second moment under the root is ŝ, not v̂",
    r"v_\{t\+1\}\s*=\s*\\beta\s*v_t": "averages are written v_t = βv_{t−1} + (1−β)g_t",
    r"H\(\\omega\)|H\(ω\)": "the EMA's response is G(ω); H is the Hessian",
    r"(?<![a-zA-Z\\])u_t(?![a-zA-Z])": "u is only the eigen-coordinate vector (Δ_t, q_t instead)",
    r"1\s*-\s*\\alpha\s*\\lambda\)\s*W|1-\\alpha\\lambda\)W": "AdamW's shrink is (1 − αδ)W",
    r"weight_decay\s*=\s*λ|\\tfrac\{\\lambda\}\{2\}\s*\\lVert\s*W": "weight decay is δ",
    r"T\s*=\s*\\operatorname\{tr\}": "the trace of M is written tr M, no T",
    r"w\^\\top A w": "the Hessian is H",
    r"(?<![\\a-zA-Z])m\s*\\leftarrow|(?<![a-zA-Z])m_0(?![0-9])": "the first moment is v, not m",
    r"\\sqrt\{\s*v(?![a-zA-Z])": "the second moment under the root is s, not v",
    r"v_\{\\max\}|v_\{max\}": "AMSGrad's running maximum is s_max",
    r"\\alpha\s*\\lambda\\?,?\s*w\b|weight_decay: :math:`\\lambda": "weight decay is δ",
}
ALLOWED_CONTEXT = re.compile(r"PyTorch|Adam's paper|papers", re.I)


def violations(text: str) -> list[str]:
    """Every old form in ``text``, with a little context, except in a sentence that names the
    papers' or PyTorch's notation on purpose."""
    found = []
    for pattern, why in FORBIDDEN.items():
        for match in re.finditer(pattern, text):
            start = text.rfind(".", 0, match.start()) + 1
            stop = text.find(".", match.end())
            sentence = text[start:stop if stop >= 0 else len(text)]
            if ALLOWED_CONTEXT.search(sentence):
                continue
            context = " ".join(text[max(0, match.start() - 40):match.end() + 40].split())
            found.append(f"{why}: …{context}…")
    return found


def _markdown(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def _docstrings(path: Path) -> str:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = [tree] + [n for n in ast.walk(tree)
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return "\n\n".join(filter(None, (ast.get_docstring(n) for n in nodes)))


TEXTS = ([(p.relative_to(ROOT).as_posix(), _markdown) for p in
          sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))]
         + [(name, lambda p: p.read_text(encoding="utf-8")) for name in ("intro.md", "notation.md")]
         + [(p.relative_to(ROOT).as_posix(), _docstrings) for p in
            sorted((ROOT / "optlib").rglob("*.py")) if "exercises" not in p.parts])


@pytest.mark.parametrize("name, read", TEXTS, ids=[name for name, _ in TEXTS])
def test_one_notation(name, read):
    found = violations(read(ROOT / name))
    assert not found, f"{name}:\n" + "\n".join(found)


@pytest.mark.parametrize("old", [
    r"Adam steps by $\alpha\, \hat m/(\sqrt{\hat v} + \varepsilon)$ per parameter.",
    r"the iteration $v_{t+1} = \beta v_t + (1-\beta)g_t$, $w_{t+1} = w_t - \alpha v_{t+1}$",
    r"its gain is $|H(\omega)|$",
    r"Sutskever et al.'s velocity $u_t = w_t - w_{t-1}$",
    r"AdamW's decoupled decay $W \leftarrow (1-\alpha\lambda)W$ treats all weights alike",
    r"the L2 penalty $\tfrac{\lambda}{2}\lVert W\rVert^2$",
    r"with $T = \operatorname{tr} M$",
    r"an elongated quadratic bowl $f(w) = \tfrac12 w^\top A w$",
    r"m \leftarrow \beta_1 m + (1-\beta_1)\, g",
    r"w \leftarrow w - \alpha\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \varepsilon}",
    r"With ``amsgrad=True``, :math:`v_{\max} \leftarrow \max(v_{\max}, v)`",
    r"first :math:`w \leftarrow w - \alpha\lambda\, w`",
    r"weight_decay: :math:`\lambda \ge 0` (default 0).",
])
def test_the_old_forms_are_found(old):
    # Sentences of the book before the notation was unified: each must be reported.
    assert violations(old)


def test_a_sentence_about_the_papers_notation_is_allowed():
    assert not violations(r"Adam's paper and PyTorch call the moments $m$ and $v$, "
                          r"with $\hat m$ and $\hat v$.")
