"""Workflow overhead: the same molecule through ``superatom run`` and a bare PySCF script.

Runs each route ``--repeat`` times, alternating, in fresh processes (imports included,
as a user experiences them) and prints wall times and their ratio. With ``--gpu`` it also
compares GPU4PySCF with the CPU path inside one process.

Usage::

    python benchmarks/overhead.py                       # ~30 s SCF: (H2O)4, PBE0/def2-TZVP
    python benchmarks/overhead.py --molecule water --basis def2-svp --repeat 3
    python benchmarks/overhead.py --gpu                 # on a GPU node
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

WATER = [("O", 0.0, 0.0, 0.1173), ("H", 0.0, 0.7572, -0.4692), ("H", 0.0, -0.7572, -0.4692)]


def molecule_lines(name: str) -> list[tuple[str, float, float, float]]:
    """Test systems (Angstrom): a water molecule, or a (H2O)n cluster on a 3 A grid."""
    if name == "water":
        return WATER
    count = int(name.split("water")[1])
    atoms = []
    for k in range(count):
        shift = (3.0 * (k % 2), 3.0 * ((k // 2) % 2), 3.0 * (k // 4))
        atoms += [(s, x + shift[0], y + shift[1], z + shift[2]) for s, x, y, z in WATER]
    return atoms


BARE = textwrap.dedent(
    """
    import sys, time
    t0 = time.perf_counter()
    from pyscf import gto, dft
    atoms, basis, xc, grids = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    mol = gto.M(atom=atoms, basis=basis, verbose=0)
    mf = dft.RKS(mol, xc=xc).density_fit(auxbasis="def2-universal-jkfit")
    mf.grids.level = grids
    mf.conv_tol = 1e-9
    mf.kernel()
    assert mf.converged
    print(mf.e_tot)
    """
)


def time_command(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecule", default="water4")
    parser.add_argument("--basis", default="def2-tzvp")
    parser.add_argument("--xc", default="PBE0")
    parser.add_argument("--grids", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gpu", action="store_true", help="also time GPU vs CPU")
    parser.add_argument("--out", default=None, help="write the numbers as JSON here")
    opts = parser.parse_args()

    atoms = molecule_lines(opts.molecule)
    atom_string = "; ".join(f"{s} {x} {y} {z}" for s, x, y, z in atoms)
    work = Path(tempfile.mkdtemp(prefix="superatom-bench-"))
    xyz = work / "mol.xyz"
    xyz.write_text(f"{len(atoms)}\ncharge=0 multiplicity=1\n"
                   + "".join(f"{s} {x} {y} {z}\n" for s, x, y, z in atoms))
    superatom_cli = [sys.executable, "-m", "superatom.cli.main", "run", str(xyz),
                     "--preset", "gas", "--force", "--json", "--db", str(work / "db"),
                     "--set", f"basis={opts.basis}", "--set", f"xc={opts.xc}",
                     "--set", f"grids_level={opts.grids}", "--set", "device=cpu",
                     "--set", "conv_tol=1e-9"]
    bare = [sys.executable, "-c", BARE, atom_string, opts.basis, opts.xc, str(opts.grids)]
    workflow_times, bare_times = [], []
    energies = {}
    for _ in range(opts.repeat):
        elapsed, out = time_command(bare)
        bare_times.append(elapsed)
        energies["bare"] = float(out.split()[-1])
        elapsed, out = time_command(superatom_cli)
        workflow_times.append(elapsed)
        energies["superatom"] = json.loads(out)["e_tot_ha"]
    result = {
        "molecule": opts.molecule, "n_atoms": len(atoms), "method": f"{opts.xc}/{opts.basis}",
        "grids_level": opts.grids, "cpu_count": os.cpu_count(),
        "bare_pyscf_s": statistics.median(bare_times),
        "superatom_run_s": statistics.median(workflow_times),
        "all_bare_s": bare_times, "all_superatom_s": workflow_times,
        "energy_difference_ha": abs(energies["bare"] - energies["superatom"]),
    }
    result["ratio_superatom_over_bare"] = result["superatom_run_s"] / result["bare_pyscf_s"]
    if opts.gpu:
        result.update(gpu_vs_cpu(atoms, opts))
    print(json.dumps(result, indent=2))
    if opts.out:
        Path(opts.out).write_text(json.dumps(result, indent=2))


def gpu_vs_cpu(atoms, opts) -> dict:
    """Time the engine on CPU and on GPU in this process (second GPU run, warm)."""
    from pymatgen.core import Molecule

    from superatom.calc_settings import load_preset
    from superatom.engine import run_scf

    molecule = Molecule([a[0] for a in atoms], [a[1:] for a in atoms])
    timings = {}
    for device in ("gpu", "gpu", "cpu"):
        settings = load_preset("gas", basis=opts.basis, xc=opts.xc, grids_level=opts.grids,
                               device=device, conv_tol=1e-9)
        start = time.perf_counter()
        res = run_scf(molecule, settings)
        timings[device] = (time.perf_counter() - start, res.e_tot)
    return {
        "engine_cpu_s": timings["cpu"][0], "engine_gpu_s": timings["gpu"][0],
        "ratio_cpu_over_gpu": timings["cpu"][0] / timings["gpu"][0],
        "gpu_cpu_energy_difference_ha": abs(timings["cpu"][1] - timings["gpu"][1]),
    }


if __name__ == "__main__":
    main()
