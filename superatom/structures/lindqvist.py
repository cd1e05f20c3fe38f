"""Lindqvist hexametalate [M6O19]2- (Oh), M = W or Mo, Angstrom.

Central O at the origin; M at +-dc on the axes; terminal O at +-(dc + dt); twelve bridging O
at b(e_i + e_j) with b = [dc + sqrt(2 db^2 - dc^2)] / 2 so that M-Ob = db exactly.

Examples
--------
>>> mol = build_lindqvist("W")
>>> mol.composition.formula, mol.charge, len(mol)
('W6 O19', -2, 25)
"""

from __future__ import annotations

import itertools

import numpy as np

from superatom.errors import InputError
from superatom.structures.chem import make_molecule
from superatom.structures.validate import validate_structure

__all__ = ["LINDQVIST_DISTANCES", "build_lindqvist"]

#: (dc = M-O_central, db = M-O_bridge, dt = M-O_terminal), Angstrom
LINDQVIST_DISTANCES = {"W": (2.33, 1.92, 1.70), "Mo": (2.32, 1.93, 1.68)}


def build_lindqvist(metal: str = "W", label: str | None = None):
    """Build [M6O19]2- with exact Oh symmetry (closed shell).

    Parameters
    ----------
    metal
        ``"W"`` or ``"Mo"``.
    label
        Fragment label stem, default ``"W6O19"``.

    Returns
    -------
    pymatgen.core.Molecule
        25 atoms, charge -2, multiplicity 1, ``fragment`` site labels.

    Examples
    --------
    >>> build_lindqvist("Mo").site_properties["fragment"][0]
    'Mo6O19#0'
    """
    if metal not in LINDQVIST_DISTANCES:
        raise InputError(f"unsupported Lindqvist metal '{metal}': use W or Mo")
    dc, db, dt = LINDQVIST_DISTANCES[metal]
    b = (dc + np.sqrt(2 * db**2 - dc**2)) / 2
    symbols, coords = ["O"], [np.zeros(3)]
    axes = [s * e for e in np.eye(3) for s in (1.0, -1.0)]
    for e in axes:
        symbols.append(metal)
        coords.append(dc * e)
    for e in axes:
        symbols.append("O")
        coords.append((dc + dt) * e)
    for i, j in itertools.combinations(range(3), 2):
        for si, sj in itertools.product((1.0, -1.0), repeat=2):
            v = np.zeros(3)
            v[i], v[j] = si * b, sj * b
            symbols.append("O")
            coords.append(v)
    name = label or f"{metal}6O19"
    mol = make_molecule(symbols, coords, -2, 1, [f"{name}#0"] * len(symbols))
    validate_structure(mol, expected_formula=f"{metal}6O19", coordination={metal: 6})
    return mol
