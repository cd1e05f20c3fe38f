"""A DIIS that stops converging goes on with its occupations held (then the direct
minimiser, then Newton) and reaches the plain-DIIS minimum."""

from __future__ import annotations

import numpy as np
import pytest

from superatom.calc_settings import load_preset
from superatom.engine import run_scf
from superatom.engine import scf as engine_scf
from superatom.engine.fixed_occupation import is_aufbau
from superatom.engine.mole import build_mole
from superatom.engine.orbital_lbfgs import OrbitalLBFGS
from superatom.engine.scf import make_scf
from superatom.engine.stall import (
    STALL_ENERGY_GAIN,
    STALL_WINDOW,
    StallWatch,
    stall_reason,
    stalled_before,
)
from superatom.validation.checks import _detached, validation_system
from tests.molecules import oxygen_triplet


def test_a_steady_decrease_is_not_a_stall_and_a_plateau_is():
    halving = [1e-2 * 0.8**cycle for cycle in range(40)]  # halves every ~3 cycles
    assert all(stall_reason(halving[:n]) is None for n in range(1, 41))
    plateau = [1e-1, 3e-2, 5e-3, 1.2e-3] + [1.1e-3, 9e-4] * STALL_WINDOW
    stops = [n for n in range(1, len(plateau) + 1) if stall_reason(plateau[:n])]
    assert stops[0] == 4 + STALL_WINDOW  # the first cycle at which the window is full
    assert "best before 1.2e-03" in stall_reason(plateau[:stops[0]])


def test_far_from_a_solution_diis_may_wander():
    assert stall_reason([0.5, 0.2, 0.05] + [0.04] * STALL_WINDOW) is None


@pytest.fixture(scope="module")
def tungstate_radical_runs():
    """[WO4]- from its anion's density: plain DIIS creeps with its orbital gradient near 1e-3
    for ~50 cycles (gas preset, grid 1, the Keggin detachment rows' settings)."""
    anion_molecule = validation_system("WO4")
    settings = load_preset("gas", grids_level=1, device="cpu")
    anion = run_scf(anion_molecule, settings)
    occupied = anion.mo_coeff[:, anion.mo_occ > 0]
    start = np.stack([occupied @ occupied.T] * 2)
    radical = _detached(anion_molecule)
    watched = run_scf(radical, settings, initial_dm=start)
    plain = run_scf(radical, load_preset("gas", grids_level=1, device="cpu", max_cycle=200,
                                         fallback_ladder=False), initial_dm=start)
    return watched, plain, anion


def test_stalled_diis_holds_its_occupations_and_reaches_the_plain_diis_minimum(
        tungstate_radical_runs):
    watched, plain, _ = tungstate_radical_runs
    diis, held = watched.attempts
    assert diis["solver"] == "diis" and not diis["converged"]
    assert diis["stalled"].startswith("orbital gradient")
    assert held["solver"] == "fixed_occupation" and held["converged"]  # Newton not needed
    assert "occupations held" in held["restart"] and "state" not in held
    assert diis["cycles"] < plain.cycles / 2
    assert [a["solver"] for a in plain.attempts] == ["diis"]
    assert watched.scf_state["aufbau"]
    # the hole sits in a near-degenerate set with several aufbau doublets: the ladder ends in
    # plain DIIS's state or a lower one (on one CPU the same, on another 3e-4 Ha lower),
    # never a higher one
    assert watched.e_tot < plain.e_tot + 1e-7
    if abs(watched.e_tot - plain.e_tot) < 1e-7:
        assert abs(watched.spin_square - plain.spin_square) < 1e-4
        # orbital energies agree to what conv_tol_grad = sqrt(conv_tol) ~ 3e-5 allows (both
        # runs are converged, not to the same digits)
        np.testing.assert_allclose(np.sort(watched.mo_energy, axis=None),
                                   np.sort(plain.mo_energy, axis=None), atol=1e-4)


