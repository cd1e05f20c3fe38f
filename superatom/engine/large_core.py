"""Lanthanide 4f-in-core: trivalent large-core ECPs with their def2-type bases (``lcecp-1-*``).

The 4f shell of Ln(III) goes into the core of the quasi-relativistic ECPs of Dolg and
co-workers (ECP46MWB for La ... ECP60MWB for Lu: 46 + n_f core electrons, n_f the 4f count of
Ln(III)); Lukanowski & Weigend (PCCP 2026) gave them def2-type valence bases, distributed as
``lcecp-1-svp``, ``lcecp-1-tzvp``, ... by the ``basis-set-exchange`` package. With the 4f
electrons in the core every Ln(III) is a closed shell.

The basis and ECP data are read from the installed package, never from a file: PySCF's own
library has no large-core lanthanide set, and PySCF would build an all-electron atom for a
name it cannot find.

Examples
--------
>>> large_core_name("def2-tzvp")
'lcecp-1-tzvp'
>>> basis, ecp = large_core_data("lcecp-1-svp", "Nd")
>>> ecp[0], sorted({shell[0] for shell in basis})
(49, [0, 1, 2, 3])
"""

from __future__ import annotations

import copy
from functools import lru_cache

from superatom.engine.checks import disable_pyscf_eval
from superatom.engine.exchange_ecp import exchange_text
from superatom.errors import InputError
from superatom.structures.chem import LANTHANIDES, ln_f_count

LARGE_CORE_PREFIX = "lcecp-1-"
#: def2 orbital bases and the zeta of the large-core set that matches them
_ZETA = {"def2-sv(p)": "sv(p)", "def2-svp": "svp", "def2-tzvp": "tzvp", "def2-tzvpp": "tzvpp",
         "def2-qzvp": "qzvp", "def2-qzvpp": "qzvpp"}


def large_core_name(basis: str) -> str:
    """The ``lcecp-1-*`` set of the same zeta as the def2 orbital basis ``basis``.

    Examples
    --------
    >>> large_core_name("def2-svp")
    'lcecp-1-svp'
    >>> large_core_name("6-31g")
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: ln_core=4f-in-core needs a def2 basis ...
    """
    zeta = _ZETA.get(basis.lower())
    if zeta is None:
        raise InputError(f"ln_core=4f-in-core needs a def2 basis ({', '.join(_ZETA)}) to pick "
                         f"the lcecp-1 set of the same zeta, not '{basis}': change basis or "
                         "set ln_core=small")
    return LARGE_CORE_PREFIX + zeta


def large_core_electrons(element: str) -> int:
    """Core electrons of the trivalent 4f-in-core ECP of ``element``: 46 + n_f of Ln(III).

    Examples
    --------
    >>> [large_core_electrons(x) for x in ("La", "Nd", "Gd", "Yb")]
    [46, 49, 53, 59]
    """
    return 46 + ln_f_count(element)


def check_pyscf_core(element: str) -> None:
    """Refuse an element whose 4f-in-core ECP PySCF cannot label (its AO labels and guesses
    need the core's shell configuration; PySCF 2.14 has none for Yb's 59 core electrons).

    Examples
    --------
    >>> check_pyscf_core("Nd")
    >>> check_pyscf_core("Yb")
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: PySCF has no core configuration for the 59 core electrons ...
    """
    from pyscf.gto.ecp import core_configuration

    core = large_core_electrons(element)
    try:
        core_configuration(core, atom_symbol=element)
    except RuntimeError:
        raise InputError(f"PySCF has no core configuration for the {core} core electrons of "
                         f"4f-in-core {element} (needed for AO labels): use ln_core=small "
                         f"for {element}") from None


@lru_cache(maxsize=64)
def _parsed(name: str, element: str) -> tuple[list, list]:
    from pyscf import gto

    if element not in LANTHANIDES:
        raise InputError(f"{name} is a lanthanide set: {element} is not a lanthanide")
    try:
        basis_text, ecp_text = exchange_text(name, element, "ln_core=4f-in-core")
    except InputError as err:
        raise InputError(f"{err}; set ln_core=small") from None
    if not ecp_text.strip():
        raise InputError(f"basis-set-exchange's {name} for {element} has no ECP block: "
                         "set ln_core=small")
    disable_pyscf_eval()  # the text holds numbers only; never evaluate it
    return gto.basis.parse(basis_text, element), gto.basis.parse_ecp(ecp_text, element)


def large_core_data(name: str, element: str) -> tuple[list, list]:
    """Orbital basis and ECP of ``element`` in the large-core set ``name``, in PySCF's
    internal format (``mol.basis[element]``, ``mol.ecp[element]``), checked to put exactly
    46 + n_f electrons in the core.
    """
    check_pyscf_core(element)
    basis, ecp = _parsed(name, element)
    if not ecp or ecp[0] != large_core_electrons(element):
        found = ecp[0] if ecp else 0
        raise InputError(f"{name} for {element} puts {found} electrons in the core, not the "
                         f"{large_core_electrons(element)} of a 4f-in-core Ln(III): set "
                         "ln_core=small")
    return copy.deepcopy(basis), copy.deepcopy(ecp)
