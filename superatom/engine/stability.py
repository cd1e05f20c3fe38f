"""Internal stability of a converged Kohn-Sham state (PySCF's analysis), followed if unstable.

A converged SCF is a stationary point of the energy, not necessarily a minimum: on a hard
system (a lanthanide-substituted polyoxometalate, an open shell) DIIS can stop on a saddle.
PySCF's internal stability analysis finds the lowest eigenvalue of the orbital-rotation
Hessian within the same (restricted or unrestricted) ansatz; a negative one means a lower
state exists. :func:`check_and_follow` runs that analysis on the CPU (solvent response
included), and when it finds an instability rotates the orbitals along it and converges
again, up to ``max_follow`` times.
"""

from __future__ import annotations

import io
import re
import time
from typing import Any

from pyscf.lib import logger
from pyscf.scf import stability

_EIGS = re.compile(r"lowest eigs of H = \[?\s*([-+0-9.eE]+)")


def internal_stability(mf) -> tuple[bool, float | None, Any]:
    """Lowest internal-rotation Hessian eigenvalue of a converged CPU SCF.

    One Davidson root (tolerance 1e-4), started with the lowest diagonal rotation included
    (``with_symmetry=False``): a converged state has an almost zero gradient that keeps the
    symmetry of the guess, so a start from the gradient alone misses symmetry-breaking
    instabilities (the spin-symmetric UHF of stretched H2).

    Parameters
    ----------
    mf : pyscf RKS/UKS (or RHF/UHF) object, converged

    Returns
    -------
    stable : bool
        PySCF's verdict: no eigenvalue below -1e-5 Hartree.
    lowest : float or None
        The lowest eigenvalue (Hartree) as PySCF's Davidson solver found it.
    mo_coeff : numpy.ndarray
        ``mf.mo_coeff`` if stable, else the orbitals rotated along the instability.

    Examples
    --------
    >>> from pyscf import gto, dft
    >>> mf = dft.RKS(gto.M(atom="O 0 0 0; H 0 0 0.96; H 0.93 0 -0.24", basis="sto-3g"))
    >>> mf.verbose = 0
    >>> _ = mf.kernel()
    >>> stable, lowest, _ = internal_stability(mf)
    >>> stable, lowest > 0
    (True, True)
    """
    buffer = io.StringIO()
    log = logger.Logger(buffer, logger.INFO)
    internal = stability.uhf_internal if _unrestricted(mf) else stability.rhf_internal
    mo_coeff, stable = internal(mf, with_symmetry=False, verbose=log, return_status=True,
                                nroots=1)
    found = _EIGS.search(buffer.getvalue())
    return bool(stable), float(found.group(1)) if found else None, mo_coeff


def check_and_follow(mf, max_follow: int = 2) -> dict[str, Any]:
    """Check ``mf`` for internal stability; follow an instability and converge again.

    The SCF keeps its solver settings (the caller resets level shift and damping first).
    Returns the record stored with the result: ``internal_stable`` of the final state,
    ``lowest_eigenvalue_ha`` of each check, how many instabilities were followed, the energy
    lowering (Hartree) and the wall time (s). An instability followed into an SCF that does
    not converge leaves ``converged`` false on ``mf``: the caller treats it as unconverged.
    """
    start = time.perf_counter()
    eigenvalues: list[float | None] = []
    e_start = float(mf.e_tot)
    followed = 0
    while True:
        stable, lowest, mo_coeff = internal_stability(mf)
        eigenvalues.append(lowest)
        if stable or followed >= max_follow:
            break
        followed += 1
        mf.kernel(dm0=mf.make_rdm1(mo_coeff, mf.mo_occ))
        if not mf.converged:
            break
    return {
        "internal_stable": bool(stable and mf.converged),
        "lowest_eigenvalue_ha": eigenvalues,
        "followed": followed,
        "energy_lowering_ha": float(mf.e_tot) - e_start,
        "wall_s": round(time.perf_counter() - start, 2),
    }


def _unrestricted(mf) -> bool:
    mo_occ = getattr(mf, "mo_occ", None)
    return mo_occ is not None and getattr(mo_occ, "ndim", 1) == 2
