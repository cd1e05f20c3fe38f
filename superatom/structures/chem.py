"""Chemical data used by the builders: oxidation states, spin, target bond lengths (Angstrom).

Examples
--------
>>> ln_multiplicity("Gd"), ln_multiplicity("La"), ln_multiplicity("Tb")
(8, 1, 7)
>>> f_in_core_multiplicity(["Nd", "F", "F", "F"], 4)
1
>>> tm_multiplicity("Mn", 2), tm_multiplicity("Cu", 2)
(6, 2)
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Molecule

from superatom.errors import InputError

__all__ = [
    "HETEROATOM_VALENCE",
    "LANTHANIDES",
    "TRANSITION_METALS",
    "f_in_core_multiplicity",
    "keggin_targets",
    "ln_f_count",
    "ln_multiplicity",
    "ln_o_distance",
    "ln_unpaired",
    "make_molecule",
    "tm_d_count",
    "tm_multiplicity",
    "tm_o_distance",
]

HETEROATOM_VALENCE = {"P": 5, "As": 5, "Si": 4, "Ge": 4, "B": 3, "Al": 3, "Ga": 3}
_X_O = {"P": 1.535, "As": 1.68, "Si": 1.63, "Ge": 1.74, "B": 1.50, "Al": 1.75, "Ga": 1.83}

LANTHANIDES = [
    "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
]  # fmt: skip
_GROUP = {
    "Sc": 3, "Ti": 4, "V": 5, "Cr": 6, "Mn": 7, "Fe": 8, "Co": 9, "Ni": 10, "Cu": 11, "Zn": 12,
    "Y": 3, "Zr": 4, "Nb": 5, "Mo": 6, "Ru": 8, "Rh": 9, "Pd": 10, "Ag": 11, "Cd": 12,
}  # fmt: skip
TRANSITION_METALS = list(_GROUP)
# M-O (Angstrom) for octahedral high-spin M(II)/M(III) aqua/oxo environments (Shannon radii + 1.38)
_TM_O = {
    2: {"Mn": 2.16, "Fe": 2.12, "Co": 2.08, "Ni": 2.06, "Cu": 2.00, "Zn": 2.10, "Cd": 2.30},
    3: {"Ti": 2.05, "V": 2.02, "Cr": 1.99, "Mn": 2.02, "Fe": 2.02, "Co": 1.93, "Ga": 2.00},
}


def ln_f_count(ln: str) -> int:
    """Number of 4f electrons of Ln(III); Y(III) has none.

    Examples
    --------
    >>> ln_f_count("Gd")
    7
    """
    if ln == "Y":
        return 0
    if ln not in LANTHANIDES:
        raise InputError(f"unknown lanthanide '{ln}': use Y or one of {', '.join(LANTHANIDES)}")
    return LANTHANIDES.index(ln)


def ln_unpaired(ln: str) -> int:
    """Unpaired 4f electrons of high-spin Ln(III) 4f^n: n up to Gd, 14 - n beyond.

    Examples
    --------
    >>> [ln_unpaired(x) for x in ("Y", "Nd", "Gd", "Yb")]
    [0, 3, 7, 1]
    """
    n = ln_f_count(ln)
    return n if n <= 7 else 14 - n


def ln_multiplicity(ln: str) -> int:
    """High-spin multiplicity of Ln(III) 4f^n: n + 1 up to Gd, 15 - n beyond.

    Examples
    --------
    >>> [ln_multiplicity(x) for x in ("Y", "Ce", "Lu")]
    [1, 2, 1]
    """
    return ln_unpaired(ln) + 1


def f_in_core_multiplicity(symbols: list[str], multiplicity: int) -> int:
    """Multiplicity of the electrons left outside the core when every lanthanide's 4f shell
    is in a trivalent large-core ECP.

    ``multiplicity`` counts the high-spin 4f electrons of each Ln(III) (as the builders
    do); these leave with the core, so 4f-in-core Ln(III) systems are closed shells unless
    something else (a Cu(II), a radical) carries spin.

    Examples
    --------
    >>> f_in_core_multiplicity(["Gd", "Gd", "O"], 15), f_in_core_multiplicity(["Nd", "Cu"], 5)
    (1, 2)
    >>> f_in_core_multiplicity(["Gd"], 2)
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: multiplicity 2 is less than the 7 unpaired 4f electrons ...
    """
    unpaired = sum(ln_unpaired(s) for s in symbols if s in LANTHANIDES)
    if multiplicity - 1 < unpaired:
        raise InputError(
            f"multiplicity {multiplicity} is less than the {unpaired} unpaired 4f electrons "
            f"+ 1 that ln_core=4f-in-core moves into the core: give the high-spin "
            f"multiplicity ({unpaired + 1} for the Ln(III) alone) or use ln_core=small")
    return multiplicity - unpaired


def ln_o_distance(ln: str) -> float:
    """Typical Ln(III)-O bond length (Angstrom) for 8-coordinate Ln: La 2.52 ... Lu 2.36.

    Examples
    --------
    >>> ln_o_distance("La"), ln_o_distance("Lu")
    (2.52, 2.36)
    """
    if ln == "Y":
        return 2.38
    n = ln_f_count(ln)
    return round(2.52 - (2.52 - 2.36) * n / 14, 3)


def tm_d_count(metal: str, oxidation: int) -> int:
    """d-electron count of a transition-metal ion M(oxidation).

    Examples
    --------
    >>> tm_d_count("Co", 2)
    7
    """
    if metal not in _GROUP:
        raise InputError(f"unknown transition metal '{metal}': use one of {', '.join(_GROUP)}")
    d = _GROUP[metal] - oxidation
    if not 0 <= d <= 10:
        raise InputError(f"oxidation state {oxidation} is impossible for {metal}")
    return d


def tm_multiplicity(metal: str, oxidation: int) -> int:
    """High-spin multiplicity of a d^n ion.

    Examples
    --------
    >>> tm_multiplicity("Ni", 2)
    3
    """
    d = tm_d_count(metal, oxidation)
    return (d if d <= 5 else 10 - d) + 1


def tm_o_distance(metal: str, oxidation: int) -> float:
    """Typical M-O bond length (Angstrom) for an octahedral ion; 2.05 when not tabulated.

    Examples
    --------
    >>> tm_o_distance("Co", 2)
    2.08
    """
    return _TM_O.get(oxidation, {}).get(metal, 2.05 if oxidation <= 2 else 1.98)


def keggin_targets(heteroatom: str, metal: str) -> dict[str, float]:
    """Target bond lengths (Angstrom) for X-Oa and M-Oa/Ob/Oc/Ot of a Keggin anion.

    W: Ot 1.705, Ob 1.915, Oc 1.935; Mo: Ot 1.67, Ob 1.915, Oc 1.925 (crystal values). M-Oa
    is 2.40 (W) / 2.43 (Mo) for P and shrinks as X-O grows.

    Examples
    --------
    >>> keggin_targets("P", "W")["M-Ot"]
    1.705
    """
    if heteroatom not in _X_O:
        raise InputError(
            f"unsupported Keggin heteroatom '{heteroatom}': use one of {', '.join(_X_O)}"
        )
    if metal not in ("W", "Mo"):
        raise InputError(f"unsupported addenda metal '{metal}': use W or Mo")
    xo = _X_O[heteroatom]
    base = {"W": (1.705, 1.915, 1.935, 2.40), "Mo": (1.67, 1.915, 1.925, 2.43)}[metal]
    ma = round(base[3] - 0.6 * (xo - _X_O["P"]), 3)
    return {"X-Oa": xo, "M-Ot": base[0], "M-Ob": base[1], "M-Oc": base[2], "M-Oa": ma}


def make_molecule(symbols, coords, charge: int, multiplicity: int, fragments) -> Molecule:
    """Molecule with charge, multiplicity and a ``fragment`` label per site (Angstrom).

    Examples
    --------
    >>> make_molecule(["H", "H"], [[0, 0, 0], [0.74, 0, 0]], 0, 1, ["H2#0"] * 2).formula
    'H2'
    """
    try:
        return Molecule(
            list(symbols),
            np.asarray(coords, float),
            charge=charge,
            spin_multiplicity=multiplicity,
            site_properties={"fragment": [str(f) for f in fragments]},
        )
    except ValueError as exc:
        raise InputError(str(exc).splitlines()[0]) from None
