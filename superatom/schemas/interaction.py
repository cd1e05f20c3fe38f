"""Stored document of a monomer-to-assembly interaction analysis (eV)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from superatom.schemas.documents import analysis_versions


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
    analysis: dict[str, Any] = Field(description="superatom.analysis InteractionResult as dict")
    analysis_s: float
    device: str = "cpu"
    versions: dict[str, str] = Field(default_factory=analysis_versions)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
