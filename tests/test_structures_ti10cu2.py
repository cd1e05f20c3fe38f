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
    # the core Ti are six-coordinate; the two TiCu-pair Ti five-coordinate in this model
    assert coordination_numbers(mol, "Ti") == [6] * 8 + [5] * 2
    cu_o = bond_lengths(mol, "Cu", "O", 2.9)
    # paper: Cu-O 1.959-2.863 A (mean 2.255) in sp
    assert len(cu_o) >= 8 and cu_o.min() > 1.9 and cu_o.max() < 2.9
    assert 2.0 < cu_o.mean() < 2.4
    ti_o = bond_lengths(mol, "Ti", "O", 2.5)
    assert len(ti_o) == 58 and ti_o.min() > 1.7
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


def test_ti10cu2_ligand_shell_has_no_unphysical_contacts():
    from superatom.structures.validate import nonbonded_contacts

    mol = build_ti10cu2()
    # different ligands: H...H >= 2.0 A, H...C/O >= 2.3 A (O-H...O hydrogen bonds >= 1.6),
    # O...O >= 2.5 A (2.4 across a shared Ti2O2 edge)
    assert nonbonded_contacts(mol) == []
    # the published Cu-O range of the sp crystal: 1.959-2.863 A, mean 2.255 (Jahn-Teller Cu)
    cu_o = bond_lengths(mol, "Cu", "O", 2.9)
    assert cu_o.min() > 1.95 and cu_o.max() < 2.87
    assert cu_o.mean() == pytest.approx(2.255, abs=0.1)


def test_ti10cu2_is_labelled_as_a_model_and_the_fit_converged():
    mol = build_ti10cu2()
    assert mol.properties["model"] is True
    assert "no public crystal structure" in mol.properties["provenance"]
    assert mol.properties["fit_max_deviation"] <= 0.25
    # the label reaches the stored documents' tags
    from superatom.schemas.documents import SystemRecord

    assert SystemRecord.describe(mol, {"name": "Ti10Cu2 sp"})["tags"]["model"] is True


def test_unconverged_ti10cu2_fit_is_refused(monkeypatch):
    from superatom.structures import ti10cu2

    monkeypatch.setattr(ti10cu2, "FIT_TOLERANCE", 0.01)
    with pytest.raises(InputError, match="model fit did not converge"):
        build_ti10cu2()


def test_ti10cu2_chain_link_reaches_its_target():
    from superatom.structures.validate import nonbonded_contacts

    two = build_ti10cu2_chain(2)
    assert two.properties["model"] is True and not nonbonded_contacts(two)
    syms = np.array([s.specie.symbol for s in two])
    labels = np.array(two.site_properties["fragment"])
    d = two.distance_matrix
    for a, b in (("Ti10Cu2#0", "Ti10Cu2#1"), ("Ti10Cu2#1", "Ti10Cu2#0")):
        link = d[np.ix_((labels == a) & (syms == "Ti"), (labels == b) & (syms == "O"))].min()
        assert link == pytest.approx(2.05, abs=0.08)  # cs link Ti-O target 2.05 A
