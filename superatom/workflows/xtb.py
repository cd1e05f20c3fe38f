"""Makers of the GFN-xTB tier: frontier levels (``XtbFrontierMaker``) and relaxation
(``XtbRelaxMaker``); the tblite calls themselves live in :mod:`superatom.engine.xtb`.

atomate2 is not a dependency. Its ``GFNxTBRelaxMaker`` (0.1.5) defaults to GFN1-xTB and
``relax_cell=True``, and ``AseAtomsAdaptor`` does not carry ``Molecule.charge`` or the
multiplicity into the ASE atoms, so with its default ``charge=None`` tblite computes the
*neutral* species of every polyoxometalate anion. Configured per molecule it would do what
:class:`XtbRelaxMaker` already does through the engine (GFN2-xTB, explicit charge and
multiplicity, fixed cell), while pulling in atomate2 and its pinned emmet/pymatgen stack for
one adapter function. The molecule metadata of the stored documents follows emmet-core's
names (see :func:`superatom.schemas.documents.molecule_metadata`).

Examples
--------
>>> XtbFrontierMaker(relax=True).make.__name__
'make'
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from jobflow import CURRENT_JOB, JobConfig, Maker, job
from pymatgen.core import Molecule

from superatom.db.reuse import find_reusable, reuse_record
from superatom.engine.xtb import relax_xtb, xtb_frontier, xtb_versions
from superatom.engine.xtb_scope import parse_solvation, xtb_applicable
from superatom.errors import InputError
from superatom.schemas.hashing import xtb_input_hash
from superatom.schemas.xtb import XTB_METHOD, XtbFrontierDoc
from superatom.structures.io import as_molecule

__all__ = ["XtbFrontierMaker", "XtbRelaxMaker"]


@dataclass
class XtbFrontierMaker(Maker):
    """GFN2-xTB frontier levels, optionally after a GFN2-xTB relaxation (``relax=True``).

    ``solvation``: ``"auto"`` (GBSA water for polyoxometalate-like anions), ``"none"`` or
    ``"gbsa:<solvent>"``. Systems outside the tier's scope (substituted or Ln/Ca-linked
    polyoxometalates, lanthanides) are refused with an ``InputError`` that says to use DFT.
    """

    name: str = "xtb frontier"
    relax: bool = False
    solvation: str = "auto"
    fmax: float = 0.05
    max_steps: int = 300
    reuse: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)

    def check_scope(self, molecule: Molecule) -> None:
        """InputError (saying to use DFT) unless the tier may compute ``molecule``; flow
        Makers call it when they are built, before anything runs."""
        applicable, reason = xtb_applicable(as_molecule(molecule))
        if not applicable:
            raise InputError(reason)

    @job(output_schema=XtbFrontierDoc, config=JobConfig(expose_store=True))
    def make(self, molecule: Molecule) -> XtbFrontierDoc:
        """Compute (or reuse) the xTB frontier levels of ``molecule``."""
        molecule = as_molecule(molecule)
        self.check_scope(molecule)
        solvation, _ = parse_solvation(self.solvation, molecule)
        digest = xtb_input_hash(molecule, self.relax, solvation)
        job_uuid = CURRENT_JOB.job.uuid if CURRENT_JOB.job else None
        store = getattr(CURRENT_JOB, "store", None)
        labels = XtbFrontierDoc.describe(molecule, self.metadata)
        previous = find_reusable(store, digest) if self.reuse else None
        if previous is not None:
            return reuse_record(XtbFrontierDoc, previous, labels, store, job_uuid)
        start = time.perf_counter()
        relax_info: dict[str, Any] = {}
        geometry = molecule
        if self.relax:
            geometry, relax_info = relax_xtb(molecule, fmax=self.fmax, steps=self.max_steps)
        levels = xtb_frontier(geometry, solvation=solvation)
        phase = "gas phase" if solvation == "none" else solvation.replace(":", " ")
        return XtbFrontierDoc(
            **{**labels, "molecule": geometry.as_dict()},
            job_uuid=job_uuid,
            method=f"{XTB_METHOD} ({phase})",
            settings={"xc": XTB_METHOD, "basis": None, "solvent": solvation},
            e_tot_ha=levels["energy_ha"],
            homo_ev=levels["homo_ev"],
            lumo_ev=levels["lumo_ev"],
            gap_ev=levels["gap_ev"],
            orbital_energies_ev=levels["orbital_energies_ev"],
            occupations=levels["occupations"],
            relaxed=self.relax,
            relax_info=relax_info,
            timings={"xtb_s": levels["wall_s"], "total_s": time.perf_counter() - start},
            versions=xtb_versions(),
            input_hash=digest,
        )


@dataclass
class XtbRelaxMaker(Maker):
    """jobflow Maker: ``XtbRelaxMaker().make(molecule)`` -> {"molecule", "info"}.

    Examples
    --------
    >>> from superatom.structures.lindqvist import build_lindqvist
    >>> XtbRelaxMaker(steps=5).make(build_lindqvist()).name
    'xtb pre-relax'
    """

    name: str = "xtb pre-relax"
    fmax: float = 0.05
    steps: int = 200
    method: str = "GFN2-xTB"

    @job
    def make(self, molecule):
        """Relax ``molecule``; the output holds the relaxed Molecule and the info dict."""
        relaxed, info = relax_xtb(molecule, fmax=self.fmax, steps=self.steps, method=self.method)
        return {"molecule": relaxed, "info": info}
