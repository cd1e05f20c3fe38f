"""TDA excitations job: Molecule + settings -> stored :class:`TdaDoc`.

The ground state is converged with the engine's fallback ladder on the one Mole this job
builds, and an identical input (same geometry, settings and number of states) is reused from
the store by its input hash.

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.calc_settings import load_preset
>>> water = Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.757, 0.587], [0, -0.757, 0.587]])
>>> TdaMaker(settings=load_preset("fast"), nstates=3).make(water).name
'tda'
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from jobflow import CURRENT_JOB, JobConfig, Maker, job
from pymatgen.core import Molecule

from superatom import engine
from superatom.calc_settings import CalcSettings
from superatom.db.reuse import find_reusable, reuse_record
from superatom.schemas.hashing import tda_input_hash
from superatom.schemas.levels import frontier_levels
from superatom.schemas.tda import Excitation, TdaDoc
from superatom.structures.io import as_molecule
from superatom.workflows.frontier import resolve_maker_settings


def compute_tda(molecule: Molecule, settings: CalcSettings, nstates: int,
                metadata: dict[str, Any] | None = None) -> TdaDoc:
    """Run ground state + TDA through the engine and build the document (eV)."""
    start = time.perf_counter()
    mol = engine.build_mole(molecule, settings)
    raw = engine.run_tda(molecule, settings, nstates=nstates, mol=mol)
    spin_treatment = "RKS" if raw["restricted"] else "UKS"
    return TdaDoc(
        **TdaDoc.describe(molecule, metadata),
        input_hash=tda_input_hash(molecule, settings, nstates),
        method=f"TDA-{spin_treatment}-{settings.method_label()}",
        spin_treatment=spin_treatment,
        settings=settings.model_dump(),
        nstates=nstates,
        excitations=[Excitation(energy_ev=e, oscillator_strength=f) for e, f in
                     zip(raw["energies_ev"], raw["oscillator_strengths"], strict=True)],
        converged=raw["converged"],
        e_tot_ha=raw["e_tot"],
        ks_gap_ev=frontier_levels(raw["mo_energy"], raw["mo_occ"])["gap_ev"],
        scf_cycles=raw["cycles"],
        scf_attempts=raw["attempts"],
        device=raw["device"],
        device_name=raw["device_name"],
        fallback_reason=raw.get("fallback_reason"),
        timings={"scf_s": raw["scf_s"], "tda_s": raw["wall_s"] - raw["scf_s"],
                 "total_s": time.perf_counter() - start},
        versions=raw["versions"],
    )


@dataclass
class TdaMaker(Maker):
    """Maker of a TDA job (lowest singlet or spin-conserving excitations).

    Parameters
    ----------
    settings : CalcSettings
        Resolved settings of the ground state (else from ``preset`` + ``settings_overrides``,
        merged once at construction).
    nstates : int
        Number of excited states.
    reuse : bool
        Return the stored result of an identical input instead of recomputing it.
    ground_state_uuid : str, optional
        Stored frontier result the geometry and settings came from (recorded in the doc).
    """

    name: str = "tda"
    settings: CalcSettings | None = None
    preset: str | None = None
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    nstates: int = 5
    reuse: bool = True
    ground_state_uuid: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        resolve_maker_settings(self)

    @job(output_schema=TdaDoc, config=JobConfig(expose_store=True))
    def make(self, molecule: Molecule) -> TdaDoc:
        """Compute (or reuse) the TDA excitations of ``molecule``."""
        molecule = as_molecule(molecule)
        job_uuid = CURRENT_JOB.job.uuid if CURRENT_JOB.job else None
        digest = tda_input_hash(molecule, self.settings, self.nstates)
        store = getattr(CURRENT_JOB, "store", None)
        previous = find_reusable(store, digest) if self.reuse else None
        if previous is not None:
            labels = TdaDoc.describe(molecule, self.metadata)
            doc = reuse_record(TdaDoc, previous, labels, store, job_uuid)
        else:
            doc = compute_tda(molecule, self.settings, self.nstates, self.metadata)
            doc.job_uuid = job_uuid
        doc.ground_state_uuid = self.ground_state_uuid or doc.ground_state_uuid
        return doc
