"""Starting densities taken from a converged result of the same geometry and basis.

Two SCFs of one geometry in one basis often follow each other: the gas-phase anion after its
C-PCM run, or a run with another functional. The converged density of the first is a better
start for the second than an atomic guess ([WO4]2- in the gas phase: 6 DIIS cycles from its
C-PCM density against 9 from minao, the same energy to 1e-10 eV), and on a Keggin anion each
saved cycle is minutes of CPU time. These functions give that density as a plain
AO matrix, ready for ``FrontierOrbitalMaker().make(molecule, initial_dm=...)``. A guess only
changes where the SCF starts, never the input hash: the engine still converges to
``conv_tol`` and checks the state (aufbau, spin).

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.workflows.frontier import compute_frontier
>>> oh = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], charge=-1)
>>> solvated = compute_frontier(oh, "screening")              # C-PCM water
>>> gas = compute_frontier(oh, "fast", initial_dm=density_guess(solvated, restricted=True))
>>> gas.scf_guess, abs(gas.e_tot_ev - compute_frontier(oh, "fast").e_tot_ev) < 1e-6
('initial_dm', True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.errors import InputError
from superatom.schemas.documents import FrontierOrbitalDoc


def _arrays(doc: Any) -> dict[str, np.ndarray]:
    doc = FrontierOrbitalDoc.model_validate(doc)
    if doc.orbitals is None:
        raise InputError(f"result '{doc.name or doc.formula}' has no stored orbitals to start "
                         "from: load it with its arrays (superatom.db.load_result)")
    return doc.orbitals.arrays()


def spin_densities(doc: Any) -> np.ndarray:
    """Alpha and beta AO densities ``(2, nao, nao)`` of a converged result (RKS: two halves).

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> from superatom.workflows.frontier import compute_frontier
    >>> oh = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], charge=-1)
    >>> spin_densities(compute_frontier(oh, "fast")).shape     # def2-SVP: 14 + 5 AOs
    (2, 19, 19)
    """
    arrays = _arrays(doc)
    return occupied_spin_densities(arrays["mo_coeff"], arrays["mo_occ"])


def occupied_spin_densities(coeff: np.ndarray, occ: np.ndarray) -> np.ndarray:
    """``(2, nao, nao)`` alpha and beta densities of orbitals ``coeff`` with occupations
    ``occ``: RKS ``(nao, nmo)``/``(nmo,)`` gives two halves, UKS ``(2, nao, nmo)``/``(2, nmo)``
    one per spin.

    Examples
    --------
    >>> c = np.eye(2); occupied_spin_densities(c, np.array([2.0, 0.0]))[1]
    array([[1., 0.],
           [0., 0.]])
    """
    if coeff.ndim == 2:
        half = 0.5 * (coeff * occ) @ coeff.T
        return np.stack([half, half])
    return np.stack([(c * o) @ c.T for c, o in zip(coeff, occ, strict=True)])


def density_guess(doc: Any, restricted: bool) -> np.ndarray:
    """The converged density of ``doc`` as the start of another SCF of the same geometry and
    basis (another solvent, another functional): ``(nao, nao)`` for RKS, ``(2, nao, nao)`` for
    UKS, as ``initial_dm`` expects."""
    spins = spin_densities(doc)
    return spins.sum(axis=0) if restricted else spins


#: Settings that decide the AO basis: a density carries over only where these agree.
BASIS_FIELDS = ("basis", "ecp", "fallback_basis", "ln_core")


def fits(doc: Any, molecule: Molecule, settings: CalcSettings, tol_angstrom: float = 1e-4
         ) -> bool:
    """Whether the density of ``doc`` can start an SCF of ``molecule`` in ``settings``: the same
    species and coordinates (Angstrom, to ``tol_angstrom``) and the same basis settings.

    Examples
    --------
    >>> from superatom.calc_settings import load_preset
    >>> from superatom.workflows.frontier import compute_frontier
    >>> oh = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], charge=-1)
    >>> doc = compute_frontier(oh, "fast")
    >>> fits(doc, oh, load_preset("screening")), fits(doc, oh, load_preset("production"))
    (True, False)
    """
    doc = FrontierOrbitalDoc.model_validate(doc)
    other = Molecule.from_dict(doc.molecule)
    same_atoms = (len(other) == len(molecule)
                  and [str(s) for s in other.species] == [str(s) for s in molecule.species]
                  and np.allclose(other.cart_coords, molecule.cart_coords, atol=tol_angstrom))
    wanted = settings.model_dump()
    return same_atoms and all(doc.settings.get(k) == wanted.get(k) for k in BASIS_FIELDS)
