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
from superatom.structures.chem import LANTHANIDES
from superatom.structures.geometry import covalent_radius

__all__ = [
    "MO_REFERENCES",
    "bond_lengths",
    "check_contacts",
    "coordination_numbers",
    "framework_indices",
    "mo_deviations",
    "mo_warnings",
    "nonbonded_contacts",
    "validate_structure",
]

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


# ---------------------------------------------------------------------------------------------
# Metal-oxygen bond classes against crystal references
# ---------------------------------------------------------------------------------------------

#: bond class -> (shortest, longest) crystal M-O length in Angstrom and where it comes from.
#: Keggin: alpha-[PW12O40]3- / [SiW12O40]4- / [PMo12O40]3- crystal structures; Lindqvist:
#: [M6O19]2- crystal structures; lacuna and link W-O: [Sm(PW11O39)2]11- crystal (1.71-1.78,
#: mean 1.74); Ln-O for 8-coordinate Ln(III) (La longest, Lu shortest); Cu-O: Ti10Cu2 sp paper.
MO_REFERENCES: dict[str, tuple[float, float, str]] = {
    "W-Ot": (1.69, 1.72, "terminal W=O, PW12O40/W6O19 crystals 1.70-1.71"),
    "Mo-Ot": (1.66, 1.69, "terminal Mo=O, PMo12O40/Mo6O19 crystals 1.67-1.68"),
    "W-Ob": (1.90, 1.95, "mu2-O, PW12O40 1.91-1.94, W6O19 1.92"),
    "Mo-Ob": (1.90, 1.94, "mu2-O, PMo12O40/Mo6O19 1.91-1.93"),
    "W-Oa": (2.33, 2.45, "W-O(X), PW12O40 2.35-2.45, SiW12O40 2.35"),
    "Mo-Oa": (2.38, 2.48, "Mo-O(P), PMo12O40 2.43"),
    "W-Oc6": (2.31, 2.35, "central mu6-O, W6O19 2.33"),
    "Mo-Oc6": (2.30, 2.34, "central mu6-O, Mo6O19 2.32"),
    "W-OLn": (1.71, 1.78, "W-O bound to Ln/Ca, [Sm(PW11O39)2]11- 1.71-1.78"),
    "P-Oa": (1.52, 1.55, "ordered phosphate P-O 1.52-1.55"),
    "Si-Oa": (1.62, 1.65, "SiW12O40 Si-O 1.63-1.64"),
    "Ln-O": (2.35, 2.55, "8-coordinate Ln(III)-O, Sm(PW11O39)2 2.35-2.47, La 2.55"),
    "Ca-O": (2.30, 2.55, "6-8-coordinate Ca(II)-O"),
    "Cu-O": (1.95, 2.87, "Ti10Cu2 sp Cu-O 1.959-2.863"),
}

_ADDENDA = {"W", "Mo"}
_HETERO = {"P", "Si", "Ge", "As", "B", "Al", "Ga"}
_LINKERS = {"Ca", "Y", *LANTHANIDES}
_BOND_CUT = {"W": 2.75, "Mo": 2.75, "Ca": 2.9, "Cu": 2.9, "H": 1.25, "C": 1.6}


def _o_partners(mol: Molecule) -> dict[int, list[int]]:
    """O index -> bonded atoms (M-O within the class cutoffs, X-O < 2.0 A)."""
    syms = _symbols(mol)
    xyz = np.asarray(mol.cart_coords, float)
    tree = cKDTree(xyz)
    out: dict[int, list[int]] = {}
    for i in (k for k, s in enumerate(syms) if s == "O"):
        nb = []
        for j in tree.query_ball_point(xyz[i], 2.9):
            s = syms[j]
            if j == i or s == "O":
                continue
            metal_cut = 2.9 if s in _LINKERS else 2.6  # Ln/Ca vs 3d/4d substituents
            cut = _BOND_CUT.get(s, metal_cut if Element(s).is_metal else 2.0)
            if np.linalg.norm(xyz[j] - xyz[i]) < cut:
                nb.append(j)
        out[i] = nb
    return out


def _bond_class(syms: list[str], metal: int, partners: list[int]) -> str | None:
    m = syms[metal]
    others = [syms[j] for j in partners]
    if m in _LINKERS:
        return "Ln-O" if m != "Ca" else "Ca-O"
    if m == "Cu":
        return "Cu-O"
    if m in _HETERO:
        return f"{m}-Oa" if sum(s in _ADDENDA for s in others) >= 2 else None
    if m not in _ADDENDA or any(s in ("H", "C") for s in others):
        return None
    n_m = sum(s in _ADDENDA for s in others)
    if any(s in _HETERO for s in others):
        return f"{m}-Oa"
    if any(Element(s).is_metal and s not in _ADDENDA and s not in _LINKERS for s in others):
        return f"{m}-O(TM)"  # bound to a transition-metal substituent or Anderson centre
    if any(s in _LINKERS for s in others):
        return f"{m}-OLn" if n_m == 1 else None
    return {1: f"{m}-Ot", 2: f"{m}-Ob", 6: f"{m}-Oc6"}.get(n_m)


