"""One call for the monomer -> assembly interaction analysis.

Bundles orbital correlation (splittings, shifts, gap change), fragment-orbital couplings and
the composition / delocalisation of the assembly frontier orbitals, optionally the superatom
angular character of the assembly HOMO/LUMO about each cluster centre.

Examples
--------
>>> from superatom.analysis.interaction import analyze_interaction
>>> res = analyze_interaction([mono_doc, mono_doc], dimer_doc)       # doctest: +SKIP
>>> s = res.summary[0]; s.homo_splitting_ev, s.fo_homo_splitting_ev  # doctest: +SKIP
(0.304, 0.303)
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from superatom.analysis.angular import AngularResult, angular_character, fragment_spheres
from superatom.analysis.composition import CompositionResult, Method, orbital_composition
from superatom.analysis.correlation import CorrelationResult, correlate_channel
from superatom.analysis.embedding import embed_documents, monomer_atom_labels
from superatom.analysis.fragment_orbitals import FragmentOrbitalResult, fo_channel
from superatom.schemas.interaction import InteractionAnalysis, InteractionSummary

__all__ = ["InteractionResult", "InteractionSummary", "analyze_interaction"]


class InteractionResult(InteractionAnalysis):
    """Everything :func:`analyze_interaction` found; energies in eV.

    The stored form is :class:`~superatom.schemas.interaction.InteractionAnalysis`
    (``InteractionResult.model_validate(doc.analysis.model_dump())`` gives this back).
    """

    correlation: CorrelationResult
    fragment_orbitals: FragmentOrbitalResult
    composition: CompositionResult
    angular: list[AngularResult] = Field(
        default_factory=list, description="per cluster centre and spin channel (optional)"
    )


def _level(channel, label: str):
    return next((lev for lev in channel.levels if lev.label == label), None)


def _coupling(fo_chan, label: str):
    return next((c for c in fo_chan.couplings if c.label_a == label), None)


def _per_monomer(corr, label: str, assembly_ev: float | None) -> dict[str, float]:
    """Assembly level - each monomer's level of ``label`` (eV)."""
    if assembly_ev is None:
        return {}
    return {lev.monomer: assembly_ev - lev.energy_ev for lev in corr.monomer_levels
            if lev.label == label}


def _reference(corr, label: str, pick) -> str | None:
    levels = [lev for lev in corr.monomer_levels if lev.label == label]
    return pick(levels, key=lambda lev: lev.energy_ev).monomer if levels else None


def _splitting_note(name: str, level, coupling) -> str | None:
    """Why the correlated and the FO two-level splittings of ``name`` differ, if they do."""
    if level is None or coupling is None:
        return None
    corr, fo = level.splitting_ev, coupling.predicted_splitting_ev
    if abs(corr - fo) <= max(0.05, 0.25 * max(abs(corr), abs(fo))):
        return None
    site = coupling.site_energy_a_ev - coupling.site_energy_b_ev
    if abs(site) >= 0.5 * fo:
        why = (f"the monomers are not equivalent in the assembly: their {name} site energies "
               f"differ by {abs(site):.3f} eV, which makes most of the two-level value")
    else:
        why = (f"the monomer {name}s mix with other levels (the least projection of a "
               f"correlated MO on their span is {min(level.projections):.2f}), so the "
               "two-level model does not hold")
    return (f"{name} splitting {corr:.3f} eV (correlated MOs) vs FO two-level splitting "
            f"{fo:.3f} eV: {why}")


def _shift_note(name: str, level, corr, index: int, shift: float | None) -> str | None:
    """Why the centroid shift and the plain shift of ``name`` differ, if they do."""
    if level is None or shift is None or abs(level.centroid_shift_ev - shift) <= 0.1:
        return None
    head = (f"{name} centroid shift {level.centroid_shift_ev:+.3f} eV vs {name} shift "
            f"{shift:+.3f} eV")
    if index in level.assembly_orbitals:
        if (level.centroid_shift_ev > 0) == (shift > 0):
            return None
        member = "highest" if name == "HOMO" else "lowest"
        return (f"{head}: the shift follows the {member} of the correlated MOs, the centroid "
                f"their mean, and they are split by {level.splitting_ev:.3f} eV")
    row = next((a for a in corr.assembly_levels if a.index == index), None)
    origin = f" (largest overlap: {row.best_monomer} {row.best_label})" if row else ""
    return (f"{head}: the assembly {name} is not among the MOs correlated with the monomer "
            f"{name}s{origin}")


