"""Chapters 3 and 4 print only what rounding cannot reach.

nbval compares the stored outputs exactly, and another CPU rounds a few results (BLAS, exp, log,
sin/cos) differently. A run that contracts keeps such a difference in its last bits; a chaotic run
amplifies it. Each test below recomputes a printed output the way its cell does (the same optlib
calls with the same arguments) and again from *one-ulp shadows*: the start point moved by one ulp
in one coordinate (``np.nextafter``), or the learning rate moved by one ulp. The printed text must
be the same for all of them, and the same as the stored output.

The old printing of each output is kept here as well (``OLD_*``): under the same shadows it gives
a different text, so these tests would have failed against it (the notebooks before this change
stored the ``base`` text of the old format).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from notebook_outputs import output_text
from optlib import GradientDescent, RMSprop, analysis, experiments, run
from optlib.objectives import OBJECTIVES, Quadratic

ROOT = Path(__file__).resolve().parent.parent
SHADOWS = ("base", "x+", "x-", "y+", "y-", "lr+", "lr-")


def shadow(w0, lr, which):
    """The start point and learning rate of one shadow: one ulp moved in x, y or lr."""
    w0, lr = np.array(w0, dtype=float), np.asarray(lr, dtype=float)
    if which != "base":
        toward = np.inf if which.endswith("+") else -np.inf
        if which.startswith("lr"):
            lr = np.nextafter(lr, toward)
        else:
            i = "xy".index(which[0])
            w0[i] = np.nextafter(w0[i], toward)
    return w0, (float(lr) if lr.ndim == 0 else lr)


def stored_output(chapter: str, marker: str) -> str:
    """The stored text output of the one code cell of ``chapter`` whose source contains ``marker``."""
    nb = json.loads((ROOT / "chapters" / chapter).read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and marker in "".join(c["source"])]
    assert len(cells) == 1, f"{chapter}: {len(cells)} code cells contain {marker!r}"
    return "".join(output_text(out) for out in cells[0].get("outputs", []))


def leading_digit(n: int) -> str:
    """As in chapter 3: 2473 -> "2000–2999"."""
    unit = 10 ** (len(str(n)) - 1)
    return f"{n // unit * unit}–{(n // unit + 1) * unit - 1}"


# --------------------------------------------------------------------------------------------
# Chapter 3: steps until RMSprop settles, axis-aligned and rotated bowls (the table)
# --------------------------------------------------------------------------------------------
LRS = np.geomspace(1e-3, 1.0, 61)[:, None]
KAPPAS = (10, 25, 100, 1000)


def settling_runs(which: str) -> dict:
    """The table cell's computation for one shadow: {κ: (GD count, aligned, rotated, runs)}."""
    rows = {}
    for kappa in KAPPAS:
        settle, runs = {}, {}
        for name, angle in (("aligned", 0.0), ("rotated", np.pi / 4)):
            f = Quadratic(curvatures=(1.0, kappa), angle=angle)
            w0, lr = shadow(f.start, LRS, which)
            runs[name] = run(RMSprop(lr=lr), f, w0, 5000)
            settle[name] = experiments.settling_step(runs[name], 0.01).astype(float)
            settle[name][settle[name] < 0] = np.inf
        gd = experiments.settling_step(run(GradientDescent(lr=analysis.gd_optimal(f).lr), f, f.start,
                                        5000), 0.01)
        rows[kappa] = (gd, settle["aligned"], settle["rotated"], runs)
    return rows


def table_text(rows: dict) -> str:
    """The table as chapter 3 prints it now: the rotated count by its leading digit only."""
    lines = ["     κ   GD at α*    RMSprop, aligned (best α)    RMSprop, rotated 45° (leading digit)"]
    for kappa, (gd, aligned, rotated, _) in rows.items():
        lines.append(f"{kappa:6d}   {gd:6d}       {aligned.min():6.0f} (α = {LRS[np.argmin(aligned), 0]:.4f})"
                     f"           {leading_digit(int(rotated.min())):>9s}")
    gd, _, rotated, _ = rows[1000]
    lines.append(f"κ = 1000, rotated: more steps than gradient descent at α* for every α of the grid: "
                 f"{bool(rotated.min() > gd)}")
    return "\n".join(lines) + "\n"


