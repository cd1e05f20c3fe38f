"""ECPs that PySCF's own library lacks, read from basis-set-exchange under the basis's name.

PySCF's def2 orbital bases include Ce-Lu (Gulde, Pollak & Weigend 2012), but its def2 ECP
file stops at La and starts again at Hf. Without that ECP PySCF would build an all-electron
lanthanide. Ce-Yb take the fallback basis (``stuttgart_rsc``, same 28-electron ECP28MWB of
Dolg and co-workers). Lu has no fallback in PySCF, so it keeps its def2 orbital basis, and
the def2 ECP (ECP28MWB) comes from the installed ``basis-set-exchange`` package. The plan
names it ``bse:<basis>``.

Examples
--------
>>> exchange_ecp_name("def2-svp")
'bse:def2-svp'
>>> ecp = exchange_ecp("bse:def2-svp", "Lu")
>>> ecp[0], sorted({block[0] for block in ecp[1]})
(28, [-1, 0, 1, 2, 3, 4])
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from packaging.version import Version

from superatom.engine.checks import disable_pyscf_eval
from superatom.errors import InputError

MIN_BSE = "0.12"  # first basis-set-exchange release with the lcecp sets
EXCHANGE_PREFIX = "bse:"
_ECP_BLOCK = re.compile(r"^ECP\s*$", flags=re.MULTILINE)


def basis_set_exchange(purpose: str):
    """The installed ``basis_set_exchange`` module; :class:`InputError` saying what needs it
    (``purpose``) when it is missing or older than :data:`MIN_BSE`."""
    try:
        import basis_set_exchange as bse
    except ImportError:
        raise InputError(f"{purpose} needs the 'basis-set-exchange' package: "
                         f"pip install 'basis-set-exchange>={MIN_BSE}'") from None
    if Version(bse.version()) < Version(MIN_BSE):
        raise InputError(f"basis-set-exchange {bse.version()} is too old for {purpose}: "
                         f"pip install 'basis-set-exchange>={MIN_BSE}'")
    return bse


@lru_cache(maxsize=128)
def exchange_text(name: str, element: str, purpose: str) -> tuple[str, str]:
    """Orbital-basis and ECP blocks (NWChem format) of ``element`` in basis-set-exchange's
    set ``name``; the ECP block is empty when the set has none for the element."""
    try:
        text = basis_set_exchange(purpose).get_basis(name, elements=[element], fmt="nwchem",
                                                     header=False)
    except KeyError as err:
        raise InputError(f"basis-set-exchange has no {name} for {element} "
                         f"({err.args[0]}): {purpose} cannot use it") from None
    parts = _ECP_BLOCK.split(text)
    return parts[0], (parts[1] if len(parts) == 2 else "")


def exchange_ecp_name(basis: str) -> str:
    """Plan name of the ECP that basis-set-exchange's ``basis`` carries."""
    return EXCHANGE_PREFIX + basis.lower()


@lru_cache(maxsize=64)
def _parsed_ecp(name: str, element: str) -> tuple:
    from pyscf import gto

    basis = name.removeprefix(EXCHANGE_PREFIX)
    _, ecp_text = exchange_text(basis, element, f"the {basis} ECP of {element}")
    if not ecp_text.strip():
        raise InputError(f"basis-set-exchange's {basis} has no ECP for {element}: choose a "
                         f"basis with an ECP for {element}, or set ecp=null")
    disable_pyscf_eval()  # the text holds numbers only; never evaluate it
    return tuple(gto.basis.parse_ecp(ecp_text, element))


def exchange_ecp(name: str, element: str) -> list:
    """ECP of ``element`` for the plan name ``bse:<basis>``, in PySCF's internal format
    (``[core electrons, [[l, ...], ...]]``)."""
    return copy.deepcopy(list(_parsed_ecp(name, element)))


def has_exchange_ecp(basis: str, element: str) -> bool:
    """Whether basis-set-exchange's ``basis`` carries an ECP for ``element`` (False when the
    package, the set or the ECP is missing).

    Examples
    --------
    >>> has_exchange_ecp("def2-svp", "Lu"), has_exchange_ecp("def2-svp", "O")
    (True, False)
    """
    try:
        return bool(exchange_ecp(exchange_ecp_name(basis), element)[0])
    except Exception:  # InputError, or a set basis-set-exchange cannot write for the element
        return False
