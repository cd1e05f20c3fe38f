"""Joining placed POM units into one assembly: link bonds, polish, charge, spin, validation.

Shared by the chain/ring/dimer builders (:mod:`superatom.structures.assemblies`) and the
honeycomb sheet (:mod:`superatom.structures.honeycomb`); lengths in Angstrom.

Examples
--------
>>> from superatom.structures.keggin import keggin_frame
>>> from superatom.structures.substituted import substituted_unit
>>> frame = keggin_frame("P", "W")
>>> unit = substituted_unit(frame, frame.indices("M")[0], "Nd", n_water=4)
>>> mol = finish_assembly(*assemble_units([unit], []), [unit])
>>> mol.charge, mol.spin_multiplicity, len(mol)   # [Nd(H2O)4PW11O39]4-, 4f3 quartet
(-4, 4, 64)
"""

from __future__ import annotations

import numpy as np

from superatom.structures.chem import make_molecule
from superatom.structures.geometry import polish
from superatom.structures.substituted import PomUnit, is_lanthanide
from superatom.structures.validate import validate_structure

W_OT_BRIDGE = 1.74  # W=O lengthens when the O also binds Ln or Ca


def assemble_units(units: list[PomUnit], links: list[tuple[int, int, int, int, float]]):
    """Concatenate units, add link bonds (unit_a, atom_a, unit_b, atom_b, target), polish.

    Returns
    -------
    tuple
        Symbols, coordinates (Angstrom) and fragment labels ``<unit name>#k``.
    """
    symbols, coords, labels, bonds, offsets = [], [], [], [], []
    counts: dict[str, int] = {}
    for u in units:
        offsets.append(len(symbols))
        k = counts.get(u.name, 0)
        counts[u.name] = k + 1
        symbols += u.symbols
        coords.append(u.coords)
        labels += [f"{u.name}#{k}"] * len(u.symbols)
        bonds += [(a + offsets[-1], b + offsets[-1], t) for a, b, t in u.bonds]
    for ua, ia, ub, ib, t in links:
        bonds.append((offsets[ua] + ia, offsets[ub] + ib, t))
    xyz = np.vstack(coords)
    # lengthen the bridging W=O bonds
    bridged = {offsets[ua] + ia for ua, ia, *_ in links}
    bridged |= {offsets[ub] + ib for _, _, ub, ib, _ in links}
    bonds = [
        (a, b, W_OT_BRIDGE if (symbols[a] in ("W", "Mo") and b in bridged) else t)
        for a, b, t in bonds
    ]
    linkers = [i for i, sym in enumerate(symbols) if is_lanthanide(sym) or sym in ("Ca", "W")]
    xyz = polish(xyz, [(a, b) for a, b, _ in bonds], [t for *_, t in bonds], symbols=symbols,
                 repel_around=linkers)  # fmt: skip
    return symbols, xyz, labels


def finish_assembly(symbols, xyz, labels, units, extra_charge=0, extra_unpaired=0,
                    coordination=None):
    """Molecule of the assembly: charge the sum of the units' (+ ``extra_charge``),
    multiplicity their high-spin unpaired electrons + 1, validated (``coordination`` by
    element; default W 6)."""
    charge = sum(u.charge for u in units) + extra_charge
    mult = sum(u.unpaired for u in units) + extra_unpaired + 1
    mol = make_molecule(symbols, xyz, charge, mult, labels)
    validate_structure(mol, coordination=coordination or {"W": 6})
    return mol
