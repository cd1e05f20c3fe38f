"""The direct minimiser (L-BFGS over orbital rotations) against PySCF's own SCF."""

from __future__ import annotations

import numpy as np
import pytest
from pyscf import dft, gto, scf
from scipy.linalg import expm

from superatom.calc_settings import load_preset
from superatom.engine import orbital_lbfgs
from superatom.engine.fixed_occupation import is_aufbau
from superatom.engine.mole import build_mole
from superatom.engine.orbital_lbfgs import OrbitalLBFGS
from superatom.engine.scf import make_scf, read_checkpoint
from tests.molecules import water

WATER = "O 0 0 0.1173; H 0 0.7572 -0.4692; H 0 -0.7572 -0.4692"


def _hydroxyl():
    return gto.M(atom="O 0 0 0; H 0 0 0.97", basis="def2-svp", spin=1, verbose=0)


def _directional_derivatives(mf):
    """Analytic and central-difference derivative of E(C0 exp(K)) along a random direction,
    at a random non-zero K (so the derivative of the exponential map is exercised)."""
    mf.kernel()
    solver = OrbitalLBFGS(mf)
    solver.kernel(mo_coeff=mf.mo_coeff, mo_occ=mf.mo_occ)  # sets up channels and the frame
    restricted = mf.mo_occ.ndim == 1
    coeffs = [mf.mo_coeff] if restricted else list(mf.mo_coeff)
    pairs = [orbital_lbfgs._rotation_pairs(n) for n in solver._occs]
    rng = np.random.default_rng(7)

    def generators(blocks):
        out = []
        for c, (vir, occ), block in zip(coeffs, pairs, blocks, strict=True):
            k = np.zeros((c.shape[1],) * 2)
            k[np.ix_(vir, occ)] = block
            k[np.ix_(occ, vir)] = -block.T
            out.append(k)
        return out

    base = [rng.normal(scale=0.1, size=(v.size, o.size)) for v, o in pairs]
    direction = [rng.normal(size=b.shape) for b in base]

    def energy(t):
        ks = generators([b + t * d for b, d in zip(base, direction, strict=True)])
        return solver._evaluate([c @ expm(k) for c, k in zip(coeffs, ks, strict=True)])

    point = energy(0.0)
    point["generators"] = generators(base)
    analytic = solver._packed_gradient(point, pairs) @ np.concatenate(
        [d.ravel() for d in direction])
    step = 1e-4
    numeric = (energy(step)["e_tot"] - energy(-step)["e_tot"]) / (2 * step)
    return analytic, numeric


@pytest.mark.parametrize("make", [
    lambda: scf.RHF(gto.M(atom=WATER, basis="6-31g", verbose=0)),
    lambda: dft.UKS(_hydroxyl(), xc="PBE0").density_fit(),
])
def test_the_gradient_is_the_derivative_of_the_energy_at_a_finite_rotation(make):
    analytic, numeric = _directional_derivatives(make())
    assert abs(analytic - numeric) < 1e-6 * abs(numeric)


def test_it_reaches_pyscfs_minimum_and_pyscf_agrees_it_is_one():
    mol = _hydroxyl()
    reference = dft.UKS(mol, xc="PBE0").density_fit().run(conv_tol=1e-11)
    rough = dft.UKS(mol, xc="PBE0").density_fit().run(max_cycle=2)
    solver = OrbitalLBFGS(dft.UKS(mol, xc="PBE0").density_fit(), conv_tol=1e-10)
    energy = solver.kernel(dm0=rough.make_rdm1())
    assert solver.converged and solver.fock_builds <= 20
    assert abs(energy - reference.e_tot) < 1e-8
    np.testing.assert_allclose(solver.mo_energy, reference.mo_energy, atol=1e-5)
    # PySCF's own kernel started from the result does not move it
    check = dft.UKS(mol, xc="PBE0").density_fit()
    check.kernel(dm0=solver.make_rdm1())
    assert check.converged and abs(check.e_tot - energy) < 1e-9


def test_it_keeps_a_hole_where_it_is_put_like_pyscfs_maximum_overlap_method():
    """H2O+ with the hole in HOMO-1 (an excited state): the minimiser holds it there, as
    PySCF's MOM does."""
    mol = gto.M(atom=WATER, basis="6-31g", charge=1, spin=1, verbose=0)
    neutral = scf.RHF(gto.M(atom=WATER, basis="6-31g", verbose=0)).run()
    occ = np.array([neutral.mo_occ / 2, neutral.mo_occ / 2])
    occ[1, 3] = 0.0  # beta hole in HOMO-1
    coeff = np.array([neutral.mo_coeff, neutral.mo_coeff])
    mom = scf.UHF(mol)
    scf.addons.mom_occ_(mom, coeff, occ)
    mom.kernel(dm0=mom.make_rdm1(coeff, occ))
    ground = scf.UHF(mol).run()
    solver = OrbitalLBFGS(scf.UHF(mol), conv_tol=1e-10)
    energy = solver.kernel(mo_coeff=coeff, mo_occ=occ)
    assert solver.converged and abs(energy - mom.e_tot) < 1e-7
    assert energy > ground.e_tot + 0.05
    # the hole is still (mostly) the orbital it was put in: a state of another symmetry
    # than the ground state, aufbau in its own Fock matrix like the ground state
    filled = solver.mo_coeff[1][:, solver.mo_occ[1] > 0]
    overlap = mom.get_ovlp()
    kept = filled.T @ overlap @ neutral.mo_coeff[:, 3]
    assert float(kept @ kept) < 0.05
    assert is_aufbau(solver.mo_energy, solver.mo_occ) == is_aufbau(mom.mo_energy, mom.mo_occ)


def test_a_restart_with_occupied_orbitals_only_and_its_checkpoint(tmp_path):
    settings = load_preset("fast", device="cpu", solvent="pcm")
    mol = build_mole(water(), settings)
    reference = make_scf(mol, settings, "cpu").run(conv_tol=1e-10)
    occupied = reference.mo_coeff[:, reference.mo_occ > 0]
    rng = np.random.default_rng(3)  # a rotated start inside a saved occupied block
    start = occupied + 0.05 * reference.mo_coeff[:, reference.mo_occ == 0][:, :5] @ rng.normal(
        size=(5, occupied.shape[1]))
    s = reference.get_ovlp()
    start = start @ np.linalg.inv(np.linalg.cholesky(start.T @ s @ start)).T
    mf = make_scf(mol, settings, "cpu")
    mf.chkfile = str(tmp_path / "water.chk")
    solver = OrbitalLBFGS(mf, conv_tol=1e-10)
    energy = solver.kernel(mo_coeff=start, mo_occ=np.full(start.shape[1], 2.0))
    assert solver.converged and abs(energy - reference.e_tot) < 1e-8  # C-PCM included
    saved = read_checkpoint(mf.chkfile, mol)
    assert saved is not None and saved[0].shape == reference.mo_coeff.shape


def test_it_stops_unconverged_at_max_cycle():
    mol = _hydroxyl()
    rough = scf.UHF(mol).run(max_cycle=1)
    solver = OrbitalLBFGS(scf.UHF(mol), conv_tol=1e-12, max_cycle=3)
    solver.kernel(mo_coeff=rough.mo_coeff, mo_occ=rough.mo_occ)
    assert not solver.converged and solver.fock_builds <= 3
