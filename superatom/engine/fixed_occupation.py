"""DIIS with the occupied orbitals held by overlap: the rung a stalled open shell gets first.

A hole in a near-degenerate set (the Delta-SCF radical of a tetrahedral or Keggin anion) has
several aufbau occupations a few meV apart, and plain DIIS, which fills the orbitals by
energy every cycle, can let the hole change places between them. After a stall the ladder
starts a fresh DIIS (a new history, which is what finished the stalled [WO4]- radical: 35
cycles, 28 s, against Newton's 6 iterations, 48 s; ``benchmarks/README.md``) and holds the
occupations on the orbitals that overlap most with those of the stalled DIIS's best cycle
(PySCF's :func:`pyscf.scf.addons.mom_occ_`, the initial-maximum-overlap form: the reference
never moves), so that it stays in the state the stalled run was approaching. On [WO4]- the
held and the free fresh DIIS ran the same cycles: no orbital changed places there.

The state it reaches must still be the aufbau one a ground-state result claims: a
fixed-occupation run that ends with an empty orbital below an occupied one is not
converged as far as the ladder is concerned (:func:`is_aufbau`), and the direct minimiser
(:mod:`superatom.engine.orbital_lbfgs`), then Newton, go on from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

#: Name of the fixed-occupation rung in the attempts record.
FIXED_OCCUPATION = "fixed_occupation"


@contextmanager
def occupations_held(mf, mo_coeff: Any, mo_occ: Any) -> Iterator[Any]:
    """Inside the block, ``mf`` fills the orbitals that overlap most with the occupied
    orbitals of ``mo_coeff``/``mo_occ`` (per spin) instead of the lowest ones; on leaving
    it, the aufbau filling is back.

    Examples
    --------
    >>> from pyscf import gto, scf
    >>> mf = scf.UHF(gto.M(atom="O 0 0 0; O 0 0 1.21", spin=2, verbose=0))
    >>> _ = mf.kernel()
    >>> with occupations_held(mf, mf.mo_coeff, mf.mo_occ):
    ...     _ = mf.kernel(mf.make_rdm1())
    ...     "get_occ" in vars(mf)
    True
    >>> "get_occ" in vars(mf), bool(mf.converged)
    (False, True)
    """
    from pyscf.scf import addons

    earlier = vars(mf).get("get_occ")
    addons.mom_occ_(mf, *_full_width(mf, mo_coeff, mo_occ))
    try:
        yield mf
    finally:
        if earlier is None:
            del mf.get_occ
        else:
            mf.get_occ = earlier


def _full_width(mf, mo_coeff: Any, mo_occ: Any) -> tuple[np.ndarray, np.ndarray]:
    """``mo_coeff``/``mo_occ`` with as many orbitals as ``mf`` has: a saved restart keeps the
    occupied orbitals only, and PySCF's overlap filling sizes its occupations from them."""
    coeff, occ = np.asarray(mo_coeff), np.asarray(mo_occ)
    nao = mf.mol.nao
    if coeff.shape[-1] >= nao:
        return coeff, occ
    full_coeff = np.zeros((*coeff.shape[:-1], nao))
    full_occ = np.zeros((*occ.shape[:-1], nao))
    full_coeff[..., : coeff.shape[-1]] = coeff
    full_occ[..., : occ.shape[-1]] = occ
    return full_coeff, full_occ


#: Levels closer than this (Hartree) are ties: an empty one among them is no hole (a hole in
#: a degenerate set is aufbau whichever member it sits in).
AUFBAU_TIE = 1e-6


def holes(mo_energy: Any, mo_occ: Any, tolerance: float = AUFBAU_TIE) -> list[list[int]]:
    """Per spin channel, the empty orbitals that lie more than ``tolerance`` (Hartree) below
    an occupied one: the one definition of "not aufbau" (the ladder's acceptance test and the
    stored ``scf_state`` both use it).

    ``mo_occ`` of a restricted run (one channel, occupations 0-2) gives one list; an orbital
    counts as occupied when it holds more than half an electron pair (restricted) or half an
    electron (per spin).

    Examples
    --------
    >>> import numpy as np
    >>> holes(np.array([-1.0, 0.1, 0.2]), np.array([2.0, 0.0, 2.0]))
    [[1]]
    >>> holes(np.array([[-1.0, -0.5, -0.5], [-0.9, -0.4, 0.3]]),
    ...       np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))
    [[], []]
    """
    energies, occupations = np.asarray(mo_energy, dtype=float), np.asarray(mo_occ, dtype=float)
    full = 2.0 if energies.ndim == 1 else 1.0
    if energies.ndim == 1:
        energies, occupations = energies[None], occupations[None]
    found = []
    for energy, occ in zip(energies, occupations, strict=True):
        filled = occ > full / 2
        if not filled.any():
            found.append([])
            continue
        top = energy[filled].max()
        empty = np.flatnonzero(~filled & (energy < top - tolerance))
        found.append([int(k) for k in empty[np.argsort(energy[empty], kind="stable")]])
    return found


def is_aufbau(mo_energy: Any, mo_occ: Any, tolerance: float = AUFBAU_TIE) -> bool:
    """Whether no empty orbital lies more than ``tolerance`` (Hartree) below an occupied one
    of the same spin (:func:`holes` finds none).

    Examples
    --------
    >>> import numpy as np
    >>> is_aufbau(np.array([[-1.0, -0.5, 0.2], [-0.9, -0.4, 0.3]]),
    ...           np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))
    True
    >>> is_aufbau(np.array([-1.0, 0.1, 0.2]), np.array([2.0, 0.0, 2.0]))
    False
    """
    return not any(holes(mo_energy, mo_occ, tolerance))
