"""PySCF ``Mole`` from a pymatgen ``Molecule``: basis and ECP plan, geometry checks, AO layout.

Lengths are Angstrom at the edge (Molecule) and Bohr inside PySCF.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.engine.checks import _basis_has, check_basis_names, check_physics
from superatom.engine.memory import memory_budget_mb
from superatom.errors import InputError

HEAVY_Z = 36  # elements beyond Kr get an effective core potential when the basis has one

# --------------------------------------------------------------------------- molecule


def _ecp_has(ecp: str, element: str) -> bool:
    from pyscf import gto

    try:
        return bool(gto.basis.load_ecp(ecp, element))
    except Exception:
        return False


def basis_plan(elements: list[str], settings: CalcSettings) -> tuple[dict, dict]:
    """Choose basis and ECP per element.

    Elements beyond Kr get the basis's own ECP (``ecp='auto'``); an element the main basis
    lacks (Ce-Yb in def2) gets ``settings.fallback_basis`` with its matching ECP. An element
    that neither covers is an :class:`InputError`.

    Examples
    --------
    >>> from superatom.calc_settings import load_preset
    >>> basis, ecp = basis_plan(["W", "O", "Gd"], load_preset("fast"))
    >>> basis["W"], ecp["W"], basis["Gd"]
    ('def2-svp', 'def2-svp', 'stuttgart_rsc')
    """
    from pymatgen.core import Element

    check_basis_names(settings)
    basis: dict[str, str] = {}
    ecp: dict[str, str] = {}
    for symbol in sorted(set(elements)):
        chosen = settings.basis
        if not _basis_has(chosen, symbol):
            chosen = settings.fallback_basis
            if not _basis_has(chosen, symbol):
                raise InputError(
                    f"basis '{settings.basis}' (and fallback '{settings.fallback_basis}') has no "
                    f"functions for {symbol}: choose another basis with --set basis=..."
                )
        basis[symbol] = chosen
        if settings.ecp is not None and Element(symbol).Z > HEAVY_Z:
            ecp_name = chosen if settings.ecp == "auto" else settings.ecp
            if _ecp_has(ecp_name, symbol):
                ecp[symbol] = ecp_name
    return basis, ecp


def check_molecule(molecule: Molecule, min_distance: float = 0.5) -> None:
    """Reject geometries no SCF should see: overlapping atoms and empty molecules.

    Parameters
    ----------
    min_distance : float
        Smallest allowed interatomic distance in Angstrom.
    """
    if len(molecule) == 0:
        raise InputError("the molecule has no atoms: check the input file")
    if len(molecule) > 1:
        from scipy.spatial import cKDTree

        distance, neighbour = cKDTree(molecule.cart_coords).query(molecule.cart_coords, k=2)
        first = int(np.argmin(distance[:, 1]))
        closest = float(distance[first, 1])
        i, j = sorted((first, int(neighbour[first, 1])))
        if closest < min_distance:
            raise InputError(
                f"atoms {i + 1} ({molecule[i].specie}) and {j + 1} ({molecule[j].specie}) are "
                f"{closest:.3f} A apart (< {min_distance} A): fix the geometry"
            )


def build_mole(molecule: Molecule, settings: CalcSettings, verbose: int = 0):
    """PySCF ``Mole`` for a pymatgen Molecule with checked ECPs, charge and spin.

    Raises :class:`InputError` when charge and multiplicity do not fit the electron count
    or when an element beyond Kr ends up without an ECP although one was requested.
    """
    from pyscf import gto

    check_molecule(molecule)
    check_physics(molecule, settings)
    symbols = [site.specie.symbol for site in molecule]
    basis, ecp = basis_plan(symbols, settings)
    mol = gto.Mole()
    mol.atom = [(s, tuple(site.coords)) for s, site in zip(symbols, molecule, strict=True)]
    mol.unit = "Angstrom"
    mol.basis = basis
    mol.ecp = ecp
    mol.charge = round(molecule.charge)
    mol.spin = int(molecule.spin_multiplicity) - 1
    mol.verbose = verbose
    mol.max_memory = memory_budget_mb(settings.max_memory_mb)
    try:
        mol.build(parse_arg=False, dump_input=False)
    except RuntimeError as err:
        raise InputError(
            f"charge {mol.charge} and multiplicity {molecule.spin_multiplicity} do not fit the "
            f"electron count: {err}".splitlines()[0]
        ) from None
    for index, symbol in enumerate(symbols):
        if symbol in ecp and mol.atom_nelec_core(index) == 0:
            raise InputError(f"ECP '{ecp[symbol]}' was not applied to {symbol}: report this bug")
    return mol


def ao_metadata(mol) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ao_loc = mol.ao_loc_nr()
    ao_atom = np.empty(mol.nao, dtype=int)
    ao_l = np.empty(mol.nao, dtype=int)
    for shell in range(mol.nbas):
        ao_atom[ao_loc[shell] : ao_loc[shell + 1]] = mol.bas_atom(shell)
        ao_l[ao_loc[shell] : ao_loc[shell + 1]] = mol.bas_angular(shell)
    return ao_atom, ao_l, [label.strip() for label in mol.ao_labels()]

def ao_layout(molecule: Molecule, settings: CalcSettings) -> np.ndarray:
    """Atom index of every AO for ``molecule`` in ``settings``' basis, without any SCF.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> from superatom.calc_settings import load_preset
    >>> h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    >>> ao_layout(h2, load_preset("fast")).tolist()
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """
    return ao_metadata(build_mole(molecule, settings))[0]