def test_the_minimiser_from_the_anion_orbitals_reaches_a_minimum_pyscf_keeps(
        tungstate_radical_runs):
    """The direct minimiser alone, from the anion's orbitals with one beta electron taken
    from its HOMO: it ends at plain DIIS's state or a lower one (as the ladder), in fewer
    Fock builds than plain DIIS's cycles, and PySCF's DIIS started there stays there."""
    _, plain, anion = tungstate_radical_runs
    settings = load_preset("gas", grids_level=1, device="cpu")
    mol = build_mole(_detached(validation_system("WO4")), settings)
    filled = np.flatnonzero(anion.mo_occ > 0)
    occ = np.zeros((2, anion.mo_occ.size))
    occ[:, filled] = 1.0
    occ[1, filled[-1]] = 0.0
    solver = OrbitalLBFGS(make_scf(mol, settings, "cpu"), max_cycle=100)
    energy = solver.kernel(mo_coeff=np.array([anion.mo_coeff] * 2), mo_occ=occ)
    assert solver.converged and is_aufbau(solver.mo_energy, solver.mo_occ)
    assert energy < plain.e_tot + 1e-7
    assert solver.fock_builds < plain.cycles
    check = make_scf(mol, settings, "cpu")
    check.kernel(dm0=solver.make_rdm1())
    assert check.converged and abs(check.e_tot - energy) < 1e-8


@pytest.fixture
def hair_trigger(monkeypatch):
    """A plain-DIIS stall watch that calls it stalled after 3 cycles (gain 1e-6); the
    held-occupation DIIS keeps the engine's watch."""
    def watch(floor, energy_gain=None):
        if energy_gain is None:
            return StallWatch(window=2, gain=1e-6, near=10.0)
        return StallWatch(floor=floor, energy_gain=energy_gain)

    monkeypatch.setattr(engine_scf, "StallWatch", watch)


@pytest.fixture
def both_stall(monkeypatch):
    """Plain and held-occupation DIIS both called stalled after 3 cycles."""
    monkeypatch.setattr(engine_scf, "StallWatch",
                        lambda floor, energy_gain=None: StallWatch(window=2, gain=1e-6,
                                                                   near=10.0))


@pytest.fixture
def never_aufbau(monkeypatch):
    """Every fixed-occupation run counts as ending off the aufbau state."""
    monkeypatch.setattr(engine_scf, "is_aufbau", lambda *args, **kwargs: False)


def _solvers(result):
    return [(a["solver"], a["converged"], a.get("note") or a.get("state"))
            for a in result.attempts]


def test_a_stall_holds_the_occupations_and_keeps_the_energy(hair_trigger):
    reference = run_scf(oxygen_triplet(), load_preset("fast", device="cpu",
                                                      fallback_ladder=False))
    result = run_scf(oxygen_triplet(), load_preset("fast", device="cpu"))
    assert _solvers(result) == [("diis", False, None), ("fixed_occupation", True, None)]
    assert result.attempts[0]["cycles"] == 3 and "stalled" in result.attempts[0]
    assert abs(result.e_tot - reference.e_tot) < 1e-7


def test_fixed_occupations_off_the_aufbau_state_go_on_to_newton(hair_trigger, never_aufbau):
    reference = run_scf(oxygen_triplet(), load_preset("fast", device="cpu",
                                                      fallback_ladder=False))
    result = run_scf(oxygen_triplet(), load_preset("fast", device="cpu"))
    assert _solvers(result) == [("diis", False, None),
                                ("fixed_occupation", False, "not aufbau"),
                                ("orbital_lbfgs", False, "not aufbau"),
                                ("newton", True, None)]
    assert abs(result.e_tot - reference.e_tot) < 1e-7


def test_without_newton_the_level_shift_follows(hair_trigger, never_aufbau, monkeypatch):
    from pyscf.scf import hf

    def no_newton(self):
        raise NotImplementedError("no second-order solver")

    monkeypatch.setattr(hf.SCF, "newton", no_newton)
    reference = run_scf(oxygen_triplet(), load_preset("fast", device="cpu",
                                                      fallback_ladder=False))
    result = run_scf(oxygen_triplet(), load_preset("fast", device="cpu"))
    assert _solvers(result) == [("diis", False, None),
                                ("fixed_occupation", False, "not aufbau"),
                                ("orbital_lbfgs", False, "not aufbau"),
                                ("newton", False, "not available"),
                                ("level_shift+damping", True, None)]
    assert abs(result.e_tot - reference.e_tot) < 1e-7


