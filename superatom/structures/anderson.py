"""Anderson-Evans type-A anions [X M6 O24]^n- (M = Mo, W), Angstrom.

Seven edge-sharing octahedra in one plane (X in the centre, six M around it) cut from two
close-packed O layers; bonds are polished to X-O(mu3), M-O(mu3) 2.28, M-O(mu2) 1.94 and
M-Ot 1.71 (Mo) / 1.72 (W).

Charge from oxidation states: 6 M(VI) + X(q) - 48 -> n = q - 12 (Mn(IV) 8-, Te(VI) 6-,
I(VII) 5-). Multiplicity: high-spin d^n of X unless ``low_spin``.

Examples
--------
>>> mol = build_anderson("Te")
>>> mol.composition.formula, mol.charge, mol.spin_multiplicity
('Te1 Mo6 O24', -6, 1)
"""

from __future__ import annotations

import numpy as np

from superatom.errors import InputError
from superatom.structures.chem import make_molecule, tm_d_count
from superatom.structures.geometry import polish
from superatom.structures.validate import validate_structure

__all__ = ["ANDERSON_HETEROATOMS", "build_anderson"]

#: heteroatom -> (default oxidation state, X-O distance in Angstrom)
ANDERSON_HETEROATOMS = {
    "Te": (6, 1.93), "I": (7, 1.89), "Mn": (4, 1.90), "Co": (3, 1.91), "Al": (3, 1.90),
    "Cr": (3, 1.97), "Fe": (3, 2.00), "Ga": (3, 1.97), "Rh": (3, 2.02), "Ni": (2, 2.05),
    "Zn": (2, 2.10), "Cu": (2, 2.05), "Pt": (4, 2.00), "Sb": (5, 1.98),
}  # fmt: skip
_MAIN_GROUP = {"Te", "I", "Al", "Ga", "Sb"}


def _skeleton(a: float = 2.80):
    """Metal and O positions of seven octahedra in a close-packed bilayer (O-O = a)."""
    h = a / np.sqrt(6)
    r = a / np.sqrt(3)
    metals = [np.zeros(3)] + [a * np.array([np.cos(k * np.pi / 3), np.sin(k * np.pi / 3), 0])
                              for k in range(6)]  # fmt: skip
    oxygens: list[np.ndarray] = []
    for m in metals:
        for k in range(6):
            ang = np.pi / 6 + k * np.pi / 3
            z = h if k % 2 == 0 else -h
            p = m + np.array([r * np.cos(ang), r * np.sin(ang), z])
            if not any(np.linalg.norm(p - q) < 1e-3 for q in oxygens):
                oxygens.append(p)
    return np.array(metals), np.array(oxygens)


def build_anderson(
    heteroatom: str = "Mn",
    metal: str = "Mo",
    oxidation: int | None = None,
    low_spin: bool = False,
):
    """Build [X M6 O24]^n- (type A, D3d).

    Parameters
    ----------
    heteroatom
        Central atom X (Te, I, Mn, Co, Al, Cr, Fe, Ga, Rh, Ni, Zn, Cu, Pt, Sb).
    metal
        Mo or W (VI).
    oxidation
        Oxidation state of X (default as in ``ANDERSON_HETEROATOMS``).
    low_spin
        Pair the d electrons of X (e.g. diamagnetic Co(III)).

    Examples
    --------
    >>> m = build_anderson("Mn")
    >>> m.charge, m.spin_multiplicity
    (-8, 4)
    """
    if heteroatom not in ANDERSON_HETEROATOMS:
        raise InputError(
            f"unsupported Anderson heteroatom '{heteroatom}': use one of "
            f"{', '.join(ANDERSON_HETEROATOMS)}"
        )
    if metal not in ("Mo", "W"):
        raise InputError(f"unsupported addenda metal '{metal}': use Mo or W")
    ox_default, x_o = ANDERSON_HETEROATOMS[heteroatom]
    ox = ox_default if oxidation is None else oxidation
    if heteroatom in _MAIN_GROUP:
        unpaired = 0
    else:
        d = tm_d_count(heteroatom, ox)
        unpaired = (d % 2) if low_spin else (d if d <= 5 else 10 - d)
    metals, oxygens = _skeleton()
    symbols = [heteroatom] + [metal] * 6 + ["O"] * len(oxygens)
    coords = np.vstack([metals, oxygens])
    if len(oxygens) != 24:
        raise InputError("internal error: Anderson skeleton does not have 24 O")
    bonds, targets = [], []
    dmo = np.linalg.norm(oxygens[:, None, :] - metals[None, :, :], axis=2)
    t_ot = 1.71 if metal == "Mo" else 1.72
    for o in range(24):
        partners = np.flatnonzero(dmo[o] < 2.2)
        for m in partners:
            if m == 0:
                t = x_o
            elif 0 in partners:
                t = 2.28
            elif len(partners) == 2:
                t = 1.94
            else:
                t = t_ot
            bonds.append((int(m), 7 + o))
            targets.append(t)
    xyz = polish(coords, bonds, targets, symbols=symbols)
    charge = ox - 12
    mol = make_molecule(symbols, xyz, charge, unpaired + 1,
                        [f"{heteroatom}{metal}6#0"] * len(symbols))  # fmt: skip
    validate_structure(mol, expected_formula=f"{heteroatom}{metal}6O24",
                       coordination={metal: 6, heteroatom: 6}, ligands={"O"})  # fmt: skip
    return mol
