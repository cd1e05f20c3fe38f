"""GPU smoke test and benchmark: every GPU code path once, one JSON line per stage.

Runs in one process, stage after stage: environment and versions; water RKS, O2 triplet UKS,
[MoO4]2- C-PCM and SMD (must be refused: ECP atoms), O2 UKS+DF+PCM; the fallback ladder
forced (small max_cycle) on RKS and UKS; checkpoint restart and superposition guess; TDA in
gas phase and in PCM; [W6O19]2- GPU vs CPU; [PW12O40]3- DF vs direct; [La(H2O)4PW11O39]4-;
GdF3 octet with stuttgart_rsc (f functions, g projector, l = 6 auxiliaries); the mission
systems (La clusterphene dimer, Au25(SCH3)18-, Ti10Cu2 sp).

Each line has ``stage``, ``ok``, ``system``, ``device``, ``device_name``, energies (Hartree)
and frontier levels (eV), ``cycles``, ``wall_s``, ``peak_host_gb`` and ``peak_gpu_gb``; a
stage with a CPU reference adds ``cpu_e_tot``, ``abs_de_ha`` = |E(device) - E(CPU)| and
``speedup`` = CPU wall / device wall. A failing stage writes its ``error`` and the run goes on.

``--toy`` runs the same stages on CPU with tiny stand-in molecules (seconds each), so the
script's logic is tested without a GPU; ``abs_de_ha`` is then a CPU-vs-CPU check (0).

Usage::

    python benchmarks/gpu_smoke.py --out benchmarks/gpu_smoke_h100.jsonl    # on a GPU node
    python benchmarks/gpu_smoke.py --toy --out /tmp/toy.jsonl                 # anywhere, ~1 min
    python benchmarks/gpu_smoke.py --toy --stages water_rks,smd_refused       # a subset
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymatgen.core import Molecule

from superatom import engine
from superatom.calc_settings import load_preset
from superatom.engine.device import release_gpu_memory
from superatom.engine.gpu_checks import gpu_basis_problem
from superatom.errors import InputError
from superatom.schemas.levels import frontier_levels
from tests.molecules import hydroxide, molybdate, water
from tests.molecules import oxygen_triplet as oxygen

# --------------------------------------------------------------------------- systems


def water_dimer() -> Molecule:
    return Molecule(["O", "H", "H", "O", "H", "H"],
                    [[-1.551, -0.115, 0.0], [-1.934, 0.763, 0.0], [-0.600, 0.041, 0.0],
                     [1.351, 0.111, 0.0], [1.680, -0.374, -0.759], [1.680, -0.374, 0.759]])


def hydroxyl() -> Molecule:
    return Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], spin_multiplicity=2)


def trihalide(metal: str, ligand: str, bond: float, multiplicity: int) -> Molecule:
    """Planar MX3 (D3h), ``bond`` in Angstrom."""
    c, s = bond * 0.5, bond * 3**0.5 / 2
    return Molecule([metal, ligand, ligand, ligand],
                    [[0, 0, 0], [bond, 0, 0], [-c, s, 0], [-c, -s, 0]],
                    spin_multiplicity=multiplicity)


def built(kind: str, **options) -> Callable[[], Molecule]:
    def make() -> Molecule:
        from superatom.structures.registry import build_structure

        return build_structure(kind, **options)

    return make


# --------------------------------------------------------------------------- measuring


class PeakSampler:
    """Peak host RSS and GPU memory in use (GB), sampled every 50 ms in a thread."""

    def __init__(self, gpu: bool):
        self.gpu, self.host, self.device = gpu, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        with open("/proc/self/statm") as handle:
            rss = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9
        self.host = max(self.host, rss)
        if self.gpu:
            import cupy

            free, total = cupy.cuda.runtime.memGetInfo()
            self.device = max(self.device, (total - free) / 1e9)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.05)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


@contextmanager
def time_limit(seconds: int):
    """Raise TimeoutError in the stage after ``seconds`` (0: no limit)."""
    def expire(signum, frame):
        raise TimeoutError(f"stage exceeded {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def summary(result) -> dict[str, Any]:
    """The numbers of one SCF result that go on a line (energies Hartree, levels eV)."""
    levels = frontier_levels(result.mo_energy, result.mo_occ)
    spin = "" if result.restricted else "_alpha"  # open shells: the alpha levels
    homo, lumo = levels[f"homo{spin}_ev"], levels[f"lumo{spin}_ev"]
    return {"device": result.device, "device_name": result.device_name,
            "e_tot": result.e_tot, "homo_ev": round(homo, 4),
            "lumo_ev": None if lumo is None else round(lumo, 4),
            "n_electrons": result.n_electrons, "n_core_ecp": result.n_core_ecp,
            "nao": result.nao, "nmo": result.nmo, "cycles": result.cycles,
            "scf_wall_s": round(result.wall_s, 3), "spin_square": result.spin_square,
            "scf_state": result.scf_state, "fallback_reason": result.fallback_reason,
            "attempts": result.attempts, "gpu_memory": result.extra.get("gpu_memory")}


# --------------------------------------------------------------------------- stages


@dataclass
class Context:
    toy: bool
    device: str
    stage_s: int
    workdir: Path
    notes: dict[str, Any] = field(default_factory=dict)

    def settings(self, **overrides):
        base = {"xc": "PBE", "grids_level": 0} if self.toy else {}
        return load_preset("fast" if self.toy else "screening",
                           **{"device": self.device, **base, **overrides})


def scf(ctx: Context, molecule: Molecule, **overrides) -> dict[str, Any]:
    result = engine.run_scf(molecule, ctx.settings(**overrides))
    return {"system": molecule.composition.formula.replace(" ", ""), **summary(result)}


def pair(ctx: Context, molecule: Molecule, **overrides) -> dict[str, Any]:
    """The device run and a CPU reference on the same machine: |dE| and speedup."""
    line = scf(ctx, molecule, **overrides)
    reference = engine.run_scf(molecule, ctx.settings(**{**overrides, "device": "cpu"}))
    line.update(cpu_e_tot=reference.e_tot, abs_de_ha=abs(line["e_tot"] - reference.e_tot),
                cpu_wall_s=round(reference.wall_s, 3),
                speedup=round(reference.wall_s / line["scf_wall_s"], 3),
                cpu_state=reference.scf_state)
    return line


def pick(ctx: Context, toy: Callable[[], Molecule], full: Callable[[], Molecule]) -> Molecule:
    return toy() if ctx.toy else full()


def stage_environment(ctx: Context) -> dict[str, Any]:
    line: dict[str, Any] = {"system": None, "device": ctx.device,
                            "device_name": engine.device_name(ctx.device),
                            "versions": engine.code_versions(), "cpu_count": os.cpu_count(),
                            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                            "toy": ctx.toy}
    if ctx.device == "gpu":
        line["card_gb"] = round(engine.gpu_memory_bytes() / 1e9, 2)
    return line


def stage_smd_refused(ctx: Context) -> dict[str, Any]:
    molecule = molybdate()
    try:
        engine.run_scf(molecule, ctx.settings(solvent="smd"))
    except InputError as err:
        return {"system": "MoO4", "device": ctx.device, "refused": True, "message": str(err)}
    raise AssertionError("SMD with ECP atoms (Mo) ran instead of being refused")


def ladder(ctx: Context, molecule: Molecule) -> dict[str, Any]:
    line = scf(ctx, molecule, max_cycle=3, conv_tol=1e-10)
    line["rungs"] = [a["solver"] for a in line["attempts"]]
    if len(line["rungs"]) < 2:
        raise AssertionError("max_cycle=3 converged on the first rung: the ladder was not forced")
    return line


def stage_checkpoint(ctx: Context) -> dict[str, Any]:
    molecule = pick(ctx, water, built("lindqvist", metal="W"))
    chk = ctx.workdir / "restart.chk"
    chk.unlink(missing_ok=True)
    settings = ctx.settings()
    first = engine.run_scf(molecule, settings, chkfile=str(chk))
    again = engine.run_scf(molecule, settings, chkfile=str(chk))
    if again.extra.get("guess") != "checkpoint":
        raise AssertionError(f"restart used guess {again.extra.get('guess')!r}")
    return {"system": molecule.composition.formula.replace(" ", ""), **summary(again),
            "first_cycles": first.cycles, "restart_cycles": again.cycles,
            "abs_de_ha": abs(first.e_tot - again.e_tot)}


def stage_superposition(ctx: Context) -> dict[str, Any]:
    from superatom.workflows.fragments import split_fragments, superposition_density
    from superatom.workflows.frontier import compute_frontier

    assembly = pick(ctx, water_dimer, built("dimer", ln="La"))
    settings = ctx.settings()
    pieces = split_fragments(assembly) if not ctx.toy else {
        "a": Molecule.from_sites(assembly[:3]), "b": Molecule.from_sites(assembly[3:])}
    docs = [compute_frontier(piece, settings) for piece in pieces.values()]
    ao_atom = engine.ao_layout(assembly, settings)
    dm = superposition_density(docs, assembly, ao_atom, restricted=assembly.spin_multiplicity == 1)
    guessed = engine.run_scf(assembly, settings, initial_dm=dm)
    plain = engine.run_scf(assembly, settings)
    return {"system": assembly.composition.formula.replace(" ", ""), **summary(guessed),
            "default_cycles": plain.cycles, "abs_de_ha": abs(guessed.e_tot - plain.e_tot)}


def tda(ctx: Context, **overrides) -> dict[str, Any]:
    molecule = water()
    settings = ctx.settings(**overrides)
    main = engine.run_tda(molecule, settings, nstates=3)
    cpu = engine.run_tda(molecule, settings.model_copy(update={"device": "cpu"}), nstates=3)
    return {"system": "H2O", "device": main["device"], "energies_ev": main["energies_ev"],
            "cpu_energies_ev": cpu["energies_ev"],
            "max_abs_de_ev": max(abs(a - b) for a, b in
                                 zip(main["energies_ev"], cpu["energies_ev"], strict=True)),
            "tda_wall_s": round(main["wall_s"], 3), "speedup": round(cpu["wall_s"]
                                                                    / main["wall_s"], 3)}


def stage_pw12(ctx: Context) -> dict[str, Any]:
    molecule = pick(ctx, hydroxide, built("keggin", heteroatom="P", metal="W"))
    fitted = scf(ctx, molecule, solvent="pcm")
    direct = scf(ctx, molecule, solvent="pcm", density_fit=False)
    from pymatgen.core import Element

    protons = sum(Element(site.specie.symbol).Z for site in molecule)
    count_ok = fitted["n_electrons"] + fitted["n_core_ecp"] == protons - round(molecule.charge)
    return {**fitted, "direct_e_tot": direct["e_tot"], "direct_wall_s": direct["scf_wall_s"],
            "abs_de_df_ha": abs(fitted["e_tot"] - direct["e_tot"]),
            "homo_negative": fitted["homo_ev"] < 0, "electron_count_ok": count_ok}


def stage_gdf3(ctx: Context) -> dict[str, Any]:
    """Guards on the real GdF3 basis (f, g projectors, l = 6 aux) and its SCF (toy: OH)."""
    gdf3 = trihalide("Gd", "F", 2.05, 8)
    settings = ctx.settings()
    mol = engine.build_mole(gdf3, settings)
    problem = gpu_basis_problem(mol, settings)
    if problem:
        raise AssertionError(f"GdF3 stuttgart_rsc refused: {problem}")
    line = scf(ctx, hydroxyl() if ctx.toy else gdf3)
    return {**line, "guards": "passed", "gd_basis": settings.fallback_basis}


STAGES: dict[str, Callable[[Context], dict[str, Any]]] = {
    "environment": stage_environment,
    "water_rks": lambda ctx: pair(ctx, water(), solvent="none"),
    "o2_uks": lambda ctx: pair(ctx, oxygen(), solvent="none"),
    "moo4_pcm": lambda ctx: pair(ctx, pick(ctx, hydroxide, molybdate), solvent="pcm"),
    "smd_refused": stage_smd_refused,
    "o2_uks_df_pcm": lambda ctx: pair(ctx, oxygen(), solvent="pcm", density_fit=True),
    "ladder_rks": lambda ctx: ladder(ctx, water()),
    "ladder_uks": lambda ctx: ladder(ctx, oxygen()),
    "checkpoint_restart": stage_checkpoint,
    "superposition_guess": stage_superposition,
    "tda_gas": lambda ctx: tda(ctx, solvent="none"),
    "tda_pcm": lambda ctx: tda(ctx, solvent="pcm"),
    "w6o19_pair": lambda ctx: pair(ctx, pick(ctx, hydroxide, built("lindqvist", metal="W"))),
    "pw12_screen": stage_pw12,
    "la_pw11": lambda ctx: scf(ctx, pick(ctx, lambda: trihalide("La", "H", 2.1, 1),
                                         built("substituted", metal="La", n_water=4))),
    "gdf3_octet": stage_gdf3,
    "la_dimer": lambda ctx: scf(ctx, pick(ctx, water_dimer, built("dimer", ln="La"))),
    "au25": lambda ctx: scf(ctx, pick(ctx, water, built("au25"))),
    "ti10cu2_sp": lambda ctx: scf(ctx, pick(ctx, oxygen, built("ti10cu2"))),
}


def run_stage(name: str, ctx: Context) -> dict[str, Any]:
    """Run one stage; its line, with ``error`` instead of results when it failed."""
    start = time.perf_counter()
    with PeakSampler(ctx.device == "gpu") as peak:
        try:
            with time_limit(ctx.stage_s):
                line = {"ok": True, **STAGES[name](ctx)}
        except Exception as err:  # a failed stage is a result too; the run goes on
            text = str(err).strip().splitlines()
            line = {"ok": False, "error": f"{type(err).__name__}: {text[0] if text else ''}"}
        finally:
            if ctx.device == "gpu":
                release_gpu_memory()
    return {"stage": name, **line, "toy": ctx.toy, "wall_s": round(time.perf_counter() - start,
                                                                    6),
            "peak_host_gb": round(peak.host, 3),
            "peak_gpu_gb": round(peak.device, 3) if ctx.device == "gpu" else None,
            "max_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toy", action="store_true",
                        help="tiny stand-in molecules on the CPU (tests the script)")
    parser.add_argument("--out", type=Path, help="append the JSON lines to this file")
    parser.add_argument("--stages", help="comma-separated subset of: " + ", ".join(STAGES))
    parser.add_argument("--device", choices=("gpu", "cpu"), default="gpu",
                        help="device of the full-size runs (--toy always uses the CPU)")
    parser.add_argument("--stage-timeout", type=int, default=0,
                        help="seconds per stage before it is recorded as failed (0: none)")
    args = parser.parse_args(argv)
    names = args.stages.split(",") if args.stages else list(STAGES)
    unknown = sorted(set(names) - set(STAGES))
    if unknown:
        parser.error(f"unknown stage {unknown[0]}: choose from {', '.join(STAGES)}")
    device = "cpu" if args.toy else args.device
    if device == "gpu" and not engine.gpu_available():
        parser.error("no CUDA GPU with gpu4pyscf here: run on a GPU node, or use --toy")
    failed = 0
    with tempfile.TemporaryDirectory() as workdir:
        ctx = Context(toy=args.toy, device=device, stage_s=args.stage_timeout,
                      workdir=Path(workdir))
        for name in names:
            line = run_stage(name, ctx)
            failed += not line["ok"]
            text = json.dumps(line, default=str)
            print(text, flush=True)
            if args.out:
                with args.out.open("a") as handle:
                    handle.write(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
