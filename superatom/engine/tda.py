"""Tamm-Dancoff excitations (TDA) on top of a converged ground state."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.engine.device import release_gpu_memory, resolve_device
from superatom.engine.gpu_checks import check_solvent, gpu_failure_reason
from superatom.engine.mole import build_mole
from superatom.engine.scf import _numpy, gpu_refusal, make_scf
from superatom.errors import GPUError, InputError, SCFNotConvergedError


def run_tda(molecule: Molecule, settings: CalcSettings, nstates: int = 3) -> dict[str, Any]:
    """Lowest singlet (or spin-conserving, for UKS) TDA excitations after a fresh SCF.

    The same guards as :func:`superatom.engine.run_scf` run first; a job the GPU must not
    take runs on the CPU with ``device: auto`` (``fallback_reason`` says why) and is an
    :class:`InputError` with ``device: gpu``; a GPU failure during the run is a
    :class:`GPUError`.

    Returns
    -------
    dict
        ``energies_ev`` (excitation energies, eV), ``oscillator_strengths``, ``converged``,
        ``device``, ``fallback_reason`` and ``wall_s``.
    """
    start = time.perf_counter()
    device = resolve_device(settings.device)
    mol = build_mole(molecule, settings)
    check_solvent(mol, settings)
    reason = gpu_refusal(mol, settings) if device == "gpu" else None
    if reason is not None:
        if settings.device == "gpu":
            raise InputError(reason)
        device = "cpu"
    try:
        result = _tda(molecule, mol, settings, device, nstates)
    except Exception as err:
        failure = gpu_failure_reason(err) if device == "gpu" else None
        if failure is None:
            raise
        raise GPUError(f"TDA of {molecule.composition.reduced_formula} on the GPU: {failure}; "
                       "use device=cpu") from None
    finally:
        if device == "gpu":
            release_gpu_memory()
    return {**result, "device": device, "fallback_reason": reason,
            "wall_s": time.perf_counter() - start}


def _tda(molecule: Molecule, mol, settings: CalcSettings, device: str,
         nstates: int) -> dict[str, Any]:
    from superatom import HARTREE_TO_EV

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
    }
