"""Plain DIIS against DIIS with the stall watch (a stalled DIIS goes on with its
occupations held, then Newton), side by side.

The Delta-SCF radicals of the detachment rows start from their anion's density, and on
some of them DIIS stops converging for tens of cycles with its orbital gradient near 1e-3
(:mod:`superatom.engine.stall`). This runs the tetrahedral stand-ins [WO4]- and [MoO4]- (gas
preset, grid 1, the Keggin rows' settings) from the anion's density in two variants, in
turn, round after round: ``plain`` (DIIS only, ``max_cycle`` 200, no ladder) and ``watched``
(the engine's default ladder: DIIS until it stalls, then DIIS with the occupations held on
its best orbitals, then Newton). One JSON line per run: the attempts (solver, cycles, wall
time, stall reason, products on the orbital route), total cycles, wall time (s), energy
(Hartree), <S^2>, and the energy difference to the plain run of the same round.

Usage::

    python benchmarks/diis_stall.py --rounds 2 --out benchmarks/diis_stall.jsonl
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from superatom.calc_settings import load_preset
from superatom.engine import run_scf
from superatom.validation.checks import _detached, validation_system

sys.path.insert(0, str(Path(__file__).parent))
from cpu_scf import emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", default=["WO4", "MoO4"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    watched = load_preset("gas", grids_level=1, device="cpu")
    variants = {
        "plain": load_preset("gas", grids_level=1, device="cpu", max_cycle=200,
                             fallback_ladder=False),
        "watched": watched,
    }
    for name in args.systems:
        molecule = validation_system(name)
        anion = run_scf(molecule, variants["watched"])
        occupied = anion.mo_coeff[:, anion.mo_occ > 0]
        start = np.stack([occupied @ occupied.T] * 2)
        for round_index in range(args.rounds):
            plain_energy = None
            for variant, settings in variants.items():
                begin = time.perf_counter()
                radical = run_scf(_detached(molecule), settings, initial_dm=start)
                wall = time.perf_counter() - begin
                plain_energy = radical.e_tot if variant == "plain" else plain_energy
                emit({
                    "system": f"{name}-", "variant": variant, "round": round_index,
                    "attempts": [{key: attempt.get(key) for key in
                                  ("solver", "cycles", "wall_s", "stalled",
                                   "orbital_route_products")}
                                 for attempt in radical.attempts],
                    "cycles": radical.cycles, "wall_s": round(wall, 2),
                    "e_tot_ha": radical.e_tot,
                    "delta_to_plain_ha": radical.e_tot - plain_energy,
                    "spin_square": radical.spin_square,
                    "machine": radical.device_name, "date": time.strftime("%Y-%m-%d"),
                    "versions": radical.versions,
                }, args.out)


if __name__ == "__main__":
    main()
