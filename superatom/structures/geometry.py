"""Small geometry helpers shared by the builders (Angstrom throughout).

``polish`` moves atoms as little as possible so that listed bonds reach target lengths and
non-bonded atoms keep a minimum distance: a cheap, deterministic stand-in for a force field
that turns an idealised template into crystal-like bond lengths before xTB or DFT.

Examples
--------
>>> import numpy as np
>>> xyz = polish(np.array([[0.0, 0, 0], [1.0, 0, 0]]), [(0, 1)], [1.5])
>>> round(float(np.linalg.norm(xyz[1] - xyz[0])), 2)
1.5
"""

from __future__ import annotations

import itertools

import numpy as np
from ase.data import atomic_numbers, covalent_radii
from scipy import sparse
from scipy.optimize import least_squares
from scipy.spatial import cKDTree

__all__ = [
    "bond_pairs",
    "covalent_radius",
    "kabsch",
    "neighbours",
    "perpendicular",
    "polish",
    "rotation_about",
    "rotation_from_to",
    "td_operations",
]

_NONMETAL_HEAVY = {"B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I"}


def covalent_radius(symbol: str) -> float:
    """Covalent radius in Angstrom (ASE's table, Cordero et al. 2008).

    Examples
    --------
    >>> covalent_radius("O")
    0.66
    """
    return float(covalent_radii[atomic_numbers[symbol]])


def td_operations() -> list[np.ndarray]:
    """The 24 operations of Td: signed permutation matrices with an even number of minus signs.

    Examples
    --------
    >>> len(td_operations())
    24
    """
    ops = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            if np.prod(signs) == 1:
                mat = np.zeros((3, 3))
                for i, p in enumerate(perm):
                    mat[i, p] = signs[i]
                ops.append(mat)
    return ops


def rotation_about(axis, angle: float) -> np.ndarray:
    """Rotation matrix for ``angle`` radians about ``axis`` (right hand).

    Examples
    --------
    >>> np.round(rotation_about([0, 0, 1], np.pi / 2) @ [1, 0, 0], 6).tolist()
    [0.0, 1.0, 0.0]
    """
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def perpendicular(v) -> np.ndarray:
    """Unit vector normal to the unit vector ``v``: ``v`` x x-hat, or ``v`` x y-hat when
    ``|v_x| >= 0.9``.

    Examples
    --------
    >>> perpendicular([0.0, 0.0, 1.0]).tolist()
    [0.0, 1.0, 0.0]
    >>> perpendicular([1.0, 0.0, 0.0]).tolist()
    [0.0, 0.0, 1.0]
    """
    trial = np.array([1.0, 0, 0]) if abs(v[0]) < 0.9 else np.array([0, 1.0, 0])
    p = np.cross(v, trial)
    return p / np.linalg.norm(p)


