"""Correlation of assembly and monomer orbitals by overlap |<phi_mono|psi>|^2.

Monomer orbitals are zero-padded into the assembly AO basis (:mod:`embedding`) and overlapped
with the assembly MOs through the assembly overlap matrix S: ``O = Phi^T S C``. For each monomer
frontier level (HOMO, HOMO-1, LUMO, ...; degenerate orbitals together, every monomer together)
the assembly MOs with the largest projection on the span of those monomer orbitals are its
correlated levels: splitting = highest - lowest of them (e_antibonding - e_bonding for a pair),
centroid shift = their mean - the mean monomer level.

Examples
--------
>>> res = correlate_orbitals([mono_doc, mono_doc], dimer_doc)     # doctest: +SKIP
>>> res.channels[0].levels[0].label, res.channels[0].levels[0].splitting_ev   # doctest: +SKIP
('HOMO', 0.41)
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from superatom import HARTREE_TO_EV
from superatom.analysis.docdata import (
    Channel,
    DocData,
    degenerate_groups,
    window_indices,
)
from superatom.analysis.embedding import Embedding, embed_documents


class AssemblyLevel(BaseModel):
    """One assembly MO and the monomer MO it overlaps most."""

    index: int
    label: str
    energy_ev: float
    occupation: float
    best_monomer: str
    best_orbital: int
    best_label: str
    best_weight: float = Field(description="|<phi_mono|psi>|^2 of the best monomer orbital")
    monomer_weights: dict[str, float] = Field(
        description="sum over each monomer's MOs of |<phi|psi>|^2 (about the share on it)"
    )


class MonomerLevel(BaseModel):
    """One monomer MO in the frontier window."""

    monomer: str
    index: int
    label: str
    energy_ev: float
    occupation: float


class Link(BaseModel):
    """A monomer MO - assembly MO pair with weight |<phi|psi>|^2 above the threshold."""

    monomer: str
    monomer_orbital: int
    monomer_label: str
    assembly_orbital: int
    assembly_label: str
    weight: float


class LevelSplitting(BaseModel):
    """What became of one monomer frontier level (all monomers together) in the assembly."""

    label: str
    monomer_orbitals: dict[str, list[int]]
    monomer_energies_ev: list[float]
    assembly_orbitals: list[int]
    assembly_labels: list[str]
    assembly_energies_ev: list[float]
    projections: list[float] = Field(description="weight of each assembly MO in the level's span")
    splitting_ev: float = Field(description="highest - lowest correlated assembly level")
    centroid_ev: float
    centroid_shift_ev: float = Field(description="mean assembly level - mean monomer level")


class ChannelCorrelation(BaseModel):
    """Correlation in one spin channel (``restricted``, ``alpha`` or ``beta``)."""

    spin: str
    assembly_levels: list[AssemblyLevel]
    monomer_levels: list[MonomerLevel]
    links: list[Link]
    levels: list[LevelSplitting]
    homo_ev: float | None = Field(description="None for a channel without electrons")
    lumo_ev: float | None
    monomer_homo_ev: float | None = Field(description="highest monomer HOMO")
    monomer_lumo_ev: float | None = Field(description="lowest monomer LUMO")
    homo_shift_ev: float | None
    lumo_shift_ev: float | None
    gap_monomer_ev: float | None = Field(description="lowest monomer LUMO - highest monomer HOMO")
    gap_assembly_ev: float | None
    gap_change_ev: float | None


class CorrelationResult(BaseModel):
    """Assembly vs monomer orbital correlation (eV)."""

    assembly: str
    monomers: list[str]
    atom_maps: dict[str, list[int]]
    channels: list[ChannelCorrelation]


def overlap_weights(emb: Embedding, mono_coeff: np.ndarray, overlap: np.ndarray,
                    coeff: np.ndarray) -> np.ndarray:
    """``<phi_k|psi_i>`` for monomer columns ``mono_coeff`` and assembly columns ``coeff``."""
    return emb.pad(mono_coeff).T @ overlap @ coeff


def level_sets(chan: Channel, window: int, tol: float = 1e-4) -> list[tuple[str, list[int]]]:
    """Frontier levels of one monomer channel: (label, degenerate orbital indices)."""
    idx = window_indices(chan, window)
    occ = idx[idx < chan.n_occ][::-1]
    vir = idx[idx >= chan.n_occ]
    out = []
    for k, group in enumerate(degenerate_groups(chan.energy, occ, tol)):
        out.append(("HOMO" if k == 0 else f"HOMO-{k}", group))
    for k, group in enumerate(degenerate_groups(chan.energy, vir, tol)):
        out.append(("LUMO" if k == 0 else f"LUMO+{k}", group))
    return out


def _span_projection(phi: np.ndarray, overlap: np.ndarray, coeff: np.ndarray) -> np.ndarray:
    """Weight of each assembly MO in the span of the (non-orthogonal) columns ``phi``."""
    proj = phi.T @ overlap @ coeff
    metric = phi.T @ overlap @ phi
    return np.einsum("ki,ki->i", proj, np.linalg.solve(metric, proj))


def _ev(value: float | None) -> float | None:
    return None if value is None else float(value * HARTREE_TO_EV)


def correlate_channel(embeddings: list[Embedding], assembly: DocData, spin: str,
                      window: int = 4, threshold: float = 0.1) -> ChannelCorrelation:
    """Correlation of one spin channel; see :func:`correlate_orbitals`."""
    chan = assembly.channel(spin)
    s = assembly.overlap
    nmono = len(embeddings)
    a_idx = window_indices(chan, window * nmono)
    monos = [(emb, emb.data.channel(spin)) for emb in embeddings]
    # overlaps with every monomer MO: (nmo_m, nmo_assembly)
    full = [overlap_weights(emb, mc.coeff, s, chan.coeff) ** 2 for emb, mc in monos]
    share = np.stack([w.sum(axis=0) for w in full])
    best_per = np.stack([w.max(axis=0) for w in full])
    arg_per = np.stack([w.argmax(axis=0) for w in full])
    assembly_levels = []
    for i in a_idx:
        m = int(np.argmax(best_per[:, i]))
        emb, mc = monos[m]
        k = int(arg_per[m, i])
        assembly_levels.append(AssemblyLevel(
            index=int(i), label=chan.label(int(i)), energy_ev=_ev(chan.energy[i]),
            occupation=float(chan.occ[i]), best_monomer=emb.name, best_orbital=k,
            best_label=mc.label(k), best_weight=float(best_per[m, i]),
            monomer_weights={e.name: float(share[j, i]) for j, (e, _) in enumerate(monos)},
        ))
    monomer_levels, links = [], []
    for (emb, mc), weights in zip(monos, full, strict=True):
        m_idx = window_indices(mc, window)
        for k in m_idx:
            monomer_levels.append(MonomerLevel(
                monomer=emb.name, index=int(k), label=mc.label(int(k)),
                energy_ev=_ev(mc.energy[k]), occupation=float(mc.occ[k])))
            for i in a_idx[weights[k, a_idx] >= threshold]:
                links.append(Link(monomer=emb.name, monomer_orbital=int(k),
                                  monomer_label=mc.label(int(k)), assembly_orbital=int(i),
                                  assembly_label=chan.label(int(i)),
                                  weight=float(weights[k, i])))
    # level splittings: every monomer's level with the same label together
    per_label: dict[str, list[tuple[Embedding, Channel, list[int]]]] = {}
    for emb, mc in monos:
        for label, group in level_sets(mc, window):
            per_label.setdefault(label, []).append((emb, mc, group))
    levels = []
    for label, members in per_label.items():
        phi = np.hstack([emb.pad(mc.coeff[:, grp]) for emb, mc, grp in members])
        mono_e = [float(mc.energy[g] * HARTREE_TO_EV) for _, mc, grp in members for g in grp]
        weight = _span_projection(phi, s, chan.coeff)
        chosen = np.sort(np.argsort(-weight)[: phi.shape[1]])
        energies = chan.energy[chosen] * HARTREE_TO_EV
        levels.append(LevelSplitting(
            label=label,
            monomer_orbitals={emb.name: grp for emb, _, grp in members},
            monomer_energies_ev=mono_e,
            assembly_orbitals=chosen.tolist(),
            assembly_labels=[chan.label(int(i)) for i in chosen],
            assembly_energies_ev=energies.tolist(),
            projections=weight[chosen].tolist(),
            splitting_ev=float(energies.max() - energies.min()),
            centroid_ev=float(energies.mean()),
            centroid_shift_ev=float(energies.mean() - np.mean(mono_e)),
        ))
    levels.sort(key=lambda lev: np.mean(lev.monomer_energies_ev))
    homo = _ev(chan.energy[chan.homo]) if chan.homo >= 0 else None
    lumo = _ev(chan.energy[chan.lumo]) if chan.lumo < len(chan.energy) else None
    m_homos = [_ev(mc.energy[mc.homo]) for _, mc in monos if mc.homo >= 0]
    m_lumos = [_ev(mc.energy[mc.lumo]) for _, mc in monos if mc.lumo < len(mc.energy)]
    m_homo = max(m_homos) if m_homos else None
    m_lumo = min(m_lumos) if m_lumos else None
    return ChannelCorrelation(
        spin=chan.spin, assembly_levels=assembly_levels, monomer_levels=monomer_levels,
        links=links, levels=levels, homo_ev=homo, lumo_ev=lumo, monomer_homo_ev=m_homo,
        monomer_lumo_ev=m_lumo, homo_shift_ev=_diff(homo, m_homo),
        lumo_shift_ev=_diff(lumo, m_lumo), gap_monomer_ev=_diff(m_lumo, m_homo),
        gap_assembly_ev=_diff(lumo, homo),
        gap_change_ev=_diff(_diff(lumo, homo), _diff(m_lumo, m_homo)),
    )


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def correlate_orbitals(monomer_docs: list, assembly_doc, window: int = 4,
                       threshold: float = 0.1) -> CorrelationResult:
    """Pair assembly MOs with monomer MOs and measure splittings and shifts.

    Parameters
    ----------
    monomer_docs : list of FrontierOrbitalDoc
        The monomers (the same document may appear twice for a homodimer; see
        :mod:`superatom.analysis.embedding` for how atoms are matched).
    assembly_doc : FrontierOrbitalDoc
        The assembly, same basis and functional.
    window : int
        Monomer orbitals HOMO-(window-1) ... LUMO+(window-1) are followed.
    threshold : float
        Smallest |<phi|psi>|^2 kept as a link of the correlation diagram.

    Returns
    -------
    CorrelationResult
        One :class:`ChannelCorrelation` per spin channel (eV).

    Examples
    --------
    >>> res = correlate_orbitals([ethylene, ethylene], ethylene_dimer)   # doctest: +SKIP
    >>> round(res.channels[0].levels[-3].splitting_ev, 2)                # doctest: +SKIP
    0.52
    """
    assembly, embeddings, spins = embed_documents(monomer_docs, assembly_doc)
    return CorrelationResult(
        assembly=assembly.name,
        monomers=[e.name for e in embeddings],
        atom_maps={e.name: e.atom_map.tolist() for e in embeddings},
        channels=[correlate_channel(embeddings, assembly, spin, window, threshold)
                  for spin in spins],
    )
