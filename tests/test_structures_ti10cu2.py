from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Composition

from superatom.errors import InputError
from superatom.structures.ti10cu2 import build_ti10cu2, build_ti10cu2_chain
from superatom.structures.validate import bond_lengths, coordination_numbers


def test_ti10cu2_sp_model_formula_spin_and_coordination():
    mol = build_ti10cu2()
    assert mol.composition == Composition("Ti10Cu2C74H92O50") and len(mol) == 228
    assert mol.charge == 0 and mol.spin_multiplicity == 3
    assert not mol.properties["broken_symmetry"]
    bs = build_ti10cu2(multiplicity=1)
    assert bs.spin_multiplicity == 1 and bs.properties["broken_symmetry"]
    assert coordination_numbers(mol, "Ti") == [6] * 10
    cu_o = bond_lengths(mol, "Cu", "O", 2.9)
    # paper: Cu-O 1.959-2.863 A (mean 2.255) in sp
    assert len(cu_o) >= 8 and cu_o.min() > 1.9 and cu_o.max() < 2.9
    assert 2.0 < cu_o.mean() < 2.4
    ti_o = bond_lengths(mol, "Ti", "O", 2.5)
    assert len(ti_o) == 60 and ti_o.min() > 1.7
    # centrosymmetric model: inversion maps every atom onto one of the same element
    xyz = mol.cart_coords - mol.cart_coords[:12].mean(axis=0)
    d = np.linalg.norm(-xyz[:, None, :] - xyz[None, :, :], axis=2)
    assert d.min(axis=1).max() < 0.05
    with pytest.raises(InputError):
        build_ti10cu2(multiplicity=2)


def test_ti10cu2_chain_fragments():
    one = build_ti10cu2_chain(1)
    assert one.composition == Composition("Ti10Cu2C74H92O50") and one.spin_multiplicity == 3
    two = build_ti10cu2_chain(2)
    assert two.composition == Composition("Ti20Cu4C146H176O98")  # 2 x cs unit + 2 CH3OH
    assert two.charge == 0 and two.spin_multiplicity == 5
    labels = np.array(two.site_properties["fragment"])
    assert set(labels) == {"Ti10Cu2#0", "Ti10Cu2#1"}
    # the two units are bonded: a Ti of one unit binds an O of the other
    xyz = two.cart_coords
    syms = np.array([s.specie.symbol for s in two])
    a, b = labels == "Ti10Cu2#0", labels == "Ti10Cu2#1"
    links = []
    for ia, ib in ((a, b), (b, a)):
        ti = xyz[ia & (syms == "Ti")]
        ox = xyz[ib & (syms == "O")]
        links.append(np.linalg.norm(ti[:, None] - ox[None], axis=2).min())
    assert max(links) < 2.5
    with pytest.raises(InputError):
        build_ti10cu2_chain(5)


@pytest.mark.parametrize("n", [3, 4])
def test_longer_ti10cu2_chains_validate(n):
    chain = build_ti10cu2_chain(n)
    assert chain.composition == Composition(
        f"Ti{10 * n}Cu{2 * n}C{72 * n + 2}H{84 * n + 8}O{48 * n + 2}")
    assert chain.charge == 0 and chain.spin_multiplicity == 2 * n + 1
    assert len(set(chain.site_properties["fragment"])) == n
    # no two atoms of different units overlap
    assert chain.distance_matrix[np.triu_indices(len(chain), 1)].min() > 0.9
