"""PySCF ``Mole`` from a pymatgen ``Molecule``: basis and ECP plan, geometry checks, AO layout.

Lengths are Angstrom at the edge (Molecule) and Bohr inside PySCF.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.engine.checks import _basis_has, check_basis_names, check_physics, ecp_name
from superatom.engine.exchange_ecp import (
    EXCHANGE_PREFIX,
    exchange_ecp,
    exchange_ecp_name,
    has_exchange_ecp,
)
from superatom.engine.large_core import (
    LARGE_CORE_PREFIX,
    large_core_data,
    large_core_electrons,
    large_core_name,
)
from superatom.engine.memory import memory_budget_mb
from superatom.errors import InputError
from superatom.structures.chem import LANTHANIDES, f_in_core_multiplicity

HEAVY_Z = 36  # elements beyond Kr get an effective core potential when the basis has one

# --------------------------------------------------------------------------- molecule


def _ecp_has(ecp: str, element: str) -> bool:
    import warnings

    from pyscf import gto

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(gto.basis.load_ecp(ecp, element))
    except Exception:
        return False


def _ecp_name(basis: str, settings: CalcSettings) -> str:
    return ecp_name(basis) if settings.ecp == "auto" else str(settings.ecp)


def basis_plan(elements: list[str], settings: CalcSettings) -> tuple[dict, dict]:
    """Choose basis and ECP names per element.

    Elements beyond Kr get the basis's own ECP (``ecp='auto'``); an element the main basis
    lacks, or has no ECP for (Ce-Yb in def2), gets ``settings.fallback_basis`` with its
    matching ECP. An element neither has an ECP for in PySCF's library (Lu in def2 and
    ``stuttgart_rsc``) keeps the main basis, with that basis's ECP from basis-set-exchange
    (``bse:<basis>``, :mod:`superatom.engine.exchange_ecp`; only with ``ecp='auto'``).
    With ``ln_core='4f-in-core'`` every lanthanide gets the trivalent large-core set
    ``lcecp-1-<zeta>`` (basis and ECP). An element beyond Kr left without an
    ECP (unless ``ecp`` is None: all-electron) and an element no basis covers are
    :class:`InputError`.

    Examples
    --------
    >>> from superatom.calc_settings import load_preset
    >>> basis, ecp = basis_plan(["W", "O", "Gd"], load_preset("fast"))
    >>> basis["W"], ecp["W"], basis["Gd"]
    ('def2-svp', 'def2-svp', 'stuttgart_rsc')
    >>> basis_plan(["Nd", "O"], load_preset("fast", ln_core="4f-in-core"))[1]
    {'Nd': 'lcecp-1-svp'}
    >>> basis_plan(["Lu", "O"], load_preset("fast"))
    ({'Lu': 'def2-svp', 'O': 'def2-svp'}, {'Lu': 'bse:def2-svp'})
    """
    from pymatgen.core import Element

    check_basis_names(settings)
    basis: dict[str, str] = {}
    ecp: dict[str, str] = {}
    for symbol in sorted(set(elements)):
        if settings.ln_core == "4f-in-core" and symbol in LANTHANIDES:
            basis[symbol] = ecp[symbol] = large_core_name(settings.basis)
            continue
        needs_ecp = settings.ecp is not None and Element(symbol).Z > HEAVY_Z
        candidates = [name for name in (settings.basis, settings.fallback_basis)
                      if _basis_has(name, symbol)]
        if not candidates:
            raise InputError(
                f"basis '{settings.basis}' (and fallback '{settings.fallback_basis}') has no "
                f"functions for {symbol}: choose another basis with --set basis=..."
            )
        if needs_ecp:  # a basis without its ECP would quietly run the atom all-electron
            with_ecp = [name for name in candidates
                        if _ecp_has(_ecp_name(name, settings), symbol)]
            if (not with_ecp and settings.ecp == "auto" and settings.basis in candidates
                    and has_exchange_ecp(settings.basis, symbol)):
                basis[symbol] = settings.basis
                ecp[symbol] = exchange_ecp_name(settings.basis)
                continue
            candidates = with_ecp
            if not candidates:
                raise InputError(
                    f"no ECP for {symbol} in '{_ecp_name(settings.basis, settings)}' or "
                    f"'{_ecp_name(settings.fallback_basis, settings)}': choose a basis with "
                    f"an ECP for {symbol}, or set ecp=null for an all-electron calculation")
            ecp[symbol] = _ecp_name(candidates[0], settings)
        basis[symbol] = candidates[0]
    return basis, ecp


def scf_multiplicity(molecule: Molecule, settings: CalcSettings) -> int:
    """The multiplicity the SCF runs with: the molecule's, less the unpaired 4f electrons
    that ``ln_core='4f-in-core'`` puts into the core (closed-shell Ln(III)).

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> from superatom.calc_settings import load_preset
    >>> nd = Molecule(["Nd"], [[0, 0, 0]], charge=3, spin_multiplicity=4)
    >>> scf_multiplicity(nd, load_preset("fast")), scf_multiplicity(
    ...     nd, load_preset("fast", ln_core="4f-in-core"))
    (4, 1)
    """
    multiplicity = int(molecule.spin_multiplicity)
    if settings.ln_core != "4f-in-core":
        return multiplicity
    return f_in_core_multiplicity([site.specie.symbol for site in molecule], multiplicity)


def _basis_data(names: dict[str, str], ecp_names: dict[str, str]) -> tuple[dict, dict]:
    """Names PySCF loads itself stay names; large-core sets and ``bse:`` ECPs come from
    basis-set-exchange."""
    basis, ecp = dict(names), dict(ecp_names)
    for symbol, name in names.items():
        if name.startswith(LARGE_CORE_PREFIX):
            basis[symbol], ecp[symbol] = large_core_data(name, symbol)
    for symbol, name in ecp_names.items():
        if name.startswith(EXCHANGE_PREFIX):
            ecp[symbol] = exchange_ecp(name, symbol)
    return basis, ecp


def expected_core_electrons(symbol: str, ecp_name: str | None) -> int:
    """Core electrons the ECP ``ecp_name`` of ``symbol`` must put in the core (0: none).

    Examples
    --------
    >>> expected_core_electrons("W", "def2-svp"), expected_core_electrons("Nd", "lcecp-1-svp")
    (60, 49)
    >>> expected_core_electrons("Lu", "bse:def2-svp")
    28
    """
    if ecp_name is None:
        return 0
    if ecp_name.startswith(LARGE_CORE_PREFIX):
        return large_core_electrons(symbol)
    if ecp_name.startswith(EXCHANGE_PREFIX):
        return int(exchange_ecp(ecp_name, symbol)[0])
    from pyscf import gto

    return int(gto.basis.load_ecp(ecp_name, symbol)[0])


def check_cores(mol, symbols: list[str], ecp_names: dict[str, str],
                settings: CalcSettings) -> None:
    """Every atom has the core its ECP promises, and none beyond Kr is all-electron
    unless ``ecp`` is None (PySCF builds an all-electron atom for an ECP it cannot find)."""
    from pymatgen.core import Element

    cores = {symbol: expected_core_electrons(symbol, ecp_names.get(symbol))
             for symbol in set(symbols)}  # each ECP read once, not once per atom
    for index, symbol in enumerate(symbols):
        expected = cores[symbol]
        found = mol.atom_nelec_core(index)
        if found != expected:
            raise InputError(f"{symbol} (atom {index + 1}) has {found} core electrons, but its "
                             f"ECP '{ecp_names.get(symbol)}' has {expected}: report this bug")
        if found == 0 and settings.ecp is not None and Element(symbol).Z > HEAVY_Z:
            raise InputError(f"{symbol} (atom {index + 1}) would run all-electron although "
                             "an ECP was requested: report this bug")


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

    The spin is :func:`scf_multiplicity` (the molecule's, or closed-shell Ln(III) with
    ``ln_core='4f-in-core'``). Raises :class:`InputError` when charge and multiplicity do
    not fit the electron count or when an atom's core electrons differ from its ECP's
    (:func:`check_cores`).
    """
    from pyscf import gto

    check_molecule(molecule)
    check_physics(molecule, settings)
    symbols = [site.specie.symbol for site in molecule]
    basis_names, ecp_names = basis_plan(symbols, settings)
    multiplicity = scf_multiplicity(molecule, settings)
    mol = gto.Mole()
    mol.atom = [(s, tuple(site.coords)) for s, site in zip(symbols, molecule, strict=True)]
    mol.unit = "Angstrom"
    mol.basis, mol.ecp = _basis_data(basis_names, ecp_names)
    mol.charge = round(molecule.charge)
    mol.spin = multiplicity - 1
    mol.verbose = verbose
    mol.max_memory = memory_budget_mb(settings.max_memory_mb)
    try:
        mol.build(parse_arg=False, dump_input=False)
    except RuntimeError as err:
        raise InputError(
            f"charge {mol.charge} and multiplicity {multiplicity} do not fit the "
            f"electron count: {err}".splitlines()[0]
        ) from None
    check_cores(mol, symbols, ecp_names, settings)
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
