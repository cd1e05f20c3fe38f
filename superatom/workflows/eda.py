"""Energy-decomposition job: assembly with fragment labels + settings -> stored
:class:`EDADoc` (Ziegler-Rauk terms and ETS-NOCV pairs; see :mod:`superatom.engine.eda`).

Inside :class:`~superatom.workflows.interaction.InteractionFlowMaker` the decomposition takes
the fragment and assembly SCFs the flow has already run (their stored orbitals), so it costs
a few Fock builds of the assembly; on its own (:func:`compute_eda`, ``superatom eda``) it runs
them. An identical input (geometry, settings, fragment partition, charges, spins) is reused
from the store by its input hash.

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.calc_settings import load_preset
>>> h4 = Molecule(["H"] * 4, [[0, 0, 0], [0, 0, 0.74], [0, 0, 2.0], [0, 0, 2.74]],
...               site_properties={"fragment": ["A", "A", "B", "B"]})
>>> doc = compute_eda(h4, load_preset("fast", basis="sto-3g", device="cpu"))[0]
>>> doc.doc_type, doc.terms.e_pauli_ha > 0, abs(doc.terms.residual_ha) < 1e-10
('eda', True, True)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from jobflow import CURRENT_JOB, JobConfig, job
from pymatgen.core import Molecule

from superatom.analysis.eda import eda_pairs, eda_terms
from superatom.analysis.embedding import map_atoms
from superatom.calc_settings import CalcSettings, as_settings
from superatom.db.reuse import find_reusable, reuse_record, with_arrays
from superatom.engine.eda import EDAResult, SCFState, run_eda
from superatom.schemas.documents import FrontierOrbitalDoc
from superatom.schemas.eda import EDADoc
from superatom.schemas.hashing import eda_input_hash, input_hash
from superatom.schemas.registry import parse_document
from superatom.structures.io import as_molecule
from superatom.workflows.fragments import fragment_labels, split_fragments
from superatom.workflows.frontier import method_summary


def fragment_partition(fragments: dict[str, Molecule]) -> tuple[dict[str, int], dict[str, int]]:
    """Charges and multiplicities of the fragments, by name."""
    return ({n: round(m.charge) for n, m in fragments.items()},
            {n: int(m.spin_multiplicity) for n, m in fragments.items()})


def eda_hash(assembly: Molecule, settings: CalcSettings, fragments: dict[str, Molecule]) -> str:
    """Input hash of the decomposition of ``assembly`` into ``fragments``."""
    charges, mults = fragment_partition(fragments)
    return eda_input_hash(assembly, settings, fragment_labels(assembly), charges, mults)


def build_eda_doc(assembly: Molecule, fragments: dict[str, Molecule], settings: CalcSettings,
                  result: EDAResult, metadata: dict[str, Any] | None = None,
                  links: dict[str, Any] | None = None) -> EDADoc:
    """The stored document of one decomposition (energies in Hartree)."""
    labels = fragment_labels(assembly)
    charges, mults = fragment_partition(fragments)
    elements = [site.specie.symbol for site in assembly]
    return EDADoc(
        **EDADoc.describe(assembly, metadata),
        input_hash=eda_hash(assembly, settings, fragments),
        method="EDA/ETS-NOCV " + method_summary(settings, "RKS" if result.restricted else "UKS"),
        settings=settings.model_dump(),
        fragments=result.fragment_names,
        fragment_charges=charges,
        fragment_multiplicities=mults,
        fragment_labels=labels,
        terms=eda_terms(result),
        pairs=eda_pairs(result, labels, elements),
        e_assembly_ha=result.e_assembly,
        e_fragments_ha=result.e_fragments,
        functional_check_ha=result.functional_check,
        solvent_steps_ha=result.solvent_steps,
        basis_convention=result.basis_convention,
        spin_convention=result.spin_convention,
        solvent_convention=result.solvent_convention,
        assembly_input_hash=input_hash(assembly, settings),
        fragment_input_hashes={n: input_hash(m, settings) for n, m in fragments.items()},
        device=result.device,
        device_name=result.device_name,
        timings={"eda_s": result.wall_s},
        versions=result.versions,
        **(links or {}),
    )


def compute_eda(
    assembly: Molecule | Any,
    settings: CalcSettings | str = "screening",
    fragment_charges: dict[str, int] | None = None,
    fragment_multiplicities: dict[str, int] | None = None,
    metadata: dict[str, Any] | None = None,
    fragment_results: dict[str, Any] | None = None,
    assembly_result: Any | None = None,
    links: dict[str, Any] | None = None,
) -> tuple[EDADoc, EDAResult]:
    """Decompose ``assembly`` (with a ``fragment`` label on every atom) outside any workflow.

    Fragments are cut by their labels (charges and multiplicities as
    :func:`~superatom.workflows.fragments.split_fragments`); converged SCFs given in
    ``fragment_results`` / ``assembly_result`` are used, the others run here. Returns the
    document and the engine's result (NOCV vectors for cubes).
    """
    start = time.perf_counter()
    assembly = as_molecule(assembly)
    settings = as_settings(settings)
    fragments = split_fragments(assembly, fragment_charges, fragment_multiplicities)
    result = run_eda(assembly, fragments, fragment_labels(assembly), settings,
                     fragment_results=fragment_results, assembly_result=assembly_result)
    doc = build_eda_doc(assembly, fragments, settings, result, metadata, links)
    doc.timings["total_s"] = time.perf_counter() - start
    return doc, result


def labelled_assembly(assembly: Molecule, fragments: dict[str, Molecule]) -> Molecule:
    """``assembly`` with the ``fragment`` label of the fragment each atom sits in (a relaxed
    geometry may come back without labels; the fragments were cut from it)."""
    if assembly.site_properties.get("fragment"):
        return assembly
    labels = [""] * len(assembly)
    used = np.zeros(len(assembly), bool)
    for name, piece in fragments.items():
        atoms = map_atoms(piece, assembly, used)[0]
        used[atoms] = True
        for atom in atoms:
            labels[int(atom)] = name
    out = assembly.copy()
    out.add_site_property("fragment", labels)
    return out


def state_of(doc: FrontierOrbitalDoc) -> SCFState:
    """The converged SCF a stored frontier document holds (arrays needed)."""
    arrays = doc.orbitals.arrays()
    return SCFState(doc.e_tot_ha, arrays["mo_coeff"], arrays["mo_occ"], arrays["ao_atom"],
                    doc.solvent_energy_ha)


@job(output_schema=EDADoc, config=JobConfig(expose_store=True))
def eda_analysis(monomer_docs: list[Any], assembly_doc: Any, settings: CalcSettings,
                 name: str = "", campaign: str | None = None, system_class: str | None = None,
                 reuse: bool = True) -> EDADoc:
    """Energy decomposition of a flow's assembly from its converged fragment and assembly
    SCFs (no new SCF); a stored identical decomposition is reused."""
    store = getattr(CURRENT_JOB, "store", None)
    monomers = [parse_document(d) for d in monomer_docs]
    whole = parse_document(assembly_doc)
    assembly, fragments = stored_partition(monomers, whole)
    metadata = {"name": name or whole.name, "campaign": campaign, "system_class": system_class}
    job_uuid = CURRENT_JOB.job.uuid if CURRENT_JOB.job else None
    digest = eda_hash(assembly, settings, fragments)
    previous = find_reusable(store, digest) if reuse else None
    if previous is not None:
        return reuse_record(EDADoc, previous, EDADoc.describe(assembly, metadata), store,
                            job_uuid)
    links = {"assembly_uuid": whole.job_uuid,
             "fragment_uuids": {n: d.job_uuid for n, d in zip(fragments, monomers,
                                                              strict=True)}}
    monomers = [parse_document(with_arrays(store, d)) for d in monomers]  # arrays only now
    whole = parse_document(with_arrays(store, whole))
    result = eda_of_documents(monomers, whole, settings)
    doc = build_eda_doc(assembly, fragments, settings, result, metadata, links)
    doc.job_uuid = job_uuid
    return doc


def stored_partition(monomers: list[FrontierOrbitalDoc], whole: FrontierOrbitalDoc
                     ) -> tuple[Molecule, dict[str, Molecule]]:
    """The labelled assembly and its fragments (by name) of stored frontier documents."""
    fragments = {fragment_labels(m)[0]: m for m in
                 (Molecule.from_dict(d.molecule) for d in monomers)}
    return labelled_assembly(Molecule.from_dict(whole.molecule), fragments), fragments


def eda_of_documents(monomers: list[FrontierOrbitalDoc], whole: FrontierOrbitalDoc,
                     settings: CalcSettings) -> EDAResult:
    """The decomposition from stored converged SCFs (with arrays): no SCF is run."""
    assembly, fragments = stored_partition(monomers, whole)
    states = {n: state_of(d) for n, d in zip(fragments, monomers, strict=True)}
    return run_eda(assembly, fragments, fragment_labels(assembly), settings,
                   fragment_results=states, assembly_result=state_of(whole))


def eda_refusal(assembly: Molecule, fragments: dict[str, Molecule],
                settings: CalcSettings) -> str | None:
    """Why these fragments cannot be decomposed with these settings (one line), or None.

    Examples
    --------
    >>> from superatom.calc_settings import load_preset
    >>> h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    >>> atoms = {"A": Molecule(["H"], [[0, 0, 0]]), "B": Molecule(["H"], [[0, 0, 0.74]])}
    >>> eda_refusal(h2, atoms, load_preset("fast"))
    'open-shell fragments in a singlet assembly (spin-flipped fragments are not supported)'
    """
    if settings.solvent == "smd":
        return "SMD solvent (the decomposition takes C-PCM or gas phase)"
    if len(fragments) < 2:
        return "fewer than two fragments"
    unpaired = [m.spin_multiplicity - 1 for m in fragments.values()]
    if assembly.spin_multiplicity == 1 and any(unpaired):
        return "open-shell fragments in a singlet assembly (spin-flipped fragments are not " \
               "supported)"
    if sum(unpaired) != assembly.spin_multiplicity - 1:
        return "fragment spins do not add up (parallel) to the assembly's multiplicity"
    return None
