"""Standard set of POM anions shipped with the package (extended XYZ, Angstrom).

The geometries come from the crystal builders (:mod:`superatom.structures.lindqvist`,
:mod:`superatom.structures.keggin`), whose M-O bond lengths match the crystal references of
:data:`superatom.structures.validate.MO_REFERENCES`. Free GFN2-xTB minima are not used: they
stretch W-O(central) of [W6O19]2- to 2.53 A (crystal 2.33) and shrink Mo-Ob of [Mo6O19]2- to
1.82 A (1.93), which reverses the W/Mo gap order. Regenerate with
``python benchmarks/build_standard_set.py``.

Examples
--------
>>> mol = load_standard("W6O19")
>>> mol.charge, mol.spin_multiplicity, len(mol)
(-2, 1, 25)
>>> from superatom.structures.validate import mo_warnings
>>> mo_warnings(mol)
[]
"""

from __future__ import annotations

from pathlib import Path

from superatom.errors import InputError

__all__ = ["DATA_DIR", "STANDARD_SET", "load_standard", "standard_builders", "standard_path"]

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


def standard_path(name: str) -> Path:
    """Path of the shipped file of ``name``; one-line error for an unknown name.

    Examples
    --------
    >>> standard_path("PW12O40").name
    'PW12O40.xyz'
    """
    if name not in STANDARD_SET:
        names = ", ".join(STANDARD_SET)
        raise InputError(f"unknown standard structure '{name}': use one of {names}")
    return DATA_DIR / f"{name}.xyz"


def load_standard(name: str):
    """Load the standard geometry ``name`` (W6O19, Mo6O19, PW12O40, SiW12O40, PMo12O40).

    Returns
    -------
    pymatgen.core.Molecule
        With charge, multiplicity and fragment labels from the file header.
    """
    from superatom.structures.io import read_molecule

    path = standard_path(name)
    if not path.exists():
        raise InputError(f"{path.name} is missing: run benchmarks/build_standard_set.py")
    return read_molecule(path)
