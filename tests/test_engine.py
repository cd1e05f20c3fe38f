"""The engine against direct PySCF runs of the same systems (independent reference)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule
from pyscf import dft, gto

from superatom import HARTREE_TO_EV
from superatom.calc_settings import load_preset
from superatom.engine import basis_plan, build_mole, run_scf
from superatom.errors import InputError, SCFNotConvergedError
from tests.molecules import hydroxide, lanthanum_fluoride, molybdate, oxygen_triplet, water

TIGHT = {"device": "cpu", "conv_tol": 1e-11}


def direct_pyscf(molecule: Molecule, xc="PBE0", basis="def2-svp", ecp=None, pcm_eps=None,
                 grids_level=1):
    """A plain PySCF script written without superatom, for comparison."""
    mol = gto.M(
        atom=[(s.specie.symbol, tuple(s.coords)) for s in molecule],
        basis=basis, ecp=ecp or {}, charge=int(molecule.charge),
        spin=molecule.spin_multiplicity - 1, verbose=0,
    )
    mf = (dft.RKS if mol.spin == 0 else dft.UKS)(mol, xc=xc)
    mf.grids.level = grids_level
    mf.conv_tol = 1e-11
    mf = mf.density_fit(auxbasis="def2-universal-jkfit")
    if pcm_eps:
        mf = mf.PCM()
        mf.with_solvent.method = "C-PCM"
        mf.with_solvent.eps = pcm_eps
    mf.kernel()
    assert mf.converged
    return mf


def test_closed_shell_matches_direct_pyscf():
    result = run_scf(water(), load_preset("fast", **TIGHT))
    reference = direct_pyscf(water())
    assert result.restricted and result.converged
    assert abs(result.e_tot - reference.e_tot) < 1e-6
    np.testing.assert_allclose(result.mo_energy, reference.mo_energy, atol=1e-5)
    assert result.n_electrons == 10 and result.n_core_ecp == 0
    # sum rule: occupations give the electron count; C^T S C = 1
    assert result.mo_occ.sum() == pytest.approx(10.0)
    ctsc = result.mo_coeff.T @ result.overlap @ result.mo_coeff
    np.testing.assert_allclose(ctsc, np.eye(result.nao), atol=1e-8)
    # the rebuilt Fock matrix reproduces the orbital energies: F C = S C e
    np.testing.assert_allclose(result.fock @ result.mo_coeff,
                               result.overlap @ result.mo_coeff * result.mo_energy, atol=1e-8)


def test_open_shell_triplet_runs_uks():
    result = run_scf(oxygen_triplet(), load_preset("fast", **TIGHT))
    reference = direct_pyscf(oxygen_triplet())
    assert not result.restricted
    assert result.mo_energy.shape[0] == 2
    assert result.mo_occ[0].sum() == pytest.approx(9.0)
    assert result.mo_occ[1].sum() == pytest.approx(7.0)
    assert abs(result.e_tot - reference.e_tot) < 1e-6
    np.testing.assert_allclose(result.mo_energy, reference.mo_energy, atol=1e-5)
    assert result.spin_square == pytest.approx(2.0, abs=0.02)


def test_heavy_element_gets_def2_ecp():
    result = run_scf(molybdate(), load_preset("fast", **TIGHT))
    assert result.ecp_by_element == {"Mo": "def2-svp"}
    assert result.n_core_ecp == 28
    assert result.n_electrons == 42 - 28 + 4 * 8 + 2
    reference = direct_pyscf(molybdate(), ecp={"Mo": "def2-svp"})
    assert abs(result.e_tot - reference.e_tot) < 1e-6
    np.testing.assert_allclose(result.mo_energy, reference.mo_energy, atol=1e-5)
    # the trap: without the ECP PySCF silently runs Mo all-electron
    all_electron = gto.M(atom=[(s.specie.symbol, tuple(s.coords)) for s in molybdate()],
                         basis="def2-svp", charge=-2, verbose=0)
    assert all_electron.nelectron == result.n_electrons + 28


def test_lanthanides_missing_from_def2_use_small_core_fallback():
    basis, ecp = basis_plan(["Gd", "La", "O"], load_preset("fast"))
    assert basis == {"Gd": "stuttgart_rsc", "La": "def2-svp", "O": "def2-svp"}
    assert ecp == {"Gd": "stuttgart_rsc", "La": "def2-svp"}
    gd = Molecule(["Gd"], [[0, 0, 0]], charge=3, spin_multiplicity=8)
    mol = build_mole(gd, load_preset("fast"))
    assert mol.atom_nelec_core(0) == 28 and mol.nelectron == 64 - 3 - 28


def test_pcm_stabilises_anion_homo_and_matches_direct_pyscf():
    gas = run_scf(hydroxide(), load_preset("fast", **TIGHT))
    pcm = run_scf(hydroxide(), load_preset("fast", solvent="pcm", **TIGHT))
    homo_gas = gas.mo_energy[gas.mo_occ > 0].max() * HARTREE_TO_EV
    homo_pcm = pcm.mo_energy[pcm.mo_occ > 0].max() * HARTREE_TO_EV
    assert homo_gas > 0.0  # unbound HOMO of a small anion in vacuum
    assert homo_pcm < homo_gas - 2.0
    assert pcm.solvent_energy is not None and pcm.solvent_energy < 0
    reference = direct_pyscf(hydroxide(), pcm_eps=78.3553)
    assert abs(pcm.e_tot - reference.e_tot) < 1e-6


def test_unconverged_scf_is_an_error_not_a_result():
    settings = load_preset("fast", device="cpu", max_cycle=2, conv_tol=1e-12,
                           fallback_ladder=False)
    with pytest.raises(SCFNotConvergedError, match="did not converge") as info:
        run_scf(molybdate(), settings)
    assert info.value.attempts and not info.value.attempts[-1]["converged"]


def test_fallback_ladder_rescues_and_records_attempts():
    settings = load_preset("fast", device="cpu", max_cycle=4, conv_tol=1e-10)
    result = run_scf(molybdate(), settings)
    solvers = [a["solver"] for a in result.attempts]
    assert solvers[0] == "diis" and len(solvers) >= 2
    assert result.attempts[-1]["converged"]
    reference = run_scf(molybdate(), load_preset("fast", **TIGHT))
    assert abs(result.e_tot - reference.e_tot) < 1e-7
    np.testing.assert_allclose(result.mo_energy, reference.mo_energy, atol=1e-5)
    # a run rescued by the level-shifted rung: no shift left in the virtual orbital energies
    shifted = run_scf(molybdate(), load_preset("fast", device="cpu", max_cycle=8,
                                               conv_tol=1e-10))
    assert shifted.attempts[-1]["solver"] == "level_shift+damping"
    np.testing.assert_allclose(shifted.mo_energy, reference.mo_energy, atol=1e-5)


def test_rare_earth_scf_preconverges_then_matches_direct_pyscf():
    result = run_scf(lanthanum_fluoride(), load_preset("fast", **TIGHT))
    first, last = result.attempts[0], result.attempts[-1]
    assert first["solver"] == "preconverge" and "La" in first["reason"]
    assert first["level_shift"] == 0.3 and first["conv_tol"] == 1e-5
    assert last["solver"] == "diis" and last["converged"] and len(result.attempts) == 2
    assert result.scf_state["aufbau"]
    reference = direct_pyscf(lanthanum_fluoride(), ecp={"La": "def2-svp"})
    assert abs(result.e_tot - reference.e_tot) < 1e-6
    # the level shift is gone from the reported virtual orbital energies
    np.testing.assert_allclose(result.mo_energy, reference.mo_energy, atol=1e-5)


def test_preconverge_restarted_from_a_checkpoint_skips_the_damped_opening(tmp_path):
    settings = load_preset("fast", **TIGHT)
    chkfile = str(tmp_path / "laf.chk")
    first = run_scf(lanthanum_fluoride(), settings, chkfile=chkfile)
    assert first.extra["guess"] != "checkpoint" and first.attempts[0]["damp"] == 0.5
    again = run_scf(lanthanum_fluoride(), settings, chkfile=chkfile)
    opening = again.attempts[0]
    assert again.extra["guess"] == "checkpoint" and opening["solver"] == "preconverge"
    assert "damp" not in opening and opening["level_shift"] == 0.3
    assert "checkpoint" in opening["restart"]
    assert opening["cycles"] < first.attempts[0]["cycles"]
    assert abs(again.e_tot - first.e_tot) < 1e-7


def test_ordinary_systems_start_with_plain_diis():
    for molecule in (water(), molybdate()):
        result = run_scf(molecule, load_preset("fast", device="cpu"))
        assert [a["solver"] for a in result.attempts] == ["diis"]


def test_bad_geometry_rejected():
    clash = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.2]])
    with pytest.raises(InputError, match=r"0\.200 A apart"):
        run_scf(clash, load_preset("fast", device="cpu"))


def test_gpu_request_without_gpu_is_clear(monkeypatch):
    from superatom import engine

    monkeypatch.setattr(engine, "gpu_available", lambda: False)
    with pytest.raises(InputError, match="no CUDA GPU"):
        engine.resolve_device("gpu")
    assert engine.resolve_device("auto") == "cpu"


def test_next_rung_reuses_the_last_fock_build_and_skips_the_preconverge_check():
    """A hard system (La: level-shifted start, then DIIS) costs one Fock build per cycle plus
    the first and PySCF's final check: the DIIS rung starts from the potential the
    preconverging rung ended with, and the loose rung runs no extra check cycle. Same energy
    as direct PySCF."""
    result = run_scf(lanthanum_fluoride(), load_preset("fast", **TIGHT))
    first, last = result.attempts
    assert first["solver"] == "preconverge" and last["solver"] == "diis"
    assert first["fock_builds"] == first["cycles"] + 1  # the guess's build, no check cycle
    assert last["fock_builds"] == last["cycles"] + 1  # its start reused; the check cycle
    reference = direct_pyscf(lanthanum_fluoride(), ecp={"La": "def2-svp"})
    assert abs(result.e_tot - reference.e_tot) < 1e-6