def mo_deviations(mol: Molecule) -> dict[str, dict]:
    """Metal-O bond lengths by class, compared with :data:`MO_REFERENCES` (Angstrom).

    Each O is classified by what it binds: terminal (``Ot``, one W/Mo), mu2 (``Ob``), bound to
    the heteroatom (``Oa``), the Lindqvist centre (``Oc6``), or a W=O / lacuna O that also binds
    Ln or Ca (``OLn``). The deviation of a bond is how far it lies outside the reference range.

    Returns
    -------
    dict
        class -> ``n``, ``mean``, ``min``, ``max``, ``reference`` (lo, hi), ``max_deviation``.

    Examples
    --------
    >>> from superatom.structures.lindqvist import build_lindqvist
    >>> dev = mo_deviations(build_lindqvist("W"))
    >>> sorted(dev), dev["W-Oc6"]["n"], dev["W-Oc6"]["max_deviation"]
    (['W-Ob', 'W-Oc6', 'W-Ot'], 6, 0.0)
    """
    syms = _symbols(mol)
    xyz = np.asarray(mol.cart_coords, float)
    lengths: dict[str, list[float]] = {}
    for o, partners in _o_partners(mol).items():
        for m in partners:
            cls = _bond_class(syms, m, partners)
            if cls is not None:
                lengths.setdefault(cls, []).append(float(np.linalg.norm(xyz[m] - xyz[o])))
    out = {}
    for cls, d in sorted(lengths.items()):
        arr = np.array(d)
        entry = {"n": len(arr), "mean": round(float(arr.mean()), 4),
                 "min": round(float(arr.min()), 4), "max": round(float(arr.max()), 4)}  # fmt: skip
        if cls in MO_REFERENCES:
            lo, hi, _ = MO_REFERENCES[cls]
            dev = np.maximum(lo - arr, 0) + np.maximum(arr - hi, 0)
            entry.update(reference=(lo, hi), max_deviation=round(float(dev.max()), 4))
        out[cls] = entry
    return out


def mo_warnings(mol: Molecule, tolerance: float = 0.05, *,
                deviations: dict[str, dict] | None = None) -> list[str]:
    """One line per bond class lying more than ``tolerance`` (Angstrom) outside its reference.

    ``deviations`` is :func:`mo_deviations` of ``mol`` when already at hand (computed if None).

    Examples
    --------
    >>> from superatom.structures.lindqvist import build_lindqvist
    >>> mol = build_lindqvist("W")
    >>> mo_warnings(mol)
    []
    >>> mo_warnings(Molecule(mol.species, 1.1 * mol.cart_coords))[0]
    'W-Ob 2.112 A (max) is 0.162 A outside the crystal range 1.90-1.95 A'
    """
    lines = []
    if deviations is None:
        deviations = mo_deviations(mol)
    for cls, e in deviations.items():
        if e.get("max_deviation", 0.0) > tolerance:
            lo, hi = e["reference"]
            worst = e["max"] if e["max"] > hi else e["min"]
            tag = "max" if e["max"] > hi else "min"
            lines.append(f"{cls} {worst:.3f} A ({tag}) is {e['max_deviation']:.3f} A outside "
                         f"the crystal range {lo:.2f}-{hi:.2f} A")  # fmt: skip
    return lines


def framework_indices(mol: Molecule) -> list[int]:
    """Atoms of the metal-oxo framework: what a constrained xTB relaxation holds fixed.

    Framework = every metal (W/Mo/Ti/Cu and the Ln/Ca links too: free GFN2-xTB stretched La-O
    of [La(H2O)4PW11O39]4- to 2.69 A), oxo O bonded to a metal and to no H or C, and heteroatoms
    bonded to at least three of those O (the XO4 of a Keggin). Free: H, waters (their O too)
    and organic ligands.

    Examples
    --------
    >>> from superatom.structures.substituted import build_substituted
    >>> mol = build_substituted("La", n_water=4)
    >>> fixed = framework_indices(mol)
    >>> len(mol), len(fixed), sorted({mol[i].specie.symbol for i in fixed})
    (64, 52, ['La', 'O', 'P', 'W'])
    """
    from superatom.structures.geometry import neighbours

    syms = _symbols(mol)
    nb = neighbours(syms, mol.cart_coords)
    metal = [Element(s).is_metal for s in syms]
    oxo = [s == "O" and any(metal[j] for j in nb[i]) and not any(syms[j] in ("H", "C")
                                                                   for j in nb[i])
           for i, s in enumerate(syms)]  # fmt: skip
    hetero = [s in _HETERO and sum(oxo[j] for j in nb[i]) >= 3 for i, s in enumerate(syms)]
    return [i for i in range(len(syms)) if metal[i] or oxo[i] or hetero[i]]


