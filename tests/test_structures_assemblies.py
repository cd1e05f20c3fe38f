from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Composition

from superatom.errors import InputError
from superatom.structures.anderson import build_anderson
from superatom.structures.assemblies import (
    build_ca_chain,
    build_clusterphene,
    build_dimer,
    build_sandwich,
)
from superatom.structures.au25 import build_au25
from superatom.structures.dawson import build_dawson, build_dawson_substituted
from superatom.structures.validate import bond_lengths, coordination_numbers


def _fragment_centres(mol, element="P"):
    labels = np.array(mol.site_properties["fragment"])
    out = {}
    for i, site in enumerate(mol):
        if site.specie.symbol == element:
            out[labels[i]] = site.coords
    return out


def _link_distances(mol, ln):
    """Ln-O distances between an Ln and an O of another fragment."""
    labels = np.array(mol.site_properties["fragment"])
    syms = np.array([s.specie.symbol for s in mol])
    xyz = mol.cart_coords
    out = []
    for i in np.flatnonzero(syms == ln):
        d = np.linalg.norm(xyz - xyz[i], axis=1)
        other = (syms == "O") & (labels != labels[i]) & (d < 3.0)
        out += list(d[other])
    return np.array(out)


def test_head_to_tail_dimer():
    mol = build_dimer("Gd")
    assert mol.charge == -8 and mol.spin_multiplicity == 15  # 2 x 4f7
    assert sorted(set(mol.site_properties["fragment"])) == ["PW11Gd#0", "PW11Gd#1"]
    link = _link_distances(mol, "Gd")
    assert len(link) == 1 and 2.40 <= link[0] <= 2.50
    # the W=O bridging to Gd is lengthened, Ln-O-W close to linear
    assert coordination_numbers(mol, "W") == [6] * 22
    assert build_dimer("Lu").spin_multiplicity == 1


def test_clusterphene_chain_is_planar_zigzag():
    mono = build_clusterphene("Gd", n=1)
    assert (mono.charge, mono.spin_multiplicity) == (-4, 8) and mono.composition["H"] == 8
    mol = build_clusterphene("Gd", n=4)
    assert mol.charge == -16 and mol.spin_multiplicity == 4 * 7 + 1
    assert len(_link_distances(mol, "Gd")) == 3
    p = np.array(list(_fragment_centres(mol).values()))
    sv = np.linalg.svd(p - p.mean(axis=0), compute_uv=False)
    assert sv[2] < 0.1  # planar
    for k in range(1, 3):
        a, b = p[k - 1] - p[k], p[k + 1] - p[k]
        ang = np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
        assert 100 < ang < 140  # zig-zag, not straight


def test_clusterphene_ring_is_closed_planar_hexagon():
    mol = build_clusterphene("Y", shape="ring")
    assert mol.charge == -24 and mol.spin_multiplicity == 1
    assert len(set(mol.site_properties["fragment"])) == 6
    link = _link_distances(mol, "Y")
    assert len(link) == 6 and np.all((link > 2.38) & (link < 2.52))
    p = np.array(list(_fragment_centres(mol).values()))
    c = p.mean(axis=0)
    r = np.linalg.norm(p - c, axis=1)
    assert np.ptp(r) < 0.15
    assert np.linalg.svd(p - c, compute_uv=False)[2] < 0.1


def test_sandwich_and_ca_bridged_pairs():
    sw = build_sandwich("Gd")
    assert sw.charge == -11 and sw.spin_multiplicity == 8
    assert sw.composition == Composition("GdP2W22O78")
    assert len(bond_lengths(sw, "Gd", "O", 2.8)) == 8
    ca = build_ca_chain(2)
    assert ca.charge == -4 and ca.composition == Composition("CaP2W24O84H8")
    ca_o = bond_lengths(ca, "Ca", "O", 2.8)
    # six-coordinate Ca: two W=O at 2.35 A and four waters at 2.40 A
    assert len(ca_o) == 6 and np.allclose(np.sort(ca_o), [2.35] * 2 + [2.40] * 4, atol=0.02)
    ca3 = build_ca_chain(3)
    assert ca3.charge == -5 and ca3.composition["Ca"] == 2 and ca3.composition["H"] == 16
    one = build_ca_chain(1)
    assert one.charge == -3 and one.composition == Composition("PW12O40")
    with pytest.raises(InputError):
        build_ca_chain(0)
    with pytest.raises(InputError, match="two-coordinate"):
        build_ca_chain(2, n_water=0)


def test_dawson_and_substituted_dawson():
    d = build_dawson()
    assert d.charge == -6 and len(d) == 82
    assert coordination_numbers(d, "W") == [6] * 18
    pp = bond_lengths(d, "P", "P", 5.0)
    assert len(pp) == 1 and 3.7 < pp[0] < 4.3
    gd = build_dawson_substituted("Gd")
    assert gd.charge == -7 and gd.spin_multiplicity == 8
    assert build_dawson_substituted(None).charge == -10


def test_anderson_charges_and_spin():
    mn = build_anderson("Mn")
    assert (mn.charge, mn.spin_multiplicity) == (-8, 4)
    assert build_anderson("Te").charge == -6 and build_anderson("I").charge == -5
    assert build_anderson("Co", low_spin=True).spin_multiplicity == 1
    mo_o = bond_lengths(mn, "Mo", "O", 2.5)
    assert len(mo_o) == 36 and mo_o.min() > 1.69 and mo_o.max() < 2.3


def test_au25():
    au = build_au25()
    assert au.charge == -1 and au.spin_multiplicity == 1 and len(au) == 115
    nelec = sum(s.specie.Z for s in au) + 1
    assert nelec % 2 == 0
    au_s = bond_lengths(au, "Au", "S", 2.6)
    assert len(au_s) == 36 and au_s.min() > 2.28 and au_s.max() < 2.42
    assert bond_lengths(au, "Au", "Au", 2.7).size == 0
