"""Checks of an input before PySCF sees it: safe basis names, known functional and aux
basis, sane geometry, charge and multiplicity. Each failure is one-line InputError.

Lengths in Angstrom.

Examples
--------
>>> from pymatgen.core import Molecule
>>> far = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 50.0]])
>>> check_geometry(far)
Traceback (most recent call last):
...
superatom.errors.InputError: atom 2 (H) is more than 10 A from every atom of the other part ...
"""

from __future__ import annotations

import math
import os

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.errors import InputError

LINK_DISTANCE = 10.0  # A: atoms farther than this from the rest make a disconnected molecule
MAX_COORDINATE = 1.0e4  # A
ALLOW_DISCONNECTED = "allow_disconnected"  # Molecule.properties flag that skips the check


def disable_pyscf_eval() -> None:
    """Make PySCF's basis, ECP and geometry parsers refuse, not ``eval``, non-numeric text.

    Basis names come from users and campaign files; PySCF reads a name that is an existing
    file as NWChem input and would ``eval`` its non-numeric lines.
    """
    from pyscf.gto import mole
    from pyscf.gto.basis import parse_molpro, parse_nwchem, parse_nwchem_ecp

    for module in (mole, parse_molpro, parse_nwchem, parse_nwchem_ecp):
        module.DISABLE_EVAL = True


def _basis_has(basis: str, element: str) -> bool:
    """Whether PySCF's basis ``basis`` has functions for ``element`` (False on any failure,
    without PySCF's warnings about names it does not know)."""
    import warnings

    from pyscf import gto

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(gto.format_basis({element: basis})[element])  # as Mole reads it
    except Exception:
        return False


def library_name(name: str) -> str:
    """The name PySCF looks up for a basis: without an ``unc`` prefix (uncontracted) and an
    ``@...`` contraction suffix (``def2-svp@3s2p``), both of which PySCF strips before it
    checks whether the name is a file.

    Examples
    --------
    >>> library_name("unc-def2-svp@3s2p")
    '-def2-svp'
    >>> library_name("def2-svp@3s2p"), library_name("sto-3g")
    ('def2-svp', 'sto-3g')
    """
    base = name[3:] if name.lower().startswith("unc") else name
    return base.split("@")[0]


def ecp_name(basis: str) -> str:
    """The ECP that goes with ``basis``: that of its library basis, ``unc`` and ``@...``
    removed (``def2-svp@3s2p`` keeps def2-svp's ECP).

    Examples
    --------
    >>> ecp_name("unc-def2-svp@3s"), ecp_name("def2-tzvp")
    ('def2-svp', 'def2-tzvp')
    """
    return library_name(basis).lstrip("-_ ")


def _looked_up(key: str, value: str) -> set[str]:
    """Every name PySCF may open as a file for the field ``key``: basis names go through
    :func:`library_name` (orbital and auxiliary basis alike), ECP names are opened as given
    and, for ``ecp='auto'``, as :func:`ecp_name` of the basis."""
    names = {value, library_name(value), ecp_name(value)}
    return {name for name in names if name}


def check_basis_names(settings: CalcSettings) -> None:
    """Refuse basis/ECP names that PySCF would open as files, and never evaluate file text.

    The check is on the names PySCF resolves (``evilbas@1s`` is opened as ``./evilbas``),
    for the orbital, fallback and auxiliary basis and the ECP.
    """
    disable_pyscf_eval()
    for key in ("basis", "fallback_basis", "aux_basis", "ecp"):
        value = getattr(settings, key)
        if value is None:
            continue
        for name in sorted(_looked_up(key, value)):
            if os.path.lexists(name):
                raise InputError(f"{key} '{value}' names a file here ('{name}'), and basis "
                                 "files are never read: give a basis name PySCF knows "
                                 "(e.g. def2-svp)")


def check_method(settings: CalcSettings, elements: list[str]) -> None:
    """Known functional and auxiliary basis (when density fitting); the SMD solvent is
    checked by ``gpu_checks.check_solvent``."""
    from pyscf.dft import libxc

    try:
        libxc.parse_xc(settings.xc)
    except Exception:  # KeyError for unknown names, others for malformed mixtures
        raise InputError(f"unknown functional xc='{settings.xc}': give a libxc name such as "
                         "PBE0, B3LYP or PBE") from None
    if settings.density_fit and settings.aux_basis:
        known = False
        for element in sorted(set(elements)):
            known = known or _basis_has(settings.aux_basis, element)
        if not known:
            raise InputError(f"unknown aux_basis '{settings.aux_basis}' for "
                             f"{', '.join(sorted(set(elements)))}: use e.g. def2-universal-jkfit")


def check_charge_spin(molecule: Molecule) -> None:
    """Charge a finite integer that leaves electrons, multiplicity an integer >= 1."""
    charge, multiplicity = molecule.charge, molecule.spin_multiplicity
    if not math.isfinite(charge) or charge != round(charge):
        raise InputError(f"charge {charge} is not an integer: give the total charge, e.g. -3")
    if not math.isfinite(multiplicity) or multiplicity != round(multiplicity) or multiplicity < 1:
        raise InputError(f"multiplicity {multiplicity} is not an integer >= 1: give 2S+1, "
                         "e.g. 1 for a singlet")
    if molecule.nelectrons < 1:
        raise InputError(f"charge {charge:+g} leaves no electrons: a calculation needs at "
                         "least one, fix the charge")


def check_geometry(molecule: Molecule) -> None:
    """Finite coordinates below 1e4 A, and one connected piece (links up to 10 A).

    A molecule whose atoms fall into parts more than 10 A apart (e.g. H2 with 50 A between
    its atoms) is refused unless ``molecule.properties['allow_disconnected']`` is true.
    """
    coords = np.asarray(molecule.cart_coords, dtype=float)
    if not np.all(np.isfinite(coords)) or np.abs(coords).max(initial=0.0) > MAX_COORDINATE:
        raise InputError(f"coordinates must be finite and below {MAX_COORDINATE:g} A in "
                         "size: check the units and the file")
    if len(molecule) < 2 or (getattr(molecule, "properties", None) or {}).get(ALLOW_DISCONNECTED):
        return
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    pairs = cKDTree(coords).query_pairs(LINK_DISTANCE, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                       shape=(len(molecule), len(molecule)))
    n_parts, labels = connected_components(graph, directed=False)
    if n_parts > 1:
        lonely = int(np.flatnonzero(labels != labels[0])[0])
        raise InputError(
            f"atom {lonely + 1} ({molecule[lonely].specie}) is more than {LINK_DISTANCE:g} A "
            f"from every atom of the other part ({n_parts} disconnected parts): fix the "
            "geometry, or pass --allow-disconnected if the parts are meant to be far apart")


def check_physics(molecule: Molecule, settings: CalcSettings) -> None:
    """All the checks above (basis names, method, charge/spin, geometry)."""
    check_basis_names(settings)
    check_charge_spin(molecule)
    check_geometry(molecule)
    check_method(settings, [site.specie.symbol for site in molecule])
