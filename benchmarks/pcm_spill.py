"""C-PCM surface integrals that do not fit in memory: recomputed per pass vs a scratch file.

The engine's C-PCM (:class:`superatom.engine.pcm.CachedPCM`) keeps the AO-pair x
surface-point ``int3c2e`` columns in memory as far as the budget allows. A Keggin's 24 GB of
columns do not fit beside its DF work on a 24 GB machine; the columns left over were
recomputed in both passes of every SCF cycle (surface potential and solvent Fock matrix).
They are now computed once and written to an unnamed scratch file, read back in each pass.

For each system this script builds the engine's C-PCM at ``screening`` settings three ways,
with the same surface and the same starting density (minao):

* ``cached``: every column in memory (the reference),
* ``disk``: ``--memory-share`` of the columns in memory, the rest in a scratch file,
* ``recompute``: the same share in memory, the rest recomputed in every pass (the old route),

and times the one-time build (surface, K factor, integrals) and ``--cycles`` solvent
evaluations (``_get_vind``: two passes each, as in one SCF cycle). One JSON line per system:
seconds per cycle of each route, the ratio recompute/disk, and the largest difference of the
solvent energy and Fock matrix from the cached route (exact routes: rounding only).

Usage::

    python benchmarks/pcm_spill.py                           # La cut and [W6O19]2-
    python benchmarks/pcm_spill.py --systems w6o19 --out benchmarks/pcm_spill.jsonl
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from superatom.calc_settings import load_preset
from superatom.engine.mole import build_mole
from superatom.engine.pcm import CachedPCM, pcm_cache_bytes
from superatom.engine.scf import make_scf
from superatom.structures.registry import build_structure

sys.path.insert(0, str(Path(__file__).parent))
from cpu_scf import emit
from ln_unit_scf import ln_analogue

SYSTEMS = {
    "la_cut": ("[La(H2O)4(OH)4]-", lambda: ln_analogue("La")),
    "w6o19": ("[W6O19]2-", lambda: build_structure("lindqvist", metal="W")),
    "keggin": ("[PW12O40]3-", lambda: build_structure("keggin")),
}


def _route(mol, settings, whole_mb: float, share: float, spill_dir: str | None, dm,
           cycles: int) -> tuple[dict, tuple[float, np.ndarray]]:
    solvent = CachedPCM(mol, cache_mb=whole_mb * share, spill_dir=spill_dir)
    solvent.method = "C-PCM"
    solvent.eps = settings.solvent_eps
    solvent.max_memory = 0.5 * whole_mb + 2000
    start = time.perf_counter()
    solvent.build()
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(cycles):
        result = solvent._get_vind(dm)
    cycle_s = (time.perf_counter() - start) / cycles
    route = solvent.route()
    solvent.reset()
    return {"build_s": round(build_s, 2), "cycle_s": round(cycle_s, 3), **route}, result


def measure(key: str, share: float, cycles: int) -> dict:
    label, make = SYSTEMS[key]
    settings = load_preset("screening", grids_level=1, device="cpu")
    mol = build_mole(make(), settings)
    dm = make_scf(mol, settings.model_copy(update={"solvent": "none"}), "cpu").get_init_guess()
    probe = CachedPCM(mol)
    probe.method, probe.eps = "C-PCM", settings.solvent_eps
    probe.build()
    n_points = len(probe.surface["charge_exp"])
    whole_mb = pcm_cache_bytes(mol.nao, n_points) / 1e6
    runs, results = {}, {}
    with tempfile.TemporaryDirectory(prefix="pcm-spill-") as scratch:
        for name, spill in (("cached", None), ("disk", scratch), ("recompute", None)):
            part = 1.0 if name == "cached" else share
            runs[name], results[name] = _route(mol, settings, whole_mb, part, spill, dm, cycles)
    e_ref, v_ref = results["cached"]
    record = {
        "system": label, "nao": mol.nao, "surface_points": n_points,
        "integrals_gb": round(whole_mb / 1e3, 3), "memory_share": share, "cycles": cycles,
        "routes": runs,
        "recompute_over_disk": round(runs["recompute"]["cycle_s"] / runs["disk"]["cycle_s"], 1),
        "max_dE_Ha": max(abs(results[n][0] - e_ref) for n in ("disk", "recompute")),
        "max_dV_Ha": float(max(np.abs(results[n][1] - v_ref).max()
                               for n in ("disk", "recompute"))),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_1min": round(os.getloadavg()[0], 1),
    }
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", choices=sorted(SYSTEMS),
                        default=["la_cut", "w6o19"])
    parser.add_argument("--memory-share", type=float, default=1 / 3,
                        help="share of the columns kept in memory by the disk and recompute "
                             "routes")
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--out", type=Path, help="append one JSON line per system")
    args = parser.parse_args()
    for key in args.systems:
        emit(measure(key, args.memory_share, args.cycles), args.out)


if __name__ == "__main__":
    main()
