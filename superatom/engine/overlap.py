"""Powers of an AO overlap matrix, shared by the guess (natural orbitals) and the EDA (NOCVs).

A leaf module: numpy only, so both users import it without importing each other.
"""

from __future__ import annotations

import numpy as np


def overlap_powers(overlap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``S^1/2`` and ``S^-1/2`` of a symmetric positive-definite overlap matrix, from one
    eigendecomposition (dimensionless; AO basis in, AO basis out).

    Examples
    --------
    >>> s = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> half, inv_half = overlap_powers(s)
    >>> bool(np.allclose(half @ half, s)), bool(np.allclose(half @ inv_half, np.eye(2)))
    (True, True)
    """
    values, vectors = np.linalg.eigh(overlap)
    return (vectors * np.sqrt(values)) @ vectors.T, (vectors / np.sqrt(values)) @ vectors.T
