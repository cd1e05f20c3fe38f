"""Internal stability analysis: the engine's against PySCF's, on one converged SCF.

One converged SCF (engine settings: ``screening`` preset, C-PCM, DF, the grid given), then
the lowest root of PySCF's orbital-rotation Hessian three ways, ``--repeat`` times each, in
one process: ``pyscf`` (PySCF's algorithm: general-route exchange, its Davidson start),
``orbital_route`` (the exchange of each trial rotation on the occupied-orbital route,
:mod:`superatom.engine.response_exchange`) and ``engine`` (that plus the engine's start,
:func:`superatom.engine.stability.internal_stability`). One JSON line per system: wall
time, lowest eigenvalue (Hartree) and trial rotations of each, the speed-ups.

Usage::

    python benchmarks/stability_exchange.py                     # [W6O19]2-
    python benchmarks/stability_exchange.py --systems keggin \
        --out benchmarks/stability_exchange.jsonl
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from superatom.calc_settings import load_preset
from superatom.engine.mole import build_mole
from superatom.engine.response_exchange import orbital_route_exchange
from superatom.engine.scf import converge_scf
from superatom.engine.stability import lowest_rotation

sys.path.insert(0, str(Path(__file__).parent))
from cpu_scf import SYSTEMS, emit

#: (exchange route, Davidson start): PySCF's own analysis, then the engine's two changes.
VARIANTS = {
    "pyscf": (False, "pyscf"),
    "orbital_route": (True, "pyscf"),
    "engine": (True, "lowest"),
}


def analyse(mf, orbital_route: bool, start: str) -> dict:
    """Wall time (s), lowest eigenvalue (Ha) and trial rotations of one analysis."""
    began = time.perf_counter()
    with orbital_route_exchange(mf) if orbital_route else nullcontext():
        solve = lowest_rotation(mf, start)
    return {"wall_s": round(time.perf_counter() - began, 1), "lowest_ha": solve.value,
            "trial_rotations": solve.products, "converged": solve.converged}


def compare(name: str, molecule, settings, repeat: int, variants: list[str]) -> dict:
    mol = build_mole(molecule, settings)
    began = time.perf_counter()
    mf = converge_scf(mol, settings, "cpu", name)[0]
    scf_s = time.perf_counter() - began
    runs: dict[str, list[dict]] = {variant: [] for variant in variants}
    for _ in range(repeat):
        for variant in variants:
            runs[variant].append(analyse(mf, *VARIANTS[variant]))
    best = {variant: min(run["wall_s"] for run in done) for variant, done in runs.items()}
    lowest = {variant: done[-1]["lowest_ha"] for variant, done in runs.items()}
    return {
        "system": name, "nao": mol.nao, "nocc": int((mf.mo_occ > 0).sum()),
        "naux": int(mf.with_df.get_naoaux()), "settings": settings.model_dump(mode="json"),
        "scf_s": round(scf_s, 1), "analyses": runs,
        "eigenvalue_spread_ha": max(lowest.values()) - min(lowest.values()),
        "speedup_vs_pyscf": {variant: round(best["pyscf"] / wall, 2)
                             for variant, wall in best.items()} if "pyscf" in best else None,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", default=["w6o19"], choices=sorted(SYSTEMS))
    parser.add_argument("--grids-level", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = load_preset("screening", device="cpu", grids_level=args.grids_level)
    for key in args.systems:
        name, make = SYSTEMS[key]
        emit(compare(name, make(), settings, args.repeat, args.variants), args.out)


if __name__ == "__main__":
    main()
