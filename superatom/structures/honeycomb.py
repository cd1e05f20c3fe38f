"""Clusterphene honeycomb patches: 2D fragments where each inner LnPW11O39 unit has three links.

In the clusterphene monolayer (Liu et al., Nat. Chem. 2022, 14, 433) every unit is bonded to
three neighbours through Ln-O-W links. With one Ln per unit the 3N/2 links of a honeycomb
need two kinds of unit on the two sublattices:

* **A** units: the Ln accepts two W=O (from the two lower neighbours, on opposite cap sites
  of its square antiprism) and the unit gives one W=O (the one opposite its lacuna) upward;
* **B** units: the Ln accepts one W=O (axial site, from the A unit below) and the unit gives
  two W=O, 120 degrees apart and coplanar with the lacuna axis, to the A units beside it.

Every Ln is 8-coordinate (4 lacuna O + bridging O + waters; a site without a neighbour at
the edge of the patch takes a water). Units are placed on an ideal honeycomb, then moved as
rigid bodies so that each link reaches Ln-O 2.45 A with Ln-O-W bent to about 160 degrees,
and the whole patch is polished to crystal bond lengths.

Examples
--------
>>> mol = build_clusterphene_patch("Y", 1, 1)
>>> mol.charge, len(set(mol.site_properties["fragment"]))
(-24, 6)
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from superatom.errors import InputError
from superatom.structures.geometry import rotation_about, rotation_from_to
from superatom.structures.joining import assemble_units, finish_assembly
from superatom.structures.keggin import keggin_frame
from superatom.structures.substituted import PomUnit, add_water, is_lanthanide, substituted_unit

__all__ = ["build_clusterphene_patch", "honeycomb_graph"]

LN_O_LINK = 2.45  # Ln-O(W) of a link, Angstrom
LINK_ANGLE = 160.0  # target Ln-O-W, degrees
CLASH = 3.0  # heavy atoms of different units closer than this (Angstrom) are pushed apart
_UP = np.array([0.0, 1.0, 0.0])


def honeycomb_graph(nx: int, ny: int) -> tuple[np.ndarray, list[str], list[tuple[int, int]]]:
    """Vertices (unit bond length, xy plane), sublattice labels and edges of an nx x ny patch.

    Hexagons are pointy-topped and stacked in rows; every edge is vertical or at +-30 deg.
    Edges are (donor, acceptor): vertical edges go from the lower A vertex up to a B vertex,
    slanted edges from a B vertex to the A vertex beside and above it.

    Examples
    --------
    >>> xy, sub, edges = honeycomb_graph(2, 1)
    >>> len(xy), len(edges), sorted(sub).count("A")
    (10, 11, 5)
    """
    if nx < 1 or ny < 1:
        raise InputError(f"a honeycomb patch needs nx, ny >= 1 hexagons, got {nx} x {ny}")
    pts: list[np.ndarray] = []
    sub: list[str] = []
    for j in range(ny):
        for i in range(nx):
            centre = np.array([np.sqrt(3) * (i + 0.5 * (j % 2)), 1.5 * j, 0.0])
            for k in range(6):
                ang = np.deg2rad(30 + 60 * k)
                p = centre + np.array([np.cos(ang), np.sin(ang), 0.0])
                if not any(np.linalg.norm(p - q) < 1e-6 for q in pts):
                    pts.append(p)
                    sub.append("A" if k % 2 else "B")
    xy = np.array(pts)
    edges = []
    for a, b in sorted(cKDTree(xy).query_pairs(1.0 + 1e-6)):
        (lo, hi) = (a, b) if xy[a, 1] < xy[b, 1] else (b, a)
        vertical = abs(xy[a, 0] - xy[b, 0]) < 1e-6
        # vertical: A (below) gives its W=O to B (above); slanted: B gives to A
        edges.append((lo, hi) if vertical else ((lo, hi) if sub[lo] == "B" else (hi, lo)))
    return xy, sub, edges


def _oxo_directions(unit: PomUnit, centre: np.ndarray) -> list[tuple[int, np.ndarray]]:
    out = []
    for _, o in unit.terminal_oxo():
        v = unit.coords[o] - centre
        out.append((o, v / np.linalg.norm(v)))
    return out


@lru_cache(maxsize=16)
def _templates(ln: str):
    """A and B unit templates in the lab frame: lacuna axis along -y, patch plane xy.

    Returns {kind: (unit, ports)} where ports maps a lab direction (degrees in the plane) to
    ("ln", site vector) or ("oxo", O index).
    """
    if not is_lanthanide(ln):
        raise InputError(f"'{ln}' is not a lanthanide: use Y or La-Lu")
    frame = keggin_frame("P", "W")
    base = substituted_unit(frame, frame.indices("M")[0], ln, n_water=0)
    centre = base.coords[base.roles.index("X")]
    axis = base.axis
    oxo = _oxo_directions(base, centre)
    out = {}
    # B: two W=O at 120 deg to the axis and to each other, coplanar with it
    pair = None
    for i, (oi, vi) in enumerate(oxo):
        for oj, vj in oxo[i + 1:]:
            if abs(vi @ axis + 0.5) < 0.12 and abs(vj @ axis + 0.5) < 0.12 and vi @ vj < -0.4:
                pair = (oi, vi, oj, vj)
    if pair is None:
        raise InputError("internal error: no coplanar W=O pair for a honeycomb B unit")
    oi, vi, oj, vj = pair
    normal = np.cross(axis, vi - vj)
    rot_b = _frame_rotation(axis, normal)
    left, right = (oi, oj) if (rot_b @ vi)[0] < 0 else (oj, oi)
    out["B"] = (base.transformed(rot_b, -rot_b @ centre), {150: ("oxo", left),
                                                           30: ("oxo", right),
                                                           270: ("ln", 0)})  # fmt: skip
    # A: the W=O opposite the lacuna goes up; two opposite cap sites of Ln face down-left/right
    top = min(oxo, key=lambda p: float(p[1] @ axis))[0]
    caps = base.sites[1:]
    c1, c2 = caps[0], caps[2]
    normal = np.cross(axis, c1 - c2)
    rot_a = _frame_rotation(axis, normal)
    down_left, down_right = (1, 3) if (rot_a @ c1)[0] < 0 else (3, 1)
    out["A"] = (base.transformed(rot_a, -rot_a @ centre), {90: ("oxo", top),
                                                           210: ("ln", down_left),
                                                           330: ("ln", down_right)})
    return out


def _frame_rotation(axis, normal) -> np.ndarray:
    """Rotation taking ``axis`` to -y and ``normal`` (made normal to it) to +z."""
    n = normal - (normal @ axis) * axis
    n /= np.linalg.norm(n)
    r1 = rotation_from_to(axis, -_UP)
    n1 = r1 @ n
    ang = np.arctan2(n1[0], n1[2])
    return rotation_about(_UP, -ang) @ r1


def _direction(xy, a, b) -> int:
    v = xy[b] - xy[a]
    return round(float(np.degrees(np.arctan2(v[1], v[0])))) % 360


def _donor_metals(units: list[PomUnit], links) -> list[int]:
    """Index of the W bearing the donor W=O of each link (in its unit)."""
    return [next(a for a, b, _ in units[ua].bonds if b == ia and units[ua].roles[a] == "M")
            for ua, ia, *_ in links]  # fmt: skip


def _place_translations(units: list[PomUnit], links, donor_w: list[int]) -> list[PomUnit]:
    """Shift units (orientations kept) so each Ln sits LN_O_LINK out along its donor's W=O.

    Linear least squares over the link graph with unit 0 fixed; rings spread their misfit.
    ``donor_w`` holds the W of each link's donor W=O (:func:`_donor_metals`).
    """
    n = len(units)
    rows, rhs = [], []
    for (ua, ia, ub, ib, _), w in zip(links, donor_w, strict=True):
        e = units[ua].coords[ia] - units[ua].coords[w]
        want = units[ua].coords[ia] + LN_O_LINK * e / np.linalg.norm(e) - units[ub].coords[ib]
        row = np.zeros(n)
        row[ub], row[ua] = 1.0, -1.0
        rows.append(row)
        rhs.append(want)
    rows.append(np.eye(n)[0])
    rhs.append(np.zeros(3))
    shift = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    return [u.transformed(np.eye(3), t) for u, t in zip(units, shift, strict=True)]


def _fit_rigid(units: list[PomUnit], links, donor_w: list[int],
               heavy: list[np.ndarray]) -> list[PomUnit]:
    """Move units as rigid bodies so links reach LN_O_LINK, bent near LINK_ANGLE, no clash.

    The moved units keep their Ln ``sites`` (rotated with them) and have no ``axis``, so
    :func:`add_water` orients the H of aqua ligands added later from the Ln-O bond alone.
    """
    centres = [u.coords[u.roles.index("X")] for u in units]
    local = [u.coords - c for u, c in zip(units, centres, strict=True)]
    link_atoms = {(ua, ia) for ua, ia, *_ in links} | {(ub, ib) for _, _, ub, ib, _ in links}
    unit_of = np.concatenate([np.full(int(h.sum()), k) for k, h in enumerate(heavy)])
    idx_of = np.concatenate([np.flatnonzero(h) for h in heavy])
    skip = np.array([(int(u), int(i)) in link_atoms for u, i in zip(unit_of, idx_of,
                                                                     strict=True)])  # fmt: skip

    def place(p):
        out = []
        for k in range(len(units)):
            rot = Rotation.from_rotvec(p[6 * k:6 * k + 3]).as_matrix()
            out.append(local[k] @ rot.T + centres[k] + p[6 * k + 3:6 * k + 6])
        return out

    def residuals(p):
        xyz = place(p)
        res = []
        for k, (ua, ia, ub, ib, _) in enumerate(links):
            o, ln, w = xyz[ua][ia], xyz[ub][ib], xyz[ua][donor_w[k]]
            res.append(np.linalg.norm(ln - o) - LN_O_LINK)
            u, v = ln - o, w - o
            ang = np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v),
                                               -1, 1)))  # fmt: skip
            res.append(0.02 * (ang - LINK_ANGLE))
        allxyz = np.vstack([x[h] for x, h in zip(xyz, heavy, strict=True)])
        pairs = cKDTree(allxyz).query_pairs(CLASH, output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
        keep = (unit_of[i] != unit_of[j]) & ~skip[i] & ~skip[j]
        pen = np.zeros(len(allxyz))
        np.add.at(pen, i[keep], CLASH - np.linalg.norm(allxyz[i[keep]] - allxyz[j[keep]], axis=1))
        return np.concatenate([res, pen, 0.01 * p])

    fit = least_squares(residuals, np.zeros(6 * len(units)), max_nfev=60, tr_solver="lsmr")
    moved = []
    for k, unit in enumerate(units):
        rot = Rotation.from_rotvec(fit.x[6 * k:6 * k + 3]).as_matrix()
        shift = centres[k] + fit.x[6 * k + 3:6 * k + 6] - rot @ centres[k]
        moved.append(replace(unit.transformed(rot, shift), axis=None))
    return moved


def build_clusterphene_patch(ln: str = "Gd", nx: int = 2, ny: int = 1):
    """Honeycomb patch of nx x ny hexagons of [Ln(H2O)n PW11O39] units (three links inside).

    Parameters
    ----------
    ln
        Y or La-Lu.
    nx, ny
        Hexagons per row and rows (1 x 1 is one hexagonal pore of 6 units, 2 x 1 has 10 units
        and two units with three neighbours, 2 x 2 has 16 units).

    Returns
    -------
    pymatgen.core.Molecule
        Charge -4 per unit, multiplicity sum(4f unpaired) + 1, fragment labels ``PW11<Ln>#k``.

    Examples
    --------
    >>> m = build_clusterphene_patch("La", 2, 1)
    >>> m.charge, m.spin_multiplicity, len(set(m.site_properties["fragment"]))
    (-40, 1, 10)
    """
    if nx * ny > 6:
        raise InputError(f"patch {nx} x {ny} is too large for a molecular model: nx * ny <= 6")
    xy, sub, edges = honeycomb_graph(nx, ny)
    templates = _templates(ln)
    base = templates["A"][0]
    radius = np.linalg.norm(base.coords[base.centre_index])
    spacing = radius + 5.3 + LN_O_LINK  # Ln offset + W=O reach + Ln-O
    units, used = [], []
    for k, s in enumerate(sub):
        unit, _ = templates[s]
        units.append(unit.transformed(np.eye(3), spacing * xy[k]))
        used.append(set())
    links = []
    for donor, acceptor in edges:
        to_acc = _direction(xy, donor, acceptor)
        kind, o = templates[sub[donor]][1][to_acc]
        if kind != "oxo":
            raise InputError(f"internal error: unit {donor} has no W=O towards unit {acceptor}")
        links.append((donor, o, acceptor, units[acceptor].centre_index, LN_O_LINK))
        used[acceptor].add(_direction(xy, acceptor, donor))
    donor_w = _donor_metals(units, links)
    units = _place_translations(units, links, donor_w)
    heavy = [np.array([s != "H" for s in u.symbols]) for u in units]
    units = _fit_rigid(units, links, donor_w, heavy)
    for k, (unit, s) in enumerate(zip(units, sub, strict=True)):
        # Ln sites without a link, then the remaining cap sites that always hold water
        free = [site for direction, (kind, site) in templates[s][1].items()
                if kind == "ln" and direction not in used[k]]  # fmt: skip
        for site in (*free, *_water_sites(s)):
            add_water(unit, unit.centre_index, unit.sites[site], LN_O_LINK + 0.05)
    mol = finish_assembly(*assemble_units(units, links), units)
    mol.properties["honeycomb_links"] = [(int(a), int(b)) for a, b in edges]
    return mol


def _water_sites(kind: str) -> tuple[int, ...]:
    """Ln sites (index into ``PomUnit.sites``) that always hold water: A caps 2, 4; B caps."""
    return (2, 4) if kind == "A" else (1, 2, 3)
