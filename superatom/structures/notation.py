"""Chemical formulas as chemists write them: Hill order, POM notation with the charge.

Stored documents keep pymatgen's formula (``"H4C1"``, ``"P1W12O40"``); tables, plots and
reports show ``CH4`` and ``[PW12O40]3-``.

Examples
--------
>>> hill_formula("H4C1")
'CH4'
>>> display_formula("P1W12O40", -3)
'[PW12O40]3-'
>>> display_formula("La2P2W22O78", -8)
'[La2P2W22O78]8-'
>>> display_formula("H2O1", 0)
'H2O'
>>> with_display_formula({"formula": "H2O1 / H4C1", "charge": 0})["formula"]
'H2O / CH4'
"""

from __future__ import annotations

import re

from pymatgen.core import Composition

ADDENDA = ("W", "Mo", "V", "Nb", "Ta")


def _amount(symbol: str, n: float) -> str:
    n = int(n) if float(n).is_integer() else n
    return symbol if n == 1 else f"{symbol}{n}"


def hill_formula(formula: str) -> str:
    """Hill order (C, H, then alphabetical; alphabetical without carbon), no unit counts."""
    return Composition(formula).hill_formula.replace(" ", "")


def _charge(charge: int) -> str:
    if charge == 0:
        return ""
    sign = "-" if charge < 0 else "+"
    return f"{abs(charge)}{sign}" if abs(charge) != 1 else sign


def is_pom(formula: str) -> bool:
    """An oxo cluster of W/Mo/V/Nb/Ta addenda with at least as many O as addenda atoms."""
    comp = Composition(formula)
    addenda = sum(comp[a] for a in ADDENDA if a in comp)
    return addenda >= 2 and comp["O"] >= 2 * addenda


def pom_formula(formula: str) -> str:
    """POM order: heteroatoms and substituents (alphabetical), addenda, O, then H."""
    comp = Composition(formula)
    symbols = [el.symbol for el in comp]
    hetero = sorted(s for s in symbols if s not in (*ADDENDA, "O", "H"))
    addenda = [a for a in ADDENDA if a in symbols]
    order = [*hetero, *addenda, "O", *(["H"] if "H" in symbols else [])]
    return "".join(_amount(s, comp[s]) for s in order)


def display_formula(formula: str, charge: int | float | None = 0) -> str:
    """``[PW12O40]3-`` for polyoxometalates, Hill notation (bracketed if charged) otherwise."""
    charge = round(float(charge or 0))
    text = pom_formula(formula) if is_pom(formula) else hill_formula(formula)
    return f"[{text}]{_charge(charge)}" if charge else text


def with_display_formula(row: dict) -> dict:
    """A copy of a table row with its ``formula`` (or ``" / "``-joined formulas) in display
    notation at the row's ``charge``; a row without a formula is returned as it is."""
    if not row.get("formula"):
        return row
    return {**row, "formula": " / ".join(display_formula(f, row.get("charge"))
                                         for f in str(row["formula"]).split(" / "))}


def split_charge(text: str) -> tuple[str, int | None]:
    """The formula and the charge of a formula written as the tables print it.

    ``[PW12O40]3-`` gives ``('PW12O40', -3)``, ``[MoO4]2-`` ``('MoO4', -2)``, ``[Cu]+``
    ``('Cu', 1)``; a plain formula (``CH4``, ``P1W12O40``) comes back with charge None.

    Examples
    --------
    >>> split_charge("[PW12O40]3-"), split_charge("CH4"), split_charge("[NH4]+")
    (('PW12O40', -3), ('CH4', None), ('NH4', 1))
    """
    match = re.fullmatch(r"\s*\[([^\]]+)\]\s*(\d*)\s*([+-])\s*", text)
    if not match:
        return text.strip(), None
    size = int(match[2]) if match[2] else 1
    return match[1], size if match[3] == "+" else -size
