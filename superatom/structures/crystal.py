"""Cut molecular units, dimers and n-unit chain fragments out of a periodic crystal.

Steps: read the crystal (CIF or anything ASE reads, or an ``ase.Atoms``), bond atoms across
periodic boundaries (covalent radii x ``scale``), treat atoms of the ``bridging`` elements as
linkers between units, find the units as connected components of the remaining bond graph and
make them whole (unwrapped), walk unit -> bridge -> unit to collect n consecutive units, keep the
bridges between them and cap every cut bond: a non-metal atom that lost a neighbour gets a
capping atom (default H) along the old bond; a metal that lost a ligand gets an aqua ligand
(``cap_metal="H2O"``) at the position of the lost donor atom.

Examples
--------
>>> import numpy as np
>>> from ase import Atoms
>>> box = Atoms("OH2", positions=[[0.1, 0, 0], [-0.66, 0.6, 0], [0.87, 0.6, 0]],
...             cell=[6, 6, 6], pbc=True)
>>> box.wrap()
>>> cut_fragment(box).composition.reduced_formula
'H2O'
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from superatom.errors import InputError

__all__ = ["CrystalGraph", "crystal_graph", "cut_fragment", "read_crystal"]

_CAP_BOND = {"O": 0.97, "N": 1.01, "C": 1.09, "S": 1.34, "P": 1.42, "Si": 1.48, "B": 1.19}
_NONMETALS = {"H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I", "He", "Ne",
              "Ar", "Kr", "Xe", "As", "Te"}  # fmt: skip


def read_crystal(source):
    """Read a periodic crystal (path to CIF / any ASE format, or ``ase.Atoms``).

    Examples
    --------
    >>> from ase import Atoms
    >>> len(read_crystal(Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]], cell=[5] * 3,
    ...                        pbc=True)))
    2
    """
    from ase import Atoms

    if isinstance(source, Atoms):
        atoms = source.copy()
    else:
        import ase.io

        from superatom.inputfile import check_input_file

        path = check_input_file(source, "crystal file")
        try:
            atoms = ase.io.read(str(path), index=0)
        except Exception as exc:  # ASE raises many types for unreadable input
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"cannot read crystal {source}: {msg}") from None
    if not atoms.pbc.any() or atoms.cell.rank == 0:
        raise InputError("the crystal has no periodic cell: use read_molecule for molecules")
    from superatom.structures.io import refuse_partial_occupancy

    refuse_partial_occupancy(atoms, source if not isinstance(source, Atoms) else "the crystal")
    return atoms


@dataclass
class CrystalGraph:
    """Bond graph of a crystal with unit (component) assignment.

    Attributes
    ----------
    atoms
        The crystal (ase.Atoms).
    edges
        For each atom, a list of (neighbour, integer cell shift of the neighbour).
    unit_of
        Component index per atom (-1 for bridging atoms).
    shift_of
        Integer cell shift per atom that makes its unit whole.
    units
        Atom indices per unit.
    """

    atoms: object
    edges: list[list[tuple[int, tuple[int, int, int]]]]
    unit_of: np.ndarray
    shift_of: np.ndarray
    units: list[list[int]]

    def position(self, i: int, shift) -> np.ndarray:
        """Cartesian position (Angstrom) of atom ``i`` in cell image ``shift``."""
        return self.atoms.positions[i] + np.asarray(shift) @ np.asarray(self.atoms.cell)


def crystal_graph(atoms, scale: float = 1.2, bridging=()) -> CrystalGraph:
    """Bond the crystal across periodic boundaries and find whole units.

    Parameters
    ----------
    atoms
        Periodic ``ase.Atoms``.
    scale
        Bond if closer than ``scale`` x the sum of covalent radii.
    bridging
        Element symbols whose atoms link units (excluded from the units).

    Raises
    ------
    InputError
        If a unit connects to its own periodic image (an infinite network): name the
        bridging elements to cut it.
    """
    from ase.data import covalent_radii
    from ase.neighborlist import neighbor_list

    bridging = set(bridging)
    unknown = bridging - set(atoms.get_chemical_symbols())
    if unknown:
        raise InputError(f"bridging element(s) {', '.join(sorted(unknown))} not in the crystal")
    radii = covalent_radii[atoms.numbers] * scale
    i_idx, j_idx, shifts = neighbor_list("ijS", atoms, radii)
    n = len(atoms)
    edges: list[list[tuple[int, tuple[int, int, int]]]] = [[] for _ in range(n)]
    for i, j, s in zip(i_idx, j_idx, shifts, strict=True):
        edges[i].append((int(j), tuple(int(x) for x in s)))
    syms = atoms.get_chemical_symbols()
    is_bridge = np.array([s in bridging for s in syms])
    unit_of = -np.ones(n, int)
    shift_of = np.zeros((n, 3), int)
    units: list[list[int]] = []
    for start in range(n):
        if is_bridge[start] or unit_of[start] >= 0:
            continue
        uid = len(units)
        members = [start]
        unit_of[start] = uid
        queue = deque([start])
        while queue:
            a = queue.popleft()
            for b, s in edges[a]:
                if is_bridge[b]:
                    continue
                sb = shift_of[a] + np.array(s)
                if unit_of[b] < 0:
                    unit_of[b] = uid
                    shift_of[b] = sb
                    members.append(b)
                    queue.append(b)
                elif not np.array_equal(shift_of[b], sb):
                    hint = "; pass bridging elements to cut it" if not bridging else ""
                    raise InputError(
                        f"unit containing atom {start} ({syms[start]}) is bonded to its own "
                        f"periodic image (infinite network){hint}"
                    )
        units.append(sorted(members))
    return CrystalGraph(atoms, edges, unit_of, shift_of, units)


def _unit_neighbours(graph: CrystalGraph, unit: tuple[int, tuple]):
    """Unit images bonded to ``unit`` through a bridging atom: [(bridge image, unit image)]."""
    uid, ushift = unit
    out = []
    for a in graph.units[uid]:
        sa = graph.shift_of[a] + np.array(ushift)
        for b, s in graph.edges[a]:
            if graph.unit_of[b] >= 0:
                continue
            sb = sa + np.array(s)
            for c, s2 in graph.edges[b]:
                if graph.unit_of[c] < 0:
                    continue
                sc = sb + np.array(s2)
                cshift = tuple(int(x) for x in sc - graph.shift_of[c])
                other = (int(graph.unit_of[c]), cshift)
                if other != (uid, tuple(ushift)):
                    out.append(((b, tuple(int(x) for x in sb)), other))
    return out


def _select_units(graph: CrystalGraph, start: int, n: int) -> list[tuple[int, tuple]]:
    seq = [(start, (0, 0, 0))]
    while len(seq) < n:
        grown = False
        for end in (-1, 0):
            nbrs = [u for _, u in _unit_neighbours(graph, seq[end]) if u not in seq]
            if nbrs:
                nxt = sorted(set(nbrs))[0]
                if end == -1:
                    seq.append(nxt)
                else:
                    seq.insert(0, nxt)
                grown = True
                break
        if not grown:
            raise InputError(
                f"only {len(seq)} bridged units reachable from unit {start}, asked for {n}"
            )
    return seq


def cut_fragment(
    crystal,
    n: int = 1,
    unit: int = 0,
    bridging=(),
    scale: float = 1.2,
    end_bridges: str = "drop",
    cap: str = "H",
    cap_metal: str | None = "H2O",
    charge: int = 0,
    multiplicity: int | None = None,
    label: str = "unit",
):
    """Cut ``n`` consecutive bridged units (n=1: one unit, n=2: a dimer) out of a crystal.

    Parameters
    ----------
    crystal
        Path to a CIF (or any ASE-readable periodic file) or ``ase.Atoms``.
    n
        Number of units.
    unit
        Index of the start unit (units are numbered in order of their first atom).
    bridging
        Elements that link units (e.g. ``["Cu"]`` or ``["Ca"]``); empty: molecular crystal.
    scale
        Covalent-radius scale factor for bonding.
    end_bridges
        ``"drop"`` bridging atoms that bind only one selected unit (their bonds are capped),
        or ``"keep"`` them (their bonds to unselected units are capped).
    cap
        Capping group placed on a non-metal atom that lost a bond: an element symbol (H by
        default, F, Cl, ...) or ``"CH3"`` (methyl).
    cap_metal
        ``"H2O"``: replace a ligand lost by a metal with water; None: leave it.
    charge, multiplicity
        Of the cut fragment (the crystal does not know them); multiplicity defaults to 1 for
        an even electron count and raises for an odd one.
    label
        Fragment label stem for units; bridges are ``linker#k``, caps join their atom's label.

    Returns
    -------
    pymatgen.core.Molecule
        Whole (unwrapped) fragment in Angstrom with ``fragment`` labels.

    Examples
    --------
    >>> from ase import Atoms
    >>> box = Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]], cell=[4, 4, 4], pbc=True)
    >>> len(cut_fragment(box))
    2
    """
    from pymatgen.core import Molecule

    from superatom.structures.geometry import covalent_radius, perpendicular
    from superatom.structures.io import electron_count, resolve_multiplicity

    if n < 1:
        raise InputError(f"n must be >= 1, got {n}")
    from pymatgen.core import Element

    if cap != "CH3" and not Element.is_valid_symbol(cap):
        raise InputError(f"cap must be an element symbol or CH3, got {cap!r}")
    if end_bridges not in ("drop", "keep"):
        raise InputError(f"end_bridges must be drop or keep, got {end_bridges!r}")
    atoms = read_crystal(crystal)
    graph = crystal_graph(atoms, scale=scale, bridging=bridging)
    if not graph.units:
        raise InputError("no units found: every atom is a bridging element")
    if not 0 <= unit < len(graph.units):
        raise InputError(f"unit index {unit} out of range: the crystal has {len(graph.units)}")
    seq = _select_units(graph, unit, n)
    syms = atoms.get_chemical_symbols()

    chosen: dict[tuple[int, tuple], str] = {}  # (atom, shift) -> label
    for k, (uid, ushift) in enumerate(seq):
        for a in graph.units[uid]:
            key = (a, tuple(int(x) for x in graph.shift_of[a] + np.array(ushift)))
            chosen[key] = f"{label}#{k}"
    bridge_units: dict[tuple[int, tuple], set] = {}
    for k, u in enumerate(seq):
        for bridge, other in _unit_neighbours(graph, u):
            bridge_units.setdefault(bridge, set()).add(k)
            if other in seq:
                bridge_units[bridge].add(seq.index(other))
    n_link = 0
    for bridge, members in sorted(bridge_units.items()):
        if len(members) >= 2 or end_bridges == "keep":
            chosen[bridge] = f"linker#{n_link}"
            n_link += 1
    # bridge atoms bonded to bridge atoms (e.g. a Cu-Cu pair) follow their partner
    symbols, coords, labels = [], [], []
    for (a, s), lab in chosen.items():
        symbols.append(syms[a])
        coords.append(graph.position(a, s))
        labels.append(lab)
    for (a, s), lab in list(chosen.items()):
        pa = graph.position(a, s)
        for b, sb in atoms_edges(graph, a, s):
            if (b, sb) in chosen:
                continue
            pb = graph.position(b, sb)
            vec = pb - pa
            dist = np.linalg.norm(vec)
            if syms[a] in _NONMETALS and cap == "CH3":
                from superatom.structures.au25 import add_methyl

                symbols.append(syms[a])  # temporary anchor copy for add_methyl
                coords.append(pa)
                anchor = len(symbols) - 1
                add_methyl(symbols, coords, [], [], anchor, vec,
                           d_c=covalent_radius(syms[a]) + covalent_radius("C"))  # fmt: skip
                del symbols[anchor], coords[anchor]
                labels += [lab] * 4
            elif syms[a] in _NONMETALS:
                if cap == "H":
                    d_cap = _CAP_BOND.get(syms[a], covalent_radius(syms[a]) + 0.31)
                else:
                    d_cap = covalent_radius(syms[a]) + covalent_radius(cap)
                symbols.append(cap)
                coords.append(pa + vec / dist * d_cap)
                labels.append(lab)
            elif cap_metal == "H2O":
                o = pa + vec / dist * min(dist, 2.2) if syms[b] != "O" else pb
                e = (o - pa) / np.linalg.norm(o - pa)
                perp = perpendicular(e)
                half = np.deg2rad(104.5 / 2)
                symbols += ["O", "H", "H"]
                coords += [o, o + 0.97 * (np.cos(half) * e + np.sin(half) * perp),
                           o + 0.97 * (np.cos(half) * e - np.sin(half) * perp)]  # fmt: skip
                labels += [lab] * 3
            elif cap_metal is not None:
                raise InputError(f"cap_metal must be 'H2O' or None, got {cap_metal!r}")
    nelec = electron_count(symbols, charge)
    mult = resolve_multiplicity(nelec, multiplicity)
    return Molecule(symbols, np.array(coords), charge=charge, spin_multiplicity=mult,
                    site_properties={"fragment": labels})  # fmt: skip


def atoms_edges(graph: CrystalGraph, a: int, shift) -> list[tuple[int, tuple]]:
    """Neighbours of atom ``a`` in image ``shift`` as (atom, image) pairs."""
    out = []
    for b, s in graph.edges[a]:
        out.append((b, tuple(int(x) for x in np.array(shift) + np.array(s))))
    return out
