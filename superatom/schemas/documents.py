"""Pydantic task documents stored by superatom jobs (eV and Angstrom at this edge)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from superatom.names import check_name
from superatom.schemas.arrays import StoredArray


def analysis_versions() -> dict[str, str]:
    """Versions of the codes an analysis document depends on."""
    import platform

    import numpy
    import scipy

    import superatom

    return {"superatom": superatom.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "python": platform.python_version()}


class OrbitalData(BaseModel):
    """Large arrays of one SCF, kept in the JobStore's ``data`` store (Hartree, AO basis).

    Spin-resolved arrays carry a leading axis of 2 for open shells.
    """

    mo_coeff: StoredArray
    mo_energy: StoredArray
    mo_occ: StoredArray
    overlap: StoredArray
    fock: StoredArray
    ao_atom: StoredArray
    ao_l: StoredArray
    ao_labels: list[str]

    @classmethod
    def from_arrays(cls, **arrays: Any) -> OrbitalData:
        labels = list(arrays.pop("ao_labels"))
        return cls(ao_labels=labels, **{k: StoredArray.from_array(v) for k, v in arrays.items()})

    def arrays(self) -> dict[str, np.ndarray]:
        """All arrays as numpy, keyed by field name (``ao_labels`` excluded)."""
        return {
            name: getattr(self, name).to_array()
            for name in type(self).model_fields
            if name != "ao_labels"
        }


class OrbitalLevel(BaseModel):
    """One orbital of the frontier window with its composition."""

    label: str = Field(description="HOMO, HOMO-1, LUMO, LUMO+1, ... (alpha/beta suffix if UKS)")
    spin: str = Field(description="'restricted', 'alpha' or 'beta'")
    index: int
    energy_ev: float
    occupation: float
    fragment_weights: dict[str, float] = Field(default_factory=dict)
    element_weights: dict[str, float] = Field(default_factory=dict)
    participation_ratio: float | None = None


LABEL_KEYS = ("name", "system_class", "campaign", "n_units")
#: molecule properties copied into a document's tags (e.g. the Ti10Cu2 model says it is one)
PROVENANCE_KEYS = ("model", "provenance")
LABEL_LENGTH = 200  # a user's name (<= 120) plus what campaigns add ("h2-1 (xTB relax)")


def formula_name(composition) -> str:
    """Default name of a molecule: its reduced formula when that counts exactly its atoms,
    else its Hill formula (OH- is 'HO', not pymatgen's peroxide-style 'H2O2').

    Examples
    --------
    >>> from pymatgen.core import Composition
    >>> [formula_name(Composition(f)) for f in ("OH", "H2O", "H")]
    ['HO', 'H2O', 'H']
    """
    from pymatgen.core import Composition

    reduced = composition.reduced_formula
    if Composition(reduced) == composition:
        return reduced
    return composition.hill_formula.replace(" ", "")


def molecule_metadata(molecule) -> dict[str, Any]:
    """The ecosystem's molecule metadata of ``molecule``, computed with pymatgen.

    Same names and definitions as emmet-core's ``MoleculeMetadata`` (used by atomate2's
    molecule task documents), without emmet-core itself: its ``from_molecule`` always runs a
    point-group analysis (0.7 s for a 125-atom POM dimer, against 4 ms here) and the package
    pins recent pymatgen-core and pydantic releases and pulls pybtex, blake3 and pubchempy.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> water = Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.76, 0.59], [0, -0.76, 0.59]])
    >>> meta = molecule_metadata(water)
    >>> meta["formula_pretty"], meta["formula_alphabetical"], meta["chemsys"], meta["natoms"]
    ('H2O', 'H2 O1', 'H-O', 3)
    """
    comp = molecule.composition
    elements = sorted({el.symbol for el in comp.elements})
    return {
        "formula_pretty": comp.reduced_formula,
        "formula_alphabetical": comp.alphabetical_formula,
        "composition": {el: float(n) for el, n in comp.as_dict().items()},
        "chemsys": "-".join(elements),
        "elements": elements,
        "nelements": len(elements),
        "natoms": len(molecule),
        "charge": round(molecule.charge),
        "spin_multiplicity": int(molecule.spin_multiplicity),
    }


class SystemRecord(BaseModel):
    """Which system a stored result is about: identity, labels and geometry (Angstrom).

    The identity fields are emmet's molecule metadata (``formula_pretty``,
    ``formula_alphabetical``, ``composition``, ``chemsys``, ``charge``, ``spin_multiplicity``,
    ``nelements``, ``natoms``); ``formula`` (site order), ``reduced_formula``, ``n_atoms`` and
    ``multiplicity`` are kept for results stored before them, whose missing metadata is
    filled in from their ``molecule`` on reading.
    """

    doc_type: str = "system"
    job_uuid: str | None = None
    name: str = ""
    formula_pretty: str
    formula_alphabetical: str
    composition: dict[str, float]
    chemsys: str
    elements: list[str]
    nelements: int
    natoms: int
    charge: int
    spin_multiplicity: int
    formula: str
    reduced_formula: str
    n_atoms: int
    multiplicity: int
    system_class: str | None = None
    campaign: str | None = None
    n_units: int | None = None
    tags: dict[str, Any] = Field(default_factory=dict)
    molecule: dict[str, Any] = Field(description="pymatgen Molecule.as_dict(), Angstrom")
    input_hash: str
    reused_from: str | None = None
    aliases: list[str] = Field(default_factory=list, description="labels it was reused under")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @model_validator(mode="before")
    @classmethod
    def _fill_metadata(cls, data: Any) -> Any:
        """Give a result stored before the metadata fields existed its metadata."""
        if isinstance(data, dict) and "formula_pretty" not in data and "molecule" in data:
            from pymatgen.core import Molecule

            mol = data["molecule"]
            mol = mol if isinstance(mol, Molecule) else Molecule.from_dict(mol)
            data = {**molecule_metadata(mol), **data}
        return data

    @staticmethod
    def describe(molecule, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """Identity fields of ``molecule`` plus the labels (and free tags) in ``metadata``."""
        props = getattr(molecule, "properties", None) or {}
        meta = {key: props[key] for key in PROVENANCE_KEYS if key in props}  # model geometries
        meta.update(metadata or {})
        labels = {key: meta.pop(key, None) for key in LABEL_KEYS}
        for key in ("name", "campaign"):
            if labels[key] is not None:
                labels[key] = check_name(labels[key], key, limit=LABEL_LENGTH)
        identity = molecule_metadata(molecule)
        return {
            **labels,
            "name": labels["name"] or formula_name(molecule.composition),
            "tags": meta,
            **identity,
            "formula": molecule.composition.formula.replace(" ", ""),
            "reduced_formula": identity["formula_pretty"],
            "n_atoms": identity["natoms"],
            "multiplicity": identity["spin_multiplicity"],
            "molecule": molecule.as_dict(),
        }

    @field_validator("molecule", mode="before")
    @classmethod
    def _molecule_as_dict(cls, value: Any) -> Any:
        """Accept a pymatgen Molecule (as decoded by monty) as well as its dict."""
        return value.as_dict() if hasattr(value, "as_dict") else value

    def to_molecule(self):
        """The pymatgen ``Molecule`` (Angstrom) this result was computed for."""
        from pymatgen.core import Molecule

        return Molecule.from_dict(self.molecule)


class FrontierOrbitalDoc(SystemRecord):
    """Frontier-orbital result of one system, with everything needed to reproduce it."""

    doc_type: str = "frontier_orbitals"

    fragments: list[str] = Field(default_factory=list)

    method: str = Field(description="'UKS-PBE0/def2-svp C-PCM(78.4)' style summary")
    preset: str | None = Field(None, description="settings preset the job started from")
    spin_treatment: str
    scf_multiplicity: int | None = Field(
        None, description="2S+1 the SCF ran with: spin_multiplicity less the unpaired 4f "
        "electrons a 4f-in-core ECP holds (None: results stored before it, = spin_multiplicity)")
    settings: dict[str, Any]
    memory: dict[str, Any] = Field(
        default_factory=dict,
        description="memory budget (MB) the SCF ran with, its split between the PCM "
                    "integral cache and the DF tensor, and the PCM integral route")
    basis_by_element: dict[str, str]
    ecp_by_element: dict[str, str]
    n_electrons: int
    n_core_ecp: int
    nao: int
    nmo: int | None = Field(None, description="molecular orbitals kept (< nao when the GPU "
                            "drops near-linearly-dependent AO combinations)")

    e_tot_ha: float
    e_tot_ev: float
    solvent_energy_ha: float | None = None
    homo_ev: float | None
    lumo_ev: float | None
    gap_ev: float | None
    homo_alpha_ev: float | None = None
    lumo_alpha_ev: float | None = None
    gap_alpha_ev: float | None = None
    homo_beta_ev: float | None = None
    lumo_beta_ev: float | None = None
    gap_beta_ev: float | None = None
    spin_square: float | None = None

    orbital_energies_ev: list[float] | list[list[float]]
    occupations: list[float] | list[list[float]]
    frontier: list[OrbitalLevel] = Field(default_factory=list)
    composition_method: str = "mulliken"

    converged: bool
    scf_guess: str = Field(
        "minao", description="'minao', 'atom' (atomic SCF densities: closed shells with "
        "explicit-4f lanthanides), 'sap', 'superposition' (of monomers), 'checkpoint' or 'user'"
    )
    scf_cycles: int
    scf_attempts: list[dict[str, Any]]
    scf_state: dict[str, Any] = Field(
        default_factory=dict, description="state reached: electrons per spin, aufbau, <S^2>")
    device: str
    fallback_reason: str | None = Field(
        None, description="why a device=auto job meant for the GPU ran on the CPU")
    device_name: str
    timings: dict[str, float]
    versions: dict[str, str]

    orbitals: OrbitalData | None = Field(
        None, description="MO coefficients, overlap, Fock (data store)"
    )
