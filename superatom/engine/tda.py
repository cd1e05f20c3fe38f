"""Tamm-Dancoff excitations (TDA) on top of a ground state converged through the ladder."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.engine.device import code_versions, device_name, resolve_device
from superatom.engine.mole import build_mole
from superatom.engine.scf import _numpy, converge_scf


def run_tda(molecule: Molecule, settings: CalcSettings, nstates: int = 3,
            mol=None) -> dict[str, Any]:
    """Lowest singlet (or spin-conserving, for UKS) TDA excitations.

    The ground state is converged with the same fallback ladder as
    :func:`superatom.engine.scf.run_scf` (an unconverged one raises
    :class:`~superatom.errors.SCFNotConvergedError`); ``mol`` is the already built Mole.

    Returns
    -------
    dict
        ``energies_ev`` (excitation energies, eV), ``oscillator_strengths``, ``converged``
        (every root), ``e_tot`` (Hartree), ``mo_energy``/``mo_occ`` (Hartree), ``restricted``,
        ``cycles``, ``attempts``, ``device``, ``device_name``, ``versions`` and ``wall_s``.
    """
    from superatom import HARTREE_TO_EV

    start = time.perf_counter()
    device = resolve_device(settings.device)
    mol = mol if mol is not None else build_mole(molecule, settings)
    mf, attempts, cycles, _guess = converge_scf(
        mol, settings, device, molecule.composition.reduced_formula)
    scf_s = time.perf_counter() - start
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
        "restricted": mol.spin == 0,
        "e_tot": float(_numpy(mf.e_tot)),
        "mo_energy": _numpy(mf.mo_energy),
        "mo_occ": _numpy(mf.mo_occ),
        "cycles": cycles,
        "attempts": attempts,
        "device": device,
        "device_name": device_name(device),
        "versions": code_versions(),
        "scf_s": scf_s,
        "wall_s": time.perf_counter() - start,
    }
