"""Seminumerical exchange (PySCF ``sgx``) against the engine's density-fitted J+K, CPU, C-PCM.

Both SCFs use the engine's settings (functional, basis, ECP, grid, C-PCM with its cached
integrals); the reference is the engine's SCF as ``superatom run`` builds it (RI-JK in the
preset's auxiliary basis), the candidate keeps density-fitted J and takes K from PySCF's
seminumerical exchange (``pyscf.sgx.sgx_fit``, ``dfj=True``) on its default exchange grid
(level 2, P-junction screening off) or the one given with ``--sgx-level``. The two run
alternately in one process from the same minao guess, so the ratio holds when the machine's
speed drifts. One JSON line per system: wall time, cycles, time in J+K, |dE| (Ha), |dHOMO| and
|dLUMO| (eV), and the ratio.

Usage::

    python benchmarks/sgx_exchange.py                       # MoO4 2-, La analogue
    python benchmarks/sgx_exchange.py --systems la_cut --sgx-level 1
    python benchmarks/sgx_exchange.py --out benchmarks/sgx_exchange.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from superatom import HARTREE_TO_EV
from superatom.calc_settings import load_preset
from superatom.engine.device import device_name
from superatom.engine.mole import build_mole
from superatom.engine.pcm import attach_cached_pcm
from superatom.engine.scf import make_scf

sys.path.insert(0, str(Path(__file__).parent))
from cpu_scf import SYSTEMS, Timer


def build(molecule, settings, kind: str, sgx_level: int):
    mol = build_mole(molecule, settings)
    if kind == "df-jk":
        return make_scf(mol, settings, "cpu")
    from pyscf import sgx

    bare = make_scf(mol, settings.model_copy(update={"solvent": "none", "density_fit": False}),
                    "cpu")
    mf = sgx.sgx_fit(bare, auxbasis=settings.aux_basis)
    mf.with_df.dfj = True
    mf.with_df.grids_level_i = mf.with_df.grids_level_f = sgx_level
    return attach_cached_pcm(mf, eps=settings.solvent_eps, cache_mb=4000.0)


def run(molecule, settings, kind: str, sgx_level: int) -> dict:
    start = time.perf_counter()
    mf = build(molecule, settings, kind, sgx_level)
    timer = Timer()
    timer.wrap(mf, "get_jk", "jk")
    cycles = {"n": 0}
    mf.callback = lambda envs: cycles.__setitem__("n", cycles["n"] + 1)
    mf.kernel()
    wall = time.perf_counter() - start
    occ, energy = np.asarray(mf.mo_occ), np.asarray(mf.mo_energy)
    return {
        "kind": kind, "converged": bool(mf.converged), "cycles": cycles["n"],
        "wall_s": round(wall, 2), "jk_s": round(timer.seconds["jk"], 2),
        "e_tot_ha": float(mf.e_tot),
        "homo_ev": round(float(energy[occ > 0].max() * HARTREE_TO_EV), 5),
        "lumo_ev": round(float(energy[occ == 0].min() * HARTREE_TO_EV), 5),
        "nao": int(mf.mol.nao),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", choices=sorted(SYSTEMS),
                        default=["moo4", "la_cut"])
    parser.add_argument("--grids-level", type=int, default=1)
    parser.add_argument("--sgx-level", type=int, default=2, help="exchange grid level")
    parser.add_argument("--out", type=Path, help="append one JSON line per system")
    args = parser.parse_args()
    settings = load_preset("screening").model_copy(update={"grids_level": args.grids_level})
    for key in args.systems:
        name, make = SYSTEMS[key]
        molecule = make()
        ref = run(molecule, settings, "df-jk", args.sgx_level)
        print(json.dumps({"system": name, **ref}), file=sys.stderr, flush=True)
        cand = run(molecule, settings, "sgx", args.sgx_level)
        print(json.dumps({"system": name, **cand}), file=sys.stderr, flush=True)
        record = {
            "system": name, "preset": "screening", "grids_level": args.grids_level,
            "sgx_grids_level": args.sgx_level,
            "machine": f"{device_name('cpu')}, {os.cpu_count()} cores",
            "threads": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count())),
            "pyscf": __import__("pyscf").__version__, "df_jk": ref, "sgx": cand,
            "speedup": round(ref["wall_s"] / cand["wall_s"], 2),
            "jk_speedup": round(ref["jk_s"] / max(cand["jk_s"], 1e-9), 2),
            "d_e_ha": abs(cand["e_tot_ha"] - ref["e_tot_ha"]),
            "d_homo_ev": round(abs(cand["homo_ev"] - ref["homo_ev"]), 5),
            "d_lumo_ev": round(abs(cand["lumo_ev"] - ref["lumo_ev"]), 5),
        }
        print(json.dumps(record), flush=True)
        if args.out:
            with args.out.open("a") as handle:
                handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
