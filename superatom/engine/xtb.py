"""GFN-xTB (tblite) single points and relaxations: the cheap tier's engine.

Energies from tblite are Hartree; levels are returned in eV, geometries in Angstrom.

Examples
--------
>>> from pymatgen.core import Molecule
>>> water = Molecule(["O", "H", "H"], [[0, 0, 0.117], [0, 0.757, -0.469], [0, -0.757, -0.469]])
>>> levels = xtb_frontier(water)
>>> round(levels["gap_ev"], 1) > 5
True
>>> from superatom.structures.lindqvist import build_lindqvist
>>> mol, info = relax_xtb(build_lindqvist("Mo"), steps=2)
>>> mol.charge, info["steps"] <= 2, info["gap_ev"] > 2
(-2, True, True)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from superatom import BOHR_TO_ANGSTROM, HARTREE_TO_EV
from superatom.engine.xtb_scope import parse_solvation
from superatom.errors import InputError, SCFNotConvergedError
from superatom.schemas.levels import frontier_levels
from superatom.schemas.xtb import XTB_METHOD


def xtb_versions() -> dict[str, str]:
    """Versions of the codes behind an xTB result (superatom, tblite, numpy, python)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import tblite

    import superatom

    try:  # the tblite module has no __version__; its distribution does
        tblite_version = getattr(tblite, "__version__", None) or version("tblite")
    except PackageNotFoundError:
        tblite_version = "unknown"
    return {"superatom": superatom.__version__, "tblite": tblite_version,
            "numpy": np.__version__, "python": platform.python_version()}


def xtb_frontier(
    molecule: Molecule,
    electronic_temperature: float = 300.0,
    method: str = XTB_METHOD,
    solvation: str | None = "auto",
) -> dict[str, Any]:
    """GFN-xTB single point: energy (Ha), HOMO/LUMO/gap (eV), orbital energies (eV).

    Open shells use ``uhf = multiplicity - 1`` unpaired electrons; tblite reports
    spin-summed occupations, so the frontier levels are those of the summed channel.

    Parameters
    ----------
    solvation
        ``"auto"`` (GBSA water for polyoxometalate-like anions, gas phase otherwise, see
        :mod:`superatom.engine.xtb_scope`), ``"none"`` or ``"gbsa:<solvent>"``. The label
        used is returned as ``solvation``.

    Examples
    --------
    >>> from superatom.structures.lindqvist import build_lindqvist
    >>> w6 = build_lindqvist("W")
    >>> gas, wet = xtb_frontier(w6, solvation="none"), xtb_frontier(w6)
    >>> wet["solvation"], round(wet["gap_ev"], 1), wet["energy_ha"] < gas["energy_ha"]
    ('gbsa:water', 3.7, True)
    """
    from tblite.interface import Calculator

    label, solvent = parse_solvation(solvation, molecule)
    numbers = np.array([site.specie.Z for site in molecule])
    positions = np.asarray(molecule.cart_coords) / BOHR_TO_ANGSTROM
    calc = Calculator(method, numbers, positions, charge=float(molecule.charge),
                      uhf=int(molecule.spin_multiplicity) - 1)
    calc.set("verbosity", 0)
    calc.set("temperature", electronic_temperature * 3.166808578545117e-06)
    if solvent is not None:
        calc.add("gbsa-solvation", solvent)
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
        "solvation": label,
        "wall_s": time.perf_counter() - start,
    }


def _check(molecule) -> None:
    if max(site.specie.Z for site in molecule) > 86:
        raise InputError("GFN2-xTB covers elements up to Rn (Z <= 86)")


def relax_xtb(
    molecule,
    fmax: float = 0.05,
    steps: int = 200,
    method: str = XTB_METHOD,
    optimizer: str = "BFGS",
    fix="framework",
):
    """Relax ``molecule`` with GFN-xTB (tblite) and an ASE optimiser, framework held.

    GFN2-xTB distorts W/Mo-oxo frameworks (W6O19 W-O(central) 2.53 A against 2.33 in the
    crystal), so by default the metal-oxo framework is held (ASE ``FixAtoms``) and only H,
    waters and organic ligands move. The M-O bond classes of the result are
    compared with the crystal references; each class more than 0.05 A off is reported in
    ``info["mo_warnings"]`` and emitted as a :class:`UserWarning`.

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
    fix
        ``"framework"`` (default: hold :func:`~superatom.structures.validate.framework_indices`),
        a sequence of atom indices to hold, or None to relax every atom.

    Returns
    -------
    (Molecule, dict)
        Relaxed molecule (same charge, multiplicity, fragment labels and atom order) and info:
        ``energy_ev``, ``converged``, ``steps``, ``fmax_ev_per_a`` (free atoms), ``homo_ev``,
        ``lumo_ev``, ``gap_ev``, ``method``, ``fixed`` (held atom indices), ``mo_deviations``,
        ``mo_warnings``, ``wall_s``.
    """
    import warnings

    import ase.optimize
    from ase.constraints import FixAtoms
    from tblite.ase import TBLite

    from superatom.structures.io import molecule_to_atoms
    from superatom.structures.validate import framework_indices, mo_deviations, mo_warnings

    _check(molecule)
    if optimizer not in ("BFGS", "FIRE", "LBFGS"):
        raise InputError(f"unknown optimizer '{optimizer}': use BFGS, FIRE or LBFGS")
    t0 = time.perf_counter()
    atoms = molecule_to_atoms(molecule)
    if isinstance(fix, str):
        if fix != "framework":
            raise InputError(f"fix='{fix}' is not known: use 'framework', atom indices or None")
        fixed = framework_indices(molecule)
    else:
        fixed = sorted({int(i) for i in fix or ()})
        if fixed and not 0 <= fixed[0] <= fixed[-1] < len(molecule):
            raise InputError(f"fix indices must lie in 0..{len(molecule) - 1}")
    if fixed:
        atoms.set_constraint(FixAtoms(indices=fixed))
    atoms.calc = TBLite(method=method, charge=float(molecule.charge),
                        multiplicity=int(molecule.spin_multiplicity), verbosity=0)  # fmt: skip
    opt = getattr(ase.optimize, optimizer)(atoms, logfile=None)
    converged = bool(opt.run(fmax=fmax, steps=steps)) if steps > 0 else False
    forces = atoms.get_forces()  # zero on held atoms (FixAtoms)
    from pymatgen.core import Molecule

    relaxed = Molecule(
        [s.specie for s in molecule],
        atoms.get_positions(),
        charge=molecule.charge,
        spin_multiplicity=molecule.spin_multiplicity,
        site_properties=molecule.site_properties or None,
    )
    relaxed.properties.update(getattr(molecule, "properties", None) or {})  # e.g. model labels
    info = {
        "method": method,
        "converged": converged,
        "steps": int(opt.nsteps),
        "fmax_ev_per_a": float(np.linalg.norm(forces, axis=1).max()),
        "fixed": fixed,
        "mo_deviations": (deviations := mo_deviations(relaxed)),
        "mo_warnings": mo_warnings(relaxed, deviations=deviations),
    }
    for line in info["mo_warnings"]:
        warnings.warn(f"relaxed {relaxed.composition.reduced_formula}: {line}", stacklevel=2)
    levels = xtb_frontier(relaxed, method=method)
    info.update(energy_ev=levels["energy_ha"] * HARTREE_TO_EV,
                **{k: levels[k] for k in ("homo_ev", "lumo_ev", "gap_ev")})
    info["wall_s"] = time.perf_counter() - t0
    return relaxed, info
