"""Tamm-Dancoff excitations (TDA) on top of a ground state converged through the ladder."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.engine.device import code_versions, device_name
from superatom.engine.mole import build_mole
from superatom.engine.scf import _numpy, converge_scf, run_on_device
from superatom.errors import InputError


def run_tda(molecule: Molecule, settings: CalcSettings, nstates: int = 3,
            mol=None) -> dict[str, Any]:
    """Lowest singlet (or spin-conserving, for UKS) TDA excitations.

    The ground state is converged with the same fallback ladder as
    :func:`superatom.engine.scf.run_scf` (an unconverged one raises
    :class:`~superatom.errors.SCFNotConvergedError`); ``mol`` is the already built Mole.
    The device is chosen and guarded as for the SCF
    (:func:`superatom.engine.scf.run_on_device`): a GPU-bound ``device: auto`` job that ran on
    the CPU says why in ``fallback_reason``.

    Returns
    -------
    dict
        ``energies_ev`` (excitation energies, eV), ``oscillator_strengths``, ``converged``
        (every root), ``e_tot`` (Hartree), ``mo_energy``/``mo_occ`` (Hartree), ``restricted``,
        ``cycles``, ``attempts``, ``device``, ``device_name``, ``fallback_reason``,
        ``versions`` and ``wall_s``.
    """
    start = time.perf_counter()
    mol = mol if mol is not None else build_mole(molecule, settings)
    name = molecule.composition.reduced_formula
    check_excitable(mol, name)
    result, reason = run_on_device(
        mol, settings, name, lambda device: _tda(mol, settings, device, name, nstates, start))
    return {**result, "fallback_reason": reason, "wall_s": time.perf_counter() - start}


def check_excitable(mol, name: str) -> None:
    """An excitation needs an occupied and an empty orbital in every spin channel PySCF's
    TDA builds; a one-line InputError before any SCF otherwise (He in a minimal basis has
    no empty orbital, an H atom no beta electron).

    Examples
    --------
    >>> from pyscf import gto
    >>> check_excitable(gto.M(atom="He 0 0 0", basis="sto-3g"), "He")
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: He: 2 electrons (1 alpha, 1 beta) in 1 orbitals leave ...
    """
    nao = mol.nao_nr()
    alpha, beta = mol.nelec
    if min(alpha, beta) < 1 or max(alpha, beta) >= nao:
        raise InputError(f"{name}: {alpha + beta} electrons ({alpha} alpha, {beta} beta) in "
                         f"{nao} orbitals leave no occupied-to-empty excitation in every spin "
                         "channel: optical spectra need both (use a larger basis or another "
                         "system)")


def _tda(mol, settings: CalcSettings, device: str, name: str, nstates: int,
         start: float) -> dict[str, Any]:
    from superatom import HARTREE_TO_EV

    mf, attempts, cycles, _guess = converge_scf(mol, settings, device, name)
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
    }
