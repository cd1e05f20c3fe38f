"""A restart from a checkpoint whose SCF had already converged takes no SCF step.

A stability analysis cut short (a killed job, a walltime) leaves a checkpoint whose
orbitals are converged: the analysis only begins once the SCF has. The ladder would start a
DIIS from them, and on a soft state its first Roothaan steps lead away from the minimum: on
the [PMo12O40]2- radical (950 AOs) they raised the orbital gradient from 1.8e-5 to 5e-5,
2.3e-4 and 1.2e-3 in three cycles of five minutes each. :func:`accept_if_converged` instead
builds the Fock matrix of the saved orbitals once and, where the energy equals the saved one
and the orbital gradient meets the tolerance, takes them as they are (canonicalised within
the occupied and virtual spaces, the density unchanged): one Fock build instead of a
reconvergence, and the very state whose trial rotations the checkpoint holds.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np
import scipy.linalg

from superatom.engine.fixed_occupation import is_aufbau
from superatom.engine.stability_restart import GROUP

log = logging.getLogger(__name__)

#: Overlap eigenvalues below this (relative to the largest) span no orbital (PySCF's own
#: linear-dependency threshold is far above it).
NULL_OVERLAP = 1e-12


def converged_before(path: str | None) -> float | None:
    """The saved energy (Hartree) of a checkpoint whose SCF had converged, else None.

    Converged means the checkpoint holds the trial rotations of a stability analysis
    (:mod:`superatom.engine.stability_restart`), which starts only on a converged SCF.
    """
    if not path or not os.path.isfile(path):
        return None
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if GROUP not in handle or "scf" not in handle:
                return None
            return float(handle["scf/e_tot"][()])
    except (OSError, KeyError, ValueError, TypeError):
        return None


def with_virtuals(coeff: np.ndarray, occ: np.ndarray, overlap: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Occupied orbitals of ``coeff`` completed by an orthonormal basis of the virtual space.

    A restart file may keep the occupied orbitals only (``<input hash>.saved.chk``); the
    orbital gradient and the canonical orbitals need the virtual space, which is the
    overlap-orthogonal complement of the occupied one. Returns ``(mo_coeff, mo_occ)`` per
    spin as the input (``(nao, nmo)`` or ``(2, nao, nmo)``), occupied columns first.

    Examples
    --------
    >>> import numpy as np
    >>> from pyscf import gto, scf
    >>> mf = scf.RHF(gto.M(atom="O 0 0 0; H 0 0 0.96; H 0.93 0 -0.24", basis="6-31g",
    ...                    verbose=0)).run()
    >>> coeff, occ = with_virtuals(mf.mo_coeff[:, :5], mf.mo_occ[:5], mf.get_ovlp())
    >>> s = mf.get_ovlp()
    >>> bool(np.allclose(coeff.T @ s @ coeff, np.eye(13))), occ.tolist()[4:6]
    (True, [2.0, 0.0])
    """
    values, vectors = scipy.linalg.eigh(overlap)
    keep = values > NULL_OVERLAP * values.max()
    orthonormal = vectors[:, keep] / np.sqrt(values[keep])  # X^T S X = 1
    if coeff.ndim == 3:  # one orthonormal basis for both spins
        pairs = [_completed(c, o, overlap, orthonormal)
                 for c, o in zip(coeff, occ, strict=True)]
        return np.array([c for c, _ in pairs]), np.array([o for _, o in pairs])
    return _completed(coeff, occ, overlap, orthonormal)


def _completed(coeff: np.ndarray, occ: np.ndarray, overlap: np.ndarray,
               orthonormal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One spin of :func:`with_virtuals`, given an S-orthonormal basis of the AO space."""
    occupied = coeff[:, occ > 0]
    inside = orthonormal.T @ overlap @ occupied  # the occupied space in that basis
    complete, _ = np.linalg.qr(inside, mode="complete")
    virtual = orthonormal @ complete[:, occupied.shape[1]:]
    mo_occ = np.concatenate([occ[occ > 0], np.zeros(virtual.shape[1])])
    return np.hstack([occupied, virtual]), mo_occ


def accept_if_converged(mf, coeff: np.ndarray, occ: np.ndarray, e_saved: float,
                        conv_tol: float, gradient_tolerance: float) -> dict[str, Any] | None:
    """Take the saved orbitals as the converged state if they are one; the attempt record.

    One Fock build of the saved density. Accepted when its energy equals ``e_saved`` to
    ``conv_tol`` (Hartree: the same state, the same settings), the orbital gradient is
    below ``gradient_tolerance`` and the canonical orbitals are aufbau; ``mf`` then carries
    them (``mo_coeff``, ``mo_energy``, ``mo_occ``, ``e_tot``, ``converged``) and the record
    is returned. Otherwise ``mf`` is left as it was and None is returned: the ladder runs.

    Examples
    --------
    >>> from pyscf import gto, dft
    >>> mol = gto.M(atom="O 0 0 0; H 0 0 0.96; H 0.93 0 -0.24", basis="6-31g", verbose=0)
    >>> done = dft.RKS(mol, xc="PBE0").run(conv_tol=1e-10)
    >>> mf = dft.RKS(mol, xc="PBE0")
    >>> record = accept_if_converged(mf, done.mo_coeff[:, :5], done.mo_occ[:5], done.e_tot,
    ...                              1e-9, 3e-5)
    >>> record["solver"], record["cycles"], bool(abs(mf.e_tot - done.e_tot) < 1e-9)
    ('checkpoint', 0, True)
    >>> bool(abs(mf.mo_energy - done.mo_energy).max() < 1e-6)
    True
    """
    start = time.perf_counter()
    overlap = np.asarray(mf.get_ovlp())
    mo_coeff, mo_occ = with_virtuals(np.asarray(coeff), np.asarray(occ), overlap)
    dm = mf.make_rdm1(mo_coeff, mo_occ)
    vhf = mf.get_veff(mf.mol, dm)
    e_tot = float(mf.energy_tot(dm, vhf=vhf))
    fock = mf.get_fock(dm=dm, vhf=vhf)
    gradient = float(np.linalg.norm(mf.get_grad(mo_coeff, mo_occ, fock)))
    if abs(e_tot - e_saved) > conv_tol or gradient > gradient_tolerance:
        log.info("the checkpoint's orbitals are not converged here (E %.10f Ha against %.10f "
                 "saved, |g| %.2e): the SCF goes on", e_tot, e_saved, gradient)
        return None
    mo_energy, mo_coeff = mf.canonicalize(mo_coeff, mo_occ, fock)
    if not is_aufbau(mo_energy, mo_occ):
        log.info("the checkpoint's converged orbitals are not aufbau: the SCF goes on")
        return None
    mf.mo_coeff, mf.mo_energy, mf.mo_occ = mo_coeff, mo_energy, mo_occ
    mf.e_tot, mf.converged = e_tot, True
    log.info("the checkpoint's orbitals are converged (E %.10f Ha, |g| %.2e): taken as they "
             "are, no SCF step", e_tot, gradient)
    return {"solver": "checkpoint", "cycles": 0, "converged": True, "e_tot": e_tot,
            "orbital_gradient": gradient,
            "note": "the checkpoint's SCF had converged: one Fock build, no SCF step",
            "wall_s": round(time.perf_counter() - start, 3)}
