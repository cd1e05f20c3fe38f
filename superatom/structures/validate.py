"""Sanity checks run on every built or read structure.

Each failed check raises :class:`superatom.errors.InputError` with one line saying what is
wrong; a passing structure returns a small report dict.

Examples
--------
>>> from pymatgen.core import Molecule
>>> water = Molecule(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
>>> validate_structure(water, expected_formula="H2O")["n_electrons"]
10
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from pymatgen.core import Composition, Element, Molecule
from scipy.spatial import cKDTree

from superatom.errors import InputError
from superatom.structures.geometry import covalent_radius

__all__ = ["bond_lengths", "coordination_numbers", "validate_structure"]

_LIGAND_ELEMENTS = {"H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I"}


def _symbols(mol: Molecule) -> list[str]:
    return [site.specie.symbol for site in mol]


def coordination_numbers(
    mol: Molecule, element: str, scale: float = 1.2, ligands=None
) -> list[int]:
    """Number of ligand atoms (default non-metals) bonded to each atom of ``element``.

    Bonded means closer than ``scale`` x the sum of covalent radii.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> m = Molecule(["W", "O", "O"], [[0, 0, 0], [1.7, 0, 0], [0, 1.9, 0]])
    >>> coordination_numbers(m, "W")
    [2]
    """
    ligands = _LIGAND_ELEMENTS if ligands is None else set(ligands)
    syms = _symbols(mol)
    xyz = mol.cart_coords
    out = []
    for i, s in enumerate(syms):
        if s != element:
            continue
        d = np.linalg.norm(xyz - xyz[i], axis=1)
        n = 0
        for j, sj in enumerate(syms):
            if j != i and sj in ligands:
                if d[j] < scale * (covalent_radius(s) + covalent_radius(sj)):
                    n += 1
        out.append(n)
    return out


def bond_lengths(mol: Molecule, a: str, b: str, cutoff: float) -> np.ndarray:
    """All a-b distances shorter than ``cutoff`` (Angstrom), sorted.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> m = Molecule(["W", "O"], [[0, 0, 0], [1.7, 0, 0]])
    >>> bond_lengths(m, "W", "O", 2.0).round(2).tolist()
    [1.7]
    """
    syms = np.array(_symbols(mol))
    xyz = mol.cart_coords
    ia, ib = np.flatnonzero(syms == a), np.flatnonzero(syms == b)
    if len(ia) == 0 or len(ib) == 0:
        return np.zeros(0)
    d = np.linalg.norm(xyz[ia][:, None, :] - xyz[ib][None, :, :], axis=2)
    if a == b:
        d = d[np.triu_indices(len(ia), 1)]
    d = d.ravel()
    return np.sort(d[(d < cutoff) & (d > 1e-8)])


def validate_structure(
    mol: Molecule,
    *,
    expected_formula: str | None = None,
    expected_charge: int | None = None,
    expected_multiplicity: int | None = None,
    coordination: dict[str, int | tuple[int, ...]] | None = None,
    min_distance: float = 0.5,
    clash_scale: float = 0.7,
    bond_scale: float = 1.2,
    require_fragments: bool = False,
    ligands=None,
) -> dict:
    """Validate formula, charge, spin parity, distances, H valence and metal coordination.

    Parameters
    ----------
    mol
        Structure to check (Angstrom).
    expected_formula
        e.g. ``"PW12O40"``; compared as compositions (order irrelevant).
    expected_charge, expected_multiplicity
        Compared when given.
    coordination
        Element -> allowed number(s) of bonded non-metal neighbours, e.g. ``{"W": 6}``.
    min_distance
        No pair may be closer than this (Angstrom).
    clash_scale
        Any pair closer than ``clash_scale`` x the sum of covalent radii is a clash.
    bond_scale
        Bonded = closer than ``bond_scale`` x the covalent sum (H valence, coordination).
    require_fragments
        Demand a ``fragment`` site property with a label on every site.
    ligands
        Elements counted in ``coordination`` (default: non-metals B C N O F Si P S Cl Se Br I H).

    Returns
    -------
    dict
        formula, charge, multiplicity, n_atoms, n_electrons, min_distance (Angstrom),
        fragments (label -> atom count), coordination (element -> Counter of numbers).

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> bad = Molecule(["O", "H"], [[0, 0, 0], [0.3, 0, 0]], charge=-1)
    >>> try:
    ...     validate_structure(bad)
    ... except ValueError as err:
    ...     print(err)
    atoms 0 (O) and 1 (H) are 0.300 A apart (minimum 0.5 A)
    """
    syms = _symbols(mol)
    n = len(syms)
    if n == 0:
        raise InputError("structure has no atoms")
    xyz = np.asarray(mol.cart_coords, float)
    if not np.all(np.isfinite(xyz)):
        raise InputError("structure has non-finite coordinates")
    formula = mol.composition.formula.replace(" ", "")
    if expected_formula is not None:
        if Composition(expected_formula) != mol.composition:
            raise InputError(f"formula is {formula}, expected {expected_formula}")
    charge = round(mol.charge)
    if expected_charge is not None and charge != expected_charge:
        raise InputError(f"charge is {charge}, expected {expected_charge}")
    mult = int(mol.spin_multiplicity)
    if expected_multiplicity is not None and mult != expected_multiplicity:
        raise InputError(f"multiplicity is {mult}, expected {expected_multiplicity}")
    nelec = sum(Element(s).Z for s in syms) - charge
    if (nelec + mult - 1) % 2 or mult < 1 or mult - 1 > nelec:
        raise InputError(f"{nelec} electrons (charge {charge}) cannot have multiplicity {mult}")

    radii = np.array([covalent_radius(s) for s in syms])
    tree = cKDTree(xyz)
    pairs = np.array(sorted(tree.query_pairs(max(2 * bond_scale * radii.max(), 3.0))), int)
    dmin_found = np.inf
    nb: list[list[int]] = [[] for _ in range(n)]
    if len(pairs):
        d = np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)
        rsum = radii[pairs[:, 0]] + radii[pairs[:, 1]]
        k = int(np.argmin(d))
        dmin_found = float(d[k])
        if dmin_found < min_distance:
            i, j = pairs[k]
            raise InputError(
                f"atoms {i} ({syms[i]}) and {j} ({syms[j]}) are {dmin_found:.3f} A apart "
                f"(minimum {min_distance} A)"
            )
        ratio = d / rsum
        k = int(np.argmin(ratio))
        if ratio[k] < clash_scale:
            i, j = pairs[k]
            raise InputError(
                f"clash: atoms {i} ({syms[i]}) and {j} ({syms[j]}) are {d[k]:.3f} A apart, "
                f"below {clash_scale} x covalent sum {rsum[k]:.2f} A"
            )
        for (i, j), dij, rs in zip(pairs, d, rsum, strict=True):
            if dij < bond_scale * rs:
                nb[i].append(int(j))
                nb[j].append(int(i))
    for i, s in enumerate(syms):
        if s == "H" and len(nb[i]) != 1:
            raise InputError(f"H atom {i} is bonded to {len(nb[i])} atoms, expected exactly 1")

    coord_report: dict[str, Counter] = {}
    for elem, allowed in (coordination or {}).items():
        allowed_set = {allowed} if isinstance(allowed, int) else set(allowed)
        cns = coordination_numbers(mol, elem, scale=bond_scale, ligands=ligands)
        coord_report[elem] = Counter(cns)
        bad = [c for c in cns if c not in allowed_set]
        if bad:
            raise InputError(
                f"{elem} coordination {sorted(set(cns))} found, expected {sorted(allowed_set)}"
            )

    frags = mol.site_properties.get("fragment")
    if require_fragments and frags is None:
        raise InputError("structure has no 'fragment' site labels")
    frag_count: dict[str, int] = {}
    if frags is not None:
        for f in frags:
            if f is None or not str(f).strip() or any(c.isspace() for c in str(f)):
                raise InputError(f"invalid fragment label {f!r}: must be non-empty, no spaces")
            frag_count[str(f)] = frag_count.get(str(f), 0) + 1
    return {
        "formula": formula,
        "charge": charge,
        "multiplicity": mult,
        "n_atoms": n,
        "n_electrons": int(nelec),
        "min_distance": dmin_found,
        "fragments": frag_count,
        "coordination": coord_report,
    }
