"""A DIIS that stops converging is handed to Newton, which reaches the plain-DIIS minimum."""

from __future__ import annotations

import numpy as np
import pytest

from superatom.calc_settings import load_preset
from superatom.engine import run_scf
from superatom.engine.stall import STALL_WINDOW, stall_reason
from superatom.validation.checks import _detached, validation_system


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
    return watched, plain


def test_stalled_diis_goes_to_newton_and_reaches_the_plain_diis_minimum(
        tungstate_radical_runs):
    watched, plain = tungstate_radical_runs
    diis, newton = watched.attempts
    assert diis["solver"] == "diis" and not diis["converged"]
    assert diis["stalled"].startswith("orbital gradient")
    assert newton["solver"] == "newton" and newton["converged"]  # level shift skipped
    assert diis["cycles"] < plain.cycles / 2
    assert [a["solver"] for a in plain.attempts] == ["diis"]
    assert abs(watched.e_tot - plain.e_tot) < 1e-7
    assert abs(watched.spin_square - plain.spin_square) < 1e-4
    # orbital energies agree to what conv_tol_grad = sqrt(conv_tol) ~ 3e-5 allows (the hole
    # sits in a near-degenerate set: both runs are converged, not to the same digits)
    np.testing.assert_allclose(np.sort(watched.mo_energy, axis=None),
                               np.sort(plain.mo_energy, axis=None), atol=1e-4)
