"""Tamm-Dancoff excitations (TDA) on top of a converged ground state."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.engine.device import resolve_device
from superatom.engine.gpu_checks import check_solvent
from superatom.engine.mole import build_mole
from superatom.engine.scf import _numpy, make_scf
from superatom.errors import SCFNotConvergedError


def run_tda(molecule: Molecule, settings: CalcSettings, nstates: int = 3) -> dict[str, Any]:
    """Lowest singlet (or spin-conserving, for UKS) TDA excitations after a fresh SCF.

    Returns
    -------
    dict
        ``energies_ev`` (excitation energies, eV), ``oscillator_strengths``, ``converged``
        and ``wall_s``.
    """
    from superatom import HARTREE_TO_EV

    start = time.perf_counter()
    device = resolve_device(settings.device)
    mol = build_mole(molecule, settings)
    check_solvent(mol, settings)
    mf = make_scf(mol, settings, device)
    mf.kernel()
    if not mf.converged:
        raise SCFNotConvergedError(
            f"ground-state SCF of {molecule.composition.reduced_formula} did not converge "
            "before TDA: loosen conv_tol or check the geometry"
        )
    td = mf.TDA()
    td.nstates = nstates
    td.kernel()
    energies = _numpy(td.e) * HARTREE_TO_EV
    strengths = _numpy(td.oscillator_strength())
    converged = np.atleast_1d(_numpy(td.converged)).astype(bool)
    return {
        "energies_ev": energies.tolist(),
        "oscillator_strengths": strengths.tolist(),
        "converged": bool(converged.all()),
        "device": device,
        "wall_s": time.perf_counter() - start,
    }
