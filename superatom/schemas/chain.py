"""Stored document of a chain-scaling fit (eV)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from superatom.schemas.documents import analysis_versions


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
    fit: dict[str, Any] = Field(description="superatom.analysis.chain result as dict")
    settings: dict[str, Any] | None = Field(description="settings of the member calculations")
    input_hashes: list[str | None]
    analysis_s: float
    device: str = "cpu"
    versions: dict[str, str] = Field(default_factory=analysis_versions)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