def _summary(corr, fo, comp: CompositionResult, homo_index: int,
             lumo_index: int) -> InteractionSummary:
    homo, lumo = _level(corr, "HOMO"), _level(corr, "LUMO")
    fo_h, fo_l = _coupling(fo, "HOMO"), _coupling(fo, "LUMO")
    rows = {o.label.split("(")[0]: o for o in comp.orbitals if o.spin == corr.spin}
    h_row, l_row = rows.get("HOMO"), rows.get("LUMO")
    notes = [_splitting_note("HOMO", homo, fo_h), _splitting_note("LUMO", lumo, fo_l),
             _shift_note("HOMO", homo, corr, homo_index, corr.homo_shift_ev),
             _shift_note("LUMO", lumo, corr, lumo_index, corr.lumo_shift_ev)]

    def site(c) -> float | None:
        return c.site_energy_a_ev - c.site_energy_b_ev if c else None

    return InteractionSummary(
        spin=corr.spin,
        homo_splitting_ev=homo.splitting_ev if homo else None,
        lumo_splitting_ev=lumo.splitting_ev if lumo else None,
        homo_centroid_shift_ev=homo.centroid_shift_ev if homo else None,
        lumo_centroid_shift_ev=lumo.centroid_shift_ev if lumo else None,
        homo_shift_ev=corr.homo_shift_ev, lumo_shift_ev=corr.lumo_shift_ev,
        homo_reference=_reference(corr, "HOMO", max),
        lumo_reference=_reference(corr, "LUMO", min),
        homo_shifts_ev=_per_monomer(corr, "HOMO", corr.homo_ev),
        lumo_shifts_ev=_per_monomer(corr, "LUMO", corr.lumo_ev),
        gap_monomer_ev=corr.gap_monomer_ev, gap_assembly_ev=corr.gap_assembly_ev,
        gap_change_ev=corr.gap_change_ev,
        fo_homo_coupling_ev=fo_h.effective_coupling_ev if fo_h else None,
        fo_lumo_coupling_ev=fo_l.effective_coupling_ev if fo_l else None,
        fo_homo_site_difference_ev=site(fo_h), fo_lumo_site_difference_ev=site(fo_l),
        fo_homo_splitting_ev=fo_h.predicted_splitting_ev if fo_h else None,
        fo_lumo_splitting_ev=fo_l.predicted_splitting_ev if fo_l else None,
        homo_participation_ratio=h_row.participation_ratio if h_row else None,
        lumo_participation_ratio=l_row.participation_ratio if l_row else None,
        homo_fragment_weights=h_row.fragment if h_row else {},
        lumo_fragment_weights=l_row.fragment if l_row else {},
        notes=[n for n in notes if n],
    )


def analyze_interaction(
    monomer_docs: list,
    assembly_doc,
    method: Method = "mulliken",
    window: int = 4,
    angular: bool = False,
    angular_fragments: Sequence[str] | None = None,
    lmax: int = 12,
) -> InteractionResult:
    """Correlation + FO couplings + frontier composition of an assembly and its monomers.

    Parameters
    ----------
    monomer_docs : list of FrontierOrbitalDoc
        Monomer results with arrays (same basis and functional as the assembly). Their atoms
        are matched to the assembly's by position (0.01 A); one stored monomer may be given
        twice for a homodimer (matched by rigid translation). No match: InputError.
    assembly_doc : FrontierOrbitalDoc
        Assembly result with arrays. Open-shell documents are analysed per spin channel.
    method : {'mulliken', 'lowdin', 'scpa'}
        Composition method for the assembly frontier orbitals.
    window : int
        Frontier window (orbitals below HOMO / above LUMO per monomer) that is followed.
    angular : bool
        Also project the assembly HOMO and LUMO on spherical harmonics about the centre of
        every fragment (``angular_fragments``, default all fragments of >= 4 atoms), in a
        sphere of the fragment's own size.
    lmax : int
        Highest l of that projection.

    Returns
    -------
    InteractionResult
        ``summary`` (one row per spin channel) holds the headline numbers in eV.

    Examples
    --------
    >>> res = analyze_interaction([a_doc, b_doc], ab_doc)            # doctest: +SKIP
    >>> res.summary[0].homo_participation_ratio                     # doctest: +SKIP
    1.98
    """
    assembly, embeddings, spins = embed_documents(monomer_docs, assembly_doc)
    labels = assembly.fragments or monomer_atom_labels(embeddings, len(assembly.molecule))
    correlations = [correlate_channel(embeddings, assembly, s, window) for s in spins]
    fo_chans = [fo_channel(embeddings, assembly, s) for s in spins]
    comp = orbital_composition(assembly_doc, method=method, window=2, fragment_labels=labels)
    names = [e.name for e in embeddings]
    result = InteractionResult(
        assembly=assembly.name,
        monomers=names,
        spins=spins,
        fragment_labels=labels,
        summary=[_summary(c, f, comp, assembly.channel(s).homo, assembly.channel(s).lumo)
                 for c, f, s in zip(correlations, fo_chans, spins, strict=True)],
        correlation=CorrelationResult(
            assembly=assembly.name, monomers=names,
            atom_maps={e.name: e.atom_map.tolist() for e in embeddings}, channels=correlations),
        fragment_orbitals=FragmentOrbitalResult(assembly=assembly.name, monomers=names,
                                                channels=fo_chans),
        composition=comp,
    )
    if angular:
        spheres = fragment_spheres(assembly.molecule, labels, angular_fragments)
        for chan in assembly.channels:
            picks = [i for i in (chan.homo, chan.lumo) if 0 <= i < len(chan.energy)]
            for frag, (centre, radius) in spheres.items():
                result.angular.append(angular_character(
                    assembly_doc, orbitals=picks, centre=centre, radius=radius, spin=chan.spin,
                    lmax=lmax, label=frag))
    return result
