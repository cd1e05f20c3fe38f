"""Orbital L-BFGS from a detachment radical's checkpoint, one JSON line per iteration.

The Delta-SCF radical of a detachment row ([PW12O40]2-: 53 atoms, 962 AOs) stalls in DIIS
with its orbital gradient at a few times the tolerance, and PySCF's Newton solver needs
20-40 minutes per macro-iteration on two cores. This runs the engine's direct minimiser
(:class:`superatom.engine.orbital_lbfgs.OrbitalLBFGS`, one Fock build per iteration) on the
same input (gas preset, grid 1, as the detachment rows) from the orbitals of a checkpoint,
writing every accepted iteration's orbitals to ``--chkfile`` (a checkpoint of the same
input hash, which the validation item then restarts from) and one JSON line per iteration:
energy (Hartree), orbital-gradient norm, Fock builds and wall time. A last line sums up.

Usage (with ``--df-file`` the DF tensor kept by the workflow is reused)::

    python benchmarks/radical_lbfgs.py --system PW12O40 --checkpoint HASH.saved.chk \
        --df-file ~/.cache/superatom/checkpoints/HASH.df.h5 \
        --chkfile ~/.cache/superatom/checkpoints/HASH.lbfgs.chk --out run.jsonl
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from superatom.calc_settings import load_preset
from superatom.engine.device import device_name
from superatom.engine.df_tensor import keep_df_tensor
from superatom.engine.fixed_occupation import is_aufbau
from superatom.engine.mole import build_mole
from superatom.engine.orbital_lbfgs import OrbitalLBFGS
from superatom.engine.scf import HELD_STALL, make_scf, read_checkpoint
from superatom.engine.stall import carry_stall_mark, stalled_before
from superatom.schemas.hashing import input_hash
from superatom.validation.checks import _detached, validation_system

sys.path.insert(0, str(Path(__file__).parent))
from cpu_scf import emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", default="PW12O40")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--df-file")
    parser.add_argument("--chkfile", required=True)
    parser.add_argument("--max-cycle", type=int, default=60)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    begin = time.perf_counter()
    molecule = _detached(validation_system(args.system))
    settings = load_preset("gas", grids_level=1, device="cpu", stability_check=True)
    digest = input_hash(molecule, settings)
    mol = build_mole(molecule, settings)
    mf = make_scf(mol, settings, "cpu")
    df = keep_df_tensor(mf, args.df_file) if args.df_file else {}
    coeff, occ = read_checkpoint(args.checkpoint, mol)
    mf.chkfile = args.chkfile
    # the mark the ladder's own minimiser rung leaves: a restart from this checkpoint begins
    # with the minimiser, not with a DIIS whose first Roothaan step leaves a soft minimum
    mark = f"{HELD_STALL}: handed to the direct minimiser by radical_lbfgs.py"
    earlier = stalled_before(args.checkpoint)
    mark += f" (before: {earlier})" if earlier else ""
    carry_stall_mark(args.chkfile, mark)
    solver = OrbitalLBFGS(mf, max_cycle=args.max_cycle)
    stamp = {"t": time.perf_counter()}

    def report(envs):
        now = time.perf_counter()
        emit({"system": f"{args.system} - e", "iteration": envs["cycle"],
              "e_ha": round(envs["e_tot"], 10),
              "orbital_gradient": float(f"{envs['norm_gorb']:.3e}"),
              "fock_builds": solver.fock_builds, "s": round(now - stamp["t"], 1),
              "stamp": time.strftime("%H:%M:%S")}, args.out)
        stamp["t"] = now

    solver.callback = report
    energy = solver.kernel(mo_coeff=coeff, mo_occ=occ)
    emit({"system": f"{args.system} - e", "input_hash": digest,
          "checkpoint": Path(args.checkpoint).name, "converged": bool(solver.converged),
          "aufbau": bool(is_aufbau(solver.mo_energy, solver.mo_occ)), "e_tot_ha": energy,
          "iterations": solver.cycles, "fock_builds": solver.fock_builds,
          "frames": solver.frames, "conv_tol": solver.conv_tol,
          "conv_tol_grad": solver.conv_tol_grad, **df,
          "wall_s": round(time.perf_counter() - begin, 1), "machine": device_name("cpu"),
          "date": time.strftime("%Y-%m-%d")}, args.out)
    carry_stall_mark(args.chkfile, mark)

if __name__ == "__main__":
    main()
