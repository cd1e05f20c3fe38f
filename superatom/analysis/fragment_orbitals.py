"""Fragment-orbital (FO) basis: couplings between monomer orbitals inside the assembly.

B holds the monomer MO coefficients zero-padded into the assembly AO basis, block by block
(AOs of assembly atoms that belong to no monomer are kept as themselves). Then
``S_FO = B^T S B``, ``F_FO = B^T F B`` (diagonal: FO site energies in the assembly field,
off-diagonal: couplings J) and ``C_FO = S_FO^-1 B^T S C`` (= ``B^-1 C`` for a square B).
For two FOs a, b: ``J_eff = (J - (e_a + e_b) S / 2) / (1 - S^2)`` and the two-level splitting
``sqrt((e_a - e_b)^2 + 4 J_eff^2)``.

Examples
--------
>>> res = fragment_orbital_couplings([ethylene, ethylene], dimer)     # doctest: +SKIP
>>> c = res.channels[0].couplings[1]                     # doctest: +SKIP
>>> c.label_a, round(c.predicted_splitting_ev, 3)            # doctest: +SKIP
('HOMO', 0.523)
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from pydantic import BaseModel, Field

from superatom import HARTREE_TO_EV
from superatom.analysis.docdata import DocData
from superatom.analysis.embedding import Embedding, embed_documents

FRONTIER_LABELS = ("HOMO-1", "HOMO", "LUMO", "LUMO+1")


@dataclass
class FOBasis:
    """The FO basis of one spin channel (Hartree).

    ``owner[k]`` is the monomer index of FO column k (-1: a bare AO of an unassigned atom),
    ``local[k]`` its orbital index within that monomer (AO index for bare AOs).
    """

    b: np.ndarray
    s_fo: np.ndarray
    f_fo: np.ndarray
    c_fo: np.ndarray
    owner: np.ndarray
    local: np.ndarray

    def column(self, monomer: int, orbital: int) -> int:
        """FO column of orbital ``orbital`` of monomer ``monomer``."""
        return int(np.flatnonzero((self.owner == monomer) & (self.local == orbital))[0])


def fo_basis(embeddings: list[Embedding], assembly: DocData, spin: str) -> FOBasis:
    """Build B, S_FO, F_FO and C_FO for one spin channel."""
    chan = assembly.channel(spin)
    blocks, owner, local = [], [], []
    covered = np.zeros(assembly.nao, bool)
    for emb in embeddings:
        coeff = emb.data.channel(spin).coeff
        blocks.append(emb.pad(coeff))
        owner += [emb.index] * coeff.shape[1]
        local += list(range(coeff.shape[1]))
        covered[emb.ao_map] = True
    rest = np.flatnonzero(~covered)
    if rest.size:
        bare = np.zeros((assembly.nao, rest.size))
        bare[rest, np.arange(rest.size)] = 1.0
        blocks.append(bare)
        owner += [-1] * rest.size
        local += rest.tolist()
    b = np.hstack(blocks)
    s_fo = b.T @ assembly.overlap @ b
    f_fo = b.T @ chan.fock @ b
    c_fo = np.linalg.solve(s_fo, b.T @ assembly.overlap @ chan.coeff)
    return FOBasis(b, s_fo, f_fo, c_fo, np.array(owner), np.array(local))


def effective_coupling(j: float, s: float, e_a: float, e_b: float) -> float:
    """``J_eff = (J - (e_a + e_b) S / 2) / (1 - S^2)`` (any energy unit).

    Examples
    --------
    >>> effective_coupling(-0.1, 0.0, -0.3, -0.3)
    -0.1
    """
    return (j - 0.5 * (e_a + e_b) * s) / (1.0 - s * s)


def predicted_splitting(j_eff: float, e_a: float, e_b: float) -> float:
    """Two-level splitting ``sqrt((e_a - e_b)^2 + 4 J_eff^2)``.

    Examples
    --------
    >>> predicted_splitting(0.1, -0.3, -0.3)
    0.2
    """
    return float(np.hypot(e_a - e_b, 2.0 * j_eff))


class FOCoupling(BaseModel):
    """Coupling of one FO of monomer a with one FO of monomer b (eV)."""

    monomer_a: str
    monomer_b: str
    label_a: str
    label_b: str
    orbital_a: int
    orbital_b: int
    site_energy_a_ev: float = Field(description="<a|F|a> in the assembly Fock operator")
    site_energy_b_ev: float
    monomer_energy_a_ev: float
    monomer_energy_b_ev: float
    overlap: float
    coupling_ev: float = Field(description="J = <a|F|b>")
    effective_coupling_ev: float
    predicted_splitting_ev: float
    degenerate: bool = Field(description="a or b is one of a degenerate set (basis-dependent J)")


class FOContribution(BaseModel):
    """Largest FO contributions (Mulliken in the FO basis) to one assembly MO."""

    index: int
    label: str
    energy_ev: float
    contributions: list[tuple[str, str, float]] = Field(description="(monomer, FO label, weight)")


class FOChannel(BaseModel):
    spin: str
    couplings: list[FOCoupling]
    frontier: list[FOContribution]


class FragmentOrbitalResult(BaseModel):
    """FO couplings and FO make-up of the assembly frontier orbitals."""

    assembly: str
    monomers: list[str]
    channels: list[FOChannel]


def _degenerate(energy: np.ndarray, k: int, tol: float = 1e-4) -> bool:
    return int(np.count_nonzero(np.abs(energy - energy[k]) < tol)) > 1


def _index_of(chan, label: str) -> int | None:
    k = chan.homo - int(label[5:] or 0) if label.startswith("HOMO") else chan.lumo + int(
        label[5:] or 0)
    return k if 0 <= k < len(chan.energy) else None


def fo_channel(embeddings: list[Embedding], assembly: DocData, spin: str,
               labels: tuple[str, ...] = FRONTIER_LABELS, n_top: int = 4,
               window: int = 2) -> FOChannel:
    """Couplings and frontier FO make-up in one spin channel."""
    basis = fo_basis(embeddings, assembly, spin)
    chans = [emb.data.channel(spin) for emb in embeddings]
    couplings = []
    for (ea, ca), (eb, cb) in combinations(list(zip(embeddings, chans, strict=True)), 2):
        for label in labels:
            ka, kb = _index_of(ca, label), _index_of(cb, label)
            if ka is None or kb is None:
                continue
            a, b = basis.column(ea.index, ka), basis.column(eb.index, kb)
            e_a, e_b = basis.f_fo[a, a], basis.f_fo[b, b]
            j, s = basis.f_fo[a, b], basis.s_fo[a, b]
            j_eff = effective_coupling(j, s, e_a, e_b)
            couplings.append(FOCoupling(
                monomer_a=ea.name, monomer_b=eb.name, label_a=label, label_b=label,
                orbital_a=ka, orbital_b=kb, site_energy_a_ev=e_a * HARTREE_TO_EV,
                site_energy_b_ev=e_b * HARTREE_TO_EV,
                monomer_energy_a_ev=ca.energy[ka] * HARTREE_TO_EV,
                monomer_energy_b_ev=cb.energy[kb] * HARTREE_TO_EV, overlap=float(s),
                coupling_ev=j * HARTREE_TO_EV, effective_coupling_ev=j_eff * HARTREE_TO_EV,
                predicted_splitting_ev=predicted_splitting(j_eff, e_a, e_b) * HARTREE_TO_EV,
                degenerate=_degenerate(ca.energy, ka) or _degenerate(cb.energy, kb),
            ))
    chan = assembly.channel(spin)
    names = [emb.name for emb in embeddings]
    frontier = []
    n_occ = chan.n_occ
    for i in range(max(0, n_occ - window), min(len(chan.energy), n_occ + window)):
        col = basis.c_fo[:, i]
        weight = col * (basis.s_fo @ col)
        top = np.argsort(-weight)[:n_top]
        contrib = []
        for k in top:
            owner, local = int(basis.owner[k]), int(basis.local[k])
            if owner < 0:
                contrib.append(("other", assembly.ao_labels[local], float(weight[k])))
            else:
                contrib.append((names[owner], chans[owner].label(local), float(weight[k])))
        frontier.append(FOContribution(index=i, label=chan.label(i),
                                       energy_ev=chan.energy[i] * HARTREE_TO_EV,
                                       contributions=contrib))
    return FOChannel(spin=chan.spin, couplings=couplings, frontier=frontier)


def fragment_orbital_couplings(monomer_docs: list, assembly_doc,
                               labels: tuple[str, ...] = FRONTIER_LABELS) -> FragmentOrbitalResult:
    """FO-basis couplings between every pair of monomers for the frontier levels.

    Parameters
    ----------
    monomer_docs, assembly_doc : FrontierOrbitalDoc
        As for :func:`superatom.analysis.correlation.correlate_orbitals`.
    labels : tuple of str
        Frontier levels coupled pairwise (HOMO of a with HOMO of b, ...).

    Returns
    -------
    FragmentOrbitalResult
        Couplings J, J_eff, FO overlaps and predicted splittings (eV) per spin channel.

    Examples
    --------
    >>> res = fragment_orbital_couplings([mono, mono], dimer)     # doctest: +SKIP
    >>> [c.label_a for c in res.channels[0].couplings]             # doctest: +SKIP
    ['HOMO-1', 'HOMO', 'LUMO', 'LUMO+1']
    """
    assembly, embeddings, spins = embed_documents(monomer_docs, assembly_doc)
    return FragmentOrbitalResult(
        assembly=assembly.name,
        monomers=[e.name for e in embeddings],
        channels=[fo_channel(embeddings, assembly, spin, labels) for spin in spins],
    )
