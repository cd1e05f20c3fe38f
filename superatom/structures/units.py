"""Formal charge and spin of the cluster units named by ``fragment`` labels of the builders.

Labels look like ``PW11La#0``, ``PW12#1``, ``Ca#0``, ``Ti10Cu2#2``: the part before ``#``
names the unit. Charges follow the usual oxidation states (W/Mo VI, O -II, Ln III, Ca II,
transition metals II); spins are high-spin (4f^n, 3d^n; two Cu(II) in Ti10Cu2).

Examples
--------
>>> unit_charge("PW11La#0"), unit_charge("PW12#1"), unit_charge("Ca#0"), unit_charge("W6O19#0")
(-4, -3, 2, -2)
>>> unit_multiplicity("PW11Gd#0"), unit_multiplicity("Ti10Cu2#1")
(8, 3)
"""

from __future__ import annotations

import re

from superatom.structures.chem import (
    HETEROATOM_VALENCE,
    LANTHANIDES,
    TRANSITION_METALS,
    ln_multiplicity,
    tm_multiplicity,
)

_KEGGIN = re.compile(r"^([A-Z][a-z]?)(W|Mo)12$")
_LACUNARY = re.compile(r"^PW11([A-Z][a-z]?)?$")
_DAWSON = re.compile(r"^P2W17([A-Z][a-z]?)?$")
_LINDQVIST = re.compile(r"^(W|Mo)6(O19)?$")
_CATION = {"Ca": 2, "Mg": 2, "Sr": 2, "Ba": 2, "Na": 1, "K": 1}


def _metal_charge(symbol: str) -> int | None:
    if symbol in LANTHANIDES or symbol in ("Y", "La", "Lu"):
        return 3
    if symbol in _CATION:
        return _CATION[symbol]
    if symbol in TRANSITION_METALS:
        return 2
    return None


def unit_charge(label: str) -> int | None:
    """Formal charge of the unit a fragment label names, or None if unknown."""
    unit = label.split("#")[0]
    if match := _KEGGIN.match(unit):
        valence = HETEROATOM_VALENCE.get(match.group(1))
        return None if valence is None else valence - 8
    if _LINDQVIST.match(unit):
        return -2
    if unit == "Ti10Cu2":
        return 0
    for pattern, base in ((_LACUNARY, -7), (_DAWSON, -10)):
        if match := pattern.match(unit):
            metal = match.group(1)
            if metal is None:
                return base
            charge = _metal_charge(metal)
            return None if charge is None else base + charge
    if unit == "P2W18":
        return -6
    return _metal_charge(unit)


def unit_multiplicity(label: str) -> int:
    """High-spin multiplicity of the unit (1 for closed shells)."""
    unit = label.split("#")[0]
    if unit == "Ti10Cu2":
        return 3
    metal = None
    for pattern in (_LACUNARY, _DAWSON):
        if match := pattern.match(unit):
            metal = match.group(1)
    if metal is None and unit in LANTHANIDES + TRANSITION_METALS:
        metal = unit
    if metal is None:
        return 1
    if metal in LANTHANIDES or metal in ("Y", "La", "Lu"):
        return ln_multiplicity(metal)
    if metal in TRANSITION_METALS:
        return tm_multiplicity(metal, 2)
    return 1


def unit_charges(labels: list[str]) -> dict[str, int] | None:
    """Charges of every distinct label, or None if any unit is unknown."""
    charges = {label: unit_charge(label) for label in dict.fromkeys(labels)}
    return None if None in charges.values() else charges  # type: ignore[return-value]
