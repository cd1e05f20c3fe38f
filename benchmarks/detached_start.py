"""Where a Delta-SCF radical lands from each start: the tetrahedral stand-ins of the Keggin rows.

The detachment items of ``superatom validate --level full`` take one electron from a
closed-shell anion whose HOMO is a degenerate set, so the UKS doublet has several aufbau
states. For [WO4]- and [MoO4]- (gas preset, grid 1, the Keggin rows' settings) this runs the
radical from three starts, each with the internal stability check on: ``minao`` (the
default guess), ``anion`` (the anion's converged density, what the validation item uses) and
``homo-hole`` (the anion's orbitals with one HOMO-set orbital emptied in beta). One JSON line
per (system, start): SCF cycles, the energy where the SCF first stopped and where the check
left it (eV), the lowest Hessian eigenvalue of each analysis (Hartree), instabilities
followed, <S^2> and wall time.

Usage::

    python benchmarks/detached_start.py --out benchmarks/detached_start.jsonl
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from superatom import HARTREE_TO_EV
from superatom.calc_settings import load_preset
from superatom.validation.checks import _detached, validation_system
from superatom.workflows.frontier import compute_frontier
from superatom.workflows.guesses import density_guess, occupied_spin_densities

sys.path.insert(0, str(Path(__file__).parent))
from cpu_scf import emit


def homo_hole(anion) -> np.ndarray:
    """The anion's orbitals with its HOMO emptied in beta: ``(2, nao, nao)``."""
    arrays = anion.orbitals.arrays()
    coeff, occ = arrays["mo_coeff"], arrays["mo_occ"]
    alpha = (occ > 0).astype(float)
    beta = alpha.copy()
    beta[np.flatnonzero(alpha)[-1]] = 0.0
    return occupied_spin_densities(np.stack([coeff, coeff]), np.stack([alpha, beta]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", default=["WO4", "MoO4"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    plain = load_preset("gas", grids_level=1, device="cpu")
    checked = load_preset("gas", grids_level=1, device="cpu", stability_check=True)
    for name in args.systems:
        molecule = validation_system(name)
        anion = compute_frontier(molecule, plain)
        starts = {"minao": None, "anion": density_guess(anion, restricted=False),
                  "homo-hole": homo_hole(anion)}
        for start, initial_dm in starts.items():
            begin = time.perf_counter()
            radical = compute_frontier(_detached(molecule), checked, initial_dm=initial_dm)
            stability = radical.scf_state["stability"]
            emit({
                "system": f"{name}-", "start": start, "scf_guess": radical.scf_guess,
                "cycles": radical.scf_cycles,
                "first_stop_ev": radical.e_tot_ev
                - stability["energy_lowering_ha"] * HARTREE_TO_EV,
                "final_ev": radical.e_tot_ev,
                "lowest_eigenvalue_ha": stability["lowest_eigenvalue_ha"],
                "followed": stability["followed"], "internal_stable": stability["internal_stable"],
                "spin_square": radical.spin_square,
                "wall_s": round(time.perf_counter() - begin, 1),
                "machine": radical.device_name,
                "date": time.strftime("%Y-%m-%d"), "settings": radical.settings,
                "versions": radical.versions,
            }, args.out)


if __name__ == "__main__":
    main()