def _ligand_ids(syms: list[str], pairs) -> np.ndarray:
    """Connected components of the bonds between non-metal atoms (one id per ligand)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nonmetal = np.array([not Element(s).is_metal for s in syms])
    kept = [(i, j) for i, j in pairs if nonmetal[i] and nonmetal[j]]
    n = len(syms)
    rows = [i for i, _ in kept]
    cols = [j for _, j in kept]
    graph = coo_matrix((np.ones(len(kept)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


SHARED_EDGE_OO = 2.4  # Angstrom


def nonbonded_contacts(
    mol: Molecule,
    hh: float = 2.0,
    hx: float = 2.3,
    hbond: float = 1.6,
    oo: float = 2.5,
) -> list[dict]:
    """Non-bonded contacts shorter than physical limits (Angstrom), worst first.

    Ligands are the connected groups of bonded non-metal atoms (a methoxide, a salicylate, a
    water, a lone oxo O). Checked pairs:

    * H...H between different ligands below ``hh``;
    * H...C and H...O between different ligands below ``hx``, except an O-H / N-H hydrogen
      next to an O or N acceptor (a hydrogen bond), which only has to stay above ``hbond``;
    * O...O below ``oo`` between O atoms of different ligands (a carboxylate's O-C-O, a
      salicylate's O...O bite or a phosphate's O-P-O is the ligand's own geometry); O pairs
      bridging the same two metals (a shared octahedral edge) only down to 2.4 A.

    Returns
    -------
    list of dict
        ``i``, ``j``, ``pair`` (e.g. ``"H...H"``), ``distance`` and ``limit``.

    Examples
    --------
    Two waters: the hydrogen bond H...O 1.87 A passes, their H...H 1.95 A does not.

    >>> waters = Molecule(["O", "H", "H", "O", "H", "H"],
    ...     [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0],
    ...      [2.4, 1.2, 0], [1.7, 1.8, 0], [3.0, 1.6, 0.6]])
    >>> [(c["pair"], round(c["distance"], 2)) for c in nonbonded_contacts(waters)]
    [('H...H', 1.95)]
    """
    from superatom.structures.geometry import bond_pairs

    syms = _symbols(mol)
    xyz = np.asarray(mol.cart_coords, float)
    pairs = bond_pairs(syms, xyz)
    lig = _ligand_ids(syms, pairs)
    nb: list[set[int]] = [set() for _ in syms]
    for i, j in pairs:
        nb[i].add(j)
        nb[j].add(i)
    metal = [Element(s).is_metal for s in syms]
    out = []
    for i, j in sorted(cKDTree(xyz).query_pairs(max(hh, hx, oo))):
        si, sj = sorted((syms[i], syms[j]))
        if j in nb[i]:
            continue
        d = float(np.linalg.norm(xyz[i] - xyz[j]))
        limit, pair = None, f"{si}...{sj}"
        if si == sj == "O" and lig[i] != lig[j]:
            common = nb[i] & nb[j]
            shared_metals = sum(metal[k] for k in common)
            # an edge shared by two metal octahedra is shorter (2.47 A in anatase TiO2)
            limit = None if len(common) > shared_metals else (
                min(oo, SHARED_EDGE_OO) if shared_metals >= 2 else oo)
        elif lig[i] != lig[j] and "H" in (si, sj):
            h, x = (i, j) if syms[i] == "H" else (j, i)
            if syms[x] == "H":
                limit = hh
            elif syms[x] in ("C", "O"):
                donor = any(syms[k] in ("O", "N") for k in nb[h])
                limit = hbond if donor and syms[x] == "O" else hx
                pair = f"H...{syms[x]}"
        if limit is not None and d < limit:
            out.append({"i": int(i), "j": int(j), "pair": pair, "distance": d, "limit": limit})
    return sorted(out, key=lambda c: c["distance"] - c["limit"])


def check_contacts(mol: Molecule, **limits) -> None:
    """Raise :class:`InputError` naming the worst unphysical non-bonded contact, if any.

    ``limits`` are passed to :func:`nonbonded_contacts`.

    Examples
    --------
    >>> check_contacts(Molecule(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]]))
    """
    bad = nonbonded_contacts(mol, **limits)
    if bad:
        c = bad[0]
        si, sj = mol[c["i"]].specie.symbol, mol[c["j"]].specie.symbol
        raise InputError(
            f"{len(bad)} non-bonded contact(s) too short, worst {c['pair']} between atoms "
            f"{c['i']} ({si}) and {c['j']} ({sj}): {c['distance']:.2f} A < {c['limit']} A"
        )
