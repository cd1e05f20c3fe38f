"""A restart from a checkpoint whose SCF had converged takes the orbitals as they are."""

from __future__ import annotations

import h5py
import numpy as np
from pyscf.lib import chkfile

from superatom.calc_settings import load_preset
from superatom.engine import run_scf
from superatom.engine.converged_restart import converged_before
from superatom.engine.stability_restart import GROUP, carry
from tests.molecules import oxygen_triplet, water


def _occupied_only(source: str, target: str) -> None:
    """What ``save_restart`` keeps: the occupied orbitals (either spin), then the carried
    trial rotations."""
    data = chkfile.load(source, "scf")
    occ = np.asarray(data["mo_occ"])
    keep = (occ.sum(axis=0) if occ.ndim == 2 else occ) > 0
    chkfile.save(target, "scf", {"mo_coeff": np.asarray(data["mo_coeff"])[..., keep],
                                 "mo_occ": occ[..., keep], "e_tot": data["e_tot"]})
    carry(source, target)


def test_a_killed_analysis_restarts_without_an_scf_step(tmp_path):
    """The rerun of a closed shell whose stability analysis had begun builds one Fock matrix
    and goes on with the same state: the energy and every orbital energy of the first run,
    no SCF cycle, and the analysis reuses the saved trial rotations."""
    settings = load_preset("fast", device="cpu", stability_check=True)
    first = str(tmp_path / "first.chk")
    done = run_scf(water(), settings, chkfile=first)
    assert converged_before(first) is not None

    second = str(tmp_path / "second.chk")
    again = run_scf(water(), settings, chkfile=second, restart_from=[first])
    assert [a["solver"] for a in again.attempts] == ["checkpoint"]
    assert again.cycles == 0 and again.attempts[0]["orbital_gradient"] < 1e-4
    assert abs(again.e_tot - done.e_tot) < 1e-9
    assert np.abs(again.mo_energy - done.mo_energy).max() < 1e-6
    check = again.scf_state["stability"]["checks"][0]
    assert check["reused_rotations"] > 0 and again.scf_state["stability"]["internal_stable"]
    with h5py.File(second, "r") as handle:  # the rerun's own checkpoint can restart a third
        assert "scf/mo_coeff" in handle and GROUP in handle


def test_an_open_shell_restarts_from_a_carried_file_with_occupied_orbitals_only(tmp_path):
    """UKS triplet O2 from a restart file that keeps only the occupied orbitals (the
    virtual space rebuilt as their complement): the same energy, <S^2> and levels."""
    settings = load_preset("fast", device="cpu", stability_check=True)
    first = str(tmp_path / "first.chk")
    done = run_scf(oxygen_triplet(), settings, chkfile=first)
    carried = str(tmp_path / "carried.saved.chk")
    _occupied_only(first, carried)

    again = run_scf(oxygen_triplet(), settings, restart_from=[carried])
    assert [a["solver"] for a in again.attempts] == ["checkpoint"]
    assert abs(again.e_tot - done.e_tot) < 1e-9
    assert abs(again.spin_square - done.spin_square) < 1e-6
    assert np.abs(again.mo_energy - done.mo_energy).max() < 1e-6


def test_orbitals_that_are_not_converged_go_through_the_ladder(tmp_path):
    """A checkpoint that claims convergence (it holds trial rotations) but whose orbitals
    are not converged is only a starting guess: the SCF runs and ends at the same state."""
    settings = load_preset("fast", device="cpu", stability_check=True)
    first = str(tmp_path / "first.chk")
    done = run_scf(water(), settings, chkfile=first)
    with h5py.File(first, "a") as handle:  # mix occupied and virtual orbitals a little
        coeff = np.asarray(handle["scf/mo_coeff"])
        homo, lumo = coeff[:, 4].copy(), coeff[:, 5].copy()
        coeff[:, 4], coeff[:, 5] = 0.99 * homo + 0.14 * lumo, -0.14 * homo + 0.99 * lumo
        handle["scf/mo_coeff"][...] = coeff
    again = run_scf(water(), settings, restart_from=[first])
    assert again.attempts[0]["solver"] != "checkpoint" and again.cycles > 0
    assert abs(again.e_tot - done.e_tot) < 1e-8


def test_a_checkpoint_without_trial_rotations_is_not_taken_as_converged(tmp_path):
    """A checkpoint of an SCF killed before convergence has no stability record."""
    settings = load_preset("fast", device="cpu")
    path = str(tmp_path / "run.chk")
    run_scf(water(), settings, chkfile=path)
    assert converged_before(path) is None
    assert converged_before(str(tmp_path / "missing.chk")) is None
