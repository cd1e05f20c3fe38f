"""Superatom angular character: project orbitals on real spherical harmonics about a centre.

On a spherical grid (Gauss-Legendre radial shells r_k up to ``radius`` x a Lebedev angular
rule) ``c_(n,lm,k) = sum_g psi_n(r_k, g) Y_lm(g) w_g`` and the weight of l is
``w_(n,l) = sum_k w_k r_k^2 sum_m c_(n,lm,k)^2``. Summed over all l this is the norm of the
orbital inside the sphere (Parseval). The reported weights are divided by that norm, so what
l <= lmax misses is an explicit ``l>lmax`` bin and S, P, D, F, G, H, I, K, L, M, N, O, Q
(l = 0 ... 12) plus that bin sum to 1. With a bond ``axis`` the same coefficients are also
summed by |m| about that axis: sigma, pi, delta, phi (plus the same bin).

The centre defaults to the cluster's central atom (the heteroatom of a Keggin, the central O
of a Lindqvist) when one sits at the heavy-atom centroid, else to that centroid; the radius to
the farthest atom of the cluster (or fragment) from the centre plus a margin.

Examples
--------
>>> import numpy as np
>>> real_spherical_harmonics(1, np.array([[0.0, 0.0, 1.0]]))[0, :3].round(4).tolist()
[0.2821, 0.0, 0.4886]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field
from scipy.integrate import lebedev_rule
from scipy.special import sph_harm_y

from superatom import BOHR_TO_ANGSTROM, HARTREE_TO_EV, engine
from superatom.analysis.docdata import doc_data

L_LETTERS = "SPDFGHIKLMNOQ"
RADIUS_MARGIN_A = 3.0  # Angstrom beyond the farthest atom: the orbital tails stay inside
M_NAMES = ("sigma", "pi", "delta", "phi", "gamma")


def real_spherical_harmonics(lmax: int, directions: np.ndarray) -> np.ndarray:
    """Orthonormal real Y_lm at unit ``directions`` (N, 3): columns l = 0..lmax, m = -l..l."""
    d = np.asarray(directions, dtype=float)
    theta = np.arccos(np.clip(d[:, 2], -1.0, 1.0))
    phi = np.mod(np.arctan2(d[:, 1], d[:, 0]), 2 * np.pi)
    cols = []
    for lval in range(lmax + 1):
        block = np.empty((len(d), 2 * lval + 1))
        for m in range(lval + 1):
            y = sph_harm_y(lval, m, theta, phi)
            if m == 0:
                block[:, lval] = y.real
            else:
                block[:, lval + m] = np.sqrt(2.0) * y.real
                block[:, lval - m] = np.sqrt(2.0) * y.imag
        cols.append(block)
    return np.hstack(cols)


def spherical_grid(radius_bohr: float, n_radial: int = 60, lebedev_order: int = 41):
    """Radial x angular grid: unit directions (A, 3), shell radii (R,), radial weights r^2 dr.

    The angular weights (A,) sum to 4 pi.
    """
    x, w = np.polynomial.legendre.leggauss(n_radial)
    r = 0.5 * radius_bohr * (x + 1.0)
    w_r = 0.5 * radius_bohr * w * r**2
    directions, w_ang = lebedev_rule(lebedev_order)
    return directions.T, w_ang, r, w_r


def _frame(axis: Sequence[float] | None) -> np.ndarray:
    """Rows: orthonormal x', y', z' with z' along ``axis`` (identity without one)."""
    if axis is None:
        return np.eye(3)
    z = np.asarray(axis, float) / np.linalg.norm(axis)
    trial = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = trial - z * (trial @ z)
    x /= np.linalg.norm(x)
    return np.vstack([x, np.cross(z, x), z])


def project_values(values: np.ndarray, ylm: np.ndarray, w_ang: np.ndarray,
                   w_r: np.ndarray) -> np.ndarray:
    """Weights per (orbital, lm) from orbital ``values`` of shape (R, A, n)."""
    coeff = np.einsum("ran,al,a->rnl", values, ylm, w_ang)
    return np.einsum("rnl,r->nl", coeff**2, w_r)


class AngularOrbital(BaseModel):
    """Angular character of one orbital about one centre."""

    index: int
    spin: str
    label: str
    energy_ev: float
    weights: dict[str, float] = Field(
        description="S, P, D, ... and 'l>lmax' as fractions of the norm inside the sphere")
    character: str = Field(description="letter of the largest weight")
    m_weights: dict[str, float] = Field(
        default_factory=dict,
        description="sigma/pi/delta/... about the axis and the 'rest', fractions of the "
        "norm inside",
    )
    norm_inside: float = Field(description="grid integral of psi^2 inside the sphere")
    captured: float = Field(description="grid norm captured by l <= lmax (<= norm_inside)")


class AngularResult(BaseModel):
    """Superatom angular analysis of chosen orbitals about one centre (Angstrom, eV)."""

    name: str
    label: str
    centre_angstrom: list[float]
    radius_angstrom: float
    axis: list[float] | None
    lmax: int
    orbitals: list[AngularOrbital]


def cluster_sphere(symbols: Sequence[str], coords, margin: float = RADIUS_MARGIN_A,
                   snap: float = 0.5) -> tuple[np.ndarray, float]:
    """Centre and radius (Angstrom) of the sphere that holds one cluster.

    The centre is the atom within ``snap`` of the heavy-atom (non-H) centroid when there is one
    (heteroatom / central atom), else that centroid; the radius is the farthest atom's distance
    from it plus ``margin``.

    Examples
    --------
    >>> from superatom.structures.keggin import build_keggin
    >>> pw12 = build_keggin("P")
    >>> centre, radius = cluster_sphere([s.specie.symbol for s in pw12], pw12.cart_coords)
    >>> [s.specie.symbol for s in pw12 if np.allclose(s.coords, centre)], round(radius, 1)
    (['P'], 8.2)
    """
    xyz = np.asarray(coords, dtype=float)
    heavy = np.array([sym != "H" for sym in symbols]) if any(s != "H" for s in symbols) else \
        np.ones(len(xyz), bool)
    centre = xyz[heavy].mean(axis=0)
    dist = np.linalg.norm(xyz - centre, axis=1)
    if dist.min() < snap:
        centre = xyz[int(dist.argmin())]
    return centre, float(np.linalg.norm(xyz - centre, axis=1).max()) + margin


def fragment_spheres(molecule, labels: Sequence[str],
                     fragments: Sequence[str] | None = None,
                     min_atoms: int = 4) -> dict[str, tuple[list[float], float]]:
    """Centre (Angstrom) and radius (Angstrom) of each fragment's own sphere
    (:func:`cluster_sphere` of its atoms; default: fragments with >= ``min_atoms`` atoms)."""
    labels = list(labels)
    coords = np.asarray(molecule.cart_coords)
    symbols = [site.specie.symbol for site in molecule]
    names = list(dict.fromkeys(labels)) if fragments is None else list(fragments)
    out = {}
    for name in names:
        mask = np.array([lab == name for lab in labels])
        if fragments is None and mask.sum() < min_atoms:
            continue
        if not mask.any():
            raise ValueError(f"no atom carries fragment label '{name}'")
        centre, radius = cluster_sphere([s for s, m in zip(symbols, mask, strict=True) if m],
                                        coords[mask])
        out[name] = (centre.tolist(), radius)
    return out


def angular_character(
    doc,
    orbitals: Sequence[int] | None = None,
    centre: Sequence[float] | None = None,
    radius: float | None = None,
    lmax: int = 12,
    axis: Sequence[float] | None = None,
    spin: str | None = None,
    n_radial: int = 80,
    lebedev_order: int = 59,
    label: str = "",
) -> AngularResult:
    """Angular (S, P, D, ...) character of orbitals of a stored result about a centre.

    Parameters
    ----------
    doc : FrontierOrbitalDoc
        Stored result with arrays.
    orbitals : sequence of int, optional
        0-based orbital indices (default: HOMO and LUMO).
    centre : 3 floats, optional
        Centre in Angstrom (default: the central atom or heavy-atom centroid,
        :func:`cluster_sphere`; for one fragment of an assembly use :func:`fragment_spheres`).
    radius : float, optional
        Sphere radius in Angstrom (default: farthest atom from the centre + 3 A).
    lmax : int
        Highest l projected (up to 12); the rest of the norm is the ``l>lmax`` weight.
    axis : 3 floats, optional
        Bond axis; adds sigma/pi/delta weights (|m| about the axis).
    lebedev_order : int
        Degree of the Lebedev rule (must exceed 2*lmax).

    Returns
    -------
    AngularResult

    Examples
    --------
    >>> res = angular_character(li8_doc, orbitals=[8, 11])   # doctest: +SKIP
    >>> [o.character for o in res.orbitals]                   # doctest: +SKIP
    ['S', 'P']
    """
    if lmax >= len(L_LETTERS):
        raise ValueError(f"lmax must be below {len(L_LETTERS)}")
    if lebedev_order <= 2 * lmax:
        raise ValueError("lebedev_order must exceed 2*lmax")
    data = doc_data(doc)
    chan = data.channel(spin)
    if orbitals is None:
        orbitals = [i for i in (chan.homo, chan.lumo) if 0 <= i < len(chan.energy)]
    orbitals = [int(i) for i in orbitals]
    coords = np.asarray(data.molecule.cart_coords)
    if centre is None:
        centre_a, _ = cluster_sphere(data.elements, coords)
    else:
        centre_a = np.asarray(centre, float)
    if radius is None:
        radius = float(np.linalg.norm(coords - centre_a, axis=1).max()) + RADIUS_MARGIN_A
    frame = _frame(axis)
    directions, w_ang, r, w_r = spherical_grid(radius / BOHR_TO_ANGSTROM, n_radial,
                                               lebedev_order)
    ylm = real_spherical_harmonics(lmax, directions)
    # grid points in the molecule frame: centre + r * (direction rotated back from the frame)
    lab_dirs = directions @ frame
    points = centre_a / BOHR_TO_ANGSTROM + r[:, None, None] * lab_dirs[None, :, :]
    values = engine.orbital_values_blocked(
        data.molecule, data.settings, chan.coeff[:, orbitals], points.reshape(-1, 3)
    ).reshape(len(r), len(w_ang), -1)
    lm = project_values(values, ylm, w_ang, w_r)
    norm = np.einsum("ran,a,r->n", values**2, w_ang, w_r)
    l_of = np.concatenate([[lv] * (2 * lv + 1) for lv in range(lmax + 1)])
    m_of = np.concatenate([np.abs(np.arange(-lv, lv + 1)) for lv in range(lmax + 1)])
    per_l = np.stack([lm[:, l_of == lv].sum(axis=1) for lv in range(lmax + 1)], axis=1)
    overflow = f"l>{lmax}"
    rows = []
    for k, index in enumerate(orbitals):
        total = per_l[k].sum()
        rest = float(max(0.0, 1.0 - total / norm[k]))
        weights = {L_LETTERS[lv]: float(per_l[k, lv] / norm[k]) for lv in range(lmax + 1)}
        weights[overflow] = rest
        m_weights = {}
        if axis is not None:
            m_top = min(lmax, len(M_NAMES) - 1)
            for m in range(m_top + 1):
                m_weights[M_NAMES[m]] = float(lm[k, m_of == m].sum() / norm[k])
            m_weights["rest"] = float(  # higher |m| and l > lmax
                max(0.0, 1.0 - sum(m_weights.values())))
        rows.append(AngularOrbital(
            index=index, spin=chan.spin, label=chan.label(index),
            energy_ev=float(chan.energy[index] * HARTREE_TO_EV), weights=weights,
            character=max(weights, key=weights.get), m_weights=m_weights,
            norm_inside=float(norm[k]), captured=float(total),
        ))
    return AngularResult(
        name=data.name, label=label, centre_angstrom=centre_a.tolist(),
        radius_angstrom=float(radius), axis=None if axis is None else list(map(float, axis)),
        lmax=lmax, orbitals=rows,
    )
