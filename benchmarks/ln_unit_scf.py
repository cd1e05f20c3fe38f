"""Ln-unit SCF: how a La(III)-on-lacuna analogue converges with each starting strategy.

The full [La(H2O)4PW11O39]4- (1044 AOs) is GPU work; this script cuts a test-sized analogue
from the builder's unit: La, its four aqua ligands and the four lacuna O, each O capped by
H where its W was (0.97 A along O->W), so [La(H2O)4(OH)4]- keeps La(III) with its empty
5d/4f levels bound to four anionic O, 8-coordinate, in C-PCM water (PBE0/def2-SVP+ECP, DF,
grid 1, 204 AOs). ``--tungstate`` keeps one lacuna W as a WO4 tetrahedron instead of its
H cap ([La(H2O)4(OH)3(WO4)]2-), ``--plenary`` puts that W-O(La) at the old plenary 1.925 A.

Each method starts from a different guess or solver and must reach the same state: the
script prints cycles, wall time, total energy (difference to the first method), gap and
aufbau for each, one JSON line per method.

``--compare-cores`` runs the [Ln(H2O)4(OH)4]- cut of each ``--lns`` metal twice, with the
4f shell explicit (``ln_core=small``: La def2 ECP46, Ce-Yb ECP28 small core, high-spin UKS for
4f^n) and in the core (``ln_core=4f-in-core``: lcecp-1-svp, closed-shell RKS), and prints per
run the frontier levels, the O/H-centred (ligand) HOMO and Ln-5d-type LUMO, and the orbitals of
mainly Ln 4f character (where the f levels went), one JSON line each.

Usage::

    python benchmarks/ln_unit_scf.py                    # all methods, ~10 min on 2 cores
    python benchmarks/ln_unit_scf.py --methods diis sap --tungstate
    python benchmarks/ln_unit_scf.py --compare-cores --lns La Nd --solvent none \
        --jsonl benchmarks/ln_cores.jsonl
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import numpy as np
from pymatgen.core import Molecule

from superatom import HARTREE_TO_EV
from superatom.analysis.composition import ao_weights
from superatom.calc_settings import load_preset
from superatom.engine.mole import build_mole
from superatom.engine.scf import converge_scf, make_scf, run_scf, scf_state
from superatom.structures.chem import ln_multiplicity
from superatom.structures.substituted import build_substituted
from superatom.structures.validate import validate_structure


def ln_analogue(ln: str = "La", tungstate: bool = False, w_o: float | None = None) -> Molecule:
    """Cut [Ln(H2O)4(OH)4]- (or with one WO4: [Ln(H2O)4(OH)3(WO4)]2-) from the built unit.

    ``w_o`` sets the kept W-O(Ln) bond (Angstrom; default: the builder's 1.74).
    """
    unit = build_substituted(ln, n_water=4)
    syms = [site.specie.symbol for site in unit]
    centre = syms.index(ln)
    ligands = [n.index for n in unit.get_neighbors(unit[centre], 2.8)]
    xyz = unit.cart_coords
    species, coords = [ln], [xyz[centre]]
    lacuna = []
    for o in ligands:
        species.append("O")
        coords.append(xyz[o])
        partners = [n for n in unit.get_neighbors(unit[o], 2.0) if n.specie.symbol in "HW"]
        for n in partners:
            if n.specie.symbol == "H":
                species.append("H")
                coords.append(xyz[n.index])
            else:
                lacuna.append((o, n.index))
    for k, (o, w) in enumerate(lacuna):
        bond = xyz[w] - xyz[o]
        bond /= np.linalg.norm(bond)
        if tungstate and k == 0:
            w_pos = xyz[o] + bond * (w_o or np.linalg.norm(xyz[w] - xyz[o]))
            species.append("W")
            coords.append(w_pos)
            # three terminal O completing a tetrahedron around W, 1.78 A
            perp = np.cross(bond, [0.0, 0.0, 1.0] if abs(bond[2]) < 0.9 else [1.0, 0.0, 0.0])
            perp /= np.linalg.norm(perp)
            other = np.cross(bond, perp)
            for phi in (0.0, 2 * np.pi / 3, 4 * np.pi / 3):
                d = (bond / 3 + np.sqrt(8) / 3 * (np.cos(phi) * perp + np.sin(phi) * other))
                species.append("O")
                coords.append(w_pos + 1.78 * d / np.linalg.norm(d))
        else:
            species.append("H")
            coords.append(xyz[o] + 0.97 * bond)
    charge = -2 if tungstate else -1
    return Molecule(species, coords, charge=charge, spin_multiplicity=ln_multiplicity(ln))


def run_method(method: str, molecule: Molecule, settings) -> dict:
    """Converge with one strategy; return cycles, wall, energy, gap, aufbau."""
    mol = build_mole(molecule, settings)
    start = time.perf_counter()
    dm = None
    extra_cycles = 0
    if method in ("atom", "sap", "huckel"):
        dm = make_scf(mol, settings, "cpu").get_init_guess(key=method)
    elif method == "smearing":  # Fermi smearing start (sigma 0.01 Ha), then plain DIIS
        from pyscf.scf import addons

        mf = addons.smearing(make_scf(mol, settings, "cpu"), sigma=0.01, method="fermi")
        mf.conv_tol = 1e-5
        mf.kernel()
        extra_cycles = mf.cycles
        dm = mf.make_rdm1()
    # 'preconverge': the engine's level-shifted start (its default for rare-earth atoms);
    # every other method runs plain DIIS first, as the ladder did before
    mf, attempts, cycles, _ = converge_scf(
        mol, settings, "cpu", molecule.composition.reduced_formula, initial_dm=dm,
        preconverge=method == "preconverge")
    energy = np.asarray(mf.mo_energy)
    occ = np.asarray(mf.mo_occ)
    homo, lumo = energy[occ > 0].max(), energy[occ == 0].min()
    return {"method": method, "nao": mol.nao, "cycles": cycles + extra_cycles,
            "pre_cycles": extra_cycles, "rungs": [f"{a['solver']}:{a['cycles']}" for a in attempts],
            "wall_s": round(time.perf_counter() - start, 1), "e_tot": float(mf.e_tot),
            "gap_ev": round(float(lumo - homo) * HARTREE_TO_EV, 4),
            "homo_ev": round(float(homo) * HARTREE_TO_EV, 4),
            "aufbau": scf_state(energy, occ, True)["aufbau"]}


F_LEVEL = 0.5  # an orbital with more Ln 4f weight (Mulliken) than this is an "f level"


def _level(energy, occ, weights, index, ln_row, f_ln) -> dict:
    """Energy (eV), occupation and Ln / Ln-f / O weights of one orbital."""
    return {"e_ev": round(float(energy[index]) * HARTREE_TO_EV, 3),
            "occ": round(float(occ[index]), 3),
            "ln": round(float(weights[ln_row, index]), 3),
            "ln_f": round(float(f_ln[index]), 3),
            "o": round(float(weights[-1, index]), 3)}


def ln_fluoride(ln: str, d: float = 2.2) -> Molecule:
    """Trigonal-planar LnF3 (Ln-F ``d`` Angstrom), high-spin 4f^n: the smallest Ln(III) probe."""
    ring = [[d * np.cos(a), d * np.sin(a), 0.0] for a in (0.0, 2 * np.pi / 3, 4 * np.pi / 3)]
    return Molecule([ln, "F", "F", "F"], [[0.0, 0.0, 0.0], *ring],
                    spin_multiplicity=ln_multiplicity(ln))


def core_comparison(ln: str, ln_core: str, settings, system: str = "cut") -> dict:
    """One SCF of the [Ln(H2O)4(OH)4]- cut (or LnF3) with ``ln_core``; levels and where the
    f levels went."""
    molecule = ln_analogue(ln) if system == "cut" else ln_fluoride(ln)
    settings = settings.model_copy(update={"ln_core": ln_core})
    symbols = [site.specie.symbol for site in molecule]
    mol = build_mole(molecule, settings)
    start = time.perf_counter()
    result = run_scf(molecule, settings, mol=mol)
    wall = time.perf_counter() - start
    channels = ([("restricted", result.mo_energy, result.mo_occ, result.mo_coeff)]
                if result.restricted else
                [(spin, result.mo_energy[k], result.mo_occ[k], result.mo_coeff[k])
                 for k, spin in enumerate(("alpha", "beta"))])
    ln_atom = symbols.index(ln)
    is_ln = result.ao_atom == ln_atom
    is_o = np.array([symbols[a] == "O" for a in result.ao_atom])
    row = {"mode": "compare-cores", "system": molecule.composition.reduced_formula,
           "ln": ln, "ln_core": ln_core,
           "scf": "RKS" if result.restricted else "UKS", "multiplicity": result.multiplicity,
           "solvent": settings.solvent, "basis_ln": result.basis_by_element[ln],
           "n_core_ln": mol.atom_nelec_core(symbols.index(ln)), "nao": result.nao,
           "cycles": result.cycles, "rungs": [f"{a['solver']}:{a['cycles']}"
                                               for a in result.attempts],
           "wall_s": round(wall, 1), "e_tot": result.e_tot,
           "aufbau": result.scf_state["aufbau"], "spin_square": result.spin_square}
    homos, lumos = [], []
    for spin, energy, occ, coeff in channels:
        weights = ao_weights(coeff, result.overlap)
        grouped = np.vstack([weights[is_ln].sum(axis=0), weights[is_o].sum(axis=0)])
        f_ln = weights[is_ln & (result.ao_l == 3)].sum(axis=0)
        filled = occ > 0.5
        homo = int(np.flatnonzero(filled)[np.argmax(energy[filled])])
        lumo = int(np.flatnonzero(~filled)[np.argmin(energy[~filled])])
        ligand = filled & (f_ln < F_LEVEL)  # highest occupied orbital that is not an f level
        ligand_homo = int(np.flatnonzero(ligand)[np.argmax(energy[ligand])])
        empty = ~filled & (f_ln < F_LEVEL)
        d_lumo = int(np.flatnonzero(empty)[np.argmin(energy[empty])])
        f_levels = np.flatnonzero(f_ln > F_LEVEL)
        row[spin] = {
            "homo": _level(energy, occ, grouped, homo, 0, f_ln),
            "lumo": _level(energy, occ, grouped, lumo, 0, f_ln),
            "ligand_homo": _level(energy, occ, grouped, ligand_homo, 0, f_ln),
            "non_f_lumo": _level(energy, occ, grouped, d_lumo, 0, f_ln),
            "f_occupied_ev": [round(float(energy[i]) * HARTREE_TO_EV, 3)
                              for i in f_levels if occ[i] > 0.5],
            "f_virtual_ev": [round(float(energy[i]) * HARTREE_TO_EV, 3)
                             for i in f_levels if occ[i] <= 0.5],
        }
        homos.append(energy[homo])
        lumos.append(energy[lumo])
        row[spin]["ligand_gap_ev"] = round(
            (row[spin]["non_f_lumo"]["e_ev"] - row[spin]["ligand_homo"]["e_ev"]), 3)
    row["homo_ev"] = round(float(max(homos)) * HARTREE_TO_EV, 3)
    row["lumo_ev"] = round(float(min(lumos)) * HARTREE_TO_EV, 3)
    row["gap_ev"] = round(row["lumo_ev"] - row["homo_ev"], 3)
    return row


def compare_cores(lns: list[str], settings, jsonl: str | None,
                  cores: tuple[str, ...] = ("small", "4f-in-core"), system: str = "cut") -> None:
    """Small core against 4f-in-core for each Ln: one JSON line per run (and to ``jsonl``)."""
    for ln in lns:
        for ln_core in cores:
            try:
                row = core_comparison(ln, ln_core, settings, system)
            except Exception as err:  # an unconverged run is a result too
                row = {"mode": "compare-cores", "system": system, "ln": ln, "ln_core": ln_core,
                       "error": str(err).splitlines()[0]}
            row["date"] = time.strftime("%Y-%m-%d")
            line = json.dumps(row)
            print(line, flush=True)
            if jsonl:
                with open(jsonl, "a") as handle:
                    handle.write(line + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+",
                        default=["diis", "preconverge", "sap", "atom", "smearing"])
    parser.add_argument("--tungstate", action="store_true")
    parser.add_argument("--plenary", action="store_true", help="W-O(La) 1.925 A")
    parser.add_argument("--solvent", default="pcm", choices=["pcm", "none"])
    parser.add_argument("--max-cycle", type=int, default=60)
    parser.add_argument("--cycles", action="store_true", help="log every SCF cycle (stderr)")
    parser.add_argument("--compare-cores", action="store_true",
                        help="small core vs 4f-in-core on the [Ln(H2O)4(OH)4]- cut")
    parser.add_argument("--lns", nargs="+", default=["La", "Nd"])
    parser.add_argument("--cores", nargs="+", default=["small", "4f-in-core"],
                        choices=["small", "4f-in-core"])
    parser.add_argument("--system", default="cut", choices=["cut", "fluoride"],
                        help="--compare-cores on the [Ln(H2O)4(OH)4]- cut or on LnF3")
    parser.add_argument("--jsonl", help="append the --compare-cores lines to this file")
    args = parser.parse_args()
    if args.cycles:  # energies per cycle show whether a method oscillates
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.compare_cores:
        settings = load_preset("fast", device="cpu", solvent=args.solvent,
                               max_cycle=args.max_cycle)
        compare_cores(args.lns, settings, args.jsonl, tuple(args.cores), args.system)
        return
    molecule = ln_analogue(tungstate=args.tungstate, w_o=1.925 if args.plenary else None)
    validate_structure(molecule)
    settings = load_preset("fast", device="cpu").model_copy(
        update={"solvent": args.solvent, "max_cycle": args.max_cycle, "fallback_ladder": True})
    first = None
    for method in args.methods:
        try:
            row = run_method(method, molecule, settings)
        except Exception as err:  # an unconverged method is a result too
            row = {"method": method, "error": str(err).splitlines()[0]}
        if "e_tot" in row:
            first = row["e_tot"] if first is None else first
            row["de_ha"] = float(f"{row['e_tot'] - first:.2e}")
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
