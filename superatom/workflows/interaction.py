"""Monomer-to-assembly interaction flow: frontier jobs for each unit and the assembly, then
an analysis job producing an :class:`InteractionDoc` (splitting, shifts, delocalisation,
fragment-orbital couplings).

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.workflows.interaction import InteractionFlowMaker
>>> dimer = Molecule(["H", "H", "H", "H"], [[0, 0, 0], [0, 0, 0.74], [0, 0, 3.0], [0, 0, 3.74]],
...                  site_properties={"fragment": ["A", "A", "B", "B"]})
>>> flow = InteractionFlowMaker(preset="fast").make(dimer)
>>> [job.name for job in flow.jobs]
['frontier A', 'frontier B', 'frontier assembly', 'interaction analysis']
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from jobflow import Flow, Maker, job
from pymatgen.core import Molecule

from superatom.schemas.documents import FrontierOrbitalDoc, field_of
from superatom.schemas.interaction import InteractionDoc
from superatom.workflows.fragments import split_fragments
from superatom.workflows.frontier import FrontierOrbitalMaker


def _doc(value: Any) -> FrontierOrbitalDoc:
    return value if isinstance(value, FrontierOrbitalDoc) else FrontierOrbitalDoc(**value)


def level_fields(monomer_docs: list[Any], assembly_doc: Any) -> dict[str, Any]:
    """The InteractionDoc fields that come straight from the documents' levels (eV)."""
    return {
        "assembly_uuid": field_of(assembly_doc, "job_uuid"),
        "monomer_uuids": [field_of(d, "job_uuid") for d in monomer_docs],
        "assembly_formula": field_of(assembly_doc, "formula"),
        "method": field_of(assembly_doc, "method"),
        "settings": field_of(assembly_doc, "settings"),
        "input_hashes": [field_of(d, "input_hash") for d in [*monomer_docs, assembly_doc]],
        **{f"{key}_monomers_ev": [field_of(d, f"{key}_ev") for d in monomer_docs]
           for key in ("homo", "lumo", "gap")},
        **{f"{key}_assembly_ev": field_of(assembly_doc, f"{key}_ev")
           for key in ("homo", "lumo", "gap")},
    }


@job(output_schema=InteractionDoc)
def interaction_analysis(
    monomer_docs: list[Any],
    assembly_doc: Any,
    name: str = "",
    campaign: str | None = None,
    system_class: str | None = None,
    angular: bool = False,
) -> InteractionDoc:
    """Analyse converged monomer and assembly documents (with arrays) into an InteractionDoc."""
    from superatom.analysis.interaction import analyze_interaction

    monomers = [_doc(d) for d in monomer_docs]
    assembly = _doc(assembly_doc)
    start = time.perf_counter()
    result = analyze_interaction(monomers, assembly, angular=angular)
    return InteractionDoc(
        name=name or assembly.name,
        campaign=campaign,
        system_class=system_class,
        **level_fields(monomers, assembly),
        scf_guess=assembly.scf_guess,
        scf_cycles_assembly=assembly.scf_cycles,
        analysis=result.model_dump(mode="json"),
        analysis_s=time.perf_counter() - start,
    )


@dataclass
class InteractionFlowMaker(Maker):
    """Frontier jobs for every fragment and the assembly, then the interaction analysis.

    The monomers are cut from the assembly by its ``fragment`` labels (same coordinates,
    basis and settings), which the orbital correlation and fragment-orbital analysis need.
    The assembly SCF starts from the superposition of the monomer densities.

    Parameters
    ----------
    preset, settings_overrides, reuse
        As for :class:`FrontierOrbitalMaker`.
    superposition_guess : bool
        Start the assembly SCF from the monomer densities (else PySCF's default guess).
    angular : bool
        Add the superatom angular character about each cluster centre to the analysis.
    """

    name: str = "interaction"
    preset: str = "screening"
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    reuse: bool = True
    superposition_guess: bool = True
    angular: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    def make(
        self,
        assembly: Molecule,
        fragment_charges: dict[str, int] | None = None,
        fragment_multiplicities: dict[str, int] | None = None,
    ) -> Flow:
        """Build the flow for one assembly; charges per fragment as in ``split_fragments``."""
        pieces = split_fragments(assembly, fragment_charges, fragment_multiplicities)
        meta = dict(self.metadata)
        label = meta.get("name") or assembly.composition.reduced_formula
        jobs = []
        for frag_name, piece in pieces.items():
            maker = FrontierOrbitalMaker(
                name=f"frontier {frag_name}", preset=self.preset,
                settings_overrides=self.settings_overrides, reuse=self.reuse,
                metadata={**meta, "name": f"{label}:{frag_name}", "role": "monomer",
                          "n_units": 1},
            )
            jobs.append(maker.make(piece))
        assembly_maker = FrontierOrbitalMaker(
            name="frontier assembly", preset=self.preset,
            settings_overrides=self.settings_overrides, reuse=self.reuse,
            metadata={**meta, "name": label, "role": "assembly",
                      "n_units": meta.get("n_units", len(pieces))},
        )
        guess = [j.output for j in jobs] if self.superposition_guess else None
        assembly_job = assembly_maker.make(assembly, guess_from=guess)
        analysis = interaction_analysis(
            [j.output for j in jobs], assembly_job.output, name=label,
            campaign=meta.get("campaign"), system_class=meta.get("system_class"),
            angular=self.angular,
        )
        analysis.name = "interaction analysis"
        return Flow([*jobs, assembly_job, analysis], output=analysis.output, name=self.name)


@job(output_schema=InteractionDoc)
def level_interaction_summary(
    monomer_docs: list[Any],
    assembly_doc: Any,
    name: str = "",
    campaign: str | None = None,
    system_class: str | None = None,
) -> InteractionDoc:
    """Level-only interaction summary (xTB tier): HOMO/LUMO shifts and gap change, eV."""

    levels = level_fields(monomer_docs, assembly_doc)

    def change(key: str, pick) -> float | None:
        mono, whole = levels[f"{key}_monomers_ev"], levels[f"{key}_assembly_ev"]
        return None if None in (whole, *mono) else whole - pick(mono)

    analysis = {
        "level_only": True,
        "homo_shift_ev": change("homo", max),
        "lumo_shift_ev": change("lumo", min),
        "gap_change_ev": change("gap", min),
    }
    return InteractionDoc(
        name=name or field_of(assembly_doc, "name"),
        campaign=campaign,
        system_class=system_class,
        **levels,
        scf_guess="n/a",
        scf_cycles_assembly=0,
        analysis=analysis,
        analysis_s=0.0,
    )
