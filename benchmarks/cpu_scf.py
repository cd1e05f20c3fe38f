"""CPU SCF in C-PCM: stock PySCF's PCM against the engine's, same molecule and settings.

Both SCFs are built by the engine (``make_scf``: same functional, basis, ECP, DF, grid and
memory budget); the stock run swaps the solvent object for ``pyscf.solvent.pcm.PCM`` with the
same method and dielectric constant. The two run alternately in one process (``--repeat``
pairs), from the same minao guess with the same solver, so the ratio holds when the machine's
speed drifts. Per run it records wall time, cycles and the time spent in PCM (the solvent
kernel), J+K (``get_jk``) and XC (the rest of ``get_veff``); per system one JSON line with
|dE|, |dHOMO|, |dLUMO| (eV) and the speed-up.

Usage::

    python benchmarks/cpu_scf.py                       # MoO4 2-, La analogue, W6O19 2-
    python benchmarks/cpu_scf.py --systems keggin --engine-only   # [PW12O40]3- end to end
    python benchmarks/cpu_scf.py --out benchmarks/cpu_scf.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
from pymatgen.core import Molecule

from superatom import HARTREE_TO_EV
from superatom.calc_settings import load_preset
from superatom.engine.device import device_name
from superatom.engine.mole import build_mole
from superatom.engine.scf import make_scf, memory_record
from superatom.structures.registry import build_structure

sys.path.insert(0, str(Path(__file__).parent))
from ln_unit_scf import ln_analogue


def molybdate() -> Molecule:
    d = 1.78 / np.sqrt(3)
    signs = [(1, 1, 1), (-1, -1, 1), (-1, 1, -1), (1, -1, -1)]
    return Molecule(["Mo"] + ["O"] * 4, [[0, 0, 0]] + [[d * a, d * b, d * c]
                                                     for a, b, c in signs], charge=-2)


SYSTEMS = {
    "moo4": ("[MoO4]2-", molybdate),
    "la_cut": ("[La(H2O)4(OH)4]-", lambda: ln_analogue("La")),
    "w6o19": ("[W6O19]2-", lambda: build_structure("lindqvist", metal="W")),
    "keggin": ("[PW12O40]3-", lambda: build_structure("keggin")),
}


class Timer:
    """Accumulates wall time of wrapped methods of one SCF object."""

    def __init__(self):
        self.seconds = {"pcm": 0.0, "jk": 0.0, "veff": 0.0}

    def wrap(self, owner, name: str, key: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - start

        setattr(owner, name, timed)


def build(molecule: Molecule, settings, kind: str):
    mol = build_mole(molecule, settings)
    if kind == "stock":
        mf = make_scf(mol, settings.model_copy(update={"solvent": "none"}), "cpu").PCM()
        mf.with_solvent.method = "C-PCM"
        mf.with_solvent.eps = settings.solvent_eps
    else:
        mf = make_scf(mol, settings, "cpu")
    timer = Timer()
    timer.wrap(mf.with_solvent, "kernel", "pcm")
    timer.wrap(mf, "get_jk", "jk")
    timer.wrap(mf, "get_veff", "veff")
    return mf, timer


def run(molecule: Molecule, settings, kind: str) -> dict:
    start = time.perf_counter()  # the engine computes its PCM cache while building the SCF
    mf, timer = build(molecule, settings, kind)
    build_s = time.perf_counter() - start
    cycles = {"n": 0}
    mf.callback = lambda envs: cycles.__setitem__("n", cycles["n"] + 1)
    mf.kernel()
    wall = time.perf_counter() - start
    occ = np.asarray(mf.mo_occ)
    energy = np.asarray(mf.mo_energy)
    homo = energy[occ > 0].max() * HARTREE_TO_EV
    lumo = energy[occ == 0].min() * HARTREE_TO_EV
    veff = timer.seconds["veff"] - timer.seconds["pcm"]  # the solvent wrapper calls PCM inside
    xc = max(veff - timer.seconds["jk"], 0.0)
    wall += build_s
    if kind == "engine":
        timer.seconds["pcm"] += build_s  # surface, K factor and the integral cache
    record = {
        "kind": kind, "converged": bool(mf.converged), "cycles": cycles["n"],
        "wall_s": round(wall, 2), "build_s": round(build_s, 2), "e_tot_ha": float(mf.e_tot),
        "homo_ev": round(float(homo), 5), "lumo_ev": round(float(lumo), 5),
        "share": {"pcm": round(timer.seconds["pcm"] / wall, 3),
                  "jk": round(timer.seconds["jk"] / wall, 3), "xc": round(xc / wall, 3)},
        "nao": int(mf.mol.nao),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
    }
    if kind == "engine":
        record["memory"] = memory_record(mf)
    return record


def compare(name: str, molecule: Molecule, settings, repeat: int, engine_only: bool) -> dict:
    runs: dict[str, list[dict]] = {"stock": [], "engine": []}
    for _ in range(repeat):
        kinds = ("engine",) if engine_only else ("stock", "engine")
        for kind in kinds:
            runs[kind].append(run(molecule, settings, kind))
            print(json.dumps({"system": name, **runs[kind][-1]}), file=sys.stderr, flush=True)
    engine = runs["engine"][-1]
    summary = {
        "system": name, "preset": "screening", "grids_level": settings.grids_level,
        "machine": f"{device_name('cpu')}, {os.cpu_count()} cores, {platform.node()}",
        "threads": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count())),
        "pyscf": __import__("pyscf").__version__, "engine": engine,
    }
    if runs["stock"]:
        stock = runs["stock"][-1]
        ratios = [s["wall_s"] / e["wall_s"] for s, e in zip(runs["stock"], runs["engine"],
                                                              strict=True)]
        summary.update(
            stock=stock, speedup=round(float(np.median(ratios)), 2),
            d_e_ha=abs(engine["e_tot_ha"] - stock["e_tot_ha"]),
            d_homo_ev=abs(engine["homo_ev"] - stock["homo_ev"]),
            d_lumo_ev=abs(engine["lumo_ev"] - stock["lumo_ev"]),
        )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", choices=sorted(SYSTEMS),
                        default=["moo4", "la_cut", "w6o19"])
    parser.add_argument("--grids-level", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="alternating pairs per system")
    parser.add_argument("--engine-only", action="store_true",
                        help="run only the engine (for systems whose stock run takes hours)")
    parser.add_argument("--out", type=Path, help="append one JSON line per system")
    args = parser.parse_args()
    settings = load_preset("screening", device="cpu", grids_level=args.grids_level)
    for key in args.systems:
        name, make = SYSTEMS[key]
        emit(compare(name, make(), settings, args.repeat, args.engine_only), args.out)


def emit(record: dict, out: Path | None) -> None:
    """Print ``record`` as one JSON line and append it to ``out`` when given."""
    line = json.dumps(record)
    print(line, flush=True)
    if out:
        with out.open("a") as handle:
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
