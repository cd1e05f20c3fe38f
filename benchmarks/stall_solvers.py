"""Solvers from the point where a radical's DIIS stalls: which one finishes it, and how.

The Delta-SCF radical [WO4]- (gas preset, grid 1, the Keggin detachment rows' settings)
starts from its anion's density; its DIIS stalls after ``--stall-cycles`` cycles
(:mod:`superatom.engine.stall`: 21 with the engine's watch). From that density each variant
runs to convergence on its own fresh SCF object, in turn:

- ``fresh-diis``: plain DIIS again (new history, 8 vectors);
- ``held``: the same with the occupations held on the stalled orbitals
  (:func:`superatom.engine.fixed_occupation.occupations_held`, the engine's next rung);
- ``diis-16`` / ``diis-30``: DIIS with a longer history;
- ``adiis``: PySCF's ADIIS;
- ``newton``: the engine's Newton (orbital-route Hessian products);
- ``lbfgs``: the engine's direct minimiser (:mod:`superatom.engine.orbital_lbfgs`, one Fock
  build per iteration; ``cycles`` counts its accepted iterations, ``fock_builds`` its
  builds).

One JSON line per variant: converged, cycles, wall time (s), energy (Hartree) and its
difference to the lowest converged one, aufbau, and the orbital-gradient norm of every
cycle. Wall times are only comparable within one run.

Usage::

    python benchmarks/stall_solvers.py --out benchmarks/stall_solvers.jsonl
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from pyscf import scf

from superatom.calc_settings import load_preset
from superatom.engine.device import device_name
from superatom.engine.fixed_occupation import is_aufbau, occupations_held
from superatom.engine.mole import build_mole
from superatom.engine.orbital_lbfgs import OrbitalLBFGS
from superatom.engine.scf import _second_order, make_scf
from superatom.validation.checks import _detached, validation_system

sys.path.insert(0, str(Path(__file__).parent))
from cpu_scf import emit

VARIANTS = ("fresh-diis", "held", "diis-16", "diis-30", "adiis", "newton", "lbfgs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", default="WO4")
    parser.add_argument("--stall-cycles", type=int, default=21)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--max-cycle", type=int, default=150)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = load_preset("gas", grids_level=1, device="cpu")
    molecule = validation_system(args.system)
    anion = make_scf(build_mole(molecule, settings), settings, "cpu")
    anion.kernel()
    radical_mol = build_mole(_detached(molecule), settings)
    stalled = make_scf(radical_mol, settings, "cpu")
    stalled.max_cycle = args.stall_cycles
    stalled.kernel(np.stack([anion.make_rdm1() / 2] * 2))
    start, reference = stalled.make_rdm1(), (stalled.mo_coeff, stalled.mo_occ)
    records = []
    for variant in args.variants:
        mf = make_scf(radical_mol, settings, "cpu")
        mf.max_cycle = args.max_cycle
        if variant.startswith("diis-"):
            mf.diis_space = int(variant.split("-")[1])
        elif variant == "adiis":
            mf.DIIS = scf.ADIIS
        gradients: list[float] = []
        solver = (_second_order(mf, "cpu") if variant == "newton"
                  else OrbitalLBFGS(mf) if variant == "lbfgs" else mf)
        solver.callback = lambda envs, gradients=gradients: gradients.append(
            float(envs["norm_gorb"]))
        begin = time.perf_counter()
        if variant == "held":
            with occupations_held(mf, *reference):
                solver.kernel(dm0=start)
        else:
            solver.kernel(dm0=start)
        wall = time.perf_counter() - begin
        records.append({
            "system": f"{args.system}-", "variant": variant, "stall_cycles": args.stall_cycles,
            "converged": bool(solver.converged), "cycles": len(gradients),
            "wall_s": round(wall, 2), "e_tot_ha": float(solver.e_tot),
            "aufbau": is_aufbau(solver.mo_energy, solver.mo_occ),
            **({"fock_builds": solver.fock_builds} if variant == "lbfgs" else {}),
            "gradients": [float(f"{g:.2e}") for g in gradients],
            "machine": device_name("cpu"), "date": time.strftime("%Y-%m-%d"),
        })
    lowest = min(r["e_tot_ha"] for r in records if r["converged"])
    for record in records:
        emit({**record, "above_lowest_mev": round((record["e_tot_ha"] - lowest) * 27211.386, 3)},
             args.out)


if __name__ == "__main__":
    main()
