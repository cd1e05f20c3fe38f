"""Stored document of a chain-scaling fit and the fit's own models (eV)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from superatom.schemas.documents import analysis_versions


class BandFit(BaseModel):
    """Tight-binding fit of one band edge (eV)."""

    edge: str = Field(description="'top' (HOMO series) or 'bottom' (LUMO series)")
    alpha_ev: float
    alpha_err_ev: float | None
    tau_ev: float = Field(description="signed edge coupling: E_N = alpha + 2 tau cos(pi/(N+1))")
    tau_err_ev: float | None
    coupling_ev: float = Field(description="|t| = |tau|")
    band_width_ev: float = Field(description="4 |t|")
    limit_ev: float = Field(description="infinite-chain edge alpha + 2 tau")
    limit_err_ev: float | None
    rms_residual_ev: float
    anomalous: bool = Field(description="tau has the sign opposite to a normal band edge")


class ChainScalingResult(BaseModel):
    """HOMO/LUMO series, fits and the extrapolated infinite-chain gap (eV)."""

    n: list[int]
    homo_ev: list[float]
    lumo_ev: list[float]
    gap_ev: list[float]
    homo_fit: BandFit
    lumo_fit: BandFit
    homo_infinite_ev: float
    lumo_infinite_ev: float
    gap_infinite_ev: float
    gap_infinite_err_ev: float | None


class ChainScalingDoc(BaseModel):
    """Frontier levels against chain length and their tight-binding extrapolation."""

    name: str
    campaign: str | None = None
    system_class: str | None = None
    doc_type: str = "chain_scaling"
    method: str
    n_units: list[int]
    member_uuids: list[str | None]
    homo_ev: list[float | None]
    lumo_ev: list[float | None]
    gap_ev: list[float | None]
    fit: ChainScalingResult
    settings: dict[str, Any] | None = Field(description="settings of the member calculations")
    input_hashes: list[str | None]
    analysis_s: float
    device: str = "cpu"
    versions: dict[str, str] = Field(default_factory=analysis_versions)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
