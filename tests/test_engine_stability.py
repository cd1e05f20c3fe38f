"""Internal stability analysis after convergence: detected, followed, recorded, hashed."""

from __future__ import annotations

import numpy as np
from pyscf import gto, scf

from superatom.calc_settings import load_preset
from superatom.engine import run_scf
from superatom.engine.stability import check_and_follow, internal_stability
from superatom.schemas.hashing import input_hash
from tests.molecules import water


def _stretched_h2_uhf():
    """UHF of H2 at 3 A converged from a spin-symmetric start: the RHF-like saddle point."""
    mol = gto.M(atom="H 0 0 0; H 0 0 3.0", basis="6-31g", verbose=0)
    restricted = scf.RHF(mol).run()
    mf = scf.UHF(mol)
    dm = restricted.make_rdm1() / 2
    mf.kernel(dm0=np.array([dm, dm]))
    return mol, restricted, mf


def test_a_saddle_point_is_found_and_followed_to_the_broken_symmetry_minimum():
    mol, restricted, mf = _stretched_h2_uhf()
    assert mf.converged and abs(mf.e_tot - restricted.e_tot) < 1e-8  # stuck on the RHF saddle
    stable, lowest, _ = internal_stability(mf)
    assert not stable and lowest < -1e-3

    record = check_and_follow(mf)
    # independent reference: UHF started from one electron on each atom, spins opposite
    reference = scf.UHF(mol)
    alpha = np.zeros((mol.nao, mol.nao))
    beta = np.zeros_like(alpha)
    alpha[0, 0] = beta[2, 2] = 1.0  # 1s of atom A (alpha) and of atom B (beta) in 6-31G
    reference.kernel(dm0=np.array([alpha, beta]))
    assert reference.converged
    assert record["followed"] >= 1 and record["internal_stable"]
    assert record["lowest_eigenvalue_ha"][0] < -1e-3 and record["lowest_eigenvalue_ha"][-1] > 0
    assert abs(mf.e_tot - reference.e_tot) < 1e-7
    assert record["energy_lowering_ha"] < -1e-2  # the broken-symmetry state is far lower
    assert abs(mf.spin_square()[0] - reference.spin_square()[0]) < 1e-4


def test_engine_records_the_check_and_keeps_a_stable_state_unchanged():
    settings = load_preset("fast", device="cpu")
    plain = run_scf(water(), settings)
    checked = run_scf(water(), settings.model_copy(update={"stability_check": True}))
    record = checked.scf_state["stability"]
    assert record["internal_stable"] and record["followed"] == 0
    assert record["lowest_eigenvalue_ha"][0] > 0.05  # water: a clear minimum
    assert abs(checked.e_tot - plain.e_tot) < 1e-10
    assert np.allclose(checked.mo_energy, plain.mo_energy, atol=1e-8)
    assert "stability" not in plain.scf_state


def test_the_check_is_in_the_input_hash_and_old_hashes_stay():
    settings = load_preset("screening")
    assert input_hash(water(), settings) == input_hash(
        water(), settings.model_copy(update={"stability_check": False}))
    assert input_hash(water(), settings) != input_hash(
        water(), settings.model_copy(update={"stability_check": True}))
