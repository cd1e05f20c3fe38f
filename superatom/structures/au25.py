"""Au25(SCH3)18^- superatom reference (icosahedral Au13 core + six Au2(SR)3 staples), Angstrom.

Model: centred Au13 icosahedron (centre-vertex 2.79 A) whose 12 surface Au each bind the
terminal S of one staple; the six staples span the six icosahedron edges that lie along +-x,
+-y, +-z (Th arrangement); staple Au sit over the faces next to their edge; S-Au-S nearly
linear. Bonds are polished to Au(core)-S 2.38, Au(staple)-S 2.32, S-C 1.82, C-H 1.09 A.
A starting geometry for xTB/DFT, not the crystal structure.

Examples
--------
>>> mol = build_au25()
>>> len(mol), int(mol.composition["Au"]), mol.charge, mol.spin_multiplicity
(115, 25, -1, 1)
"""

from __future__ import annotations

import itertools

import numpy as np

from superatom.structures.chem import make_molecule
from superatom.structures.geometry import perpendicular, polish
from superatom.structures.validate import validate_structure

__all__ = ["add_methyl", "build_au25"]

PHI = (1 + np.sqrt(5)) / 2


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def add_methyl(symbols, coords, bonds, targets, anchor: int, direction, d_c: float = 1.82,
               labels=None, label=None):  # fmt: skip
    """Append a CH3 bound to atom ``anchor`` along ``direction`` (lists modified in place).

    Examples
    --------
    >>> s, c, b, t = ["O"], [np.zeros(3)], [], []
    >>> add_methyl(s, c, b, t, 0, [0, 0, 1.0], d_c=1.42)
    >>> "".join(s)
    'OCHHH'
    """
    e = _unit(direction)
    c = np.asarray(coords[anchor]) + d_c * e
    p1 = perpendicular(e)
    p2 = np.cross(e, p1)
    base = len(symbols)
    symbols.append("C")
    coords.append(c)
    bonds.append((anchor, base))
    targets.append(d_c)
    for k in range(3):
        ang = 2 * np.pi * k / 3
        radial = np.cos(ang) * p1 + np.sin(ang) * p2
        h = c + 1.09 * (np.cos(np.deg2rad(70.5)) * e + np.sin(np.deg2rad(70.5)) * radial)
        symbols.append("H")
        coords.append(h)
        bonds.append((base, base + 1 + k))
        targets.append(1.09)
    for i, j in itertools.combinations(range(base + 1, base + 4), 2):
        bonds.append((i, j))
        targets.append(1.78)
    bonds += [(anchor, base + 1 + k) for k in range(3)]
    targets += [float(np.sqrt(d_c**2 + 1.09**2 + 2 * d_c * 1.09 * 0.3338))] * 3
    if labels is not None:
        labels += [label] * 4


def build_au25():
    """Build the Au25(SCH3)18^- model (closed shell, 8 superatom electrons).

    Returns
    -------
    pymatgen.core.Molecule
        115 atoms; fragments ``Au13#0`` (core) and ``staple#0`` ... ``staple#5`` (Au2(SCH3)3).

    Examples
    --------
    >>> sorted(set(build_au25().site_properties["fragment"]))[:2]
    ['Au13#0', 'staple#0']
    """
    r_core = 2.79
    verts = []
    for s1, s2 in itertools.product((1, -1), repeat=2):
        verts += [(0, s1, s2 * PHI), (s1, s2 * PHI, 0), (s2 * PHI, 0, s1)]
    verts = np.array([_unit(v) * r_core for v in verts])
    symbols = ["Au"] * 13
    coords = [np.zeros(3), *verts]
    labels = ["Au13#0"] * 13
    bonds, targets = [], []
    edge = np.linalg.norm(verts[0] - verts[1:], axis=1).min()
    for i in range(12):
        bonds.append((0, i + 1))
        targets.append(r_core)
        for j in range(i + 1, 12):
            if np.linalg.norm(verts[i] - verts[j]) < edge * 1.01:
                bonds.append((i + 1, j + 1))
                targets.append(2.93)
    k = 0
    for axis in np.eye(3):
        for sign in (1, -1):
            a = sign * axis
            # the edge along a: two vertices with largest projection on a
            pair = np.argsort(-(verts @ a))[:2]
            label = f"staple#{k}"
            k += 1
            v1, v2 = verts[pair[0]], verts[pair[1]]
            third = (verts @ a)[np.argsort(-(verts @ a))[2]]
            faces = [v for v in verts if np.isclose(v @ a, third)]
            f1 = min(faces, key=lambda f: -np.dot(f, v1 - v2) + 0.0)
            f2 = min(faces, key=lambda f: -np.dot(f, v2 - v1) + 0.0)
            base = len(symbols)
            s1 = v1 * (1 + 2.38 / r_core)
            s3 = v2 * (1 + 2.38 / r_core)
            au1 = _unit(0.5 * _unit(v1 + v2 + f1) + 0.5 * _unit(v1)) * 5.0
            au2 = _unit(0.5 * _unit(v1 + v2 + f2) + 0.5 * _unit(v2)) * 5.0
            s2 = a * 6.0
            symbols += ["S", "Au", "S", "Au", "S"]
            coords += [s1, au1, s2, au2, s3]
            labels += [label] * 5
            bonds += [(pair[0] + 1, base), (base, base + 1), (base + 1, base + 2),
                      (base + 2, base + 3), (base + 3, base + 4), (pair[1] + 1, base + 4),
                      (base, base + 2), (base + 2, base + 4),
                      (pair[0] + 1, base + 1), (pair[1] + 1, base + 3)]  # fmt: skip
            targets += [2.38, 2.32, 2.32, 2.32, 2.32, 2.38, 4.55, 4.55, 3.30, 3.30]
            for s_idx, au_idx in ((base, (pair[0] + 1, base + 1)), (base + 2, (base + 1, base + 3)),
                                  (base + 4, (pair[1] + 1, base + 3))):  # fmt: skip
                sxyz = coords[s_idx]
                away = -sum(_unit(coords[j] - sxyz) for j in au_idx)
                direction = _unit(_unit(away) + 0.6 * _unit(sxyz))
                add_methyl(symbols, coords, bonds, targets, s_idx, direction,
                           labels=labels, label=label)  # fmt: skip
    xyz = polish(np.array(coords), bonds, targets, symbols=symbols)
    mol = make_molecule(symbols, xyz, -1, 1, labels)
    validate_structure(mol, expected_formula="Au25S18C18H54")
    return mol