def kabsch(src, dst) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R and shift t that best map points ``src`` onto ``dst`` (dst ~ src @ R.T + t).

    Examples
    --------
    >>> pts = np.array([[0.0, 0, 0], [1, 0, 0], [0, 2, 0]])
    >>> rot, t = kabsch(pts, pts @ rotation_about([0, 0, 1], 0.3).T + 1.0)
    >>> bool(np.allclose(rot, rotation_about([0, 0, 1], 0.3))), np.round(t, 6).tolist()
    (True, [1.0, 1.0, 1.0])
    """
    src, dst = np.asarray(src, float), np.asarray(dst, float)
    cs, cd = src.mean(axis=0), dst.mean(axis=0)
    u, _, vt = np.linalg.svd((src - cs).T @ (dst - cd))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rot = vt.T @ np.diag([1, 1, d]) @ u.T
    return rot, cd - rot @ cs


def rotation_from_to(u, v) -> np.ndarray:
    """Smallest rotation taking direction ``u`` onto direction ``v``.

    Examples
    --------
    >>> np.round(rotation_from_to([1, 0, 0], [0, 0, 1]) @ [1, 0, 0], 6).tolist()
    [0.0, 0.0, 1.0]
    """
    u = np.asarray(u, float) / np.linalg.norm(u)
    v = np.asarray(v, float) / np.linalg.norm(v)
    c = float(np.dot(u, v))
    axis = np.cross(u, v)
    s = float(np.linalg.norm(axis))
    if s < 1e-10:
        if c > 0:
            return np.eye(3)
        perp = np.cross(u, [1.0, 0, 0])
        if np.linalg.norm(perp) < 1e-6:
            perp = np.cross(u, [0, 1.0, 0])
        return rotation_about(perp, np.pi)
    return rotation_about(axis, np.arctan2(s, c))


def bond_pairs(symbols, coords, scale: float = 1.2) -> list[tuple[int, int]]:
    """Pairs (i < j) closer than ``scale`` x the sum of covalent radii.

    Examples
    --------
    >>> bond_pairs(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    [(0, 1), (0, 2)]
    """
    xyz = np.asarray(coords, float)
    radii = np.array([covalent_radius(s) for s in symbols])
    tree = cKDTree(xyz)
    cut = scale * 2 * radii.max()
    out = []
    for i, j in sorted(tree.query_pairs(cut)):
        if np.linalg.norm(xyz[i] - xyz[j]) < scale * (radii[i] + radii[j]):
            out.append((int(i), int(j)))
    return out


def neighbours(symbols, coords, scale: float = 1.2) -> list[list[int]]:
    """Neighbour lists from :func:`bond_pairs`.

    Examples
    --------
    >>> neighbours(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    [[1, 2], [0], [0]]
    """
    nb: list[list[int]] = [[] for _ in symbols]
    for i, j in bond_pairs(symbols, coords, scale):
        nb[i].append(j)
        nb[j].append(i)
    return nb


def _min_distances(symbols, pairs: np.ndarray) -> np.ndarray:
    radii = np.array([covalent_radius(s) for s in symbols])
    dmin = 1.3 * (radii[pairs[:, 0]] + radii[pairs[:, 1]])
    heavy = np.array([s in _NONMETAL_HEAVY for s in symbols])
    both = heavy[pairs[:, 0]] & heavy[pairs[:, 1]]
    dmin = np.where(both, np.maximum(dmin, 2.55), dmin)
    is_h = np.array([s == "H" for s in symbols])
    anyh = is_h[pairs[:, 0]] | is_h[pairs[:, 1]]
    return np.where(anyh, np.maximum(dmin, 1.6), np.clip(dmin, 0, 3.2))


def polish(
    coords,
    bonds,
    targets,
    *,
    symbols=None,
    regularise: float = 0.05,
    repulsion: float = 1.0,
    fixed=None,
    max_nfev: int = 200,
    exclude_13: bool = True,
    repel_around=(),
    groups=None,
    floors=None,
) -> np.ndarray:
    """Adjust ``coords`` so that ``bonds`` reach ``targets`` with minimal displacement.

    Parameters
    ----------
    coords
        (N, 3) start coordinates, Angstrom.
    bonds
        Sequence of (i, j) index pairs.
    targets
        Target lengths (Angstrom), one per bond.
    symbols
        Element symbols; when given, non-bonded pairs (not 1-2 or 1-3 in ``bonds``) closer
        than a minimum distance (1.3 x covalent sum; 2.55 for O...O and other non-metal pairs;
        1.6 with H) are pushed apart.
    regularise
        Weight of the displacement penalty (keeps angles of the template).
    repulsion
        Weight of the minimum-distance penalty.
    fixed
        Indices of atoms that must not move.
    exclude_13
        Skip the repulsion between atoms bonded to a common atom (keep True for rigid
        templates; False lets ligands around a metal repel each other).
    repel_around
        Indices of atoms whose ligands repel each other even when ``exclude_13`` is True
        (e.g. the Ln of an assembly, whose aqua and bridging O must not crowd).
    groups, floors
        Group id per atom (e.g. one per ligand) and minimum distances by element pair for
        atoms of different groups, e.g. ``{("H", "H"): 2.0, ("H", "O"): 2.3}``; raise the
        default minimum distance of those pairs.

    Returns
    -------
    numpy.ndarray
        Polished (N, 3) coordinates.

    Examples
    --------
    >>> xyz = polish([[0.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]], [(0, 1), (0, 2)], [1.2, 1.2])
    >>> np.round(np.linalg.norm(xyz[1:] - xyz[0], axis=1), 2).tolist()
    [1.2, 1.2]
    """
    x0 = np.asarray(coords, float).copy()
    n = len(x0)
    b = np.asarray(bonds, int).reshape(-1, 2)
    t = np.asarray(targets, float)
    free = np.ones(n, bool)
    if fixed is not None:
        free[np.asarray(list(fixed), int)] = False
    rep = np.zeros((0, 2), int)
    if symbols is not None and repulsion > 0:
        repel = set(repel_around)
        nb = [set() for _ in range(n)]
        for i, j in b:
            nb[i].add(j)
            nb[j].add(i)
        excl = set()
        for i in range(n):
            for j in nb[i]:
                excl.add((min(i, j), max(i, j)))
                for k in nb[j] if exclude_13 and j not in repel else ():
                    if k != i:
                        excl.add((min(i, k), max(i, k)))
        cand = [p for p in sorted(cKDTree(x0).query_pairs(3.8)) if p not in excl]
        if cand:
            rep = np.array(cand, int)
    dmin = _min_distances(list(symbols), rep) if len(rep) else np.zeros(0)
    if floors and groups is not None and len(rep):
        grp = np.asarray(groups)
        apart = grp[rep[:, 0]] != grp[rep[:, 1]]
        for k in np.flatnonzero(apart):
            key = tuple(sorted((symbols[rep[k, 0]], symbols[rep[k, 1]])))
            dmin[k] = max(dmin[k], floors.get(key, 0.0))
    nb_, nr = len(b), len(rep)
    free_idx = np.flatnonzero(free)
    pos_of = -np.ones(n, int)
    pos_of[free_idx] = np.arange(len(free_idx))

    def unpack(p):
        x = x0.copy()
        x[free_idx] = p.reshape(-1, 3)
        return x

    def residuals(p):
        x = unpack(p)
        db = np.linalg.norm(x[b[:, 0]] - x[b[:, 1]], axis=1) - t if nb_ else np.zeros(0)
        if nr:
            dr = np.linalg.norm(x[rep[:, 0]] - x[rep[:, 1]], axis=1)
            rr = repulsion * np.minimum(dr - dmin, 0.0)
        else:
            rr = np.zeros(0)
        return np.concatenate([db, rr, regularise * (p - x0[free_idx].ravel())])

    def jacobian(p):
        x = unpack(p)
        rows, cols, vals = [], [], []

        def add(row0, pairs, weights):
            vec = x[pairs[:, 0]] - x[pairs[:, 1]]
            dist = np.linalg.norm(vec, axis=1)
            unit = vec / np.maximum(dist, 1e-12)[:, None] * weights[:, None]
            for side, sign in ((0, 1.0), (1, -1.0)):
                atom = pos_of[pairs[:, side]]
                ok = atom >= 0
                for c in range(3):
                    rows.append(row0 + np.flatnonzero(ok))
                    cols.append(3 * atom[ok] + c)
                    vals.append(sign * unit[ok, c])

        if nb_:
            add(0, b, np.ones(nb_))
        if nr:
            dr = np.linalg.norm(x[rep[:, 0]] - x[rep[:, 1]], axis=1)
            add(nb_, rep, repulsion * (dr < dmin).astype(float))
        m = 3 * len(free_idx)
        rows.append(nb_ + nr + np.arange(m))
        cols.append(np.arange(m))
        vals.append(np.full(m, regularise))
        return sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(nb_ + nr + m, m),
        )

    if len(free_idx) == 0:
        return x0
    res = least_squares(
        residuals,
        x0[free_idx].ravel(),
        jac=jacobian,
        method="trf",
        tr_solver="lsmr",
        max_nfev=max_nfev,
        xtol=1e-10,
        ftol=1e-10,
        gtol=1e-10,
    )
    return unpack(res.x)
