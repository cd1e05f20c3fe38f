from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule

from superatom.errors import InputError
from superatom.structures.io import read_molecule, write_xyz


def _water(charge=0, mult=1):
    return Molecule(
        ["O", "H", "H"],
        [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]],
        charge=charge,
        spin_multiplicity=mult,
        site_properties={"fragment": ["w#0", "w#0", "w#1"]},
    )


def test_roundtrip_keeps_charge_multiplicity_fragments(tmp_path):
    mol = _water(charge=1, mult=2)
    path = tmp_path / "w.xyz"
    write_xyz(mol, path)
    header = path.read_text().splitlines()[1]
    assert "charge=1" in header and "multiplicity=2" in header
    back = read_molecule(path)
    assert back.charge == 1 and back.spin_multiplicity == 2
    assert back.site_properties["fragment"] == ["w#0", "w#0", "w#1"]
    assert np.allclose(back.cart_coords, mol.cart_coords, atol=1e-7)


def test_ase_reads_our_extxyz(tmp_path):
    import ase.io

    path = tmp_path / "w.xyz"
    write_xyz(_water(), path)
    atoms = ase.io.read(path)
    assert atoms.info["charge"] == 0 and atoms.info["multiplicity"] == 1
    assert list(atoms.arrays["fragment"]) == ["w#0", "w#0", "w#1"]


def test_cli_values_override_header(tmp_path):
    path = tmp_path / "w.xyz"
    write_xyz(_water(charge=1, mult=2), path)
    back = read_molecule(path, charge=-1, multiplicity=2)
    assert back.charge == -1 and back.spin_multiplicity == 2
    back = read_molecule(path, charge=0, multiplicity=3)
    assert back.charge == 0 and back.spin_multiplicity == 3


def test_header_multiplicity_parity_error(tmp_path):
    path = tmp_path / "w.xyz"
    write_xyz(_water(charge=1, mult=2), path)
    with pytest.raises(InputError, match="cannot have multiplicity 2"):
        read_molecule(path, charge=0)


def test_plain_xyz_defaults_and_odd_electrons(tmp_path):
    path = tmp_path / "oh.xyz"
    path.write_text("2\nhydroxyl radical, plain comment\nO 0 0 0\nH 0.97 0 0\n")
    with pytest.raises(InputError, match=r"odd electron count with multiplicity 1: pass --multi"):
        read_molecule(path)
    with pytest.raises(InputError, match="odd electron count"):
        read_molecule(path, multiplicity=1)
    mol = read_molecule(path, multiplicity=2)
    assert mol.spin_multiplicity == 2 and mol.charge == 0
    assert "fragment" not in mol.site_properties
    assert read_molecule(path, charge=-1).spin_multiplicity == 1


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("2\n\nO 0 0 0\nXx 1 0 0\n", r"unknown element 'Xx' on line 4"),
        ("two\n\nO 0 0 0\n", r"malformed header .*line 1 must be the atom count"),
        ("3\n\nO 0 0 0\nH 1 0 0\n", r"header says 3 atoms but only 2"),
        ('1\ncharge=abc\nO 0 0 0\n', r"malformed header .*charge='abc' is not a number"),
        ('1\ncharge=-2 comment="unterminated\nO 0 0 0\n', r"malformed header on line 2"),
        ("1\n\nO 0 zero 0\n", r"malformed atom line 3 .*not numbers"),
        ("", r"file is empty"),
    ],
)
def test_xyz_errors_are_one_line(tmp_path, content, pattern):
    path = tmp_path / "bad.xyz"
    path.write_text(content)
    with pytest.raises(InputError, match=pattern) as info:
        read_molecule(path)
    assert "\n" not in str(info.value)


def test_missing_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match=r"file .*nope.xyz not found"):
        read_molecule(tmp_path / "nope.xyz")
    bad = tmp_path / "thing.qqq"
    bad.write_text("hello\n")
    with pytest.raises(InputError, match="unknown or unreadable format"):
        read_molecule(bad)


def test_other_ase_formats(tmp_path):
    import ase.io
    from ase import Atoms

    atoms = Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    path = tmp_path / "w.pdb"
    ase.io.write(path, atoms)
    mol = read_molecule(path)
    assert mol.composition.reduced_formula == "H2O" and mol.charge == 0


def test_property_order_and_multiframe(tmp_path):
    path = tmp_path / "odd.xyz"
    path.write_text(
        "2\nProperties=pos:R:3:species:S:1:fragment:S:1 charge=-1\n"
        "0 0 0 O a#0\n0.97 0 0 H a#0\n"
        "2\nProperties=pos:R:3:species:S:1:fragment:S:1 charge=-1\n"
        "0 0 0 O b#0\n0.99 0 0 H b#1\n"
    )
    mol = read_molecule(path)
    assert [s.specie.symbol for s in mol] == ["O", "H"]
    assert mol.charge == -1 and mol.site_properties["fragment"] == ["b#0", "b#1"]
    assert mol.cart_coords[1, 0] == pytest.approx(0.99)
    bad = tmp_path / "bad2.xyz"
    bad.write_text("1\n\nO 0 0 0\n1\n\nQq 0 0 0\n")
    with pytest.raises(InputError, match="unknown element 'Qq' on line 6"):
        read_molecule(bad)
