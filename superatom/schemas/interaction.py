"""Stored document of a monomer-to-assembly interaction analysis and its models (eV)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from superatom.schemas.documents import analysis_versions

# One name and one definition per reported quantity: the ``compare`` table, its help, the
# campaign report and docs/analysis.md all use these (energies in eV).
QUANTITIES: dict[str, tuple[str, str]] = {
    "homo_splitting_ev": (
        "HOMO splitting",
        "highest - lowest assembly MO correlated with the monomer HOMOs (as many assembly MOs "
        "as monomer HOMOs, those with the largest projection on their span)"),
    "lumo_splitting_ev": ("LUMO splitting", "the same for the monomer LUMOs"),
    "homo_centroid_shift_ev": (
        "HOMO centroid shift",
        "mean of the assembly MOs correlated with the monomer HOMOs - mean monomer HOMO"),
    "lumo_centroid_shift_ev": ("LUMO centroid shift", "the same for the LUMOs"),
    "homo_shift_ev": (
        "HOMO shift",
        "assembly HOMO - highest monomer HOMO (that monomer is named; per-monomer values "
        "beside)"),
    "lumo_shift_ev": ("LUMO shift", "assembly LUMO - lowest monomer LUMO (named likewise)"),
    "gap_monomer_ev": ("monomer gap", "lowest monomer LUMO - highest monomer HOMO"),
    "gap_assembly_ev": ("assembly gap", "assembly LUMO - assembly HOMO"),
    "gap_change_ev": ("gap change", "assembly gap - monomer gap"),
    "fo_homo_coupling_ev": (
        "FO coupling J_eff HOMO",
        "Lowdin-orthogonalised coupling of the HOMOs of the first monomer pair in the "
        "assembly Fock matrix (RMS over a degenerate set)"),
    "fo_lumo_coupling_ev": ("FO coupling J_eff LUMO", "the same for the LUMOs"),
    "fo_homo_site_difference_ev": (
        "FO site-energy difference HOMO",
        "e'_a - e'_b: orthogonalised HOMO site energies of the pair in the assembly field "
        "(0 for equivalent monomers)"),
    "fo_lumo_site_difference_ev": ("FO site-energy difference LUMO", "the same for the LUMOs"),
    "fo_homo_splitting_ev": (
        "FO two-level splitting HOMO",
        "sqrt((e'_a - e'_b)^2 + 4 J_eff^2): the HOMO splitting if the two FOs mixed with "
        "nothing else"),
    "fo_lumo_splitting_ev": ("FO two-level splitting LUMO", "the same for the LUMOs"),
    "homo_participation_ratio": (
        "HOMO participation ratio",
        "1 / sum_f p_f^2 over fragment weights p_f of the assembly HOMO (1: on one fragment, "
        "N: spread over N)"),
    "lumo_participation_ratio": ("LUMO participation ratio", "the same for the assembly LUMO"),
}


def quantity_label(key: str) -> str:
    """Display name of a reported interaction quantity, with its unit.

    Examples
    --------
    >>> quantity_label("homo_shift_ev"), quantity_label("homo_participation_ratio")
    ('HOMO shift (eV)', 'HOMO participation ratio')
    """
    label = QUANTITIES[key][0] if key in QUANTITIES else key
    return f"{label} (eV)" if key.endswith("_ev") else label


def _field(key: str, **kw) -> Any:
    return Field(default=kw.pop("default", None), description=QUANTITIES[key][1], **kw)


class InteractionSummary(BaseModel):
    """Headline numbers of one spin channel (eV); definitions in :data:`QUANTITIES`."""

    spin: str
    homo_splitting_ev: float | None = _field("homo_splitting_ev")
    lumo_splitting_ev: float | None = _field("lumo_splitting_ev")
    homo_centroid_shift_ev: float | None = _field("homo_centroid_shift_ev")
    lumo_centroid_shift_ev: float | None = _field("lumo_centroid_shift_ev")
    homo_shift_ev: float | None = _field("homo_shift_ev")
    lumo_shift_ev: float | None = _field("lumo_shift_ev")
    homo_reference: str | None = Field(None, description="monomer with the highest HOMO")
    lumo_reference: str | None = Field(None, description="monomer with the lowest LUMO")
    homo_shifts_ev: dict[str, float] = Field(
        default_factory=dict, description="assembly HOMO - each monomer's HOMO")
    lumo_shifts_ev: dict[str, float] = Field(
        default_factory=dict, description="assembly LUMO - each monomer's LUMO")
    gap_monomer_ev: float | None = _field("gap_monomer_ev")
    gap_assembly_ev: float | None = _field("gap_assembly_ev")
    gap_change_ev: float | None = _field("gap_change_ev")
    fo_homo_coupling_ev: float | None = _field("fo_homo_coupling_ev")
    fo_lumo_coupling_ev: float | None = _field("fo_lumo_coupling_ev")
    fo_homo_site_difference_ev: float | None = _field("fo_homo_site_difference_ev")
    fo_lumo_site_difference_ev: float | None = _field("fo_lumo_site_difference_ev")
    fo_homo_splitting_ev: float | None = _field("fo_homo_splitting_ev")
    fo_lumo_splitting_ev: float | None = _field("fo_lumo_splitting_ev")
    homo_participation_ratio: float | None = _field("homo_participation_ratio")
    lumo_participation_ratio: float | None = _field("lumo_participation_ratio")
    homo_fragment_weights: dict[str, float]
    lumo_fragment_weights: dict[str, float]
    notes: list[str] = Field(
        default_factory=list,
        description="why numbers that look alike differ here (e.g. two-level vs correlated)")


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
