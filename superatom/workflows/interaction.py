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
from datetime import UTC, datetime
from typing import Any

from jobflow import Flow, Maker, job
from pydantic import BaseModel, Field
from pymatgen.core import Molecule

from superatom.workflows.documents import FrontierOrbitalDoc, analysis_versions
from superatom.workflows.fragments import split_fragments
from superatom.workflows.frontier import FrontierOrbitalMaker


class InteractionDoc(BaseModel):
    """How the frontier orbitals of cluster units change when the units bond."""

    name: str
    campaign: str | None = None
    system_class: str | None = None
    doc_type: str = "interaction"
    assembly_uuid: str | None
    monomer_uuids: list[str | None]
    assembly_formula: str
    method: str
    homo_monomers_ev: list[float | None]
    lumo_monomers_ev: list[float | None]
    gap_monomers_ev: list[float | None]
    homo_assembly_ev: float | None
    lumo_assembly_ev: float | None
    gap_assembly_ev: float | None
    scf_guess: str
    scf_cycles_assembly: int
    analysis: dict[str, Any] = Field(description="superatom.analysis InteractionResult as dict")
    analysis_s: float
    versions: dict[str, str] = Field(default_factory=analysis_versions)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def _doc(value: Any) -> FrontierOrbitalDoc:
    return value if isinstance(value, FrontierOrbitalDoc) else FrontierOrbitalDoc(**value)


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
        assembly_uuid=assembly.job_uuid,
        monomer_uuids=[m.job_uuid for m in monomers],
        assembly_formula=assembly.formula,
        method=assembly.method,
        homo_monomers_ev=[m.homo_ev for m in monomers],
        lumo_monomers_ev=[m.lumo_ev for m in monomers],
        gap_monomers_ev=[m.gap_ev for m in monomers],
        homo_assembly_ev=assembly.homo_ev,
        lumo_assembly_ev=assembly.lumo_ev,
        gap_assembly_ev=assembly.gap_ev,
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

    def get(doc: Any, key: str) -> Any:
        return doc.get(key) if isinstance(doc, dict) else getattr(doc, key, None)

    homo_m = [get(d, "homo_ev") for d in monomer_docs]
    lumo_m = [get(d, "lumo_ev") for d in monomer_docs]
    gap_m = [get(d, "gap_ev") for d in monomer_docs]
    homo_a, lumo_a, gap_a = (get(assembly_doc, k) for k in ("homo_ev", "lumo_ev", "gap_ev"))
    analysis = {
        "level_only": True,
        "homo_shift_ev": homo_a - max(homo_m) if None not in (homo_a, *homo_m) else None,
        "lumo_shift_ev": lumo_a - min(lumo_m) if None not in (lumo_a, *lumo_m) else None,
        "gap_change_ev": gap_a - min(gap_m) if None not in (gap_a, *gap_m) else None,
    }
    return InteractionDoc(
        name=name or get(assembly_doc, "name"),
        campaign=campaign,
        system_class=system_class,
        assembly_uuid=get(assembly_doc, "job_uuid"),
        monomer_uuids=[get(d, "job_uuid") for d in monomer_docs],
        assembly_formula=get(assembly_doc, "formula"),
        method=get(assembly_doc, "method"),
        homo_monomers_ev=homo_m,
        lumo_monomers_ev=lumo_m,
        gap_monomers_ev=gap_m,
        homo_assembly_ev=homo_a,
        lumo_assembly_ev=lumo_a,
        gap_assembly_ev=gap_a,
        scf_guess="n/a",
        scf_cycles_assembly=0,
        analysis=analysis,
        analysis_s=0.0,
    )
