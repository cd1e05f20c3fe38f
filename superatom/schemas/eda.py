"""Stored document of an energy decomposition (Ziegler-Rauk EDA with ETS-NOCV).

Energies are stored in Hartree (``*_ha``); :meth:`EDADoc.summary` gives the kcal/mol view
that EDA papers use.

Examples
--------
>>> t = EDATerms(e_int_ha=-0.05, e_elstat_ha=-0.1, e_pauli_ha=0.12, e_orb_ha=-0.07,
...              e_disp_ha=0.0, e_solv_ha=0.0, e_frozen_ha=-0.2, e_orb_ets_ha=-0.071)
>>> round(t.ets_error_ha, 6), abs(t.residual_ha) < 1e-12
(-0.001, True)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from superatom import HARTREE_TO_EV, HARTREE_TO_KCAL_MOL
from superatom.schemas.documents import SystemRecord


class EDATerms(BaseModel):
    """The decomposition (Hartree): elstat + Pauli + orb + disp + solv = int exactly."""

    e_int_ha: float = Field(description="E(AB) - sum of fragment energies")
    e_elstat_ha: float = Field(description="classical Coulomb energy of the frozen fragments")
    e_pauli_ha: float = Field(description="E(P_0) - sum E(f) - elstat - disp - solv")
    e_orb_ha: float = Field(description="E(AB) - E(P_0), promolecule to assembly")
    e_disp_ha: float = Field(0.0, description="change of the empirical dispersion energy")
    e_solv_ha: float = Field(0.0, description="C-PCM free-energy change, frozen step")
    e_frozen_ha: float = Field(description="E(P_frz) - sum E(f): superposition, not antisymm.")
    e_orb_ets_ha: float = Field(description="sum of the NOCV pair energies, Tr(F_TS dP)")

    @property
    def ets_error_ha(self) -> float:
        """Transition-state error of the ETS sum (``e_orb_ets - e_orb``)."""
        return self.e_orb_ets_ha - self.e_orb_ha

    @property
    def residual_ha(self) -> float:
        """``elstat + pauli + orb + disp + solv - int`` (zero up to rounding)."""
        return (self.e_elstat_ha + self.e_pauli_ha + self.e_orb_ha + self.e_disp_ha
                + self.e_solv_ha - self.e_int_ha)


class NOCVPair(BaseModel):
    """One NOCV pair (+nu, -nu) with its ETS energy and where its charge goes."""

    k: int = Field(description="rank within its spin channel by nu (1 = largest)")
    spin: str
    nu: float = Field(description="eigenvalue of the pair (electrons moved)")
    e_ha: float = Field(description="ETS energy nu (F_TS[k,k] - F_TS[-k,-k])")
    pairing_error: float = Field(description="nu_plus + nu_minus (zero for an exact pair)")
    charge_flow: dict[str, float] = Field(
        description="electrons gained per fragment, nu (w_f(psi_k) - w_f(psi_-k)), Lowdin")
    from_fragments: list[str] = Field(description="fragments the pair takes charge from")
    to_fragments: list[str] = Field(description="fragments the pair gives charge to (both "
                                    "empty: no net transfer between fragments)")
    element_flow: dict[str, float] = Field(
        default_factory=dict, description="electrons gained per element, as charge_flow")
    from_elements: list[str] = Field(default_factory=list,
                                     description="elements the pair takes charge from")
    to_elements: list[str] = Field(default_factory=list,
                                   description="elements the pair gives charge to")
    fragment_weights_plus: dict[str, float]
    fragment_weights_minus: dict[str, float]
    element_weights_plus: dict[str, float]
    element_weights_minus: dict[str, float]


def pair_route(pair: NOCVPair | dict[str, Any]) -> str:
    """``'NH3 -> BH3'`` for a pair that moves charge between fragments, else its elements in
    brackets (``'[O -> Mo]'``: a symmetric channel with no net transfer between fragments).

    Examples
    --------
    >>> pair_route({"from_fragments": [], "to_fragments": [], "from_elements": ["O"],
    ...             "to_elements": ["Mo"]})
    '[O -> Mo]'
    """
    get = pair.get if isinstance(pair, dict) else lambda key: getattr(pair, key)
    if get("from_fragments") or get("to_fragments"):
        return f"{','.join(get('from_fragments')) or '-'} -> {','.join(get('to_fragments')) or '-'}"
    givers, takers = get("from_elements") or [], get("to_elements") or []
    return f"[{','.join(givers) or '-'} -> {','.join(takers) or '-'}]"


class EDADoc(SystemRecord):
    """Energy decomposition of an assembly into its fragments, with its NOCV channels."""

    doc_type: str = "eda"
    method: str
    settings: dict[str, Any]
    fragments: list[str]
    fragment_charges: dict[str, int]
    fragment_multiplicities: dict[str, int]
    fragment_labels: list[str] = Field(description="fragment of every assembly atom")
    terms: EDATerms
    pairs: list[NOCVPair] = Field(description="NOCV pairs above the listing threshold")
    e_assembly_ha: float
    e_fragments_ha: dict[str, float]
    functional_check_ha: float = Field(
        description="E[P_AB] from the functional minus the assembly's SCF energy")
    solvent_steps_ha: dict[str, float] | None = Field(
        None, description="solvent free-energy change of the frozen, Pauli and orbital steps")
    basis_convention: str
    spin_convention: str
    solvent_convention: str
    assembly_uuid: str | None = None
    fragment_uuids: dict[str, str | None] = Field(default_factory=dict)
    fragment_input_hashes: dict[str, str] = Field(default_factory=dict)
    assembly_input_hash: str = ""
    device: str
    device_name: str
    timings: dict[str, float]
    versions: dict[str, str]

    def summary(self, n_pairs: int | None = None) -> dict[str, Any]:
        """kcal/mol view with units in the keys (the ``superatom eda --json`` output)."""
        t = self.terms
        kcal = HARTREE_TO_KCAL_MOL
        pairs = sorted(self.pairs, key=lambda p: p.e_ha)[:n_pairs]
        return {
            "name": self.name,
            "formula": self.formula_pretty,
            "method": self.method,
            "fragments": self.fragments,
            "e_int_kcal_mol": t.e_int_ha * kcal,
            "e_elstat_kcal_mol": t.e_elstat_ha * kcal,
            "e_pauli_kcal_mol": t.e_pauli_ha * kcal,
            "e_orb_kcal_mol": t.e_orb_ha * kcal,
            "e_disp_kcal_mol": t.e_disp_ha * kcal,
            "e_solv_kcal_mol": t.e_solv_ha * kcal,
            "e_frozen_kcal_mol": t.e_frozen_ha * kcal,
            "e_orb_ets_kcal_mol": t.e_orb_ets_ha * kcal,
            "ets_error_kcal_mol": t.ets_error_ha * kcal,
            "e_int_ev": t.e_int_ha * HARTREE_TO_EV,
            "pairs": [{"nu": p.nu, "spin": p.spin, "e_kcal_mol": p.e_ha * kcal,
                       "e_ev": p.e_ha * HARTREE_TO_EV, "from_fragments": p.from_fragments,
                       "to_fragments": p.to_fragments, "charge_flow_e": p.charge_flow,
                       "from_elements": p.from_elements, "to_elements": p.to_elements,
                       "route": pair_route(p)}
                      for p in pairs],
            "conventions": {"basis": self.basis_convention, "spin": self.spin_convention,
                            "solvent": self.solvent_convention},
            "uuid": self.job_uuid,
        }
