"""Standard set of GFN2-xTB pre-relaxed POMs shipped with the package (extended XYZ, Angstrom).

Regenerate with ``python benchmarks/relax_standard_set.py``.

Examples
--------
>>> mol = load_standard("W6O19")
>>> mol.charge, mol.spin_multiplicity, len(mol)
(-2, 1, 25)
"""

from __future__ import annotations

from pathlib import Path

from superatom.errors import InputError

__all__ = ["DATA_DIR", "STANDARD_SET", "load_standard", "standard_builders"]

DATA_DIR = Path(__file__).parent / "data"

#: name -> (registry kind, options)
STANDARD_SET: dict[str, tuple[str, dict]] = {
    "W6O19": ("lindqvist", {"metal": "W"}),
    "Mo6O19": ("lindqvist", {"metal": "Mo"}),
    "PW12O40": ("keggin", {"heteroatom": "P", "metal": "W"}),
    "SiW12O40": ("keggin", {"heteroatom": "Si", "metal": "W"}),
    "PMo12O40": ("keggin", {"heteroatom": "P", "metal": "Mo"}),
}


def standard_builders() -> dict[str, tuple[str, dict]]:
    """Names of the standard set with the registry kind and options that build them.

    Examples
    --------
    >>> sorted(standard_builders())[:2]
    ['Mo6O19', 'PMo12O40']
    """
    return dict(STANDARD_SET)


def load_standard(name: str):
    """Load the xTB-relaxed geometry ``name`` (W6O19, Mo6O19, PW12O40, SiW12O40, PMo12O40).

    Returns
    -------
    pymatgen.core.Molecule
        With charge, multiplicity and fragment labels from the file header.
    """
    from superatom.structures.io import read_molecule

    if name not in STANDARD_SET:
        names = ", ".join(STANDARD_SET)
        raise InputError(f"unknown standard structure '{name}': use one of {names}")
    path = DATA_DIR / f"{name}_gfn2.xyz"
    if not path.exists():
        raise InputError(f"{path.name} is missing: run benchmarks/relax_standard_set.py")
    return read_molecule(path)
