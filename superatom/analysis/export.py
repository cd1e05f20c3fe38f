"""Export orbitals for viewers (VESTA, Jmol, Avogadro): cube files and a Molden file.

Examples
--------
>>> paths = export_orbitals(doc, "out", orbitals=["HOMO", "LUMO"])   # doctest: +SKIP
>>> sorted(p.name for p in paths)                                  # doctest: +SKIP
['water.molden', 'water_HOMO.cube', 'water_LUMO.cube']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from superatom import engine
from superatom.analysis.docdata import DocData, doc_data
from superatom.errors import InputError


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name) or "result"


def _is_label(orbital) -> bool:
    return re.fullmatch(r"(HOMO|LUMO)([+-]\d+)?", str(orbital).upper()) is not None


def orbital_index(data: DocData, orbital: int | str, spin: str | None = None) -> int:
    """0-based index of ``orbital`` given as an int or as HOMO, HOMO-1, LUMO, LUMO+2, ..."""
    chan = data.channel(spin)
    if isinstance(orbital, int) or str(orbital).lstrip("-").isdigit():
        index = int(orbital)
    else:
        match = re.fullmatch(r"(HOMO|LUMO)([+-]\d+)?", str(orbital).upper())
        if not match:
            raise InputError(f"orbital '{orbital}' not understood: use an index, HOMO-1, LUMO+1")
        index = (chan.homo if match[1] == "HOMO" else chan.lumo) + int(match[2] or 0)
    if not 0 <= index < len(chan.energy):
        raise InputError(f"orbital '{orbital}' is outside 0..{len(chan.energy) - 1}")
    return index


def export_molden(doc, path: str | Path) -> Path:
    """Write geometry, basis and all orbitals (alpha/beta for UKS) as a Molden file."""
    data = doc_data(doc)
    arrays = doc.orbitals.arrays()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine.write_molden(data.molecule, data.settings, arrays["mo_coeff"], arrays["mo_energy"],
                        arrays["mo_occ"], str(path))
    return path


def export_cubes(
    doc,
    folder: str | Path,
    orbitals: Sequence[int | str] = ("HOMO", "LUMO"),
    spin: str | None = None,
    resolution_bohr: float = 0.25,
    skip_missing: bool = False,
) -> list[Path]:
    """Write each chosen orbital as ``<name>_<label>.cube`` in ``folder``.

    ``skip_missing`` drops labels the channel does not have (e.g. the HOMO of an empty beta
    channel) instead of raising an InputError.
    """
    data = doc_data(doc)
    chan = data.channel(spin)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for orbital in orbitals:
        try:
            index = orbital_index(data, orbital, spin)
        except InputError:
            if skip_missing and _is_label(orbital):
                continue
            raise
        suffix = "" if chan.spin == "restricted" else f"_{chan.spin}"
        path = folder / f"{_safe(data.name)}_{chan.label(index)}{suffix}.cube"
        engine.write_cube(data.molecule, data.settings, chan.coeff[:, index], str(path),
                          resolution_bohr)
        paths.append(path)
    return paths


def export_orbitals(doc, folder: str | Path,
                    orbitals: Sequence[int | str] = ("HOMO", "LUMO"),
                    resolution_bohr: float = 0.25) -> list[Path]:
    """Molden file of the whole result plus cube files of the chosen orbitals (every spin)."""
    data = doc_data(doc)
    folder = Path(folder)
    paths = [export_molden(doc, folder / f"{_safe(data.name)}.molden")]
    for chan in data.channels:
        spin = None if chan.spin == "restricted" else chan.spin
        paths += export_cubes(doc, folder, orbitals, spin, resolution_bohr,
                              skip_missing=not data.restricted)
    return paths
