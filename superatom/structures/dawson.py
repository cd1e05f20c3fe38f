"""Wells-Dawson alpha-[P2W18O62]6- and mono-substituted alpha2-[P2W17MO61]n- (Angstrom).

Recipe: from an alpha-Keggin remove the three mutually corner-sharing M at the bottom of a C3
axis (with their terminal O and the three O joining them) to get A-PW9O34; mirror it through
the plane of the six now-unshared O and merge them: 82 atoms, D3h. Bonds are then polished to
the Keggin targets.

Examples
--------
>>> mol = build_dawson()
>>> mol.composition.formula, mol.charge
('P2 W18 O62', -6)
"""

from __future__ import annotations

import numpy as np

from superatom.errors import InputError
from superatom.structures.chem import keggin_targets
from superatom.structures.keggin import KegginFrame, keggin_frame
from superatom.structures.substituted import substituted_unit, unit_to_molecule
from superatom.structures.validate import validate_structure

__all__ = ["build_dawson", "build_dawson_substituted", "dawson_frame"]


def _pw9_half(metal: str) -> tuple[KegginFrame, np.ndarray, list[int]]:
    frame = keggin_frame("P", metal)
    top = frame.indices("Oa")[0]
    axis = frame.coords[top] / np.linalg.norm(frame.coords[top])
    cap = {a for a, b, k in frame.bonds if b == top and k == "M-Oa"}
    others = [m for m in frame.indices("M") if m not in cap]
    bottom = sorted(others, key=lambda m: float(frame.coords[m] @ axis))[:3]
    drop = set(bottom)
    for m in bottom:
        for j in frame.partners(m):
            if frame.roles[j] == "Ot":
                drop.add(j)
            elif frame.roles[j] == "Ob" and all(p in bottom for p in frame.partners(j)):
                drop.add(j)
    plane_o = set()
    for m in bottom:
        for j in frame.partners(m):
            if j not in drop and frame.roles[j] in ("Ob", "Oc"):
                plane_o.add(j)
    keep = [i for i in range(len(frame.symbols)) if i not in drop]
    new = {old: k for k, old in enumerate(keep)}
    half = frame.remove(drop)
    return half, axis, sorted(new[j] for j in plane_o)


def dawson_frame(metal: str = "W") -> KegginFrame:
    """Unpolished alpha-Dawson frame (82 atoms, roles and bond kinds as for the Keggin).

    Examples
    --------
    >>> len(dawson_frame().symbols)
    82
    """
    half, axis, plane = _pw9_half(metal)
    if len(plane) != 6 or len(half.symbols) != 44:
        raise InputError("internal error: A-PW9O34 cut failed")
    point = half.coords[plane].mean(axis=0)
    heights = (half.coords[plane] - point) @ axis
    if np.abs(heights).max() > 1e-3:
        raise InputError("internal error: the six open O are not coplanar")
    mirrored = half.coords - 2 * np.outer((half.coords - point) @ axis, axis)
    n = len(half.symbols)
    index = {}
    extra = []
    for i in range(n):
        if i in plane:
            index[i] = i
        else:
            index[i] = n + len(extra)
            extra.append(i)
    symbols = half.symbols + [half.symbols[i] for i in extra]
    roles = half.roles + [half.roles[i] for i in extra]
    coords = np.vstack([half.coords, mirrored[extra]])
    bonds = list(half.bonds) + [(index[a], index[b], k) for a, b, k in half.bonds]
    bonds = [(a, b, "M-Ob" if b in plane else k) for a, b, k in bonds]
    order = sorted(range(len(symbols)), key=lambda i: ("P", "W", "Mo", "O").index(symbols[i]))
    pos = {old: k for k, old in enumerate(order)}
    return KegginFrame(
        [symbols[i] for i in order],
        coords[order],
        [roles[i] for i in order],
        [(pos[a], pos[b], k) for a, b, k in bonds],
    )


def build_dawson(metal: str = "W"):
    """Wells-Dawson alpha-[P2M18O62]6- (M = W or Mo), closed shell.

    Examples
    --------
    >>> build_dawson().site_properties["fragment"][0]
    'P2W18#0'
    """
    targets = keggin_targets("P", metal)
    frame = dawson_frame(metal).polished(targets)
    from superatom.structures.chem import make_molecule

    mol = make_molecule(frame.symbols, frame.coords, -6, 1,
                        [f"P2{metal}18#0"] * len(frame.symbols))  # fmt: skip
    validate_structure(mol, expected_formula=f"P2{metal}18O62", coordination={metal: 6, "P": 4})
    return mol


def build_dawson_substituted(
    metal: str = "Gd",
    oxidation: int | None = None,
    n_water: int | None = None,
):
    """alpha2-[M(H2O)n P2W17O61]^q- (cap position); ``metal=None`` gives [P2W17O61]10-.

    Charge: -10 + oxidation (Ln(III) -> 7-, M(II) -> 8-).

    Examples
    --------
    >>> m = build_dawson_substituted("Co")
    >>> m.charge, m.spin_multiplicity
    (-8, 4)
    """
    frame = dawson_frame("W")
    n_m = {i: sum(1 for a, b, _ in frame.bonds if b == i and frame.roles[a] == "M")
           for i in frame.indices("Oa")}  # fmt: skip
    top = [i for i, k in n_m.items() if k == 3]
    cap = [a for a, b, _ in frame.bonds if b == top[0] and frame.roles[a] == "M"]
    unit = substituted_unit(frame, cap[0], metal, oxidation=oxidation, n_water=n_water,
                            base_charge=-6, stem="P2W17")  # fmt: skip
    mol = unit_to_molecule(unit)
    coord = {"W": 6} if metal is None else {"W": 6, metal: (4, 5, 6, 7, 8, 9)}
    validate_structure(mol, coordination=coord if metal else {"W": (5, 6)})
    return mol
