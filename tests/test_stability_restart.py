"""A stability analysis cut short goes on from the trial rotations in its checkpoint."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from pyscf import gto, scf
from pyscf.soscf import newton_ah

from superatom.calc_settings import load_preset
from superatom.engine import run_scf
from superatom.engine import stability as engine_stability
from superatom.engine.stability_restart import GROUP, TrialRotations, _read_pairs, carry
from tests.molecules import oxygen_triplet, water


def _hessian(mf):
    make = newton_ah.gen_g_hop_uhf if mf.mo_occ.ndim == 2 else newton_ah.gen_g_hop_rhf
    _, hop, _ = make(mf, mf.mo_coeff, mf.mo_occ, with_symmetry=False)
    return lambda x: hop(x).real * 2


def _rotate_within_spaces(coeff, occ, rng):
    """The same occupied and virtual spaces in other orbitals (mixed, signs flipped)."""
    out = coeff.copy()
    for space in (occ > 0, occ == 0):
        mixing, _ = np.linalg.qr(rng.normal(size=(space.sum(), space.sum())))
        out[:, space] = coeff[:, space] @ mixing
    return out


@pytest.mark.parametrize("open_shell", [False, True])
def test_saved_products_follow_the_orbitals_into_another_basis_of_the_same_spaces(
        tmp_path, open_shell):
    """Rotation parameters and Hessian products are covariant: pairs saved in one orbital
    basis, taken into another basis of the same spaces, equal the products computed there."""
    mol = gto.M(atom="O 0 0 0; H 0 0 0.96; H 0.93 0 -0.24", basis="6-31g", verbose=0,
                charge=1 if open_shell else 0, spin=1 if open_shell else 0)
    mf = (scf.UHF if open_shell else scf.RHF)(mol).run(conv_tol=1e-12)
    rng = np.random.default_rng(7)
    hessian = _hessian(mf)
    saved = TrialRotations(str(tmp_path / "run.chk"), [])
    saved.begin(mf)
    dimension = sum(int((o > 0).sum() * (o == 0).sum())
                    for o in (mf.mo_occ if open_shell else [mf.mo_occ]))
    rotations = [rng.normal(size=dimension) for _ in range(3)]
    for x in rotations:
        saved.add(x, hessian(x))

    other = scf.UHF(mol) if open_shell else scf.RHF(mol)
    other.mo_occ, other.e_tot = mf.mo_occ, mf.e_tot
    if open_shell:
        other.mo_coeff = np.array([_rotate_within_spaces(c, o, rng)
                                   for c, o in zip(mf.mo_coeff, mf.mo_occ, strict=True)])
    else:
        other.mo_coeff = _rotate_within_spaces(mf.mo_coeff, mf.mo_occ, rng)
    moved, moved_products = _read_pairs(str(tmp_path / "run.chk"), other)
    other_hessian = _hessian(other)
    for x, product in zip(moved, moved_products, strict=True):
        assert np.allclose(other_hessian(x), product, atol=1e-8)
    # the basis really changed: the parameters themselves are not the same numbers
    assert not np.allclose(moved[0], rotations[0], atol=1e-3)


def test_a_killed_analysis_goes_on_where_it_stopped(tmp_path, monkeypatch):
    """The analysis of a run cut short after 4 trial rotations leaves them in its
    checkpoint; the rerun (SCF converged again from that checkpoint) starts from them and
    ends at the eigenvalue of an analysis never cut, with no more trial rotations in all."""
    settings = load_preset("fast", device="cpu", stability_check=True)
    whole = run_scf(water(), settings).scf_state["stability"]["checks"][0]
    assert whole["davidson_converged"] and whole["trial_rotations"] > 6

    first = str(tmp_path / "first.chk")
    monkeypatch.setattr(engine_stability, "DAVIDSON_MAX_CYCLE", 4)
    cut = run_scf(water(), settings, chkfile=first).scf_state["stability"]
    assert cut["verdict"].startswith("no verdict") and not cut["internal_stable"]
    with h5py.File(first, "r") as handle:
        assert len(handle[GROUP]["x"]) == 4 == len(handle[GROUP]["hx"])

    monkeypatch.setattr(engine_stability, "DAVIDSON_MAX_CYCLE", 100)
    again = run_scf(water(), settings, chkfile=str(tmp_path / "second.chk"),
                    restart_from=[first])
    check = again.scf_state["stability"]["checks"][0]
    assert again.scf_state["stability"]["internal_stable"]
    assert check["reused_rotations"] == 4 and check["davidson_converged"]
    assert abs(check["lowest_eigenvalue_ha"] - whole["lowest_eigenvalue_ha"]) < 1e-5
    # the saved four are not repeated (one more: the exact check of the restarted root)
    assert 4 + check["trial_rotations"] <= whole["trial_rotations"] + 1
    # the rerun's checkpoint holds the reused four with its own: alone, it is all that is known
    with h5py.File(str(tmp_path / "second.chk"), "r") as handle:
        assert len(handle[GROUP]["x"]) == 4 + check["trial_rotations"]


def test_a_carried_restart_file_goes_on_where_the_analysis_stopped(tmp_path, monkeypatch):
    """The compact record (lowest Ritz pairs, float32) carried into a restart file that
    holds only the occupied orbitals takes a rerun on another machine (no other checkpoint)
    to the eigenvalue of an analysis never cut, reusing the carried pairs."""
    from pyscf.lib import chkfile

    settings = load_preset("fast", device="cpu", stability_check=True)
    whole = run_scf(water(), settings).scf_state["stability"]["checks"][0]
    first = str(tmp_path / "first.chk")
    monkeypatch.setattr(engine_stability, "DAVIDSON_MAX_CYCLE", 5)
    run_scf(water(), settings, chkfile=first)

    carried = str(tmp_path / "carried.saved.chk")
    scf_group = chkfile.load(first, "scf")
    occupied = scf_group["mo_occ"] > 0
    chkfile.save(carried, "scf", {"mo_coeff": scf_group["mo_coeff"][:, occupied],
                                  "mo_occ": scf_group["mo_occ"][occupied],
                                  "e_tot": scf_group["e_tot"]})
    assert carry(first, carried, keep=3) == 3
    with h5py.File(carried, "r") as handle:
        assert handle[GROUP]["x/0"].dtype == np.float32 and len(handle[GROUP]["x"]) == 3

    monkeypatch.setattr(engine_stability, "DAVIDSON_MAX_CYCLE", 100)
    again = run_scf(water(), settings, restart_from=[carried])
    check = again.scf_state["stability"]["checks"][0]
    assert again.scf_state["stability"]["internal_stable"] and check["davidson_converged"]
    assert check["reused_rotations"] == 3
    assert abs(check["lowest_eigenvalue_ha"] - whole["lowest_eigenvalue_ha"]) < 1e-5
    assert check["trial_rotations"] < whole["trial_rotations"]


def test_carry_writes_nothing_without_saved_pairs(tmp_path):
    """A checkpoint without trial rotations (or no file at all) carries nothing."""
    target = tmp_path / "target.chk"
    assert carry(str(tmp_path / "missing.chk"), str(target)) == 0
    assert not target.exists()


def test_saved_rotations_of_another_state_are_not_used(tmp_path, monkeypatch):
    """Pairs of another molecule or state in a checkpoint are ignored, not mixed in."""
    settings = load_preset("fast", device="cpu", stability_check=True)
    foreign = str(tmp_path / "oxygen.chk")
    monkeypatch.setattr(engine_stability, "DAVIDSON_MAX_CYCLE", 3)
    run_scf(oxygen_triplet(), settings, chkfile=foreign)
    monkeypatch.setattr(engine_stability, "DAVIDSON_MAX_CYCLE", 100)
    result = run_scf(water(), settings, restart_from=[foreign, str(tmp_path / "missing.chk")])
    check = result.scf_state["stability"]["checks"][0]
    assert check["reused_rotations"] == 0 and check["davidson_converged"]
