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


def _summary(corr, fo, comp: CompositionResult) -> InteractionSummary:
    homo, lumo = _level(corr, "HOMO"), _level(corr, "LUMO")
    fo_h, fo_l = _coupling(fo, "HOMO"), _coupling(fo, "LUMO")
    rows = {o.label.split("(")[0]: o for o in comp.orbitals if o.spin == corr.spin}
    h_row, l_row = rows.get("HOMO"), rows.get("LUMO")
    return InteractionSummary(
        spin=corr.spin,
        homo_splitting_ev=homo.splitting_ev if homo else None,
        lumo_splitting_ev=lumo.splitting_ev if lumo else None,
        homo_centroid_shift_ev=homo.centroid_shift_ev if homo else None,
        lumo_centroid_shift_ev=lumo.centroid_shift_ev if lumo else None,
        homo_shift_ev=corr.homo_shift_ev, lumo_shift_ev=corr.lumo_shift_ev,
        gap_monomer_ev=corr.gap_monomer_ev, gap_assembly_ev=corr.gap_assembly_ev,
        gap_change_ev=corr.gap_change_ev,
        fo_homo_coupling_ev=fo_h.effective_coupling_ev if fo_h else None,
        fo_lumo_coupling_ev=fo_l.effective_coupling_ev if fo_l else None,
        fo_homo_splitting_ev=fo_h.predicted_splitting_ev if fo_h else None,
        fo_lumo_splitting_ev=fo_l.predicted_splitting_ev if fo_l else None,
        homo_participation_ratio=h_row.participation_ratio if h_row else None,
        lumo_participation_ratio=l_row.participation_ratio if l_row else None,
        homo_fragment_weights=h_row.fragment if h_row else {},
        lumo_fragment_weights=l_row.fragment if l_row else {},
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
        summary=[_summary(c, f, comp) for c, f in zip(correlations, fo_chans, strict=True)],
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
