"""Lacunary and mono-substituted Keggin anions: [PW11O39]7-, [M(L)PW11O39]n-, [Ln(H2O)nPW11O39]4-.

The lacuna is made by removing one W and its terminal O from alpha-PW12O40; the four O that
bonded it (2 Ob, 2 Oc) bind the substituent:

* transition metal M(II/III) sits in the W site (M-O from Shannon radii, M-Oa 0.25 A longer)
  with one aqua ligand in the old terminal position (``n_water`` 0 or 1);
* Ln(III) / Y(III) is too large for the site and sits outside the lacuna on its axis, bonded to
  the four O at typical Ln-O (La 2.52 ... Lu 2.36 A), whose W-O bonds shorten to 1.74 A
  (crystal 1.71-1.78); Ln is 8-coordinate (4 lacuna O + 4 aqua or bridging O) with five
  free sites (four in a square-antiprism cap, one axial) for aqua ligands or bridging terminal
  O of a neighbouring unit (used by :mod:`superatom.structures.assemblies`).

Charges: [PW11O39]7-; M(II) -> 5-, M(III) -> 4-; Ln(III) -> 4-. Multiplicity: high spin
(d^n or 4f^n).

Examples
--------
>>> mol = build_substituted("Gd", n_water=4)
>>> mol.composition.formula, mol.charge, mol.spin_multiplicity
('Gd1 P1 H8 W11 O43', -4, 8)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from superatom.errors import InputError
from superatom.structures.chem import (
    LANTHANIDES,
    keggin_targets,
    ln_o_distance,
    ln_unpaired,
    make_molecule,
    tm_d_count,
    tm_o_distance,
)
from superatom.structures.geometry import perpendicular, polish
from superatom.structures.keggin import KegginFrame, keggin_frame
from superatom.structures.validate import validate_structure

__all__ = [
    "PomUnit",
    "build_lacunary",
    "build_substituted",
    "frame_to_unit",
    "is_lanthanide",
    "substituted_unit",
]

O_H = 0.97
#: W-O to the four lacuna O once the W site is vacant: 1.71-1.78 A (mean 1.74) in the
#: [Sm(PW11O39)2]11- crystal; the plenary 1.915/1.935 A would leave them under-bonded.
W_O_LACUNA = 1.74
HOH = np.deg2rad(104.5)


def is_lanthanide(symbol: str) -> bool:
    """True for Y and La-Lu (treated as Ln(III)).

    Examples
    --------
    >>> is_lanthanide("Gd"), is_lanthanide("Co")
    (True, False)
    """
    return symbol == "Y" or symbol in LANTHANIDES


@dataclass
class PomUnit:
    """One cluster unit ready to be placed in an assembly (coordinates in Angstrom).

    Attributes
    ----------
    symbols, coords, roles
        Per atom; roles include X, M, Oa, Ob, Oc, Ot, Ln, TM, Ow, Hw.
    bonds
        (i, j, target length in Angstrom) used when polishing.
    charge, unpaired
        Charge of the unit and its number of unpaired electrons (high spin).
    name
        Fragment label stem, e.g. ``"PW11Gd"``.
    centre_index
        Index of the substituent (Ln or TM) or -1.
    sites
        Free coordination directions (unit vectors) at the substituent, best first.
    """

    symbols: list[str]
    coords: np.ndarray
    roles: list[str]
    bonds: list[tuple[int, int, float]]
    charge: int
    unpaired: int
    name: str
    centre_index: int = -1
    axis: np.ndarray | None = None
    sites: list[np.ndarray] = field(default_factory=list)

    def transformed(self, rot: np.ndarray, shift) -> PomUnit:
        """Copy rotated by ``rot`` (about the origin) then shifted by ``shift``."""
        return PomUnit(
            list(self.symbols),
            self.coords @ rot.T + np.asarray(shift, float),
            list(self.roles),
            list(self.bonds),
            self.charge,
            self.unpaired,
            self.name,
            self.centre_index,
            None if self.axis is None else rot @ self.axis,
            [rot @ s for s in self.sites],
        )

    def terminal_oxo(self) -> list[tuple[int, int]]:
        """(W index, terminal O index) pairs of addenda metals."""
        return [(a, b) for a, b, _ in self.bonds if self.roles[b] == "Ot" and self.roles[a] == "M"]

    def polish(self) -> None:
        """Polish bonds in place to their targets (repelling non-bonded atoms)."""
        pairs = [(a, b) for a, b, _ in self.bonds]
        self.coords = polish(
            self.coords, pairs, [t for *_, t in self.bonds], symbols=self.symbols
        )


def frame_to_unit(frame: KegginFrame, targets: dict[str, float], charge: int, name: str):
    """Convert a Keggin/Dawson frame (bond kinds) into a :class:`PomUnit` (bond targets)."""
    bonds = [(a, b, targets[k]) for a, b, k in frame.bonds]
    return PomUnit(list(frame.symbols), frame.coords.copy(), list(frame.roles), bonds, charge, 0,
                   name)  # fmt: skip


def make_vacancy(frame: KegginFrame, m_index: int):
    """Remove metal ``m_index`` and its terminal O; return (frame, lacuna O, Oa, W site, axis).

    ``axis`` is the unit vector of the removed M -> Ot bond (pointing out of the lacuna).
    """
    ot = [j for j in frame.partners(m_index) if frame.roles[j] == "Ot"]
    if len(ot) != 1:
        raise InputError(f"atom {m_index} is not an addenda metal with one terminal O")
    site = frame.coords[m_index].copy()
    axis = frame.coords[ot[0]] - site
    axis /= np.linalg.norm(axis)
    lacuna = [j for j in frame.partners(m_index) if frame.roles[j] in ("Ob", "Oc")]
    oa = [j for j in frame.partners(m_index) if frame.roles[j] == "Oa"]
    drop = {m_index, ot[0]}
    kept = [i for i in range(len(frame.symbols)) if i not in drop]
    new_index = {old: k for k, old in enumerate(kept)}
    cut = frame.remove(drop)
    return cut, [new_index[j] for j in lacuna], [new_index[j] for j in oa], site, axis


def add_water(unit: PomUnit, metal: int, direction, distance: float, tag: str = "Ow") -> None:
    """Append an aqua ligand bound to atom ``metal`` along ``direction`` (in place)."""
    d = np.asarray(direction, float)
    d /= np.linalg.norm(d)
    o = unit.coords[metal] + distance * d
    perp = np.cross(d, unit.axis if unit.axis is not None else perpendicular(d))
    if np.linalg.norm(perp) < 1e-6:
        perp = perpendicular(d)
    perp /= np.linalg.norm(perp)
    h1 = o + O_H * (np.cos(HOH / 2) * d + np.sin(HOH / 2) * perp)
    h2 = o + O_H * (np.cos(HOH / 2) * d - np.sin(HOH / 2) * perp)
    base = len(unit.symbols)
    unit.symbols += ["O", "H", "H"]
    unit.roles += [tag, "Hw", "Hw"]
    unit.coords = np.vstack([unit.coords, o, h1, h2])
    unit.bonds += [
        (metal, base, distance),
        (base, base + 1, O_H),
        (base, base + 2, O_H),
    ]
    # keep H-O-H angle through the H...H distance
    unit.bonds.append((base + 1, base + 2, 2 * O_H * np.sin(HOH / 2)))


def _ln_sites(centre, lacuna_xyz, axis) -> list[np.ndarray]:
    """Axial + four square-antiprism cap directions (rotated 45 deg from the lacuna O)."""
    perp0 = perpendicular(axis)
    perp1 = np.cross(axis, perp0)
    az = []
    for p in lacuna_xyz:
        v = p - centre
        az.append(np.arctan2(v @ perp1, v @ perp0))
    az = np.sort(np.array(az))
    mids = [(az[k] + az[(k + 1) % 4] + (2 * np.pi if k == 3 else 0)) / 2 for k in range(4)]
    polar = np.deg2rad(62.0)
    sites = [axis.copy()]
    for phi in mids:
        sites.append(
            np.cos(polar) * axis + np.sin(polar) * (np.cos(phi) * perp0 + np.sin(phi) * perp1)
        )
    return sites


def substituted_unit(
    frame: KegginFrame,
    m_index: int,
    metal: str | None,
    *,
    oxidation: int | None = None,
    n_water: int | None = None,
    reserve_sites: int = 0,
    base_charge: int = -3,
    addenda: str = "W",
    stem: str = "PW11",
) -> PomUnit:
    """Cut the lacuna at ``m_index`` of ``frame`` and insert ``metal`` (None: lacunary only).

    Parameters
    ----------
    frame
        Parent plenary frame (Keggin or Dawson) with charge ``base_charge``.
    m_index
        Index of the addenda metal to remove.
    metal
        Substituent (Ln/Y or a transition metal) or None.
    oxidation
        Oxidation state (default 3 for Ln, 2 for transition metals).
    n_water
        Aqua ligands (default 4 for Ln minus ``reserve_sites``, 1 for a transition metal).
    reserve_sites
        Ln sites kept free for bridging O from other units (axial first).
    """
    targets = keggin_targets("P", addenda)
    cut, lacuna, oa, site, axis = make_vacancy(frame, m_index)
    # plenary charge minus a removed MO(6+) gives the lacunary charge (-4 per vacancy)
    charge = base_charge - 4
    unit = frame_to_unit(cut, targets, charge, stem)
    unit.axis = axis
    if metal is None or is_lanthanide(metal):
        lac = set(lacuna)
        unit.bonds = [(a, b, W_O_LACUNA if b in lac and unit.roles[a] == "M" else t)
                      for a, b, t in unit.bonds]  # fmt: skip
    if metal is None:
        unit.name = stem
        unit.polish()
        return unit
    base = len(unit.symbols)
    if is_lanthanide(metal):
        ox = 3 if oxidation is None else oxidation
        if ox != 3:
            raise InputError(f"only Ln(III) is supported, got {metal}({ox})")
        d_lo = ln_o_distance(metal)
        lac_xyz = unit.coords[lacuna]
        g = lac_xyz.mean(axis=0)
        r = np.linalg.norm(lac_xyz - g, axis=1).mean()
        h = np.sqrt(max(d_lo**2 - r**2, 0.5))
        centre = g + h * axis
        unpaired = ln_unpaired(metal)
        role = "Ln"
        bonds = [(base, j, d_lo) for j in lacuna]
        sites = _ln_sites(centre, lac_xyz, axis)
        # waters prefer the cap (non-axial) sites; bridges take the axial site first
        nw = max(4 - reserve_sites, 0) if n_water is None else n_water
        if nw + reserve_sites > 5:
            raise InputError(
                f"n_water={nw} with {reserve_sites} bridging O exceeds the 5 free sites of {metal}"
            )
        bridge_sites = sites[:reserve_sites] if reserve_sites else []
        water_sites = [s for s in sites[1:] + sites[:1] if not any(s is b for b in bridge_sites)]
        water_sites = water_sites[:nw]
        water_d = d_lo + 0.02  # La 2.54 ... Lu 2.38 A
    else:
        ox = 2 if oxidation is None else oxidation
        d = tm_d_count(metal, ox)
        d_mo = tm_o_distance(metal, ox)
        centre = site
        unpaired = d if d <= 5 else 10 - d
        role = "TM"
        bonds = [(base, j, d_mo) for j in lacuna] + [(base, j, d_mo + 0.25) for j in oa]
        nw = 1 if n_water is None else n_water
        if nw not in (0, 1) or reserve_sites:
            raise InputError(f"a transition metal in the lacuna takes n_water 0 or 1, got {nw}")
        sites = [axis.copy()]
        water_sites = sites[:nw]
        water_d = d_mo + 0.05
    unit.symbols.append(metal)
    unit.roles.append(role)
    unit.coords = np.vstack([unit.coords, centre])
    unit.bonds += bonds
    unit.charge = charge + ox
    unit.unpaired = unpaired
    unit.name = f"{stem}{metal}"
    unit.centre_index = base
    unit.sites = [s for s in sites if not any(s is w for w in water_sites)]
    for s in water_sites:
        add_water(unit, base, s, water_d)
    unit.polish()
    return unit


def unit_to_molecule(unit: PomUnit, index: int = 0):
    """Molecule of a single unit, multiplicity = unpaired + 1."""
    labels = [f"{unit.name}#{index}"] * len(unit.symbols)
    return make_molecule(unit.symbols, unit.coords, unit.charge, unit.unpaired + 1, labels)


def _default_vacancy(frame: KegginFrame) -> int:
    return frame.indices("M")[0]


def build_lacunary(metal: str = "W"):
    """Mono-lacunary alpha-[PW11O39]7- (or [PMo11O39]7-), closed shell, Angstrom.

    Examples
    --------
    >>> m = build_lacunary()
    >>> m.composition.formula, m.charge
    ('P1 W11 O39', -7)
    """
    frame = keggin_frame("P", metal)
    unit = substituted_unit(frame, _default_vacancy(frame), None, addenda=metal,
                            stem=f"P{metal}11")  # fmt: skip
    mol = unit_to_molecule(unit)
    validate_structure(mol, expected_formula=f"P{metal}11O39", expected_charge=-7,
                       coordination={metal: (5, 6)})  # fmt: skip
    return mol


def build_substituted(
    metal: str = "Gd",
    oxidation: int | None = None,
    n_water: int | None = None,
):
    """Mono-substituted alpha-Keggin [M(H2O)n PW11O39]^q- (Angstrom).

    Parameters
    ----------
    metal
        Y, La-Lu (Ln(III), outside the lacuna with ``n_water`` aqua, default 4) or a 3d/4d
        transition metal (in the W site, default oxidation II, one aqua ligand).
    oxidation
        Oxidation state of the substituent.
    n_water
        Number of aqua ligands on the substituent.

    Returns
    -------
    pymatgen.core.Molecule
        Charge -7 + oxidation; high-spin multiplicity; fragment ``"PW11<M>#0"``.

    Examples
    --------
    >>> m = build_substituted("Co")
    >>> m.charge, m.spin_multiplicity
    (-5, 4)
    """
    frame = keggin_frame("P", "W")
    unit = substituted_unit(frame, _default_vacancy(frame), metal, oxidation=oxidation,
                            n_water=n_water)  # fmt: skip
    mol = unit_to_molecule(unit)
    coord = {"W": 6, metal: (4, 5, 6, 7, 8, 9)}
    validate_structure(mol, coordination=coord)
    return mol
