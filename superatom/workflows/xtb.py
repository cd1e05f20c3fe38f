"""GFN2-xTB tier (tblite): cheap frontier levels for pre-screening and for systems too big
for DFT on the machine at hand. Energies from tblite are Hartree; documents are eV.

Examples
--------
>>> from pymatgen.core import Molecule
>>> water = Molecule(["O", "H", "H"], [[0, 0, 0.117], [0, 0.757, -0.469], [0, -0.757, -0.469]])
>>> levels = xtb_frontier(water)
>>> round(levels["gap_ev"], 1) > 5
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from jobflow import CURRENT_JOB, JobConfig, Maker, job
from pydantic import Field
from pymatgen.core import Molecule

from superatom import BOHR_TO_ANGSTROM, HARTREE_TO_EV
from superatom.analysis.frontier import frontier_levels
from superatom.errors import SCFNotConvergedError
from superatom.workflows.documents import SystemRecord, find_reusable

XTB_METHOD = "GFN2-xTB"


def xtb_frontier(
    molecule: Molecule, electronic_temperature: float = 300.0, method: str = XTB_METHOD
) -> dict[str, Any]:
    """GFN-xTB single point: energy (Ha), HOMO/LUMO/gap (eV), orbital energies (eV).

    Open shells use ``uhf = multiplicity - 1`` unpaired electrons; tblite reports
    spin-summed occupations, so the frontier levels are those of the summed channel.
    """
    from tblite.interface import Calculator

    numbers = np.array([site.specie.Z for site in molecule])
    positions = np.asarray(molecule.cart_coords) / BOHR_TO_ANGSTROM
    calc = Calculator(method, numbers, positions, charge=float(molecule.charge),
                      uhf=int(molecule.spin_multiplicity) - 1)
    calc.set("verbosity", 0)
    calc.set("temperature", electronic_temperature * 3.166808578545117e-06)
    start = time.perf_counter()
    try:
        result = calc.singlepoint()
    except RuntimeError as err:
        raise SCFNotConvergedError(
            f"{method} SCC of {molecule.composition.reduced_formula} failed ({err}): check "
            "charge, multiplicity and geometry"
        ) from None
    energies = np.asarray(result.get("orbital-energies"))
    occupations = np.asarray(result.get("orbital-occupations"))
    levels = frontier_levels(energies, occupations)
    return {
        "energy_ha": float(result.get("energy")),
        "homo_ev": levels["homo_ev"],
        "lumo_ev": levels["lumo_ev"],
        "gap_ev": levels["gap_ev"],
        "orbital_energies_ev": (energies * HARTREE_TO_EV).tolist(),
        "occupations": occupations.tolist(),
        "charges": np.asarray(result.get("charges")).tolist(),
        "wall_s": time.perf_counter() - start,
    }


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


def xtb_input_hash(molecule: Molecule, relax: bool) -> str:
    """Input hash of an xTB job (geometry, charge, spin, method, relax flag, version)."""
    from superatom.calc_settings import CalcSettings
    from superatom.workflows.hashing import input_hash

    tag = CalcSettings(xc=f"{XTB_METHOD}{'+relax' if relax else ''}", basis="none", ecp=None,
                       density_fit=False, aux_basis=None)
    return input_hash(molecule, tag)


@dataclass
class XtbFrontierMaker(Maker):
    """GFN2-xTB frontier levels, optionally after a GFN2-xTB relaxation (``relax=True``)."""

    name: str = "xtb frontier"
    relax: bool = False
    fmax: float = 0.05
    max_steps: int = 300
    reuse: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)

    @job(output_schema=XtbFrontierDoc, config=JobConfig(expose_store=True))
    def make(self, molecule: Molecule) -> XtbFrontierDoc:
        """Compute (or reuse) the xTB frontier levels of ``molecule``."""
        import tblite

        import superatom

        digest = xtb_input_hash(molecule, self.relax)
        job_uuid = CURRENT_JOB.job.uuid if CURRENT_JOB.job else None
        store = getattr(CURRENT_JOB, "store", None)
        previous = find_reusable(store, digest) if self.reuse else None
        if previous is not None:
            doc = XtbFrontierDoc(**previous["output"])
            doc.reused_from = previous["uuid"]
            doc.relabel(job_uuid, self.metadata)
            return doc
        start = time.perf_counter()
        relax_info: dict[str, Any] = {}
        geometry = molecule
        if self.relax:
            from superatom.structures.relax import relax_xtb

            geometry, relax_info = relax_xtb(molecule, fmax=self.fmax, steps=self.max_steps)
        levels = xtb_frontier(geometry)
        return XtbFrontierDoc(
            **{**XtbFrontierDoc.describe(molecule, self.metadata), "molecule": geometry.as_dict()},
            job_uuid=job_uuid,
            e_tot_ha=levels["energy_ha"],
            homo_ev=levels["homo_ev"],
            lumo_ev=levels["lumo_ev"],
            gap_ev=levels["gap_ev"],
            orbital_energies_ev=levels["orbital_energies_ev"],
            occupations=levels["occupations"],
            relaxed=self.relax,
            relax_info=relax_info,
            timings={"xtb_s": levels["wall_s"], "total_s": time.perf_counter() - start},
            versions={"superatom": superatom.__version__,
                      "tblite": getattr(tblite, "__version__", "unknown")},
            input_hash=digest,
        )