def test_off_the_cpu_a_stall_goes_to_newton_first():
    ladder = [{"name": "level_shift+damping"}, {"name": "newton"}]
    engine_scf._after_stall(ladder, "gpu", (np.eye(2), np.ones(2)), "DIIS had stalled")
    assert [rung["name"] for rung in ladder] == ["newton", "level_shift+damping"]
    assert ladder[0]["restart"] == "DIIS had stalled: Newton first"
    engine_scf._after_stall(ladder, "cpu", (np.eye(2), np.ones(2)), "DIIS had stalled")
    assert [rung["name"] for rung in ladder] == ["fixed_occupation", "orbital_lbfgs", "newton",
                                                 "level_shift+damping"]
    restart = [{"name": "diis"}, {"name": "level_shift+damping"}, {"name": "newton"}]
    engine_scf._after_stall(restart, "cpu", None, "the held DIIS had stalled")
    assert [rung["name"] for rung in restart] == ["orbital_lbfgs", "newton", "diis",
                                                  "level_shift+damping"]


def test_a_restart_from_a_stalled_checkpoint_skips_plain_diis(hair_trigger, tmp_path):
    chkfile = str(tmp_path / "o2.chk")
    settings = load_preset("fast", device="cpu")
    first = run_scf(oxygen_triplet(), settings, chkfile=chkfile)
    assert [a["solver"] for a in first.attempts] == ["diis", "fixed_occupation"]
    assert stalled_before(chkfile).startswith("orbital gradient")
    again = run_scf(oxygen_triplet(), settings, chkfile=chkfile)
    assert again.extra["guess"] == "checkpoint"
    assert [a["solver"] for a in again.attempts] == ["fixed_occupation"]
    assert "DIIS had stalled" in again.attempts[0]["restart"]
    assert abs(again.e_tot - first.e_tot) < 1e-8
    later = str(tmp_path / "later.chk")  # a run's own checkpoint carries the mark on
    run_scf(oxygen_triplet(), settings, chkfile=later, restart_from=[chkfile])
    assert stalled_before(later) == stalled_before(chkfile)
    plain = str(tmp_path / "plain.chk")  # an unmarked checkpoint restarts with DIIS
    run_scf(oxygen_triplet(), load_preset("fast", device="cpu", fallback_ladder=False),
            chkfile=plain)
    assert stalled_before(plain) is None
    assert run_scf(oxygen_triplet(), settings, chkfile=plain).attempts[0]["solver"] == "diis"


def test_a_held_diis_still_descending_is_not_stalled_and_a_flat_one_is():
    gradients = [1e-2, 1e-3] + [9e-4] * STALL_WINDOW
    descending = [-1.0 - 1e-5 * cycle for cycle in range(len(gradients))]
    assert stall_reason(gradients, energies=descending, energy_gain=STALL_ENERGY_GAIN) is None
    creeping = [-1.0 - 1e-10 * cycle for cycle in range(len(gradients))]
    reason = stall_reason(gradients, energies=creeping, energy_gain=STALL_ENERGY_GAIN)
    assert reason.endswith("energy down 8.0e-10 Ha")


def test_a_stalled_held_diis_goes_to_the_minimiser_and_a_restart_begins_there(both_stall,
                                                                             tmp_path):
    chkfile = str(tmp_path / "o2.chk")
    settings = load_preset("fast", device="cpu")
    reference = run_scf(oxygen_triplet(), load_preset("fast", device="cpu",
                                                      fallback_ladder=False))
    first = run_scf(oxygen_triplet(), settings, chkfile=chkfile)
    assert _solvers(first) == [("diis", False, None), ("fixed_occupation", False, None),
                               ("orbital_lbfgs", True, None)]
    assert first.attempts[2]["fock_builds"] >= first.attempts[2]["cycles"]
    assert first.attempts[2]["frames"] >= 1
    assert first.attempts[1]["stalled"].startswith(f"{engine_scf.HELD_STALL}: orbital gradient")
    assert abs(first.e_tot - reference.e_tot) < 1e-7
    assert stalled_before(chkfile).startswith(engine_scf.HELD_STALL)
    again = run_scf(oxygen_triplet(), settings, chkfile=chkfile)
    assert [a["solver"] for a in again.attempts] == ["orbital_lbfgs"]
    assert again.attempts[0]["restart"].endswith("minimised over orbital rotations")
    assert abs(again.e_tot - reference.e_tot) < 1e-7
