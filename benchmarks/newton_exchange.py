"""J/K of one open-shell orbital-Hessian product: PySCF's general DF route vs the orbital route.

A second-order (Newton) SCF step of a UKS radical asks for J and K of a pair of transition
densities ``Cv X Co^T + h.c.`` (alpha, beta) at every orbital-Hessian product. PySCF's
density-fitted ``get_jk`` takes its general route for them; the engine's
:class:`superatom.engine.response_exchange.TransitionExchange` takes the occupied-orbital
route. This times one product both ways, in turn, for the radical of each system (PBE0 is
not needed: only J/K is timed), with orthonormal orbitals from the overlap's eigenvectors
(the cost does not depend on which orbitals). One JSON line per system: AOs, auxiliary
functions, occupied (alpha, beta), median wall time of each route (s), ratio, and the
largest difference of the two K matrices.

Usage::

    python benchmarks/newton_exchange.py --systems WO4 W6O19 --out benchmarks/newton_exchange.jsonl
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from pyscf import gto, scf

from superatom.engine.device import device_name
from superatom.engine.response_exchange import TransitionExchange
from superatom.validation.checks import validation_system

sys.path.insert(0, str(Path(__file__).parent))
from cpu_scf import emit


def radical_mf(name: str):
    """DF-UHF object of the one-electron-detached radical, with orthonormal orbitals."""
    molecule = validation_system(name)
    atoms = [(str(site.specie), site.coords) for site in molecule]
    metals = {str(site.specie) for site in molecule} & {"W", "Mo"}
    mol = gto.M(atom=atoms, basis="def2-svp", ecp=dict.fromkeys(metals, "def2-svp"),
                charge=molecule.charge + 1, spin=1, verbose=0)
    mf = scf.UHF(mol).density_fit(auxbasis="def2-universal-jkfit")
    overlap = mf.get_ovlp()
    values, vectors = np.linalg.eigh(overlap)
    orthonormal = vectors / np.sqrt(values)
    nalpha, nbeta = mol.nelec
    occ = np.zeros((2, mol.nao))
    occ[0, :nalpha] = 1
    occ[1, :nbeta] = 1
    mf.mo_coeff, mf.mo_occ = np.array([orthonormal, orthonormal]), occ
    mf.with_df.build()
    return mf


def transition_pair(mf, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pair = []
    for spin in range(2):
        coeff, occ = mf.mo_coeff[spin], mf.mo_occ[spin]
        occupied, virtual = coeff[:, occ > 0], coeff[:, occ == 0]
        x = rng.normal(size=(virtual.shape[1], occupied.shape[1]))
        density = virtual @ x @ occupied.T
        pair.append(density + density.T)
    return np.array(pair)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", default=["WO4", "W6O19"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    for name in args.systems:
        mf = radical_mf(name)
        density = transition_pair(mf)
        exchange = TransitionExchange(mf)
        times = {"pyscf": [], "orbital": []}
        for _ in range(args.repeat):
            begin = time.perf_counter()
            _, reference = mf.get_jk(mf.mol, density, hermi=1)
            times["pyscf"].append(time.perf_counter() - begin)
            begin = time.perf_counter()
            _, routed = exchange(mf.mol, density, hermi=1)
            times["orbital"].append(time.perf_counter() - begin)
        pyscf_s, orbital_s = (statistics.median(times[key]) for key in ("pyscf", "orbital"))
        emit({
            "system": f"{name} radical", "nao": mf.mol.nao, "naux": mf.with_df.get_naoaux(),
            "nocc": list(mf.mol.nelec), "pyscf_route_s": round(pyscf_s, 3),
            "orbital_route_s": round(orbital_s, 3), "ratio": round(pyscf_s / orbital_s, 2),
            "max_abs_dk": float(np.abs(routed - reference).max()),
            "routed": exchange.transition_calls, "repeat": args.repeat,
            "machine": device_name("cpu"), "date": time.strftime("%Y-%m-%d"),
        }, args.out)


if __name__ == "__main__":
    main()
