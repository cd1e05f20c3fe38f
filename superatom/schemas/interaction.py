"""Stored document of a monomer-to-assembly interaction analysis and its models (eV)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from superatom.schemas.documents import analysis_versions


class InteractionSummary(BaseModel):
    """Headline numbers of one spin channel (eV)."""

    spin: str
    homo_splitting_ev: float | None = Field(description="splitting of the monomer HOMO level")
    lumo_splitting_ev: float | None
    homo_centroid_shift_ev: float | None
    lumo_centroid_shift_ev: float | None
    homo_shift_ev: float | None = Field(description="assembly HOMO - highest monomer HOMO")
    lumo_shift_ev: float | None
    gap_monomer_ev: float | None
    gap_assembly_ev: float | None
    gap_change_ev: float | None
    fo_homo_coupling_ev: float | None = Field(description="J_eff of the first monomer pair HOMOs")
    fo_lumo_coupling_ev: float | None
    fo_homo_splitting_ev: float | None = Field(description="two-level prediction from the FOs")
    fo_lumo_splitting_ev: float | None
    homo_participation_ratio: float | None
    lumo_participation_ratio: float | None
    homo_fragment_weights: dict[str, float]
    lumo_fragment_weights: dict[str, float]


class InteractionAnalysis(BaseModel):
    """Stored result of the orbital interaction analysis (eV).

    ``summary`` holds the headline numbers per spin channel; the detailed correlation,
    fragment-orbital, composition and angular tables are kept as the analysis package wrote
    them (:class:`superatom.analysis.interaction.InteractionResult` reads them back typed).
    """

    level_only: Literal[False] = False
    assembly: str
    monomers: list[str]
    spins: list[str]
    fragment_labels: list[str] = Field(description="label of each assembly atom used below")
    summary: list[InteractionSummary]
    correlation: dict[str, Any]
    fragment_orbitals: dict[str, Any]
    composition: dict[str, Any]
    angular: list[dict[str, Any]] = Field(
        default_factory=list, description="per cluster centre and spin channel (optional)"
    )


class LevelInteraction(BaseModel):
    """Level-only interaction (documents without orbitals, e.g. GFN2-xTB): shifts in eV."""

    level_only: Literal[True] = True
    homo_shift_ev: float | None = Field(description="assembly HOMO - highest monomer HOMO")
    lumo_shift_ev: float | None = Field(description="assembly LUMO - lowest monomer LUMO")
    gap_change_ev: float | None = Field(description="assembly gap - smallest monomer gap")


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
    settings: dict[str, Any] | None = Field(description="settings of the assembly calculation")
    input_hashes: list[str | None] = Field(description="monomers' then the assembly's")
    analysis: InteractionAnalysis | LevelInteraction
    analysis_s: float
    device: str = "cpu"
    versions: dict[str, str] = Field(default_factory=analysis_versions)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
