"""Monomer-to-assembly interaction flow: frontier jobs for each unit and the assembly, then
an analysis job producing an :class:`InteractionDoc` (splitting, shifts, delocalisation,
fragment-orbital couplings; level shifts only for documents without orbitals, e.g. xTB).

The per-structure Maker is a field (as atomate2's ``CommonEosMaker`` takes its relax and
static Makers): the DFT and GFN2-xTB tiers are the same flow with a different
``frontier_maker``, and an optional ``relax_maker`` relaxes the assembly first (the monomers
are then cut from the relaxed geometry).

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.calc_settings import load_preset
>>> from superatom.workflows.frontier import FrontierOrbitalMaker
>>> from superatom.workflows.interaction import InteractionFlowMaker
>>> from superatom.workflows.xtb import XtbFrontierMaker
>>> dimer = Molecule(["H", "H", "H", "H"], [[0, 0, 0], [0, 0, 0.74], [0, 0, 3.0], [0, 0, 3.74]],
...                  site_properties={"fragment": ["A", "A", "B", "B"]})
>>> dft = FrontierOrbitalMaker(settings=load_preset("fast"))
>>> flow = InteractionFlowMaker(frontier_maker=dft).make(dimer)
>>> [job.name for job in flow.jobs]
['frontier A', 'frontier B', 'frontier assembly', 'interaction analysis', \
'energy decomposition']
>>> flow = InteractionFlowMaker(frontier_maker=XtbFrontierMaker(),
...                             relax_maker=XtbFrontierMaker(relax=True)).make(dimer)
>>> [job.name for job in flow.jobs]
['relax assembly', 'cut fragments', 'frontier A', 'frontier B', 'frontier assembly', \
'interaction analysis']
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from jobflow import Flow, Maker, job
from pymatgen.core import Molecule

from superatom.errors import InputError
from superatom.schemas.interaction import InteractionDoc, LevelInteraction
from superatom.schemas.registry import parse_document
from superatom.structures.io import as_molecule
from superatom.workflows.eda import eda_analysis, eda_refusal
from superatom.workflows.fragments import split_fragments
from superatom.workflows.frontier import FrontierOrbitalMaker


def level_fields(monomers: list[Any], assembly: Any) -> dict[str, Any]:
    """The InteractionDoc fields that come straight from the documents' levels (eV)."""
    return {
        "assembly_uuid": assembly.job_uuid,
        "monomer_uuids": [d.job_uuid for d in monomers],
        "assembly_formula": assembly.formula,
        "method": assembly.method,
        "settings": assembly.settings,
        "input_hashes": [d.input_hash for d in [*monomers, assembly]],
        **{f"{key}_monomers_ev": [getattr(d, f"{key}_ev") for d in monomers]
           for key in ("homo", "lumo", "gap")},
        **{f"{key}_assembly_ev": getattr(assembly, f"{key}_ev")
           for key in ("homo", "lumo", "gap")},
    }


def level_interaction(levels: dict[str, Any]) -> LevelInteraction:
    """HOMO/LUMO shifts and gap change (eV) from :func:`level_fields`.

    Examples
    --------
    >>> level_interaction({"homo_monomers_ev": [-7.0, -7.2], "homo_assembly_ev": -6.5,
    ...                    "lumo_monomers_ev": [-1.0, -1.1], "lumo_assembly_ev": -1.5,
    ...                    "gap_monomers_ev": [6.0, 6.1], "gap_assembly_ev": 5.0}).gap_change_ev
    -1.0
    """

    def change(key: str, pick) -> float | None:
        mono, whole = levels[f"{key}_monomers_ev"], levels[f"{key}_assembly_ev"]
        return None if None in (whole, *mono) else whole - pick(mono)

    return LevelInteraction(homo_shift_ev=change("homo", max), lumo_shift_ev=change("lumo", min),
                            gap_change_ev=change("gap", min))


@job(output_schema=InteractionDoc)
def interaction_analysis(
    monomer_docs: list[Any],
    assembly_doc: Any,
    name: str = "",
    campaign: str | None = None,
    system_class: str | None = None,
    angular: bool = False,
) -> InteractionDoc:
    """Analyse converged monomer and assembly documents into an InteractionDoc.

    Frontier-orbital documents (with arrays) get the full orbital analysis; documents of
    another type (xTB: levels only) get the level shifts.
    """
    monomers = [parse_document(d) for d in monomer_docs]
    assembly = parse_document(assembly_doc)
    start = time.perf_counter()
    levels = level_fields(monomers, assembly)
    if assembly.doc_type == "frontier_orbitals":
        from superatom.analysis.interaction import analyze_interaction

        result = analyze_interaction(monomers, assembly, angular=angular)
        analysis: Any = result.model_dump(mode="json")
    else:
        analysis = level_interaction(levels)
    return InteractionDoc(
        name=name or assembly.name,
        campaign=campaign,
        system_class=system_class,
        **levels,
        scf_guess=getattr(assembly, "scf_guess", "n/a"),
        scf_cycles_assembly=getattr(assembly, "scf_cycles", 0),
        analysis=analysis,
        analysis_s=time.perf_counter() - start,
    )


