"""Stored document of the GFN-xTB tier (eV, Angstrom)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from superatom.schemas.documents import SystemRecord

XTB_METHOD = "GFN2-xTB"


class XtbFrontierDoc(SystemRecord):
    """Frontier levels of one system at the GFN2-xTB tier (eV); ``molecule`` is the geometry
    the levels belong to (the relaxed one when ``relaxed``)."""

    doc_type: str = "xtb_frontier"
    method: str = f"{XTB_METHOD} (gas phase)"
    settings: dict[str, Any] = Field(
        default_factory=lambda: {"xc": XTB_METHOD, "basis": None, "solvent": "none"})
    e_tot_ha: float
    homo_ev: float | None
    lumo_ev: float | None
    gap_ev: float | None
    orbital_energies_ev: list[float]
    occupations: list[float]
    converged: bool = True
    relaxed: bool = False
    relax_info: dict[str, Any] = Field(default_factory=dict)
    device: str = "cpu"
    timings: dict[str, float]
    versions: dict[str, str]
