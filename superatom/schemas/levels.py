"""HOMO, LUMO and gap from orbital energies and occupations (Hartree in, eV out).

Examples
--------
>>> import numpy as np
>>> levels = frontier_levels(np.array([-0.5, -0.3, 0.1]), np.array([2.0, 2.0, 0.0]))
>>> round(levels["gap_ev"], 3)
10.885
"""

from __future__ import annotations

import numpy as np

from superatom import HARTREE_TO_EV

# an orbital holding more than half an electron (per spin channel) counts as occupied
OCCUPIED = 0.5


def _channel(mo_energy: np.ndarray, mo_occ: np.ndarray, threshold: float) -> tuple[int, int]:
    occupied = np.flatnonzero(mo_occ > threshold)
    virtual = np.flatnonzero(mo_occ <= threshold)
    homo = int(occupied[np.argmax(mo_energy[occupied])]) if occupied.size else -1
    lumo = int(virtual[np.argmin(mo_energy[virtual])]) if virtual.size else -1
    return homo, lumo


def frontier_levels(mo_energy: np.ndarray, mo_occ: np.ndarray) -> dict[str, float | int | None]:
    """HOMO/LUMO energies (eV), gap (eV) and orbital indices, per spin for open shells.

    For spin-unrestricted input (leading axis 2) the overall HOMO is the higher of the alpha
    and beta HOMOs and the overall LUMO the lower of the two LUMOs; the ``*_alpha`` and
    ``*_beta`` keys hold each channel.
    """
    energy = np.asarray(mo_energy, dtype=float)
    occ = np.asarray(mo_occ, dtype=float)
    result: dict[str, float | int | None] = {}
    if energy.ndim == 1:
        homo, lumo = _channel(energy, occ, OCCUPIED)
        result.update(homo_index=homo, lumo_index=lumo)
        result["homo_ev"] = float(energy[homo] * HARTREE_TO_EV) if homo >= 0 else None
        result["lumo_ev"] = float(energy[lumo] * HARTREE_TO_EV) if lumo >= 0 else None
    else:
        homos, lumos = [], []
        for spin, name in enumerate(("alpha", "beta")):
            homo, lumo = _channel(energy[spin], occ[spin], OCCUPIED)
            e_homo = float(energy[spin, homo] * HARTREE_TO_EV) if homo >= 0 else None
            e_lumo = float(energy[spin, lumo] * HARTREE_TO_EV) if lumo >= 0 else None
            result.update({
                f"homo_index_{name}": homo,
                f"lumo_index_{name}": lumo,
                f"homo_{name}_ev": e_homo,
                f"lumo_{name}_ev": e_lumo,
                f"gap_{name}_ev": (e_lumo - e_homo) if None not in (e_homo, e_lumo) else None,
            })
            if e_homo is not None:
                homos.append(e_homo)
            if e_lumo is not None:
                lumos.append(e_lumo)
        result["homo_ev"] = max(homos) if homos else None
        result["lumo_ev"] = min(lumos) if lumos else None
    if result["homo_ev"] is not None and result["lumo_ev"] is not None:
        result["gap_ev"] = result["lumo_ev"] - result["homo_ev"]
    else:
        result["gap_ev"] = None
    return result


def level_label(index: int, n_occ: int) -> str:
    """Frontier label of orbital ``index`` (0-based) when ``n_occ`` orbitals are occupied.

    Examples
    --------
    >>> [level_label(i, n_occ=5) for i in (3, 4, 5, 6)]
    ['HOMO-1', 'HOMO', 'LUMO', 'LUMO+1']
    """
    position = index - n_occ + 1
    if position <= 0:
        return "HOMO" if position == 0 else f"HOMO{position}"
    return "LUMO" if position == 1 else f"LUMO+{position - 1}"


def short_method(method: str | None) -> str:
    """Short method label ``XC/basis`` (plus PCM/SMD) from a stored method string.

    Examples
    --------
    >>> short_method("RKS-PBE0/def2-svp DF C-PCM(eps=78.36)"), short_method("GFN2-xTB (gbsa water)")
    ('PBE0/def2-svp PCM', 'GFN2-xTB')
    """
    if not method:
        return "-"
    head, *rest = method.split()
    label = head.removeprefix("RKS-")
    for word in rest:
        if word.startswith(("C-PCM", "SMD")):
            label += " " + ("PCM" if word.startswith("C-PCM") else "SMD")
    return label