@job
def cut_fragments(
    assembly: Molecule,
    charges: dict[str, int] | None = None,
    multiplicities: dict[str, int] | None = None,
) -> dict[str, Molecule]:
    """The units of a (relaxed) assembly, cut by its ``fragment`` labels."""
    assembly = as_molecule(assembly)
    return split_fragments(assembly, charges, multiplicities)


@dataclass
class InteractionFlowMaker(Maker):
    """Frontier jobs for every fragment and the assembly, then the interaction analysis.

    The monomers are cut from the assembly by its ``fragment`` labels (same coordinates,
    basis and settings), which the orbital correlation and fragment-orbital analysis need.

    Parameters
    ----------
    frontier_maker : Maker
        Per-structure Maker (:class:`FrontierOrbitalMaker` for DFT,
        :class:`~superatom.workflows.xtb.XtbFrontierMaker` for GFN2-xTB); each unit and the
        assembly get a copy with their own name and labels.
    relax_maker : Maker, optional
        Relaxes the assembly first (e.g. ``XtbFrontierMaker(relax=True)``); its output's
        ``molecule`` is the geometry the units are cut from.
    superposition_guess : bool
        Start the assembly SCF from the monomer densities (DFT only).
    angular : bool
        Add the superatom angular character about each cluster centre to the analysis.
    eda : bool, optional
        Add the energy decomposition with ETS-NOCV (:mod:`superatom.workflows.eda`) on the
        SCFs the flow runs (a few Fock builds of the assembly, no new SCF). None (default):
        on for DFT whenever the fragments can be decomposed (closed-shell fragments, or
        fragment spins adding up in parallel; not with SMD); True: required (an
        InputError says why it cannot be done); False: off.
    """

    name: str = "interaction"
    frontier_maker: Maker = field(default_factory=FrontierOrbitalMaker)
    relax_maker: Maker | None = None
    superposition_guess: bool = True
    angular: bool = False
    eda: bool | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def make(
        self,
        assembly: Molecule,
        fragment_charges: dict[str, int] | None = None,
        fragment_multiplicities: dict[str, int] | None = None,
    ) -> Flow:
        """Build the flow for one assembly; charges per fragment as in ``split_fragments``."""
        pieces: dict[str, Any] = split_fragments(assembly, fragment_charges,
                                                 fragment_multiplicities)
        meta = dict(self.metadata)
        label = meta.get("name") or assembly.composition.reduced_formula
        jobs: list[Any] = []
        geometry: Any = assembly
        units: dict[str, Any] = pieces
        if self.relax_maker is not None:
            relax = replace(self.relax_maker, name="relax assembly",
                            metadata={**meta, "name": f"{label} (relax)", "role": "relax"})
            relax_job = relax.make(assembly)
            geometry = relax_job.output.molecule
            cut = cut_fragments(geometry, fragment_charges, fragment_multiplicities)
            cut.name = "cut fragments"
            jobs += [relax_job, cut]
            units = {frag_name: cut.output[frag_name] for frag_name in pieces}
        monomer_jobs = []
        for frag_name, piece in units.items():
            maker = replace(self.frontier_maker, name=f"frontier {frag_name}",
                            metadata={**meta, "name": f"{label}:{frag_name}", "role": "monomer",
                                      "n_units": 1})
            monomer_jobs.append(maker.make(piece))
        assembly_maker = replace(self.frontier_maker, name="frontier assembly",
                                 metadata={**meta, "name": label, "role": "assembly",
                                           "n_units": meta.get("n_units", len(pieces))})
        guess = {}
        if self.superposition_guess and isinstance(self.frontier_maker, FrontierOrbitalMaker):
            guess = {"guess_from": [j.output for j in monomer_jobs]}
        assembly_job = assembly_maker.make(geometry, **guess)
        analysis = interaction_analysis(
            [j.output for j in monomer_jobs], assembly_job.output, name=label,
            campaign=meta.get("campaign"), system_class=meta.get("system_class"),
            angular=self.angular,
        )
        analysis.name = "interaction analysis"
        jobs += [*monomer_jobs, assembly_job, analysis]
        if self._wants_eda(assembly, pieces):
            decomposition = eda_analysis(
                [j.output for j in monomer_jobs], assembly_job.output,
                self.frontier_maker.settings, name=label, campaign=meta.get("campaign"),
                system_class=meta.get("system_class"),
                reuse=getattr(self.frontier_maker, "reuse", True))
            decomposition.name = "energy decomposition"
            jobs.append(decomposition)
        return Flow(jobs, output=analysis.output, name=self.name)

    def _wants_eda(self, assembly: Molecule, pieces: dict[str, Molecule]) -> bool:
        if self.eda is False:
            return False
        if not isinstance(self.frontier_maker, FrontierOrbitalMaker):
            if self.eda:
                raise InputError("the energy decomposition needs the DFT frontier Maker")
            return False
        reason = eda_refusal(assembly, pieces, self.frontier_maker.settings)
        if reason is not None and self.eda:
            raise InputError(f"no energy decomposition for this assembly: {reason}")
        return reason is None
