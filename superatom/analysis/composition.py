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
from pydantic import BaseModel, Field
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


# --------------------------------------------------------------------------- per document


class OrbitalComposition(BaseModel):
    """Composition of one orbital; every weight dictionary sums to 1."""

    index: int
    spin: str
    label: str
    energy_ev: float
    occupation: float
    fragment: dict[str, float] = Field(default_factory=dict)
    element: dict[str, float] = Field(default_factory=dict)
    angular: dict[str, float] = Field(default_factory=dict, description="s, p, d, f, ...")
    element_angular: dict[str, float] = Field(
        default_factory=dict, description="e.g. 'W-d', 'O-p'"
    )
    participation_ratio: float | None = Field(
        None, description="1/sum_f p_f^2 over fragments (None without fragment labels)"
    )


class CompositionResult(BaseModel):
    """Fragment / element / angular-momentum composition of chosen orbitals of one result."""

    name: str
    method: str
    fragments: list[str]
    orbitals: list[OrbitalComposition]


def angular_labels(ao_l: np.ndarray) -> list[str]:
    """Letter (s, p, d, f, g, ...) of each AO's angular momentum."""
    from superatom.analysis.docdata import L_NAMES

    return [L_NAMES[int(value)] for value in np.asarray(ao_l)]


def _as_dict(names: list[str], column: np.ndarray) -> dict[str, float]:
    return {name: float(value) for name, value in zip(names, column, strict=True)}


def orbital_composition(
    doc,
    method: Method = "mulliken",
    orbitals: Sequence[int] | None = None,
    window: int = 4,
    spin: str | None = None,
    fragment_labels: Sequence[str] | None = None,
) -> CompositionResult:
    """Composition of orbitals of a stored result per fragment, element and l.

    Parameters
    ----------
    doc : FrontierOrbitalDoc
        Stored result with its arrays (``superatom.db.load_result``).
    method : {'mulliken', 'lowdin', 'scpa'}
        Partition of each MO over AOs.
    orbitals : sequence of int, optional
        0-based orbital indices; default HOMO-(window-1) ... LUMO+(window-1).
    spin : str, optional
        ``alpha`` / ``beta`` for open shells (default: every channel).
    fragment_labels : sequence of str, optional
        One label per atom; default the molecule's ``fragment`` site property.

    Returns
    -------
    CompositionResult
        Energies in eV; weights per fragment, element, l and element-l each sum to 1.

    Examples
    --------
    >>> res = orbital_composition(doc, method="lowdin")      # doctest: +SKIP
    >>> res.orbitals[-1].angular                             # doctest: +SKIP
    {'s': 0.12, 'p': 0.88}
    """
    from superatom import HARTREE_TO_EV
    from superatom.analysis.docdata import doc_data, window_indices

    data = doc_data(doc)
    fragments = list(fragment_labels) if fragment_labels is not None else data.fragments
    if fragments is not None and len(fragments) != len(data.molecule):
        raise ValueError(f"{len(fragments)} fragment labels for {len(data.molecule)} atoms")
    elements = data.elements
    ao_l_names = angular_labels(data.ao_l)
    ao_el = [elements[a] for a in data.ao_atom]
    ao_el_l = [f"{e}-{lname}" for e, lname in zip(ao_el, ao_l_names, strict=True)]
    groupings = {
        "element": group_index(ao_el),
        "angular": group_index(ao_l_names),
        "element_angular": group_index(ao_el_l),
    }
    if fragments:
        groupings["fragment"] = group_index([fragments[a] for a in data.ao_atom])
    channels = data.channels if spin is None else [data.channel(spin)]
    rows: list[OrbitalComposition] = []
    for chan in channels:
        chosen = (np.asarray(orbitals, dtype=int) if orbitals is not None
                  else window_indices(chan, window))
        weights = ao_weights(chan.coeff[:, chosen], data.overlap, method)
        grouped = {key: (names, grouped_weights(weights, idx, len(names)))
                   for key, (names, idx) in groupings.items()}
        pr = participation_ratio(grouped["fragment"][1]) if "fragment" in grouped else None
        for col, index in enumerate(chosen):
            rows.append(OrbitalComposition(
                index=int(index),
                spin=chan.spin,
                label=chan.label(int(index)),
                energy_ev=float(chan.energy[index] * HARTREE_TO_EV),
                occupation=float(chan.occ[index]),
                participation_ratio=float(pr[col]) if pr is not None else None,
                **{key: _as_dict(names, w[:, col]) for key, (names, w) in grouped.items()},
            ))
    return CompositionResult(
        name=data.name,
        method=method,
        fragments=list(dict.fromkeys(fragments)) if fragments else [],
        orbitals=rows,
    )
