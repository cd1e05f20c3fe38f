"""Small test molecules (Angstrom) shared by the tests."""

from __future__ import annotations

from pymatgen.core import Molecule


def water() -> Molecule:
    return Molecule(["O", "H", "H"], [[0, 0, 0.1173], [0, 0.7572, -0.4692],
                                      [0, -0.7572, -0.4692]])


def oxygen_triplet() -> Molecule:
    return Molecule(["O", "O"], [[0, 0, 0], [0, 0, 1.2075]], spin_multiplicity=3)


def molybdate() -> Molecule:
    """Tetrahedral [MoO4]2-, Mo-O 1.77 A."""
    d = 1.77 / 3**0.5
    return Molecule(["Mo", "O", "O", "O", "O"],
                    [[0, 0, 0], [d, d, d], [-d, -d, d], [-d, d, -d], [d, -d, -d]], charge=-2)


def hydroxide() -> Molecule:
    return Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], charge=-1)


def lanthanum_fluoride() -> Molecule:
    """Trigonal-planar LaF3, La-F 2.14 A: a La(III) with empty 5d/4f levels, 74 AOs."""
    d = 2.14
    return Molecule(["La", "F", "F", "F"],
                    [[0, 0, 0], [d, 0, 0], [-d / 2, d * 3**0.5 / 2, 0],
                     [-d / 2, -d * 3**0.5 / 2, 0]])
