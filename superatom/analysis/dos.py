"""Gaussian-broadened density of states: total, projected (PDOS) and overlap-population (OPDOS).

Every orbital i contributes ``weight_i * g(E - e_i)`` with a normalised Gaussian g of width
``sigma`` (eV); ``weighting='states'`` counts spin states (2 per RKS orbital, 1 per UKS
orbital), ``'occupation'`` uses the occupation numbers, so the occupied DOS integrates to the
electron count. PDOS splits each orbital by its Mulliken (or Lowdin/SCPA) weights per fragment,
element, l and element-l, so the PDOS of any one partition sums to the total DOS. OPDOS between
fragments A and B uses ``2 sum_(mu in A, nu in B) c_mu,i c_nu,i S_mu,nu`` (> 0 bonding,
< 0 antibonding).

Examples
--------
>>> import numpy as np
>>> grid = np.linspace(-5.0, 5.0, 2001)
>>> curve = gaussian_broadening(np.array([0.0]), np.array([[2.0]]), grid, 0.2)
>>> round(float(np.trapezoid(curve[:, 0], grid)), 6)
2.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Element

from superatom import HARTREE_TO_EV
from superatom.analysis.composition import (
    Method,
    angular_labels,
    ao_weights,
    group_index,
    grouped_weights,
)
from superatom.analysis.docdata import Channel, DocData, doc_data

Weighting = Literal["states", "occupation"]


def gaussian_broadening(levels_ev: np.ndarray, weights: np.ndarray, grid_ev: np.ndarray,
                        sigma_ev: float) -> np.ndarray:
    """Sum of normalised Gaussians: ``(npoints, k)`` for level weights ``(nlevels, k)``."""
    x = (np.asarray(grid_ev)[:, None] - np.asarray(levels_ev)[None, :]) / sigma_ev
    kernel = np.exp(-0.5 * x * x) / (sigma_ev * np.sqrt(2.0 * np.pi))
    return kernel @ np.asarray(weights, dtype=float).reshape(len(levels_ev), -1)


def _channels(data: DocData, spin: str | None) -> list[Channel]:
    return data.channels if spin is None else [data.channel(spin)]


def _level_weight(data: DocData, chan: Channel, weighting: Weighting) -> np.ndarray:
    if weighting == "occupation":
        return chan.occ
    if weighting == "states":
        return np.full(len(chan.energy), 2.0 if chan.spin == "restricted" else 1.0)
    raise ValueError(f"unknown weighting '{weighting}': use 'states' or 'occupation'")


def _homo(chans: list[Channel]) -> float:
    """Highest occupied level (eV) over channels with electrons."""
    return max(c.energy[c.homo] for c in chans if c.homo >= 0) * HARTREE_TO_EV


def default_grid(data: DocData, below_ev: float = 15.0, above_ev: float = 10.0,
                 step_ev: float = 0.01) -> np.ndarray:
    """Energy grid (eV) from HOMO - ``below_ev`` to LUMO + ``above_ev``."""
    homo = _homo(data.channels)
    lumos = [c.energy[c.lumo] for c in data.channels if c.lumo < len(c.energy)]
    lumo = (min(lumos) * HARTREE_TO_EV) if lumos else homo
    return np.arange(homo - below_ev, lumo + above_ev + step_ev / 2, step_ev)


class DOSResult(BaseModel):
    """Total and projected DOS on an energy grid (eV, states per eV)."""

    name: str
    spin: str = Field(description="'total' (all channels) or one channel")
    sigma_ev: float
    weighting: str
    method: str
    energies_ev: list[float]
    total: list[float]
    pdos: dict[str, dict[str, list[float]]] = Field(
        description="partition ('fragment', 'element', 'angular', 'element_angular') -> label"
    )
    homo_ev: float = Field(description="highest occupied level of the channels shown")
    lumo_ev: float | None


def density_of_states(
    doc,
    sigma_ev: float = 0.1,
    energies_ev: np.ndarray | None = None,
    method: Method = "mulliken",
    weighting: Weighting = "states",
    spin: str | None = None,
) -> DOSResult:
    """Total DOS and PDOS per fragment, element, l and element-l of a stored result.

    Parameters
    ----------
    doc : FrontierOrbitalDoc
        Stored result with arrays.
    sigma_ev : float
        Gaussian width (standard deviation) in eV.
    energies_ev : array, optional
        Grid in eV (default HOMO - 15 eV ... LUMO + 10 eV, 0.01 eV steps).
    weighting : {'states', 'occupation'}
        Count states (2 per RKS orbital) or electrons.
    spin : str, optional
        One channel only (``alpha``/``beta``); default every channel summed.

    Returns
    -------
    DOSResult

    Examples
    --------
    >>> res = density_of_states(doc, sigma_ev=0.2)          # doctest: +SKIP
    >>> sorted(res.pdos)                                    # doctest: +SKIP
    ['angular', 'element', 'element_angular', 'fragment']
    """
    data = doc_data(doc)
    grid = default_grid(data) if energies_ev is None else np.asarray(energies_ev, float)
    elements = data.elements
    ao_el = [elements[a] for a in data.ao_atom]
    l_names = angular_labels(data.ao_l)
    partitions = {
        "element": group_index(ao_el),
        "angular": group_index(l_names),
        "element_angular": group_index([f"{e}-{lv}" for e, lv in zip(ao_el, l_names,
                                                                       strict=True)]),
    }
    if data.fragments:
        partitions["fragment"] = group_index([data.fragments[a] for a in data.ao_atom])
    total = np.zeros(len(grid))
    pdos = {key: np.zeros((len(grid), len(names))) for key, (names, _) in partitions.items()}
    chans = _channels(data, spin)
    for chan in chans:
        level_w = _level_weight(data, chan, weighting)
        energies = chan.energy * HARTREE_TO_EV
        total += gaussian_broadening(energies, level_w, grid, sigma_ev)[:, 0]
        ao_w = ao_weights(chan.coeff, data.overlap, method)
        for key, (names, index) in partitions.items():
            group_w = grouped_weights(ao_w, index, len(names)) * level_w
            pdos[key] += gaussian_broadening(energies, group_w.T, grid, sigma_ev)
    homo = _homo(chans)
    lumos = [c.energy[c.lumo] * HARTREE_TO_EV for c in chans if c.lumo < len(c.energy)]
    return DOSResult(
        name=data.name, spin="total" if spin is None else spin, sigma_ev=sigma_ev,
        weighting=weighting, method=method, energies_ev=grid.tolist(), total=total.tolist(),
        pdos={key: {name: pdos[key][:, k].tolist() for k, name in enumerate(names)}
              for key, (names, _) in partitions.items()},
        homo_ev=float(homo), lumo_ev=min(lumos) if lumos else None,
    )


def overlap_populations(data: DocData, chan: Channel, atoms_a: np.ndarray,
                        atoms_b: np.ndarray) -> np.ndarray:
    """``2 sum_(mu in A, nu in B) c_mu,i c_nu,i S_mu,nu`` for every MO i."""
    in_a = np.isin(data.ao_atom, atoms_a)
    in_b = np.isin(data.ao_atom, atoms_b)
    c_a, c_b = chan.coeff[in_a], chan.coeff[in_b]
    return 2.0 * np.einsum("ai,ai->i", c_a, data.overlap[np.ix_(in_a, in_b)] @ c_b)


class OPDOSResult(BaseModel):
    """Overlap-population DOS between two fragments (positive: bonding)."""

    name: str
    fragment_a: str
    fragment_b: str
    sigma_ev: float
    weighting: str
    energies_ev: list[float]
    opdos: list[float]
    orbital_energies_ev: list[float]
    orbital_populations: list[float] = Field(description="weighted overlap population per MO")
    occupied_population: float = Field(description="sum over occupied MOs with occupations")


def _atoms_of(data: DocData, fragment: str) -> np.ndarray:
    labels = data.fragments or data.elements
    atoms = np.flatnonzero(np.array(labels) == fragment)
    if atoms.size == 0:
        from superatom.errors import InputError

        raise InputError(
            f"no atom of '{data.name}' has fragment (or element) '{fragment}': "
            f"choose from {sorted(set(labels))}"
        )
    return atoms


def overlap_population_dos(
    doc,
    fragment_a: str,
    fragment_b: str,
    sigma_ev: float = 0.1,
    energies_ev: np.ndarray | None = None,
    weighting: Weighting = "states",
    spin: str | None = None,
) -> OPDOSResult:
    """OPDOS between two fragments (or elements when the molecule has no fragments).

    Examples
    --------
    >>> res = overlap_population_dos(dimer_doc, "A", "B")     # doctest: +SKIP
    >>> res.occupied_population > 0                           # doctest: +SKIP
    True
    """
    data = doc_data(doc)
    grid = default_grid(data) if energies_ev is None else np.asarray(energies_ev, float)
    atoms_a, atoms_b = _atoms_of(data, fragment_a), _atoms_of(data, fragment_b)
    curve = np.zeros(len(grid))
    levels, pops, occupied = [], [], 0.0
    for chan in _channels(data, spin):
        pop = overlap_populations(data, chan, atoms_a, atoms_b)
        level_w = _level_weight(data, chan, weighting)
        energies = chan.energy * HARTREE_TO_EV
        curve += gaussian_broadening(energies, pop * level_w, grid, sigma_ev)[:, 0]
        occupied += float(pop @ chan.occ)
        levels += energies.tolist()
        pops += (pop * level_w).tolist()
    return OPDOSResult(
        name=data.name, fragment_a=fragment_a, fragment_b=fragment_b, sigma_ev=sigma_ev,
        weighting=weighting, energies_ev=grid.tolist(), opdos=curve.tolist(),
        orbital_energies_ev=levels, orbital_populations=pops, occupied_population=occupied,
    )


def d_band_centre(doc, element: str | None = None, method: Method = "mulliken",
                  spin: str | None = None) -> float:
    """First moment (eV) of the metal-d PDOS over occupied orbitals.

    ``sum_i n_i w_(d,i) e_i / sum_i n_i w_(d,i)`` with w the d weight of ``element`` (default:
    every transition metal of the molecule) in orbital i and n_i its occupation.

    Examples
    --------
    >>> round(d_band_centre(cu2_doc), 2)                      # doctest: +SKIP
    -7.1
    """
    data = doc_data(doc)
    elements = data.elements
    metals = ({element} if element else
              {e for e in elements if Element(e).is_transition_metal})
    if not metals:
        from superatom.errors import InputError

        raise InputError(f"'{data.name}' has no transition metal: name the element")
    mask = np.array([elements[a] in metals for a in data.ao_atom]) & (data.ao_l == 2)
    if not mask.any():
        from superatom.errors import InputError

        raise InputError(f"no d functions on {sorted(metals)} in '{data.name}'")
    num = den = 0.0
    for chan in _channels(data, spin):
        w_d = ao_weights(chan.coeff, data.overlap, method)[mask].sum(axis=0) * chan.occ
        num += float(w_d @ chan.energy)
        den += float(w_d.sum())
    return num / den * HARTREE_TO_EV


def write_dos_csv(res: DOSResult, path: str | Path) -> Path:
    """Write the DOS curves as CSV: ``energy_ev``, ``total``, then ``partition:name`` per PDOS."""
    path = Path(path)
    columns = {"energy_ev": res.energies_ev, "total": res.total}
    for key, curves in res.pdos.items():
        columns.update({f"{key}:{name}": curve for name, curve in curves.items()})
    np.savetxt(path, np.column_stack(list(columns.values())), delimiter=",",
               header=",".join(columns), comments="", fmt="%.6g")
    return path
