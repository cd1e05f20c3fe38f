from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Composition, Molecule

from superatom.errors import InputError
from superatom.structures.geometry import td_operations
from superatom.structures.keggin import build_keggin
from superatom.structures.lindqvist import build_lindqvist
from superatom.structures.substituted import build_lacunary, build_substituted
from superatom.structures.validate import bond_lengths, coordination_numbers, validate_structure

TOL = 0.01


def _maps_onto_itself(mol: Molecule, ops, tol=1e-3) -> bool:
    xyz = mol.cart_coords - mol.center_of_mass * 0  # heteroatom at origin by construction
    syms = np.array([s.specie.symbol for s in mol])
    for op in ops:
        moved = xyz @ op.T
        d = np.linalg.norm(moved[:, None, :] - xyz[None, :, :], axis=2)
        j = d.argmin(axis=1)
        if d[np.arange(len(xyz)), j].max() > tol or not np.all(syms[j] == syms):
            return False
    return True


def _oh_operations():
    import itertools

    ops = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = np.zeros((3, 3))
            for i, p in enumerate(perm):
                m[i, p] = signs[i]
            ops.append(m)
    return ops


def _classify_w_o(mol, metal):
    """Return W-O distances grouped by O type (t: 1 metal, b/c: 2 metals, a: bonded to X)."""
    syms = [s.specie.symbol for s in mol]
    xyz = mol.cart_coords
    out = {"t": [], "bc": [], "a": []}
    for i, s in enumerate(syms):
        if s != "O":
            continue
        d = np.linalg.norm(xyz - xyz[i], axis=1)
        metals = [j for j, sj in enumerate(syms) if sj == metal and d[j] < 2.7]
        het = [j for j, sj in enumerate(syms) if sj not in (metal, "O") and d[j] < 1.9]
        key = "a" if het else ("t" if len(metals) == 1 else "bc")
        out[key] += [float(d[j]) for j in metals]
    return out


def test_pw12_bond_lengths_match_crystal_ranges():
    mol = build_keggin("P", "W")
    assert mol.charge == -3 and mol.spin_multiplicity == 1 and len(mol) == 53
    groups = _classify_w_o(mol, "W")
    assert len(groups["t"]) == 12 and len(groups["a"]) == 12 and len(groups["bc"]) == 48
    assert all(1.70 - TOL <= d <= 1.71 + TOL for d in groups["t"])
    assert all(2.35 - TOL <= d <= 2.45 + TOL for d in groups["a"])
    bc = sorted(groups["bc"])
    assert all(1.91 - TOL <= d <= 1.94 + TOL for d in bc)
    # two populations: 24 Ob at 1.91-1.92 and 24 Oc at 1.93-1.94
    assert np.all(np.array(bc[:24]) <= 1.92 + TOL) and np.all(np.array(bc[24:]) >= 1.93 - TOL)
    p_o = bond_lengths(mol, "P", "O", 2.0)
    assert len(p_o) == 4 and np.all((p_o >= 1.53 - TOL) & (p_o <= 1.54 + TOL))
    assert coordination_numbers(mol, "W") == [6] * 12


def test_alpha_keggin_has_td_symmetry_and_beta_does_not():
    ops = td_operations()
    assert _maps_onto_itself(build_keggin("P", "W"), ops)
    beta = build_keggin("P", "W", isomer="beta")
    assert not _maps_onto_itself(beta, ops)
    assert beta.composition == build_keggin("P", "W").composition
    assert coordination_numbers(beta, "W") == [6] * 12


@pytest.mark.parametrize(
    ("x", "m", "charge"),
    [("P", "W", -3), ("Si", "W", -4), ("Ge", "W", -4), ("B", "W", -5), ("Al", "Mo", -5),
     ("P", "Mo", -3)],
)  # fmt: skip
def test_keggin_charges_and_mo_terminal(x, m, charge):
    mol = build_keggin(x, m)
    assert mol.charge == charge and mol.composition == Composition(f"{x}{m}12O40")
    if m == "Mo":
        t = _classify_w_o(mol, "Mo")["t"]
        assert np.allclose(t, 1.67, atol=TOL)


def test_lindqvist_oh_and_bond_lengths():
    for metal, (dc, db, dt) in {"W": (2.33, 1.92, 1.70), "Mo": (2.32, 1.93, 1.68)}.items():
        mol = build_lindqvist(metal)
        assert mol.charge == -2 and len(mol) == 25
        assert _maps_onto_itself(mol, _oh_operations())
        d = np.unique(bond_lengths(mol, metal, "O", 2.5).round(3))
        assert np.allclose(d, sorted([dt, db, dc]), atol=1e-3)


def test_lacunary_and_substituted():
    lac = build_lacunary()
    assert lac.charge == -7 and lac.composition == Composition("PW11O39")
    gd = build_substituted("Gd")
    assert (gd.charge, gd.spin_multiplicity) == (-4, 8)
    assert gd.composition["H"] == 8 and gd.composition["O"] == 43
    ln_o = bond_lengths(gd, "Gd", "O", 2.9)
    assert len(ln_o) == 8 and np.all((ln_o > 2.35) & (ln_o < 2.6))
    for ln, mult in {"Y": 1, "La": 1, "Ce": 2, "Eu": 7, "Tb": 7, "Yb": 2, "Lu": 1}.items():
        assert build_substituted(ln, n_water=2).spin_multiplicity == mult
    co = build_substituted("Co")
    assert (co.charge, co.spin_multiplicity) == (-5, 4)
    assert coordination_numbers(co, "Co", scale=1.3) == [6]
    fe3 = build_substituted("Fe", oxidation=3)
    assert (fe3.charge, fe3.spin_multiplicity) == (-4, 6)
    assert build_substituted("Zn").spin_multiplicity == 1
    with pytest.raises(InputError, match="unknown transition metal"):
        build_substituted("Xq")
    with pytest.raises(InputError, match="exceeds the 5 free sites"):
        build_substituted("Gd", n_water=6)


def test_validate_catches_problems():
    mol = build_lindqvist("W")
    validate_structure(mol, expected_formula="W6O19", coordination={"W": 6})
    with pytest.raises(InputError, match="formula is W6O19, expected W6O18"):
        validate_structure(mol, expected_formula="W6O18")
    with pytest.raises(InputError, match="W coordination"):
        validate_structure(mol, coordination={"W": 5})
    moved = mol.copy()
    moved.translate_sites([1], moved.cart_coords[0] - moved.cart_coords[1] + [0.3, 0, 0])
    with pytest.raises(InputError, match=r"0\.300 A apart"):
        validate_structure(moved)
    clash = Molecule(["W", "O"], [[0, 0, 0], [1.2, 0, 0]], charge=-2)
    with pytest.raises(InputError, match="clash"):
        validate_structure(clash)
    odd = Molecule(["O", "H"], [[0, 0, 0], [0.97, 0, 0]], spin_multiplicity=2)
    odd._spin_multiplicity = 1  # bypass pymatgen's own check
    with pytest.raises(InputError, match="cannot have multiplicity 1"):
        validate_structure(odd)
    h_bad = Molecule(["O", "H", "O"], [[0, 0, 0], [1.0, 0, 0], [2.0, 0, 0]], charge=-1)
    with pytest.raises(InputError, match="H atom 1 is bonded to 2 atoms"):
        validate_structure(h_bad)
    lone = Molecule(["H", "H"], [[0, 0, 0], [3.0, 0, 0]])
    with pytest.raises(InputError, match="H atom 0 is bonded to 0 atoms"):
        validate_structure(lone)
