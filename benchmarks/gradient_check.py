"""Is the orbital gradient at a checkpoint the energy's own derivative, or noise?

A DIIS that circles with its orbital gradient at a fixed size and its energy flat can mean a
numerical floor (grid, fitting, an inconsistent Fock matrix) or a real gradient DIIS fails to
follow. This loads the orbitals of a checkpoint of the detached radical of a validation
system (gas preset, grid 1, as the detachment rows), computes the energy and orbital
gradient g there, lists the largest gradient elements per spin with their orbital-energy
gaps, and evaluates the energy after the orbital rotation ``exp(-t g)`` for each step ``t``.
For a consistent gradient the central difference ``(E(+t) - E(-t)) / 2t`` equals
``-2 |g|^2`` (PySCF's gradient convention; on a [WO4]- radical checkpoint 15 cycles in,
|g| 1e-2, t = +-0.01: ratio 1.000). One JSON line: E0, |g|, the top elements, E(t) - E0
for every step, the central-difference ratio and the gain of a quadratic fit along -g.

Usage (with ``--df-file`` the DF tensor kept by the workflow is reused)::

    python benchmarks/gradient_check.py --system PW12O40 --checkpoint RUN.chk \
        --df-file ~/.cache/superatom/checkpoints/HASH.df.h5 --steps 0.5 -0.5 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.linalg import expm

from superatom.calc_settings import load_preset
from superatom.engine.device import device_name
from superatom.engine.df_tensor import keep_df_tensor
from superatom.engine.mole import build_mole
from superatom.engine.scf import make_scf, read_checkpoint
from superatom.schemas.hashing import input_hash
from superatom.validation.checks import _detached, validation_system

sys.path.insert(0, str(Path(__file__).parent))
from cpu_scf import emit

HARTREE_EV = 27.211386


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", default="PW12O40")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--df-file")
    parser.add_argument("--steps", type=float, nargs="+", default=[0.5, -0.5, 1.0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    begin = time.perf_counter()
    molecule = _detached(validation_system(args.system))
    settings = load_preset("gas", grids_level=1, device="cpu", stability_check=True)
    mol = build_mole(molecule, settings)
    mf = make_scf(mol, settings, "cpu")
    df = keep_df_tensor(mf, args.df_file) if args.df_file else {}
    coeff, occ = (np.asarray(a) for a in read_checkpoint(args.checkpoint, mol))
    n_occ = [int(occ[s].sum()) for s in range(2)]
    n_mo = coeff.shape[-1]

    def energy_and_gradient(orbitals):
        dm = mf.make_rdm1(orbitals, occ)
        veff = mf.get_veff(mol, dm)
        fock = mf.get_fock(dm=dm, vhf=veff)
        return float(mf.energy_tot(dm, vhf=veff)), mf.get_grad(orbitals, occ, fock), fock

    e0, g0, fock = energy_and_gradient(coeff)
    split = n_occ[0] * (n_mo - n_occ[0])
    blocks = [g0[:split].reshape(n_mo - n_occ[0], n_occ[0]),
              g0[split:].reshape(n_mo - n_occ[1], n_occ[1])]
    top = []
    for spin, block in enumerate(blocks):
        levels = np.diag(coeff[spin].T @ fock[spin] @ coeff[spin])
        for flat in np.argsort(-np.abs(block).ravel())[:5]:
            a, i = np.unravel_index(flat, block.shape)
            top.append({"spin": spin, "virtual": int(a), "occupied": int(i),
                        "g": float(f"{block[a, i]:.2e}"),
                        "gap_ev": round(float(levels[n_occ[spin] + a] - levels[i]) * HARTREE_EV,
                                        3)})

    def rotated(t):
        out = coeff.copy()
        for spin, block in enumerate(blocks):
            kappa = np.zeros((n_mo, n_mo))
            kappa[n_occ[spin]:, : n_occ[spin]] = -t * block
            out[spin] = coeff[spin] @ expm(kappa - kappa.T)
        return out

    steps = {t: energy_and_gradient(rotated(t))[0] - e0 for t in args.steps}
    g2 = float(g0 @ g0)
    record = {"system": f"{args.system} - e", "input_hash": input_hash(molecule, settings),
              "checkpoint": Path(args.checkpoint).name, "e0_ha": e0,
              "gradient_norm": float(np.sqrt(g2)), "top_elements": top,
              "steps": {f"{t:+g}": float(f"{de:.4e}") for t, de in steps.items()}, **df}
    pairs = [t for t in steps if t > 0 and -t in steps]
    if pairs:
        t = pairs[0]
        slope = (steps[t] - steps[-t]) / (2 * t)
        curvature = (steps[t] + steps[-t]) / t**2
        record["central_difference_over_minus_2g2"] = round(slope / (-2 * g2), 4)
        record["quadratic_fit_gain_ha"] = float(f"{-slope**2 / (2 * curvature):.2e}")
    record.update({"wall_s": round(time.perf_counter() - begin, 1),
                   "machine": device_name("cpu"), "date": time.strftime("%Y-%m-%d")})
    emit(record, args.out)


if __name__ == "__main__":
    main()
