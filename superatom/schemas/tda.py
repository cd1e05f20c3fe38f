"""Stored document of a Tamm-Dancoff (TDA) excited-state calculation (eV, Angstrom)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from superatom.schemas.documents import SystemRecord


class Excitation(BaseModel):
    """One TDA excitation: energy (eV) and oscillator strength (length gauge)."""

    energy_ev: float
    oscillator_strength: float


class TdaDoc(SystemRecord):
    """Lowest TDA excitations of one system on top of its converged ground state."""

    doc_type: str = "tda"
    method: str = Field(description="'TDA-PBE0/def2-svp' style summary")
    spin_treatment: str
    settings: dict[str, Any]
    nstates: int
    excitations: list[Excitation]
    converged: bool = Field(description="every requested TDA root converged")
    e_tot_ha: float = Field(description="ground-state energy")
    ks_gap_ev: float | None = Field(description="Kohn-Sham HOMO-LUMO gap of the ground state")
    scf_cycles: int
    scf_attempts: list[dict[str, Any]]
    ground_state_uuid: str | None = Field(
        None, description="stored frontier result the geometry and settings came from")
    device: str
    device_name: str
    fallback_reason: str | None = Field(
        None, description="why a device=auto job meant for the GPU ran on the CPU")
    timings: dict[str, float]
    versions: dict[str, str]
