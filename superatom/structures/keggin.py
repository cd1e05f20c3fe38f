"""alpha- and beta-Keggin anions [XM12O40]^(8-v)- (Angstrom), from the Td template.

The idealised PW12 template (six representative positions, 24 Td operations) is polished so
that X-Oa, M-Oa, M-Ob, M-Oc and M-Ot reach crystal bond lengths (``chem.keggin_targets``).

Examples
--------
>>> mol = build_keggin("P", "W")
>>> mol.composition.formula, mol.charge, len(mol)
('P1 W12 O40', -3, 53)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from superatom.structures.chem import HETEROATOM_VALENCE, keggin_targets, make_molecule
from superatom.structures.geometry import polish, rotation_about, td_operations
from superatom.structures.validate import validate_structure

__all__ = ["KegginFrame", "build_keggin", "keggin_charge", "keggin_frame"]

_REPRESENTATIVES = {
    "X": (0.0, 0.0, 0.0),
    "M": (0.0746, 2.5349, 2.5349),
    "Oa": (0.8387, 0.8387, 0.8387),
    "Ob": (-1.1472, 1.1471, 2.9977),
    "Oc": (1.4735, 1.4735, 3.3693),
    "Ot": (-0.2258, 3.6895, 3.6895),
}


@dataclass
class KegginFrame:
    """A Keggin skeleton with site roles and bonds; mutable so builders can cut it.

    Attributes
    ----------
    symbols, coords, roles
        Per-atom element, position (Angstrom) and role (X, M, Oa, Ob, Oc, Ot).
    bonds
        (i, j, kind) with kind such as ``"M-Ot"``; i is the cation.
    """

    symbols: list[str]
    coords: np.ndarray
    roles: list[str]
    bonds: list[tuple[int, int, str]] = field(default_factory=list)

    def indices(self, role: str) -> list[int]:
        """Indices of atoms with ``role``."""
        return [i for i, r in enumerate(self.roles) if r == role]

    def partners(self, i: int) -> list[int]:
        """Atoms bonded to atom ``i``."""
        return [b if a == i else a for a, b, _ in self.bonds if i in (a, b)]

    def remove(self, drop) -> KegginFrame:
        """Copy without the atoms in ``drop`` (bonds renumbered)."""
        drop = set(drop)
        keep = [i for i in range(len(self.symbols)) if i not in drop]
        new = {old: k for k, old in enumerate(keep)}
        return KegginFrame(
            [self.symbols[i] for i in keep],
            self.coords[keep].copy(),
            [self.roles[i] for i in keep],
            [(new[a], new[b], k) for a, b, k in self.bonds if a in new and b in new],
        )

    def polished(self, targets: dict[str, float], **kw) -> KegginFrame:
        """Copy whose bonds are polished to ``targets`` (kind -> Angstrom)."""
        pairs = [(a, b) for a, b, _ in self.bonds]
        lengths = [targets[k] for _, _, k in self.bonds]
        xyz = polish(self.coords, pairs, lengths, symbols=self.symbols, **kw)
        return KegginFrame(list(self.symbols), xyz, list(self.roles), list(self.bonds))


def keggin_charge(heteroatom: str) -> int:
    """Charge of [XM12O40]^(8-v)- for M(VI): P -3, Si/Ge -4, B/Al -5.

    Examples
    --------
    >>> keggin_charge("Si")
    -4
    """
    keggin_targets(heteroatom, "W")  # validates the heteroatom
    return HETEROATOM_VALENCE[heteroatom] - 8


def _orbit(point) -> list[np.ndarray]:
    pts: list[np.ndarray] = []
    for op in td_operations():
        p = op @ np.asarray(point, float)
        if not any(np.linalg.norm(p - q) < 1e-3 for q in pts):
            pts.append(p)
    return pts


def keggin_frame(heteroatom: str = "P", metal: str = "W") -> KegginFrame:
    """Unpolished alpha-Keggin template with roles and bonds (order X, 12 M, Oa, Ob, Oc, Ot).

    Examples
    --------
    >>> f = keggin_frame()
    >>> len(f.symbols), len(f.bonds)
    (53, 76)
    """
    symbols, coords, roles = [], [], []
    for role in ("X", "M", "Oa", "Ob", "Oc", "Ot"):
        for p in _orbit(_REPRESENTATIVES[role]):
            symbols.append({"X": heteroatom, "M": metal}.get(role, "O"))
            coords.append(p)
            roles.append(role)
    xyz = np.array(coords)
    bonds = []
    for i, r in enumerate(roles):
        if r not in ("X", "M"):
            continue
        d = np.linalg.norm(xyz - xyz[i], axis=1)
        for j, rj in enumerate(roles):
            if rj.startswith("O") and d[j] < 2.7 and (r == "M" or rj == "Oa"):
                bonds.append((i, j, f"{r}-{rj}"))
    return KegginFrame(symbols, xyz, roles, bonds)


def _beta_rotate(frame: KegginFrame) -> KegginFrame:
    """Rotate the M3O13 triad around the first Oa by 60 degrees (alpha -> beta)."""
    xyz = frame.coords.copy()
    oa = frame.indices("Oa")[0]
    axis = xyz[oa] / np.linalg.norm(xyz[oa])
    triad = [a for a, b, k in frame.bonds if b == oa and k == "M-Oa"]
    moved = set(triad)
    for m in triad:
        for j in frame.partners(m):
            role = frame.roles[j]
            if role == "Ot":
                moved.add(j)
            elif role == "Oc" and all(p in triad for p in frame.partners(j)):
                moved.add(j)
    rot = rotation_about(axis, np.pi / 3)
    for i in moved:
        xyz[i] = rot @ xyz[i]
    # cap-belt corner O (Ob): re-bond each to its nearest cap M
    bonds = [b for b in frame.bonds if not (b[0] in triad and frame.roles[b[1]] == "Ob")]
    cap_ob = sorted({b[1] for b in frame.bonds if b[0] in triad and frame.roles[b[1]] == "Ob"})
    for o in cap_ob:
        m = min(triad, key=lambda k: np.linalg.norm(xyz[k] - xyz[o]))
        bonds.append((m, o, "M-Ob"))
    return KegginFrame(list(frame.symbols), xyz, list(frame.roles), bonds)


def build_keggin(
    heteroatom: str = "P",
    metal: str = "W",
    isomer: str = "alpha",
    label: str | None = None,
) -> object:
    """Build the Keggin anion [XM12O40]^(8-v)- (closed shell, Angstrom).

    Parameters
    ----------
    heteroatom
        P, As, Si, Ge, B, Al or Ga (charge from its valence: P -> 3-, Si -> 4-, B -> 5-).
    metal
        W or Mo (M(VI)).
    isomer
        ``"alpha"`` (Td) or ``"beta"`` (one M3O13 triad rotated by 60 degrees, C3v).
    label
        Fragment label stem; default ``"PW12"`` style; sites are labelled ``"<label>#0"``.

    Returns
    -------
    pymatgen.core.Molecule
        With ``charge``, ``spin_multiplicity`` 1 and site property ``fragment``.

    Examples
    --------
    >>> m = build_keggin("Si", "Mo", isomer="beta")
    >>> m.charge, m.site_properties["fragment"][0]
    (-4, 'SiMo12#0')
    """
    if isomer not in ("alpha", "beta"):
        from superatom.errors import InputError

        raise InputError(f"unknown Keggin isomer '{isomer}': use alpha or beta")
    targets = keggin_targets(heteroatom, metal)
    frame = keggin_frame(heteroatom, metal)
    extra = {}
    if isomer == "beta":
        frame = _beta_rotate(frame)
        # the rotated cap crowds its O against the belt: let O around each M repel
        extra = {"repel_around": frame.indices("M")}
    frame = frame.polished(targets, **extra)
    charge = keggin_charge(heteroatom)
    name = label or f"{heteroatom}{metal}12"
    mol = make_molecule(frame.symbols, frame.coords, charge, 1, [f"{name}#0"] * len(frame.symbols))
    validate_structure(
        mol,
        expected_formula=f"{heteroatom}{metal}12O40",
        coordination={metal: 6, heteroatom: 4},
    )
    return mol