def old_table_text(rows: dict) -> str:
    """The old printing: every count in full, with the best α of each column."""
    lines = ["     κ   GD at α*    RMSprop, aligned (best α)    RMSprop, rotated 45° (best α)"]
    for kappa, (gd, aligned, rotated, _) in rows.items():
        cols = [f"{s.min():6.0f} (α = {LRS[np.argmin(s), 0]:.4f})" for s in (aligned, rotated)]
        lines.append(f"{kappa:6d}   {gd:6d}       {cols[0]}           {cols[1]}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def settling():
    return {which: settling_runs(which) for which in SHADOWS}


def test_ch3_settling_table_is_the_same_for_every_one_ulp_shadow(settling):
    texts = {which: table_text(rows) for which, rows in settling.items()}
    assert texts["base"] == stored_output("03_rmsprop.ipynb", "np.geomspace(1e-3, 1.0, 61)")
    for which, text in texts.items():
        assert text == texts["base"], f"shadow {which} prints\n{text}"


def test_ch3_old_settling_table_changed_under_a_one_ulp_shadow(settling):
    """The old text (every rotated count and its best α) is not reproducible."""
    old = {which: old_table_text(rows) for which, rows in settling.items()}
    assert any(text != old["base"] for text in old.values())


def test_ch3_rotated_runs_are_chaotic_and_aligned_runs_contract(settling):
    """The prose: for many α one-ulp shadows of the rotated runs end up more than 0.01 apart,
    while the aligned runs' shadows stay in the last bits."""
    for kappa in KAPPAS:
        base = settling["base"][kappa][3]
        gaps = {name: np.max([np.abs(settling[which][kappa][3][name].points - base[name].points)
                              .max(axis=(0, 2)) for which in SHADOWS[1:]], axis=0)
                for name in ("aligned", "rotated")}
        assert gaps["aligned"].max() < 1e-9, kappa
        assert (gaps["rotated"] > 0.01).sum() >= 10, kappa


def test_ch3_claims_on_the_settling_table_hold_for_every_shadow(settling):
    """The prose: the aligned count is the same for every κ; rotated, RMSprop is no slower than
    aligned for small κ, pays for large κ, and for κ = 1000 needs more steps than GD with every α."""
    for which, rows in settling.items():
        aligned = {kappa: rows[kappa][1].min() for kappa in KAPPAS}
        rotated = {kappa: rows[kappa][2].min() for kappa in KAPPAS}
        assert len(set(aligned.values())) == 1, which
        assert rotated[10] < aligned[10] and rotated[25] < aligned[25], which
        assert rotated[100] > aligned[100] and rotated[1000] > 10 * aligned[1000], which
        gd_1000 = rows[1000][0]
        assert rows[1000][2].min() > gd_1000 and gd_1000 > 10 * aligned[1000], which


def test_ch3_exercise_3_7_sign_descent_prints_the_same_for_every_one_ulp_shadow():
    # Sign descent (RMSprop with beta = 0) walks in steps of alpha up to eps: its two-cycle is
    # set by the start, so check that a one-ulp shadow of the start or of alpha cannot move the
    # printed loss gaps (unlike the near-divergent runs above, it is not chaotic).
    bowl = Quadratic()
    printed = set()
    for which in SHADOWS:
        w0, lr = shadow(bowl.start, 0.55, which)
        losses = run(RMSprop(lr=lr, beta=0.0), bowl, w0, 101).losses
        printed.add(f"optlib:  f − f* = {losses[100]:.4f}, {losses[101]:.4f};")
    assert len(printed) == 1, printed
    assert printed.pop() in stored_output("03_rmsprop.ipynb", 'check("3.7"')


# --------------------------------------------------------------------------------------------
# Chapter 4: the gaps after 200 steps of the race (RMSprop's row)
# --------------------------------------------------------------------------------------------
RACE = {"quadratic": ("quadratic", 0.1), "rotated quadratic": ("rotated_quadratic", 0.1),
        "Rosenbrock": ("rosenbrock", 0.01), "Beale": ("beale", 0.05), "saddle": ("saddle", 0.05)}


def race_gaps(which: str) -> list[float]:
    """RMSprop's f − f* after 200 steps on the five objectives, as ComparisonExplorer runs it."""
    gaps = []
    for key, lr in RACE.values():
        f = OBJECTIVES[key]()
        max_loss = 1e6 * max(1.0, abs(float(f.value(f.start))))     # the explorer's bound
        w0, lr = shadow(f.start, lr, which)
        gaps.append(run(RMSprop(lr=lr, beta=0.9), f, w0, 200, max_loss=max_loss).losses[-1]
                    - f.min_value)
    return gaps


def race_row(gaps) -> str:
    return f"{'RMSprop':22s}" + "".join(f"{f'≈{gap:.0e}':>19s}" for gap in gaps)


def old_race_row(gaps) -> str:
    return f"{'RMSprop':22s}" + "".join(f"{gap:19.1e}" for gap in gaps)


@pytest.fixture(scope="module")
def race():
    return {which: race_gaps(which) for which in SHADOWS}


def test_ch4_rmsprop_gaps_print_the_same_for_every_one_ulp_shadow(race):
    rows = {which: race_row(gaps) for which, gaps in race.items()}
    stored = stored_output("04_adam.ipynb", "f − f* after 200 steps").splitlines()
    assert rows["base"] in stored
    for which, row in rows.items():
        assert row == rows["base"], f"shadow {which}: {row}"


def test_ch4_old_rmsprop_gaps_changed_under_a_one_ulp_shadow(race):
    old = {which: old_race_row(gaps) for which, gaps in race.items()}
    assert any(row != old["base"] for row in old.values())


def test_ch4_rmsprop_bounce_is_chaotic_where_the_prose_says(race):
    """Rotated bowl, Rosenbrock and Beale: the shadows' gaps differ well beyond rounding;
    on the aligned bowl and the saddle they agree to rounding."""
    base = np.array(race["base"])
    spread = np.max([np.abs(np.array(g) - base) for g in race.values()], axis=0) / base
    chaotic = dict(zip(RACE, spread > 1e-4))
    assert chaotic == {"quadratic": False, "rotated quadratic": True, "Rosenbrock": True,
                       "Beale": True, "saddle": False}, spread
    assert spread[[0, 4]].max() < 1e-9


def test_ch4_rmsprop_gaps_keep_their_digit_over_wider_shadows():
    """Start points and learning rates a few ulps away (up to 64): the bounce's gaps stay well
    inside the rounding interval of their one printed digit."""
    rng = np.random.default_rng(7)
    base = race_gaps("base")
    for (key, lr), gap in zip(RACE.values(), base):
        f = OBJECTIVES[key]()
        k = rng.integers(-64, 65, size=(200, 3))
        w0 = np.asarray(f.start) + k[:, :2] * np.spacing(np.asarray(f.start))
        lrs = (lr + k[:, 2] * np.spacing(lr))[:, None]
        gaps = run(RMSprop(lr=lrs, beta=0.9), f, w0, 200).losses[-1] - f.min_value
        assert {f"{g:.0e}" for g in gaps} == {f"{gap:.0e}"}, key


# ---------------------------------------------------------------------------
# Chapter 1, cells 9 and 47: W along the first steps of gradient descent at α = 0.05
# ---------------------------------------------------------------------------
def chapter1_points(lr, start):
    bowl = Quadratic()
    return run(GradientDescent(lr=lr), bowl, start, 5).points[1:]


def test_chapter1_first_steps_print_the_same_under_one_ulp():
    """W2 = 1.5·(−0.25)ᵗ hits exact decimal ties (0.09375, and W1 = −6.51605) at 4
    decimals, where one ulp decides the last digit; at 5 decimals every shadow agrees."""
    bowl = Quadratic()
    shadows = [(lr, start) for lr in (0.05, np.nextafter(0.05, 1), np.nextafter(0.05, 0))
               for start in (bowl.start, np.nextafter(bowl.start, 10),
                             np.nextafter(bowl.start, -10))]
    new = {" ".join(f"{a:+9.5f} {b:+9.5f}" for a, b in chapter1_points(*s)) for s in shadows}
    old = {" ".join(f"{a:+8.4f} {b:+8.4f}" for a, b in chapter1_points(*s)) for s in shadows}
    assert len(new) == 1
    assert len(old) > 1, "the old 4-decimal format did not depend on the last bit"
