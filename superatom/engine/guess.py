"""Starting densities carried with their natural orbitals, so the first Fock build is cheap.

PySCF's density-fitted exchange (and its XC density) take a fast route when the density
matrix carries the orbitals it is made of (``mo_coeff``/``mo_occ`` tags, as every density
of an SCF cycle does): K then costs ``naux * nao**2 * nocc`` instead of ``naux * nao**3``. A
starting guess (minao, SAP, a superposition of fragment densities) carries no orbitals, so
the first Fock build of a 1000-AO unit runs the slow route. :func:`with_natural_orbitals`
tags such a density with its natural orbitals (the eigenvectors of ``S^1/2 D S^1/2``): the
same matrix, the fast route.
"""

from __future__ import annotations

import numpy as np
from pyscf import lib

from superatom.engine.overlap import overlap_powers

#: Natural occupations at or below this are dropped (a guess density is positive
#: semidefinite; what is dropped is rounding).
OCCUPATION_CUTOFF = 1e-10
#: A natural occupation below minus this means ``dm`` is no density: it is left untagged.
NEGATIVE_TOLERANCE = 1e-6


def with_natural_orbitals(dm: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """``dm`` tagged with its natural orbitals and occupations (RKS: one matrix; UKS: two).

    Parameters
    ----------
    dm : numpy.ndarray
        AO density matrix, ``(nao, nao)`` or ``(2, nao, nao)``, symmetric.
    overlap : numpy.ndarray
        AO overlap matrix ``S``.

    Returns
    -------
    numpy.ndarray
        ``dm`` unchanged when it has a natural occupation below ``-NEGATIVE_TOLERANCE``
        (not a density a guess produces) or already carries
        orbitals; else ``dm`` with ``mo_coeff`` and ``mo_occ`` such that
        ``C n C^T`` reproduces it to rounding.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.eye(3); c = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    >>> dm = c[:, :2] @ np.diag([2.0, 1.5]) @ c[:, :2].T
    >>> tagged = with_natural_orbitals(dm, s)
    >>> np.allclose((tagged.mo_coeff * tagged.mo_occ) @ tagged.mo_coeff.T, dm)
    True
    """
    if getattr(dm, "mo_coeff", None) is not None:
        return dm
    dm = np.asarray(dm)
    s_half, s_minus_half = overlap_powers(overlap)
    spins = dm if dm.ndim == 3 else dm[None]
    coeffs, occs = [], []
    for block in spins:
        occ, nat = np.linalg.eigh(s_half @ block @ s_half)
        if occ.min() < -NEGATIVE_TOLERANCE:
            return dm
        keep = occ > OCCUPATION_CUTOFF
        coeffs.append(s_minus_half @ nat[:, keep][:, ::-1])
        occs.append(occ[keep][::-1])
    if dm.ndim == 2:
        return lib.tag_array(dm, mo_coeff=coeffs[0], mo_occ=occs[0])
    width = max(c.shape[1] for c in coeffs)  # pad the smaller spin with empty orbitals
    coeffs = [np.pad(c, ((0, 0), (0, width - c.shape[1]))) for c in coeffs]
    occs = [np.pad(o, (0, width - o.size)) for o in occs]
    return lib.tag_array(dm, mo_coeff=np.array(coeffs), mo_occ=np.array(occs))
