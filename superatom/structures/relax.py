"""GFN2-xTB pre-relaxation (tblite) of built structures, as a function and a jobflow job.

Why not atomate2's ``GFNxTBRelaxMaker`` as is: in atomate2 0.1.5 it defaults to GFN1-xTB and
``relax_cell=True``, and ``AseAtomsAdaptor`` does not carry ``Molecule.charge`` or the
multiplicity into the ASE atoms, so with its default ``charge=None`` tblite computes the
*neutral* species (a 2- Lindqvist would be relaxed as neutral W6O19); its output Molecule also
comes back with charge 0. :func:`gfnxtb_relax_maker` therefore returns an atomate2 maker
configured per molecule (GFN2-xTB, explicit charge and multiplicity, no cell relaxation) for
atomate2 flows, while :func:`relax_xtb` drives tblite's ASE calculator with an ASE optimiser
directly, so that it can report convergence and the step count, restore charge, multiplicity
and fragment labels, and add xTB frontier orbitals from a final single point.

Examples
--------
>>> from superatom.structures.lindqvist import build_lindqvist
>>> mol, info = relax_xtb(build_lindqvist("Mo"), steps=2)
>>> mol.charge, info["steps"] <= 2, info["gap_ev"] > 2
(-2, True, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from jobflow import Maker, job

from superatom import HARTREE_TO_EV
from superatom.errors import InputError

__all__ = ["XtbRelaxMaker", "gfnxtb_relax_maker", "relax_xtb"]



def _check(molecule) -> None:
    if max(site.specie.Z for site in molecule) > 86:
        raise InputError("GFN2-xTB covers elements up to Rn (Z <= 86)")


def relax_xtb(
    molecule,
    fmax: float = 0.05,
    steps: int = 200,
    method: str = "GFN2-xTB",
    optimizer: str = "BFGS",
):
    """Relax ``molecule`` with GFN-xTB (tblite) and an ASE optimiser.

    Parameters
    ----------
    molecule
        pymatgen Molecule (Angstrom) with charge and spin multiplicity set.
    fmax
        Force convergence threshold, eV/Angstrom.
    steps
        Maximum optimiser steps (0: single point only).
    method
        ``"GFN2-xTB"`` (default) or ``"GFN1-xTB"``.
    optimizer
        ``"BFGS"``, ``"FIRE"`` or ``"LBFGS"`` (ase.optimize).

    Returns
    -------
    (Molecule, dict)
        Relaxed molecule (same charge, multiplicity, fragment labels and atom order) and info:
        ``energy_ev``, ``converged``, ``steps``, ``fmax_ev_per_a``, ``homo_ev``, ``lumo_ev``,
        ``gap_ev``, ``method``, ``wall_s``.
    """
    import ase.optimize
    from tblite.ase import TBLite

    from superatom.structures.io import molecule_to_atoms

    _check(molecule)
    if optimizer not in ("BFGS", "FIRE", "LBFGS"):
        raise InputError(f"unknown optimizer '{optimizer}': use BFGS, FIRE or LBFGS")
    t0 = time.perf_counter()
    atoms = molecule_to_atoms(molecule)
    atoms.calc = TBLite(method=method, charge=float(molecule.charge),
                        multiplicity=int(molecule.spin_multiplicity), verbosity=0)  # fmt: skip
    opt = getattr(ase.optimize, optimizer)(atoms, logfile=None)
    converged = bool(opt.run(fmax=fmax, steps=steps)) if steps > 0 else False
    forces = atoms.get_forces()
    from pymatgen.core import Molecule

    relaxed = Molecule(
        [s.specie for s in molecule],
        atoms.get_positions(),
        charge=molecule.charge,
        spin_multiplicity=molecule.spin_multiplicity,
        site_properties=molecule.site_properties or None,
    )
    info = {
        "method": method,
        "converged": converged,
        "steps": int(opt.nsteps),
        "fmax_ev_per_a": float(np.linalg.norm(forces, axis=1).max()),
    }
    from superatom.workflows.xtb import xtb_frontier

    levels = xtb_frontier(relaxed, method=method)
    info.update(energy_ev=levels["energy_ha"] * HARTREE_TO_EV,
                **{k: levels[k] for k in ("homo_ev", "lumo_ev", "gap_ev")})
    info["wall_s"] = time.perf_counter() - t0
    return relaxed, info


def gfnxtb_relax_maker(molecule, steps: int = 200, fmax: float = 0.05):
    """An atomate2 ``GFNxTBRelaxMaker`` set up for ``molecule`` (GFN2, charge, multiplicity).

    Examples
    --------
    >>> from superatom.structures.lindqvist import build_lindqvist
    >>> gfnxtb_relax_maker(build_lindqvist()).calculator_kwargs["charge"]
    -2
    """
    from atomate2.ase.jobs import GFNxTBRelaxMaker

    maker = GFNxTBRelaxMaker(relax_cell=False, steps=steps, relax_kwargs={"fmax": fmax})
    kwargs = dict(maker.calculator_kwargs)
    kwargs.pop("guess", None)
    kwargs.update(method="GFN2-xTB", charge=round(molecule.charge),
                  multiplicity=int(molecule.spin_multiplicity), verbosity=0)  # fmt: skip
    maker.calculator_kwargs = kwargs
    return maker


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
