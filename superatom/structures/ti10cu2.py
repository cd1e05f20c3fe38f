"""Model of the Ti10Cu2 oxo cluster (sp monomer) and of (Ti10Cu2)cs chain fragments, Angstrom.

What the model is
-----------------
A chemically consistent, clash-free *starting geometry* with the published composition and
connectivity motifs of [H6Ti10Cu2(mu2-O)6(mu3-O)2(sal)8(OCH3)18] (Ti10Cu2C74H92O50, 228 atoms,
neutral; Ti(IV), Cu(II) d9, sal = salicylate(2-)):

* two Ti4 layers (three Ti share a mu3-O, the fourth hangs on a mu2-O: a trapezoid), stacked
  into a centrosymmetric {Ti8} double layer by four interlayer mu2-O (6 mu2-O, 2 mu3-O in all);
* two {TiCu} pairs beside the double layer, one on each side (related by inversion);
* per half: one salicylate chelates a core Ti (phenoxide + carboxylate O) and bridges a second
  core Ti through its other carboxylate O; three salicylates bind a Ti and the Cu through the
  carboxylate and another Ti through the phenoxide;
* 18 methoxides: 2 x 5 mu2-OMe, 2 x 1 terminal OMe and 6 terminal HOMe (the 6 H of the formula);
* core Ti six-coordinate, TiCu-pair Ti and Cu five-coordinate; bonds polished to Ti-O(oxo)
  1.85, Ti-O(mu3) 1.95, Ti-OMe 1.80 (terminal) / 2.00 (mu2), Ti-O(carboxylate) 2.05,
  Ti-O(phenoxide) 1.90, Ti-O(HOMe) 2.15, Cu-O 1.97 (three) and 2.25 (two, Jahn-Teller;
  published Cu-O 1.959-2.863 A, mean 2.255), with ligands of different groups kept apart
  (H...H >= 2.1, H...C/O >= 2.4, O...O >= 2.7 A targets) so that
  :func:`superatom.structures.validate.nonbonded_contacts` finds nothing. A fit that leaves a
  target off by more than 0.25 A or a contact too short is refused (``InputError``).

What it is not
--------------
Not the crystal structure (CCDC 2277134 / 2277142 are not public): metal positions, which Ti
each ligand binds and all angles are modelled. Every built molecule says so:
``properties["model"] = True`` and ``properties["provenance"]`` (copied into the tags of
stored documents), with ``properties["fit_max_deviation"]`` (Angstrom). Relax the ligand
shell (xTB with the metal-oxo core held), then DFT, before use, and cut real units from a CIF
with :mod:`superatom.structures.crystal` when one is available.

Spin: two Cu(II) give a triplet (multiplicity 3, default) or, with ``multiplicity=1``, the
broken-symmetry singlet starting point (flagged in the returned molecule's ``properties``).

Chain fragments (cs): each unit loses the HOMe of both TiCu-pair Ti (repeat unit
Ti10Cu2C72H84O48); neighbouring units are joined by two Sal-Cu motifs: the Cu-bound
carboxylate O of a Sal-Cu motif of one unit fills the vacated Ti site of the next one (and vice
versa, by the inversion symmetry of the unit). The two chain ends keep their HOMe, so an
n-unit fragment is n x Ti10Cu2C72H84O48 + 2 CH3OH, neutral, high spin 2n + 1 by default.

Examples
--------
>>> mol = build_ti10cu2()
>>> mol.composition.hill_formula, len(mol), mol.charge, mol.spin_multiplicity
('C74 H92 Cu2 O50 Ti10', 228, 0, 3)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from superatom.errors import InputError
from superatom.structures.chem import make_molecule
from superatom.structures.geometry import kabsch, perpendicular, polish, rotation_about
from superatom.structures.validate import check_contacts, validate_structure

__all__ = ["CONTACT_FLOORS", "FIT_TOLERANCE", "PROVENANCE", "build_ti10cu2",
           "build_ti10cu2_chain"]

#: what every built Ti10Cu2 molecule says about itself (``properties["provenance"]``)
PROVENANCE = ("Ti10Cu2 model built from the published composition and connectivity motifs; "
              "no public crystal structure (CCDC 2277134 / 2277142)")
#: largest accepted misfit (Angstrom) of a polished target distance
FIT_TOLERANCE = 0.25

#: minimum non-bonded distances (Angstrom) between atoms of different ligands or the core,
#: slightly above the limits that ``validate.nonbonded_contacts`` checks (2.0, 2.3, 2.5)
CONTACT_FLOORS = {("H", "H"): 2.1, ("C", "H"): 2.4, ("H", "O"): 2.4, ("O", "O"): 2.7}
_ROUNDS = 6

# layer A metals (z > 0); layer B is the inversion image; then TiCu pair (T9, Cu1)
_METALS = {
    "A1": ("Ti", (-1.6, 0.0, 1.85)),
    "A2": ("Ti", (1.6, 0.0, 1.85)),
    "A3": ("Ti", (0.0, 2.9, 1.85)),
    "A4": ("Ti", (1.9, -3.3, 1.85)),
    "T9": ("Ti", (4.9, -0.6, 3.1)),
    "Cu1": ("Cu", (4.6, -4.2, 3.8)),
}
# oxo: name -> metals it bridges (half set; interlayer O listed once with both partners)
_OXO_HALF = {"O3": ("A1", "A2", "A3"), "O2": ("A2", "A4")}
_OXO_INTER = [("A1", "B2"), ("A3", "B4")]  # with their inversion images: 4 interlayer O
# ligands of one half: (kind, {donor: metals})
_LIGANDS_HALF = [
    ("sal", {"O1": ("A1",), "O3": ("A1",), "O2": ("A3",)}),
    ("sal", {"O1": ("A4",), "O2": ("Cu1",), "O3": ("T9",)}),
    ("sal", {"O1": ("T9",), "O2": ("Cu1",), "O3": ("A2",)}),
    ("sal", {"O1": ("T9",), "O2": ("Cu1",), "O3": ("A4",)}),
    ("OMe", {"O": ("A1", "A3")}),
    ("OMe", {"O": ("A2", "T9")}),
    ("OMe", {"O": ("A4", "Cu1")}),
    ("OMe", {"O": ("T9", "Cu1")}),
    ("OMe", {"O": ("A2", "A4")}),
    ("HOMe", {"O": ("A1",)}),
    ("HOMe", {"O": ("A3",)}),
    ("OMe", {"O": ("A3",)}),
    ("HOMe", {"O": ("T9",)}),
]
#: (ligand, donor, metal) -> target (Angstrom) or None (no bond) where the default targets
#: cannot all be met around the TiCu pair: Cu(II) is Jahn-Teller distorted (paper: Cu-O
#: 1.959-2.863 A, mean 2.255), so two of its five O are long; the chelating carboxylate O1
#: of the third Sal-Cu motif stays off T9 (it cannot reach it with the other donors in place).
_TARGET_OVERRIDES: dict[tuple[int, str, str], float | None] = {
    (6, "O", "Cu1"): 2.25,
    (1, "O2", "Cu1"): 2.25,
    (3, "O1", "T9"): None,
}
_LINK_WEIGHT = 4
_T9_HOME = 12  # index in _LIGANDS_HALF of the HOMe on the TiCu-pair Ti (removed in chains)
_LINK_SAL = (2,)  # Sal-Cu motif whose Cu-bound O2 may link to the next unit


def _sal_template() -> tuple[list[str], np.ndarray, dict[str, int]]:
    """Salicylate(2-) in the xy plane: ring, carboxylate on C1, phenoxide on C2."""
    ring = [1.39 * np.array([np.cos(a), np.sin(a), 0]) for a in np.deg2rad(np.arange(6) * 60)]
    sym = ["C"] * 6
    xyz = list(ring)
    c1, c2 = ring[0], ring[1]
    u1, u2 = c1 / np.linalg.norm(c1), c2 / np.linalg.norm(c2)
    c7 = c1 + 1.49 * u1
    perp = np.array([-u1[1], u1[0], 0])
    o1 = c7 + 1.27 * (np.cos(np.deg2rad(60)) * u1 + np.sin(np.deg2rad(60)) * perp)
    o2 = c7 + 1.27 * (np.cos(np.deg2rad(60)) * u1 - np.sin(np.deg2rad(60)) * perp)
    o3 = c2 + 1.33 * u2
    sym += ["C", "O", "O", "O"]
    xyz += [c7, o1, o2, o3]
    for k in (2, 3, 4, 5):
        sym.append("H")
        xyz.append(ring[k] + 1.08 * ring[k] / np.linalg.norm(ring[k]))
    names = {"O1": 7, "O2": 8, "O3": 9}
    return sym, np.array(xyz), names


def _ome_template(protonated: bool) -> tuple[list[str], np.ndarray, dict[str, int]]:
    """Methoxide along +z (O at origin); methanol adds an H on O."""
    sym = ["O", "C", "H", "H", "H"]
    xyz = [np.zeros(3), np.array([0, 0, 1.42])]
    for k in range(3):
        a = 2 * np.pi * k / 3
        xyz.append(np.array([1.03 * np.cos(a), 1.03 * np.sin(a), 1.42 + 0.36]))
    if protonated:
        sym.append("H")
        xyz.append(np.array([0.91, 0, -0.33]))
    return sym, np.array(xyz), {"O": 0}


def _donor_target(kind: str, donor: str, metal_sites: list[np.ndarray], centre) -> float:
    n = len(metal_sites)
    if kind == "sal":
        return {"O1": 2.05, "O2": 2.05, "O3": 1.90}[donor]
    if kind == "HOMe":
        return 2.15
    return 1.80 if n == 1 else 2.00


def _half_and_image(coords: dict[str, np.ndarray]):
    full = dict(coords)
    for name, xyz in coords.items():
        image = {"A": "B", "T9": "T10", "Cu1": "Cu2"}
        if name.startswith("A"):
            full["B" + name[1:]] = -xyz
        else:
            full[image[name]] = -xyz
    return full


@lru_cache(maxsize=4)
def _sp_model(drop_pair_home: bool):
    """Symbols, coordinates, bonds, ligand records of one unit (cached)."""
    metal_xyz = _half_and_image({k: np.array(v[1], float) for k, v in _METALS.items()})
    metal_el = {k: v[0] for k, v in _METALS.items()}
    metal_el.update({("B" + k[1:]) if k.startswith("A") else {"T9": "T10", "Cu1": "Cu2"}[k]: v
                     for k, v in list(metal_el.items())})  # fmt: skip
    order = ["A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "T9", "T10", "Cu1", "Cu2"]
    symbols = [metal_el[m] for m in order]
    xyz = [metal_xyz[m] for m in order]
    index = {m: i for i, m in enumerate(order)}
    bonds: list[tuple[int, int, float]] = []
    centre = np.zeros(3)

    def image_name(m: str) -> str:
        if m.startswith("A"):
            return "B" + m[1:]
        if m.startswith("B"):
            return "A" + m[1:]
        return {"T9": "T10", "Cu1": "Cu2", "T10": "T9", "Cu2": "Cu1"}[m]

    def add_oxo(metals, d):
        p = np.mean([metal_xyz[m] for m in metals], axis=0)
        out = p - centre
        if len(metals) == 2:
            # push the bridge off the metal-metal line, away from the centre
            line = metal_xyz[metals[1]] - metal_xyz[metals[0]]
            out = out - (out @ line) / (line @ line) * line
        out = out / max(np.linalg.norm(out), 1e-6)
        pos = p + (0.9 if len(metals) == 2 else 0.0) * out
        symbols.append("O")
        xyz.append(pos)
        for m in metals:
            bonds.append((index[m], len(symbols) - 1, d))

    for metals in _OXO_HALF.values():
        add_oxo(metals, 1.95 if len(metals) == 3 else 1.85)
        add_oxo(tuple(image_name(m) for m in metals), 1.95 if len(metals) == 3 else 1.85)
    for a, b in _OXO_INTER:
        add_oxo((a, b), 1.85)
        add_oxo((image_name(a), image_name(b)), 1.85)

    ligands = []  # (first atom, n atoms, kind, donors {name: atom index}, half index, side)
    occupied: dict[str, list[np.ndarray]] = {m: [] for m in index}
    for a, b, _ in bonds:
        m = order[a]
        v = xyz[b] - xyz[a]
        occupied[m].append(v / np.linalg.norm(v))

    def free_dirs(m: str) -> list[np.ndarray]:
        occ = occupied[m]
        if not occ:
            frame = np.eye(3)
        else:
            e1 = occ[0]
            rest = sorted(occ[1:], key=lambda v: abs(v @ e1))
            trial = rest[0] if rest else np.array([0.0, 0.0, 1.0])
            e2 = trial - (trial @ e1) * e1
            e2 = perpendicular(e1) if np.linalg.norm(e2) < 1e-3 else e2 / np.linalg.norm(e2)
            frame = np.array([e1, e2, np.cross(e1, e2)])
        dirs = [s * e for e in frame for s in (1.0, -1.0)]
        for v in occ:
            if dirs:
                dirs.pop(int(np.argmax([d @ v for d in dirs])))
        n_sites = 5 if metal_el[m] == "Cu" else 6
        return dirs[: max(n_sites - len(occ), 0)]

    def clearance(p, placed):
        return float(np.min(np.linalg.norm(placed - p, axis=1))) if len(placed) else 9.0

    def donor_candidates(ms, d, placed):
        out = []
        if len(ms) == 1:
            for f in free_dirs(ms[0]):
                p = metal_xyz[ms[0]] + d * f
                out.append((p, [(ms[0], f)], clearance(p, placed)))
        else:
            for f1 in free_dirs(ms[0]):
                for f2 in free_dirs(ms[1]):
                    p1, p2 = metal_xyz[ms[0]] + d * f1, metal_xyz[ms[1]] + d * f2
                    sep = float(np.linalg.norm(p1 - p2))
                    if sep < 3.2:
                        p = (p1 + p2) / 2
                        out.append((p, [(ms[0], f1), (ms[1], f2)], clearance(p, placed) - sep))
        return out

    import itertools

    def rank(item):
        _, (kind, donors) = item
        nmet = len(next(iter(donors.values())))
        return 0 if (kind == "OMe" and nmet == 2) else (1 if kind == "sal" else 2)

    plan = sorted(enumerate(_LIGANDS_HALF), key=rank)
    for li, (kind, donors) in plan:
        side0: tuple = (None, [])
        for side in (0, 1):
            if drop_pair_home and li == _T9_HOME:
                continue
            if kind == "sal":
                sym, tmpl, names = _sal_template()
            else:
                sym, tmpl, names = _ome_template(kind == "HOMe")
            dmap = {d: tuple(m if side == 0 else image_name(m) for m in ms)
                    for d, ms in donors.items()}  # fmt: skip
            if side == 1:
                placed_lig = -side0[0]
                for m, f in side0[1]:
                    occupied[image_name(m)].append(-f)
            else:
                placed = np.array(xyz)
                cands = [donor_candidates(ms, 1.95, placed) for ms in dmap.values()]
                if any(not c for c in cands):
                    raise InputError(f"internal error: no free site for ligand {li} ({kind})")
                best = None
                for combo in itertools.product(*cands):
                    used = [u for c in combo for u in c[1]]
                    if len({(m, tuple(np.round(f, 3))) for m, f in used}) < len(used):
                        continue
                    pts = np.array([c[0] for c in combo])
                    src = np.array([tmpl[names[d]] for d in dmap])
                    if len(pts) >= 3:
                        rot, shift = kabsch(src, pts)
                    else:
                        p = pts[0]
                        ms = next(iter(dmap.values()))
                        axis = p - np.mean([metal_xyz[m] for m in ms], axis=0)
                        if np.linalg.norm(axis) < 0.5:
                            axis = p - centre
                            if len(ms) == 2:
                                line = metal_xyz[ms[1]] - metal_xyz[ms[0]]
                                axis = axis - (axis @ line) / (line @ line) * line
                        axis = axis / np.linalg.norm(axis)
                        frame_dst = np.array([[0, 0, 0], axis, np.cross(axis, [0.3, 0.5, 0.8])])
                        frame_src = np.array([[0, 0, 0], [0, 0, 1.0], [1.0, 0, 0]])
                        rot = kabsch(frame_src, frame_dst)[0]
                        shift = p
                    moved = tmpl @ rot.T + shift
                    fit = float(np.sqrt(np.mean(np.sum((moved[[names[d] for d in dmap]] - pts) ** 2,
                                                       axis=1))))  # fmt: skip
                    clash = float(np.min(np.linalg.norm(placed[:, None] - moved[None], axis=2)))
                    score = fit - 0.7 * min(clash, 3.0) - 0.5 * sum(c[2] for c in combo)
                    if best is None or score < best[0]:
                        best = (score, moved, combo)
                _, placed_lig, combo = best
                used = [(m, f) for c in combo for m, f in c[1]]
                for m, f in used:
                    occupied[m].append(f)
                side0 = (placed_lig, used)
            first = len(symbols)
            symbols += sym
            xyz += list(placed_lig)
            for i in range(len(sym)):
                for j in range(i + 1, len(sym)):
                    bonds.append((first + i, first + j, float(np.linalg.norm(tmpl[i] - tmpl[j]))))
            don_idx = {}
            for d, ms in dmap.items():
                don_idx[d] = first + names[d]
                for m, m0 in zip(ms, donors[d], strict=True):
                    t = 1.97 if metal_el[m] == "Cu" else _donor_target(kind, d, ms, centre)
                    t = _TARGET_OVERRIDES.get((li, d, m0), t)
                    if t is not None:
                        bonds.append((index[m], first + names[d], t))
            ligands.append((first, len(sym), kind, don_idx, li, side))
    coords = np.array(xyz)
    groups = _ligand_groups(len(symbols), ligands)
    for _ in range(_ROUNDS):
        coords = polish(coords, [(a, b) for a, b, _ in bonds], [t for *_, t in bonds],
                        symbols=symbols, regularise=0.02, exclude_13=False, groups=groups,
                        floors=CONTACT_FLOORS)  # fmt: skip
    return symbols, coords, bonds, ligands, index


def _ligand_groups(n_atoms: int, ligands) -> np.ndarray:
    """Group id per atom: the first atom of its ligand, or its own index (metals, oxo O)."""
    groups = np.arange(n_atoms)
    for first, count, *_ in ligands:
        groups[first:first + count] = first
    return groups


def _labels_for(symbols, ligands, index, unit: int) -> list[str]:
    labels = [f"Ti10Cu2#{unit}"] * len(symbols)
    return labels


def build_ti10cu2(multiplicity: int = 3):
    """Ti10Cu2 sp cluster model, Ti10Cu2C74H92O50 (228 atoms), neutral.

    Parameters
    ----------
    multiplicity
        3 (two Cu(II) high spin, default) or 1 (broken-symmetry singlet start; the returned
        molecule carries ``properties["broken_symmetry"] = True``).

    Returns
    -------
    pymatgen.core.Molecule
        Angstrom; fragment labels ``Ti10Cu2#0``.

    Examples
    --------
    >>> build_ti10cu2(multiplicity=1).properties["broken_symmetry"]
    True
    """
    if multiplicity not in (1, 3):
        raise InputError(f"Ti10Cu2 multiplicity must be 3 (triplet) or 1 (BS singlet), got "
                         f"{multiplicity}")  # fmt: skip
    symbols, coords, bonds, ligands, index = _sp_model(False)
    mol = make_molecule(symbols, coords, 0, multiplicity,
                        _labels_for(symbols, ligands, index, 0))  # fmt: skip
    mol.properties["broken_symmetry"] = multiplicity == 1
    validate_structure(mol, expected_formula="Ti10Cu2C74H92O50",
                       coordination={"Ti": (5, 6, 7), "Cu": (4, 5, 6)})  # fmt: skip
    mol.properties.update(_check_fit(mol, bonds))
    return mol


def _check_fit(mol, bonds) -> dict:
    """Refuse a model whose polishing did not converge; return its provenance properties.

    Converged: every target distance within :data:`FIT_TOLERANCE` and no unphysical
    non-bonded contact (``validate.check_contacts``).
    """
    xyz = mol.cart_coords
    dev = np.array([abs(np.linalg.norm(xyz[a] - xyz[b]) - t) for a, b, t in bonds])
    worst = int(np.argmax(dev))
    if dev[worst] > FIT_TOLERANCE:
        a, b, t = bonds[worst]
        raise InputError(
            f"Ti10Cu2 model fit did not converge: {int(np.sum(dev > FIT_TOLERANCE))} target "
            f"distances off by more than {FIT_TOLERANCE} A (worst atoms {a}-{b}: "
            f"{np.linalg.norm(xyz[a] - xyz[b]):.2f} A for {t:.2f})"
        )
    try:
        check_contacts(mol)
    except InputError as err:
        raise InputError(f"Ti10Cu2 model fit did not converge: {err}") from None
    return {"model": True, "provenance": PROVENANCE,
            "fit_max_deviation": round(float(dev.max()), 3)}


def build_ti10cu2_chain(n: int = 2, multiplicity: int | None = None):
    """(Ti10Cu2)cs chain fragment of ``n`` units (1-4) joined by Sal-Cu motifs.

    Formula n x Ti10Cu2C72H84O48 + 2 CH3OH (the end Ti keep their methanol), neutral.

    Parameters
    ----------
    n
        Number of units, 1 to 4.
    multiplicity
        Default 2n + 1 (all Cu(II) high spin); 1 = broken-symmetry singlet start.

    Examples
    --------
    >>> m = build_ti10cu2_chain(2)
    >>> m.composition.hill_formula, m.spin_multiplicity
    ('C146 H176 Cu4 O98 Ti20', 5)
    """
    if not 1 <= n <= 4:
        raise InputError(f"Ti10Cu2 chain fragments have n = 1..4 units, got {n}")
    mult = 2 * n + 1 if multiplicity is None else multiplicity
    full = _sp_model(False)
    cut = _sp_model(True)
    sym_c, xyz_c, bonds_c, lig_c, index = cut
    # link: O2 of a Sal-Cu motif on the Cu1 side lands on the vacated T10 site of the next
    sym_f, xyz_f, _, lig_f, _ = full
    home_t9 = next(r for r in lig_f if r[4] == _T9_HOME and r[5] == 0)
    site_t9 = xyz_f[home_t9[3]["O"]]  # the vacated T9 site; the T10 site is its image
    from scipy.spatial import cKDTree

    best = None
    for rec in lig_c:
        if rec[5] != 0 or rec[4] not in _LINK_SAL:
            continue
        o2 = rec[3]["O2"]
        o2_img = next(r for r in lig_c if r[4] == rec[4] and r[5] == 1)[3]["O2"]
        # a screw about v = o2 + s9 keeps both Sal-Cu links exact (unit is centrosymmetric)
        v = xyz_c[o2] + site_t9
        mask = np.ones(len(sym_c), bool)
        mask[[o2, o2_img]] = False
        tree = cKDTree(xyz_c[mask])
        whole = cKDTree(xyz_c)
        for phi in np.deg2rad(np.arange(0, 360, 10)):
            rot = rotation_about(v, phi)
            t = xyz_c[o2] + rot @ site_t9
            moved = xyz_c @ rot.T + t
            gap = float(tree.query(moved[mask])[0].min())
            # units k+2 and k+3 of a longer chain must not run into unit k either
            further = moved
            for _ in range(2):
                further = further @ rot.T + t
                gap = min(gap, float(whole.query(further)[0].min()))
            if best is None or gap > best[0]:
                best = (gap, o2, o2_img, rot, t)
    _, o2, o2_img, rot, t = best
    t10 = index["T10"]
    units_sym, units_xyz, labels, bonds = [], [], [], []
    sizes, groups = [], []
    groups_c = _ligand_groups(len(sym_c), lig_c)
    r_k, t_k = np.eye(3), np.zeros(3)
    for k in range(n):
        end_left, end_right = k == 0, k == n - 1
        # ends keep the HOMe of their free TiCu-pair Ti: use the full model's ligand there
        sym, xyz, bnd = list(sym_c), xyz_c @ r_k.T + t_k, list(bonds_c)
        extra = []
        for side, keep in ((0, end_right), (1, end_left)):
            if not keep:
                continue
            rec = next(r for r in lig_f if r[4] == _T9_HOME and r[5] == side)
            first, count = rec[0], rec[1]
            base = len(sym) + len(extra)
            extra += list(range(first, first + count))
            ti = index["T9" if side == 0 else "T10"]
            bnd.append((ti, base, 2.15))
            for i in range(count):
                for j in range(i + 1, count):
                    dij = float(np.linalg.norm(xyz_f[first + i] - xyz_f[first + j]))
                    bnd.append((base + i, base + j, dij))
        if extra:
            sym = sym + [sym_f[i] for i in extra]
            xyz = np.vstack([xyz, xyz_f[extra] @ r_k.T + t_k])
        off = sum(sizes)
        sizes.append(len(sym))
        # one group per ligand; an end HOMe (5 or 6 atoms after the cut unit) is one more
        groups += list(groups_c + off) + [off + len(sym_c) + (i >= 6) * 6
                                          for i in range(len(extra))]  # fmt: skip
        units_sym += sym
        units_xyz.append(xyz)
        labels += [f"Ti10Cu2#{k}"] * len(sym)
        bonds += [(a + off, b + off, d) for a, b, d in bnd]
        r_k, t_k = rot @ r_k, rot @ t_k + t
    offsets = np.cumsum([0, *sizes])
    for k in range(n - 1):
        # O2 (Cu1 side) of unit k -> T10 of unit k+1, and by inversion the mirror link; the
        # links are listed _LINK_WEIGHT times so polishing holds them against the ligand shell
        bonds += [(offsets[k] + o2, offsets[k + 1] + t10, 2.05),
                  (offsets[k + 1] + o2_img, offsets[k] + index["T9"], 2.05)] * _LINK_WEIGHT
    coords = np.vstack(units_xyz)
    formula = f"Ti{10 * n}Cu{2 * n}C{72 * n + 2}H{84 * n + 8}O{48 * n + 2}"
    problem = None
    for rounds in range(1, 9):  # polish until the fit converges (3-4 rounds usually do)
        coords = polish(coords, [(a, b) for a, b, _ in bonds], [d for *_, d in bonds],
                        symbols=units_sym, regularise=0.02, exclude_13=False,
                        groups=groups, floors=CONTACT_FLOORS)  # fmt: skip
        if rounds < 3:
            continue
        mol = make_molecule(units_sym, coords, 0, mult, labels)
        try:
            validate_structure(mol, expected_formula=formula,
                               coordination={"Ti": (5, 6, 7), "Cu": (4, 5, 6)})  # fmt: skip
            mol.properties.update(_check_fit(mol, bonds))
        except InputError as err:
            problem = err
            continue
        mol.properties["broken_symmetry"] = mult < 2 * n + 1
        return mol
    raise problem
