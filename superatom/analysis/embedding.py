"""Place monomer orbitals in the AO basis of an assembly (zero padding).

Each monomer atom is matched to an assembly atom of the same element at the same position
(within ``tol`` Angstrom). If the monomer does not sit where it is in the assembly, a rigid
translation that lays it onto not-yet-used assembly atoms is accepted too (this is how one
stored monomer is used twice for a homodimer); AO coefficients are invariant under a
translation. Rotated monomers are refused with an :class:`InputError`.

Examples
--------
>>> import numpy as np
>>> from pymatgen.core import Molecule
>>> mono = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
>>> dimer = Molecule(["H", "H", "H", "H"], [[0, 0, 0], [0, 0, 0.74], [3, 0, 0], [3, 0, 0.74]])
>>> atoms, shift = map_atoms(mono, dimer, used=np.array([True, True, False, False]))
>>> atoms.tolist(), shift.tolist()
([2, 3], [3.0, 0.0, 0.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Molecule

from superatom.analysis.docdata import DocData, common_spins, doc_data
from superatom.errors import InputError

MATCH_TOL = 0.01  # Angstrom


def _match(coords: np.ndarray, species: np.ndarray, target: np.ndarray, t_species: np.ndarray,
           free: np.ndarray, tol: float) -> np.ndarray | None:
    dist = np.linalg.norm(coords[:, None, :] - target[None, :, :], axis=-1)
    dist[(species[:, None] != t_species[None, :]) | ~free[None, :]] = np.inf
    nearest = np.argmin(dist, axis=1)
    ok = dist[np.arange(len(coords)), nearest] < tol
    if ok.all() and len(set(nearest.tolist())) == len(nearest):
        return nearest
    return None


def map_atoms(
    monomer: Molecule, assembly: Molecule, used: np.ndarray | None = None, tol: float = MATCH_TOL
) -> tuple[np.ndarray, np.ndarray]:
    """Assembly atom index of each monomer atom and the translation applied (Angstrom).

    The monomer is first matched in place; failing that, under the rigid translations that
    put its first atom on a free assembly atom of the same element.
    """
    coords = np.asarray(monomer.cart_coords)
    target = np.asarray(assembly.cart_coords)
    species = np.array([s.specie.symbol for s in monomer])
    t_species = np.array([s.specie.symbol for s in assembly])
    free = np.ones(len(assembly), bool) if used is None else ~np.asarray(used, bool)
    found = _match(coords, species, target, t_species, free, tol)
    if found is not None:
        return found, np.zeros(3)
    candidates = np.flatnonzero(free & (t_species == species[0]))
    for j in candidates:
        shift = target[j] - coords[0]
        found = _match(coords + shift, species, target, t_species, free, tol)
        if found is not None:
            return found, shift
    raise InputError(
        f"monomer {monomer.composition.formula.replace(' ', '')} does not match any free atoms "
        f"of the assembly within {tol} A (same elements, same or translated positions, no "
        "rotation): use the monomer geometry exactly as cut from the assembly"
    )


def map_aos(mono: DocData, assembly: DocData, atom_map: np.ndarray) -> np.ndarray:
    """Assembly AO index of every monomer AO (same basis on matched atoms required)."""
    ao_map = np.empty(mono.nao, dtype=int)
    for atom, target in enumerate(atom_map):
        mine = np.flatnonzero(mono.ao_atom == atom)
        theirs = np.flatnonzero(assembly.ao_atom == target)
        if len(mine) != len(theirs) or np.any(mono.ao_l[mine] != assembly.ao_l[theirs]):
            raise InputError(
                f"monomer '{mono.name}' and assembly '{assembly.name}' use different basis sets "
                f"on {mono.elements[atom]} ({len(mine)} vs {len(theirs)} AOs): run both with the "
                "same settings"
            )
        ao_map[mine] = theirs
    return ao_map


def check_same_method(mono: DocData, assembly: DocData) -> None:
    """InputError unless functional, basis and ECP choice agree (levels are compared)."""
    keys = ("xc", "basis", "ecp", "fallback_basis")
    a = {k: getattr(mono.settings, k) for k in keys}
    b = {k: getattr(assembly.settings, k) for k in keys}
    if {k: str(v).lower() for k, v in a.items()} != {k: str(v).lower() for k, v in b.items()}:
        raise InputError(
            f"monomer '{mono.name}' ({mono.settings.xc}/{mono.settings.basis}) and assembly "
            f"'{assembly.name}' ({assembly.settings.xc}/{assembly.settings.basis}) were computed "
            "with different methods: rerun them with the same functional and basis"
        )


def display_name(monomer: str, assembly: str) -> str:
    """A fragment result named ``assembly:fragment`` (as campaigns name them) as ``fragment``.

    Examples
    --------
    >>> display_name("(MoO3)2:MoO3#0", "(MoO3)2"), display_name("water", "dimer")
    ('MoO3#0', 'water')
    """
    prefix = f"{assembly}:"
    return monomer[len(prefix):] if monomer.startswith(prefix) and monomer != prefix else monomer


@dataclass
class Embedding:
    """One monomer placed in the assembly: atom and AO maps, translation (Angstrom)."""

    index: int
    name: str
    data: DocData
    atom_map: np.ndarray
    ao_map: np.ndarray
    shift: np.ndarray
    nao_assembly: int

    def pad(self, coeff: np.ndarray) -> np.ndarray:
        """Monomer AO coefficients (nao_mono, k) -> assembly AO basis (nao_assembly, k)."""
        out = np.zeros((self.nao_assembly, *np.shape(coeff)[1:]))
        out[self.ao_map] = coeff
        return out


def embed_monomers(monomers: list[DocData], assembly: DocData,
                   tol: float = MATCH_TOL) -> list[Embedding]:
    """Map every monomer onto distinct atoms of the assembly (see module docstring).

    Monomer names are made unique (``name#1``, ``name#2``) when the same one appears twice.
    """
    if not monomers:
        raise InputError("give at least one monomer result to compare with the assembly")
    for mono in monomers:
        check_same_method(mono, assembly)
    used = np.zeros(len(assembly.molecule), bool)
    out: list[Embedding] = []
    base = [display_name(m.name, assembly.name) for m in monomers]
    for k, mono in enumerate(monomers):
        atoms, shift = map_atoms(mono.molecule, assembly.molecule, used, tol)
        used[atoms] = True
        name = base[k] if base.count(base[k]) == 1 else f"{base[k]}#{base[:k].count(base[k]) + 1}"
        out.append(Embedding(k, name, mono, atoms, map_aos(mono, assembly, atoms), shift,
                             assembly.nao))
    check_fragments_covered(assembly, used)
    return out


def check_fragments_covered(assembly: DocData, used: np.ndarray) -> None:
    """InputError unless every labelled fragment of the assembly got its monomer.

    An assembly without ``fragment`` labels may keep unassigned atoms (they enter as bare AOs).
    """
    labels = assembly.fragments
    if not labels:
        return
    missing = list(dict.fromkeys(lab for lab, hit in zip(labels, used, strict=True) if not hit))
    if missing:
        have = sorted(set(labels) - set(missing))
        raise InputError(
            f"assembly '{assembly.name}' has fragments {', '.join(dict.fromkeys(labels))} but "
            f"the monomers given cover only {', '.join(have) or 'none of them'}: give a monomer "
            f"result for {', '.join(missing)} too (the same result twice for a homodimer)"
        )


def monomer_atom_labels(embeddings: list[Embedding], n_atoms: int,
                        other: str = "other") -> list[str]:
    """Label of each assembly atom: the monomer it belongs to, or ``other``."""
    labels = [other] * n_atoms
    for emb in embeddings:
        for atom in emb.atom_map:
            labels[int(atom)] = emb.name
    return labels


def embed_documents(monomer_docs: list, assembly_doc) -> tuple[DocData, list[Embedding], list[str]]:
    """Arrays of the assembly, the monomers placed in it, and the spin channels they share."""
    assembly = doc_data(assembly_doc)
    monomers = [doc_data(d) for d in monomer_docs]
    embeddings = embed_monomers(monomers, assembly)
    return assembly, embeddings, common_spins([*monomers, assembly])
