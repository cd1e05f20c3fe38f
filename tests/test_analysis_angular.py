"""Superatom angular character on clusters with known answers, plus sum rules."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule
from scipy.integrate import lebedev_rule

from superatom.analysis.angular import angular_character, real_spherical_harmonics
from superatom.workflows.frontier import compute_frontier
from tests.test_analysis_systems import li8_doc, n2_doc, settings


def test_real_spherical_harmonics_are_orthonormal_on_lebedev_grid():
    directions, weights = lebedev_rule(41)
    y = real_spherical_harmonics(8, directions.T)
    assert y.shape == (590, 81)
    assert np.allclose((y * weights[:, None]).T @ y, np.eye(81), atol=1e-10)


def test_li8_superatom_shells():
    doc = li8_doc()
    # 8 Li 1s cores below, then 1S (index 8) and the triply degenerate 1P HOMO (9-11)
    res = angular_character(doc, orbitals=[8, 9, 10, 11, 12], lmax=8)
    chars = [o.character for o in res.orbitals]
    assert chars == ["S", "P", "P", "P", "S"]
    homo = res.orbitals[3]
    assert homo.label == "HOMO"
    assert homo.weights["P"] > 0.8  # measured 0.86 (sto-3g)
    assert res.orbitals[0].weights["S"] > 0.85  # measured 0.90
    assert np.allclose(res.centre_angstrom, 0.0, atol=1e-6)


@pytest.mark.filterwarnings("ignore:No Pauling electronegativity")
def test_atomic_s_orbital_is_pure_s():
    neon = compute_frontier(Molecule(["Ne"], [[0.3, -0.2, 0.1]]), settings(), {"name": "Ne"})
    res = angular_character(neon, orbitals=[0, 1, 2], centre=[0.3, -0.2, 0.1], lmax=4)
    assert res.orbitals[0].weights["S"] == pytest.approx(1.0, abs=1e-8)
    assert res.orbitals[1].weights["S"] == pytest.approx(1.0, abs=1e-8)
    assert res.orbitals[2].weights["P"] == pytest.approx(1.0, abs=1e-8)


def test_sigma_pi_about_n2_bond_axis():
    doc = n2_doc()
    n_occ = doc.n_electrons // 2
    idx = list(range(n_occ - 4, n_occ + 1))  # 2sigma_u, 1pi_u x2, 3sigma_g (HOMO), 1pi_g*
    res = angular_character(doc, orbitals=idx, axis=[0, 0, 1])
    kinds = [max(o.m_weights, key=o.m_weights.get) for o in res.orbitals]
    assert kinds == ["sigma", "pi", "pi", "sigma", "pi"]
    for orb in res.orbitals:
        assert max(orb.m_weights.values()) > 0.99
    # the same about a tilted axis through a tilted molecule: rotate the frame, same answer
    tilted = angular_character(doc, orbitals=idx, axis=[0, 0, -1])
    assert [o.m_weights["pi"] for o in tilted.orbitals] == pytest.approx(
        [o.m_weights["pi"] for o in res.orbitals], abs=1e-6)


def test_angular_weights_sum_to_norm_inside_sphere():
    doc = li8_doc()
    res = angular_character(doc, orbitals=[8, 11], lmax=12, n_radial=100, lebedev_order=71)
    for orb in res.orbitals:
        assert sum(orb.weights.values()) == pytest.approx(1.0)
        # Parseval: what l <= 12 captures is (almost) the norm inside the sphere
        assert orb.captured == pytest.approx(orb.norm_inside, rel=0.03)
        assert orb.captured <= orb.norm_inside + 1e-3
        assert orb.norm_inside == pytest.approx(1.0, abs=0.01)
    # independent route: PySCF's own molecular DFT grid, points inside the same sphere
    from pyscf import dft

    from superatom.engine import build_mole

    mol = build_mole(Molecule.from_dict(doc.molecule), settings())
    grid = dft.gen_grid.Grids(mol)
    grid.level = 5
    grid.build()
    inside = np.linalg.norm(grid.coords, axis=1) < res.radius_angstrom / 0.529177210903
    coeff = doc.orbitals.mo_coeff.to_array()[:, [8, 11]]
    values = mol.eval_gto("GTOval_sph", grid.coords[inside]) @ coeff
    direct = (values**2 * grid.weights[inside, None]).sum(axis=0)
    assert [o.norm_inside for o in res.orbitals] == pytest.approx(direct.tolist(), abs=0.01)


def test_overflow_bin_closes_the_sum_rule():
    """With lmax = 0 a P orbital is all overflow; weights are fractions of the norm inside."""
    doc = li8_doc()
    low = angular_character(doc, orbitals=[8, 11], lmax=0)
    for orb in low.orbitals:
        assert set(orb.weights) == {"S", "l>0"}
        assert sum(orb.weights.values()) == pytest.approx(1.0, abs=1e-12)
        assert orb.weights["S"] == pytest.approx(orb.captured / orb.norm_inside)
    assert low.orbitals[1].weights["l>0"] > 0.8  # the 1P HOMO
    full = angular_character(doc, orbitals=[8, 11])  # default lmax 12
    assert full.lmax == 12 and full.orbitals[1].weights["l>12"] < 0.03
    for lo, hi in zip(low.orbitals, full.orbitals, strict=True):
        # the same S projection, so what l > 0 holds is the same at either lmax
        assert hi.weights["S"] == pytest.approx(lo.weights["S"], abs=1e-10)
        assert 1.0 - hi.weights["S"] == pytest.approx(lo.weights["l>0"], abs=1e-10)
    assert full.orbitals[1].weights["P"] > 0.8


def test_centre_and_radius_come_from_the_cluster_itself():
    from superatom.analysis.angular import cluster_sphere, fragment_spheres
    from superatom.structures.lindqvist import build_lindqvist
    from superatom.structures.registry import build_structure

    w6 = build_lindqvist("W")
    centre, _ = cluster_sphere([s.specie.symbol for s in w6], w6.cart_coords)
    central = [s.specie.symbol for s in w6 if np.allclose(s.coords, centre)]
    assert central == ["O"]  # the six-coordinate central O of the Lindqvist
    # water: no atom at the heavy-atom centroid other than O itself, H ignored
    water = [[0, 0, 0.117], [0, 0.757, -0.469], [0, -0.757, -0.469]]
    assert np.allclose(cluster_sphere(["O", "H", "H"], water)[0], water[0])
    dimer = build_structure("dimer", type="ca", n_water=4)
    spheres = fragment_spheres(dimer, list(dimer.site_properties["fragment"]))
    whole = cluster_sphere([s.specie.symbol for s in dimer], dimer.cart_coords)[1]
    for name in ("PW12#0", "PW12#1"):
        centre, radius = spheres[name]
        phosphorus = [s.coords for s in dimer if s.specie.symbol == "P"]
        assert min(np.linalg.norm(np.asarray(phosphorus) - centre, axis=1)) < 1e-8
        # the farthest terminal O of one Keggin (5.2 A) + 3 A, far inside the dimer's sphere
        assert radius == pytest.approx(8.2, abs=0.1) and radius < whole - 3
