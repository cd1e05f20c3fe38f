"""Fragment-orbital (FO) basis: couplings between monomer orbitals inside the assembly.

B holds the monomer MO coefficients zero-padded into the assembly AO basis, block by block
(AOs of assembly atoms that belong to no monomer are kept as themselves). Then
``S_FO = B^T S B``, ``F_FO = B^T F B`` (diagonal: FO site energies in the assembly field,
off-diagonal: couplings J) and ``C_FO = S_FO^-1 B^T S C`` (= ``B^-1 C`` for a square B).
For two FOs a, b: ``J_eff = (J - (e_a + e_b) S / 2) / (1 - S^2)`` and the two-level splitting
``sqrt((e_a - e_b)^2 + 4 J_eff^2)``.

Reported couplings use the Lowdin-orthogonalised pair space: the FO sets A (of monomer a) and
B (of monomer b) are orthogonalised together, ``F' = S^-1/2 F S^-1/2``; the diagonal blocks
give the site energies and the off-diagonal block the effective couplings (for one FO each
this is exactly ``J_eff`` above, and the splitting is exact for the two-level problem). A
frontier level that is degenerate (a 1P triplet, a pi pair) is coupled as a whole set: any
rotation inside the set is as good as any other, so the coupling reported is the
rotation-invariant RMS over the set, ``||J'_AB||_F / sqrt(n_A n_B)``, and the site energy the
mean of the set (trace / n).

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
    site_energy_a_ev: float = Field(
        description="Lowdin-orthogonalised site energy in the assembly Fock operator "
        "(mean over a degenerate set)")
    site_energy_b_ev: float
    monomer_energy_a_ev: float
    monomer_energy_b_ev: float
    overlap: float = Field(description="<a|b> (RMS over degenerate sets)")
    coupling_ev: float = Field(description="J = <a|F|b> (RMS over degenerate sets)")
    effective_coupling_ev: float = Field(
        description="orthogonalised coupling J_eff (RMS over degenerate sets, rotation-invariant)")
    predicted_splitting_ev: float = Field(
        description="sqrt((e'_a - e'_b)^2 + 4 J_eff^2) from the orthogonalised site energies")
    degenerate: bool = Field(description="a or b is a degenerate set (values are set RMS)")
    set_size_a: int = 1
    set_size_b: int = 1


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


def degenerate_set(energy: np.ndarray, k: int, tol: float = 1e-4) -> list[int]:
    """Indices of the orbitals within ``tol`` (Hartree) of orbital ``k``, ``k`` included.

    Examples
    --------
    >>> degenerate_set(np.array([-0.5, -0.30001, -0.3, -0.1]), 2)
    [1, 2]
    """
    return np.flatnonzero(np.abs(np.asarray(energy) - energy[k]) < tol).tolist()


def set_coupling(s_fo: np.ndarray, f_fo: np.ndarray, cols_a: list[int],
                 cols_b: list[int]) -> dict[str, float]:
    """Lowdin-orthogonalised site energies and coupling between FO sets A and B (Hartree).

    Returns ``e_a``, ``e_b`` (mean orthogonalised site energies), ``j_eff`` (orthogonalised
    coupling: signed for one FO each, else the RMS over the block), ``j`` and ``s`` (raw
    coupling and overlap, signed or RMS likewise). All are invariant under rotations within
    A and within B.

    Examples
    --------
    >>> s = np.array([[1.0, 0.1], [0.1, 1.0]])
    >>> f = np.array([[-0.3, -0.05], [-0.05, -0.3]])
    >>> out = set_coupling(s, f, [0], [1])
    >>> bool(np.isclose(out["j_eff"], effective_coupling(-0.05, 0.1, -0.3, -0.3)))
    True
    """
    idx = list(cols_a) + list(cols_b)
    n_a = len(cols_a)
    vals, vecs = np.linalg.eigh(s_fo[np.ix_(idx, idx)])
    inv_half = (vecs / np.sqrt(vals)) @ vecs.T
    f_orth = inv_half @ f_fo[np.ix_(idx, idx)] @ inv_half
    block_j, block_raw = f_orth[:n_a, n_a:], f_fo[np.ix_(cols_a, cols_b)]
    block_s = s_fo[np.ix_(cols_a, cols_b)]

    def rms(block: np.ndarray) -> float:
        return float(block[0, 0]) if block.size == 1 else float(np.sqrt(np.mean(block**2)))

    return {"e_a": float(np.trace(f_orth[:n_a, :n_a]) / n_a),
            "e_b": float(np.trace(f_orth[n_a:, n_a:]) / (len(idx) - n_a)),
            "j_eff": rms(block_j), "j": rms(block_raw), "s": rms(block_s)}


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
            set_a, set_b = degenerate_set(ca.energy, ka), degenerate_set(cb.energy, kb)
            pair = set_coupling(basis.s_fo, basis.f_fo,
                                [basis.column(ea.index, i) for i in set_a],
                                [basis.column(eb.index, i) for i in set_b])
            couplings.append(FOCoupling(
                monomer_a=ea.name, monomer_b=eb.name, label_a=label, label_b=label,
                orbital_a=ka, orbital_b=kb, site_energy_a_ev=pair["e_a"] * HARTREE_TO_EV,
                site_energy_b_ev=pair["e_b"] * HARTREE_TO_EV,
                monomer_energy_a_ev=ca.energy[ka] * HARTREE_TO_EV,
                monomer_energy_b_ev=cb.energy[kb] * HARTREE_TO_EV, overlap=pair["s"],
                coupling_ev=pair["j"] * HARTREE_TO_EV,
                effective_coupling_ev=pair["j_eff"] * HARTREE_TO_EV,
                predicted_splitting_ev=predicted_splitting(pair["j_eff"], pair["e_a"],
                                                           pair["e_b"]) * HARTREE_TO_EV,
                degenerate=len(set_a) > 1 or len(set_b) > 1,
                set_size_a=len(set_a), set_size_b=len(set_b),
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
