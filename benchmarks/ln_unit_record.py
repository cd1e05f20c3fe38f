"""One JSON line for a finished (or cut-short) SCF of a full Ln-Keggin unit, from the project's
own records: the stored result, the job's log (every SCF cycle) and a sampled memory log.

The unit itself is run through the command line, in the background::

    superatom build substituted --metal La -o la_unit.xyz
    nohup superatom run la_unit.xyz -p screening -s grids_level=1 \
        -s pcm_potential=density-fitted -s stability_check=true --force-size \
        -l la_unit.log --db runs/db --name la_unit &

and recorded when it ends (or, with ``--partial``, while it runs: cycles and energies so far)::

    python benchmarks/ln_unit_record.py --db runs/db --name la_unit --log la_unit.log \
        --memory-log la_unit.mem --out benchmarks/ln_unit.jsonl

``--save-restart benchmarks/restart --input-hash HASH`` also keeps the newest checkpoint of a
run cut short (occupied orbitals only), for the next run to start from; for a finished run,
the stored result's occupied orbitals (so a machine without that store restarts from them).

The record: cycles per rung, wall time, peak resident memory (GB, the largest sample of
``VmHWM`` in the memory log: lines ``HH:MM:SS rss_gb=.. hwm_gb=..``), the energy of every
cycle (Hartree), HOMO and LUMO (eV) with their element weights (Mulliken, fraction), the
frontier window, aufbau and the internal-stability record, the memory plan and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from superatom.db.query import load_result, query_results
from superatom.db.store import open_store
from superatom.engine.stability_restart import carry
from superatom.engine.stall import carry_stall_mark, stalled_before
from superatom.workflows.frontier import restart_checkpoints

CYCLE = re.compile(r"^(\S+ \S+) .*SCF cycle\s+(\d+)\s+E = (\S+) Ha")
START = re.compile(r"^(\S+ \S+) job (\S+): ")


def energy_trajectory(log: Path) -> dict:
    """Energies (Ha) of the last job in ``log``, cycle by cycle, and its first/last stamps."""
    cycles: list[float] = []
    stamps: list[str] = []
    for line in log.read_text().splitlines():
        if START.match(line):
            cycles, stamps = [], [START.match(line).group(1)]
        found = CYCLE.match(line)
        if found:
            cycles.append(float(found.group(3)))
            stamps.append(found.group(1))
    return {"energies_ha": cycles, "first_stamp": stamps[0] if stamps else None,
            "last_stamp": stamps[-1] if stamps else None}


def peak_memory_gb(memory_log: Path | None) -> float | None:
    if memory_log is None or not memory_log.exists():
        return None
    peaks = [float(x) for x in re.findall(r"hwm_gb=([0-9.]+)", memory_log.read_text())]
    return round(max(peaks), 2) if peaks else None


def level(doc, label: str) -> dict | None:
    for orbital in doc.frontier:
        if orbital.label == label:
            weights = sorted(orbital.element_weights.items(), key=lambda kv: -kv[1])
            return {"energy_ev": round(orbital.energy_ev, 4),
                    "element_weights": {k: round(v, 3) for k, v in weights if v >= 0.01},
                    "participation_ratio": orbital.participation_ratio}
    return None


def newest_checkpoint(digest: str):
    """``(mo_coeff, mo_occ, e_tot, stall mark)`` of the newest readable checkpoint of
    ``digest``, or None; the mark says why its DIIS stalled (None if it did not)."""
    import numpy as np
    from pyscf.lib import chkfile

    for path in restart_checkpoints(digest):
        try:
            data = chkfile.load(path, "scf")
            return (np.asarray(data["mo_coeff"]), np.asarray(data["mo_occ"]),
                    float(data.get("e_tot", np.nan)), stalled_before(path))
        except Exception:  # no SCF step saved yet, or being written
            continue
    return None


def save_restart(digest: str, folder: Path, doc=None) -> Path | None:
    """The run's newest checkpoint cut to its occupied orbitals (all a restart needs).

    Written as ``<folder>/<input hash>.saved.chk``; copied into the checkpoint folder
    (``$SUPERATOM_CHECKPOINT_DIR`` or the user cache's ``superatom/checkpoints``) it is the
    next run's starting guess. Without a checkpoint (the run finished and removed it) the
    stored result ``doc``'s orbitals are used: on a machine without that store, the same
    input then converges again in a cycle or two instead of from scratch. A stability
    analysis cut short also leaves its trial rotations, cut to their lowest Ritz pairs
    (:func:`superatom.engine.stability_restart.carry`): the next run's analysis goes on from
    them instead of from its first trial rotation.
    """
    from pyscf.lib import chkfile

    source = newest_checkpoint(digest)
    if source is None and doc is not None and doc.orbitals is not None:
        arrays = doc.orbitals.arrays()
        source = (arrays["mo_coeff"], arrays["mo_occ"], float(doc.e_tot_ha), None)
    if source is None:
        return None
    coeff, occ, e_tot, stall = source
    keep = (occ.sum(axis=0) if occ.ndim == 2 else occ) > 0  # UKS: (2, nmo) occupations
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}.saved.chk"
    target.unlink(missing_ok=True)
    chkfile.save(str(target), "scf", {"mo_coeff": coeff[..., keep], "mo_occ": occ[..., keep],
                                      "e_tot": e_tot})
    if stall:  # a restart from the copy skips plain DIIS, as one from the original would
        carry_stall_mark(str(target), stall)
    for path in restart_checkpoints(digest):  # newest first: a cut-short stability analysis
        if Path(path).resolve() != target.resolve() and carry(path, str(target)):
            break
    return target


def stored_result(args):
    """The stored result named ``args.name`` in ``args.db``, or None."""
    store = open_store(args.db)
    rows = [r for r in query_results(store) if r.get("name") == args.name]
    return load_result(rows[0]["uuid"], store) if rows else None


def record(args, doc) -> dict:
    trajectory = energy_trajectory(args.log)
    out = {"system": args.system, "log": trajectory,
           "peak_rss_gb": peak_memory_gb(args.memory_log),
           "machine": f"{os.cpu_count()} cores"}
    if doc is None:
        if not args.partial:
            sys.exit(f"no stored result named {args.name!r} in {args.db}: the run has not "
                     "finished (use --partial for the cycles so far)")
        out["status"] = "running or cut short"
        return out
    out.update({
        "status": "converged" if doc.converged else "not converged",
        "uuid": doc.job_uuid, "input_hash": doc.input_hash, "method": doc.method,
        "nao": doc.nao, "n_electrons": doc.n_electrons, "charge": doc.charge,
        "settings": {k: doc.settings.get(k) for k in (
            "xc", "basis", "aux_basis", "grids_level", "conv_tol", "solvent",
            "pcm_potential", "max_memory_mb", "stability_check", "ln_core")},
        "cycles": doc.scf_cycles,
        "attempts": [{k: a.get(k) for k in ("solver", "cycles", "converged", "e_tot", "wall_s",
                                           "level_shift", "damp", "conv_tol", "reason",
                                           "restart", "fock_builds")
                      if a.get(k) is not None} for a in doc.scf_attempts],
        "guess": doc.scf_guess, "wall_s": doc.timings.get("wall_s", doc.timings),
        "timings": doc.timings, "e_tot_ha": doc.e_tot_ha,
        "homo_ev": doc.homo_ev, "lumo_ev": doc.lumo_ev, "gap_ev": doc.gap_ev,
        "homo": level(doc, "HOMO"), "lumo": level(doc, "LUMO"),
        "scf_state": doc.scf_state, "memory": doc.memory,
        "device_name": doc.device_name, "versions": doc.versions,
    })
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="store folder of the run")
    parser.add_argument("--name", required=True, help="the run's --name")
    parser.add_argument("--log", type=Path, required=True, help="the run's job log")
    parser.add_argument("--memory-log", type=Path)
    parser.add_argument("--system", default="[La(H2O)4PW11O39]4-")
    parser.add_argument("--partial", action="store_true")
    parser.add_argument("--out", type=Path, help="append the JSON line to this file")
    parser.add_argument("--save-restart", type=Path, metavar="DIR",
                        help="also save the newest checkpoint of --input-hash, occupied "
                             "orbitals only, to DIR")
    parser.add_argument("--input-hash", help="the run's input hash (checkpoint file prefix; "
                        "default: the stored result's)")
    args = parser.parse_args()
    doc = stored_result(args)
    out = record(args, doc)
    if args.save_restart:
        saved = save_restart(args.input_hash or out.get("input_hash"), args.save_restart, doc)
        print(f"restart: {saved}", file=sys.stderr)
    line = json.dumps(out)
    print(line)
    if args.out:
        with args.out.open("a") as handle:
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
