"""Orbital composition: Mulliken, Lowdin and SCPA weights grouped by fragment, element or l.

All functions take plain numpy arrays: ``mo_coeff`` (nao, nmo), ``overlap`` (nao, nao).

Examples
--------
>>> import numpy as np
>>> s = np.array([[1.0, 0.5], [0.5, 1.0]])
>>> c = np.array([[1.0], [1.0]]) / np.sqrt(3.0)     # normalised bonding orbital
>>> ao_weights(c, s, "mulliken").sum(axis=0).round(6)
array([1.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy.linalg import sqrtm

Method = Literal["mulliken", "lowdin", "scpa"]


def ao_weights(mo_coeff: np.ndarray, overlap: np.ndarray, method: Method = "mulliken"):
    """Weight of each AO in each MO, shape (nao, nmo); columns sum to 1.

    Mulliken: ``c_mu,i (S c)_mu,i``; Lowdin: ``((S^1/2 C)_mu,i)^2``; SCPA: ``c^2 / sum c^2``.
    """
    coeff = np.asarray(mo_coeff, dtype=float)
    if method == "mulliken":
        weights = coeff * (overlap @ coeff)
    elif method == "lowdin":
        half = np.real(sqrtm(overlap))
        weights = (half @ coeff) ** 2
    elif method == "scpa":
        weights = coeff**2
    else:
        raise ValueError(f"unknown composition method '{method}': use mulliken, lowdin or scpa")
    return weights / weights.sum(axis=0, keepdims=True)


def group_index(labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Unique labels in first-seen order and the integer index of each item."""
    names: list[str] = []
    lookup: dict[str, int] = {}
    index = np.empty(len(labels), dtype=int)
    for k, label in enumerate(labels):
        if label not in lookup:
            lookup[label] = len(names)
            names.append(label)
        index[k] = lookup[label]
    return names, index


def grouped_weights(weights: np.ndarray, ao_group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum AO weights (nao, nmo) into group weights (n_groups, nmo)."""
    out = np.zeros((n_groups, weights.shape[1]))
    np.add.at(out, ao_group, weights)
    return out


def fragment_composition(
    mo_coeff: np.ndarray,
    overlap: np.ndarray,
    ao_atom: np.ndarray,
    atom_labels: Sequence[str],
    method: Method = "mulliken",
) -> tuple[list[str], np.ndarray]:
    """Weight of every atom group (fragment, element, ...) in every MO.

    Parameters
    ----------
    ao_atom : numpy.ndarray
        Atom index of each AO.
    atom_labels : sequence of str
        Group label of each atom (e.g. the ``fragment`` site property, or the element).

    Returns
    -------
    names, weights
        Group names and an array (n_groups, nmo) whose columns sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> names, w = fragment_composition(np.eye(2), np.eye(2), np.array([0, 1]), ["A", "B"])
    >>> names, w.tolist()
    (['A', 'B'], [[1.0, 0.0], [0.0, 1.0]])
    """
    names, atom_group = group_index(list(atom_labels))
    weights = ao_weights(mo_coeff, overlap, method)
    return names, grouped_weights(weights, atom_group[np.asarray(ao_atom)], len(names))


def participation_ratio(group_weights: np.ndarray) -> np.ndarray:
    """Participation ratio ``1 / sum_f p_f^2`` of each MO over groups (1 = localised).

    Negative Mulliken weights are clipped to zero and renormalised first.

    Examples
    --------
    >>> import numpy as np
    >>> participation_ratio(np.array([[0.5, 1.0], [0.5, 0.0]])).tolist()
    [2.0, 1.0]
    """
    p = np.clip(np.asarray(group_weights, dtype=float), 0.0, None)
    p = p / p.sum(axis=0, keepdims=True)
    return 1.0 / (p**2).sum(axis=0)
