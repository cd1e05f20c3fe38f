"""Kohn-Sham SCF (RKS/UKS) on PySCF or GPU4PySCF with a fallback ladder and checkpoint restart.

Returns plain numpy arrays (Hartree, AO basis) in an :class:`SCFResult`.

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.calc_settings import load_preset
>>> from superatom.engine import run_scf
>>> water = Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.757, 0.587], [0, -0.757, 0.587]])
>>> result = run_scf(water, load_preset("fast", device="cpu"))
>>> result.converged, result.restricted
(True, True)
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.engine.converged_restart import accept_if_converged, converged_before
from superatom.engine.device import (
    code_versions,
    device_name,
    gpu_memory_bytes,
    gpu_peak_bytes,
    release_gpu_memory,
    resolve_device,
)
from superatom.engine.df_tensor import keep_df_tensor
from superatom.engine.fixed_occupation import (
    FIXED_OCCUPATION,
    holes,
    is_aufbau,
    occupations_held,
)
from superatom.engine.fock_reuse import LastPotential
from superatom.engine.gpu_checks import (
    check_gpu4pyscf_version,
    check_solvent,
    effective_rung,
    gpu_basis_problem,
    gpu_failure_reason,
)
from superatom.engine.gpu_memory import gpu_memory_estimate, pcm_lowmem, pcm_surface_points
from superatom.engine.large_core import large_core_electrons
from superatom.engine.memory import memory_budget_mb, memory_plan
from superatom.engine.mole import ao_metadata, basis_plan, build_mole
from superatom.engine.orbital_lbfgs import ORBITAL_LBFGS, OrbitalLBFGS
from superatom.engine.stall import (
    HELD_FLOOR_FACTOR,
    STALL_ENERGY_GAIN,
    STALL_FLOOR_FACTOR,
    DIISStalled,
    StallWatch,
    carry_stall_mark,
    mark_stalled,
    stalled_before,
)
from superatom.errors import GPUError, InputError, SCFNotConvergedError
from superatom.structures.chem import LANTHANIDES, ln_f_count

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass
class SCFResult:
    """Plain-numpy outcome of one converged SCF (Hartree, Bohr).

    Spin-resolved arrays have a leading axis of 2 (alpha, beta) when ``restricted`` is False.
    ``mo_coeff`` is (nao, nmo): GPU4PySCF drops near-linearly-dependent AO combinations
    (overlap eigenvalues below 1e-6), so ``nmo`` may be smaller than ``nao``.
    ``fock`` is rebuilt as ``S C diag(e) C^T S``, exact for a converged SCF in a complete MO set
    (its projection on the kept MO space when ``nmo < nao``). ``fallback_reason`` says why a
    ``device: auto`` job that was to run on the GPU ran on the CPU; ``scf_state`` records the
    electronic state reached (occupations, <S^2>), which may depend on the device's guess.
    ``multiplicity`` is the one the SCF ran with (the molecule's, or that of the electrons
    outside the 4f-in-core ECPs: :func:`superatom.engine.mole.scf_multiplicity`).
    """

    converged: bool
    restricted: bool
    e_tot: float
    mo_energy: np.ndarray
    mo_occ: np.ndarray
    mo_coeff: np.ndarray
    overlap: np.ndarray
    fock: np.ndarray
    ao_atom: np.ndarray
    ao_l: np.ndarray
    ao_labels: list[str]
    n_electrons: int
    n_core_ecp: int
    nao: int
    nmo: int
    basis_by_element: dict[str, str]
    ecp_by_element: dict[str, str]
    cycles: int
    attempts: list[dict[str, Any]]
    device: str
    device_name: str
    wall_s: float
    versions: dict[str, str]
    spin_square: float | None = None
    solvent_energy: float | None = None
    fallback_reason: str | None = None
    scf_state: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    multiplicity: int = 1


# --------------------------------------------------------------------------- SCF


def _numpy(array) -> np.ndarray:
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else (
        np.asarray(array)
    )


def make_scf(mol, settings: CalcSettings, device: str):
    """The PySCF/GPU4PySCF SCF object of ``mol`` in ``settings`` on ``device`` (not run).

    On the CPU, C-PCM is :class:`superatom.engine.pcm.CachedPCM` (PySCF's model with its
    surface integrals computed once per geometry) and the memory budget is split between its
    cache and the DF tensor (:func:`superatom.engine.memory.memory_plan`); the split and the
    PCM route are in ``mf.superatom_memory``. The GPU path keeps GPU4PySCF's own PCM.
    """
    restricted = mol.spin == 0
    budget_mb = memory_budget_mb(settings.max_memory_mb)
    if device == "gpu":
        from gpu4pyscf import dft as gdft

        mf = (gdft.RKS if restricted else gdft.UKS)(mol, xc=settings.xc)
    else:
        from pyscf import dft

        mf = (dft.RKS if restricted else dft.UKS)(mol, xc=settings.xc)
    mf.grids.level = settings.grids_level
    mf.conv_tol = settings.conv_tol
    mf.max_cycle = settings.max_cycle
    mf.max_memory = budget_mb
    if settings.density_fit:
        mf = mf.density_fit(auxbasis=settings.aux_basis)
    if settings.dispersion != "none":
        if device == "cpu":
            try:
                import pyscf.dispersion  # noqa: F401
            except ImportError:
                raise InputError(
                    "dispersion needs the 'pyscf-dispersion' package: pip install pyscf-dispersion"
                ) from None
        mf.disp = settings.dispersion
    memory: dict[str, Any] = {"budget_mb": budget_mb}
    if settings.solvent == "pcm" and device == "cpu":
        mf, memory = _cpu_pcm(mf, settings, budget_mb)
    elif settings.solvent == "pcm":
        mf = mf.PCM()
        mf.with_solvent.method = "C-PCM"
        mf.with_solvent.eps = settings.solvent_eps
    elif settings.solvent == "smd":
        mf = mf.SMD()
        mf.with_solvent.solvent = settings.solvent_name
    if device == "gpu" and settings.solvent != "none":
        from pyscf.dft.gen_grid import LEBEDEV_ORDER

        points = pcm_surface_points(mol.natm, LEBEDEV_ORDER[mf.with_solvent.lebedev_order])
        if pcm_lowmem(points, gpu_memory_bytes()):  # nothing of size points**2 is stored
            mf.with_solvent.lowmem_intermediate_storage = True
    mf.superatom_memory = memory
    return mf


def _cpu_pcm(mf, settings: CalcSettings, budget_mb: int):
    """Attach the engine's C-PCM; size its cache and the DF tensor's share of the budget.

    Integral columns the memory cache cannot hold are written once to PySCF's scratch folder
    (``lib.param.TMPDIR``, from ``TMPDIR``) when it has the space, else recomputed per pass.
    """
    from pyscf import lib

    from superatom.engine.pcm import attach_cached_pcm, pcm_cache_bytes

    mol = mf.mol
    mf = attach_cached_pcm(mf, eps=settings.solvent_eps, cache_mb=0.0,
                           potential=settings.pcm_potential)
    solvent = mf.with_solvent
    solvent.max_memory = budget_mb
    solvent.build()  # surface and K: cheap; tells how many points the cache would hold
    n_points = len(solvent.surface["charge_exp"])
    df_mb = 0.0
    if settings.density_fit:
        from pyscf.df.addons import make_auxmol

        naux = make_auxmol(mol, settings.aux_basis).nao
        df_mb = naux * mol.nao * (mol.nao + 1) / 2 * 8 / 1e6
    pcm_mb = pcm_cache_bytes(mol.nao, n_points) / 1e6 if settings.pcm_potential == "exact" else 0
    plan = memory_plan(budget_mb, pcm_mb, df_mb)
    if settings.density_fit:
        mf.with_df.max_memory = plan["df_max_memory_mb"]
    solvent.cache_mb = plan["pcm_cache_mb"]
    # what the cache cannot hold goes to PySCF's scratch folder, beside a DF file if there is one
    solvent.spill_dir = lib.param.TMPDIR
    solvent.disk_reserve_mb = 0.0 if plan["df_in_memory"] else df_mb
    solvent.fill_cache()
    return mf, {**plan, "pcm_surface_points": n_points, "pcm_mb": round(pcm_mb, 1)}


#: Anion charge from which an SCF starts with the preconverging rung (|q| >= 4: the
#: substituted Keggins and their assemblies).
HARD_CHARGE = 4
#: Level shift (Hartree) + damping that take a hard SCF to ``PRECONVERGE_TOL`` (Hartree) in
#: at most ``PRECONVERGE_CYCLES`` cycles; plain DIIS then converges it to ``conv_tol``.
PRECONVERGE = {"name": "preconverge", "level_shift": 0.3, "damp": 0.5, "diis_start": 6}
#: A preconverging rung that restarts from a checkpoint keeps its level shift but starts
#: DIIS at once: the damped opening cycles are there to calm the first Fock matrices of a
#: poor guess, and a checkpoint of the same input is past that stage.
RESTARTED_PRECONVERGE = {"damp": 0.0, "diis_start": 1,
                         "restart": "from checkpoint: no damped opening cycles"}
PRECONVERGE_TOL = 1e-5
PRECONVERGE_CYCLES = 40
_RARE_EARTHS = frozenset(["Sc", "Y", *LANTHANIDES])


def hard_scf_reason(mol) -> str | None:
    """Why an SCF should start with level shift + damping (rare-earth atom, |charge| >= 4).

    A rare-earth(III) ion brings empty 5d/4f levels that sit close to the O 2p band of the
    anionic O around it; a plain-DIIS start from the minao guess can swap the two sets from
    cycle to cycle. Returns one short phrase, or None for an ordinary system.

    Examples
    --------
    >>> from pyscf import gto
    >>> hard_scf_reason(gto.M(atom="O 0 0 0; H 0 0.76 0.59; H 0 -0.76 0.59", verbose=0)) is None
    True
    >>> hard_scf_reason(gto.M(atom="O 0 0 0; H 0 0 0.97", charge=-1, verbose=0)) is None
    True
    """
    symbols = {mol.atom_pure_symbol(i) for i in range(mol.natm)}
    metals = sorted(symbols & _RARE_EARTHS)
    if metals:
        return f"rare-earth atom ({', '.join(metals)})"
    if -mol.charge >= HARD_CHARGE:
        return f"charge {mol.charge}"
    return None


def _ladder(settings: CalcSettings, mol=None, preconverge: bool | None = None,
            restarted: bool = False) -> list[dict[str, Any]]:
    rungs: list[dict[str, Any]] = []
    reason = hard_scf_reason(mol) if mol is not None and preconverge is not False else None
    if preconverge and reason is None:
        reason = "requested"
    if reason is not None:
        rungs.append({**PRECONVERGE, "conv_tol": max(PRECONVERGE_TOL, settings.conv_tol),
                      "max_cycle": min(PRECONVERGE_CYCLES, settings.max_cycle),
                      "reason": reason, **(RESTARTED_PRECONVERGE if restarted else {})})
    rungs.append({"name": "diis"})
    if settings.fallback_ladder:
        rungs += [
            {**PRECONVERGE, "name": "level_shift+damping"},
            {"name": "newton"},
        ]
    return rungs


def run_scf(
    molecule: Molecule,
    settings: CalcSettings,
    initial_dm: np.ndarray | None = None,
    chkfile: str | None = None,
    mol=None,
    progress: Callable[[int, float, float], None] | None = None,
    restart_from: list[str] | None = None,
    df_file: str | None = None,
) -> SCFResult:
    """Run a Kohn-Sham SCF and return plain arrays; raise if it never converges.

    RKS for singlets, UKS otherwise. A system with a rare-earth atom or charge <= -4
    (:func:`hard_scf_reason`) is first taken to 1e-5 Ha with level shift + damping (recorded
    as the ``preconverge`` attempt), then plain DIIS converges it. An unconverged SCF is
    retried from its last density with level shift + damping, then with second-order
    (Newton) SCF; a DIIS whose orbital gradient has stopped falling
    (:mod:`superatom.engine.stall`) is stopped at once, its attempt recording why
    (``stalled``), and marks the checkpoint so that a restart from it skips plain DIIS. On
    the CPU a fresh DIIS then runs with the occupations held on the stalled run's best
    orbitals (``fixed_occupation``; a state it ends in that is not aufbau does not count);
    a stall of that DIIS too (flat gradient and flat energy), which also marks the checkpoint
    for a restart, hands over to the direct minimiser (``orbital_lbfgs``: L-BFGS on the
    energy over orbital rotations, one Fock build per iteration,
    :mod:`superatom.engine.orbital_lbfgs`; the same aufbau rule), then Newton; elsewhere
    Newton at once. On the CPU Newton's orbital-Hessian products
    take the orbital route for their exchange
    (:func:`superatom.engine.response_exchange.newton_on_orbital_route`); if every rung fails,
    :class:`SCFNotConvergedError` is raised and nothing is reported as a result.

    The device is decided here, on the machine that runs the job. SMD with ECP atoms and
    unknown SMD solvents are refused on any device. On the GPU path the basis limits and the
    GPU4PySCF version are checked first; a refusal is an :class:`InputError` with
    ``device: gpu`` and a CPU run with ``fallback_reason`` set with ``device: auto``. A GPU
    failure during the run (out of memory, CUDA or kernel errors) is a :class:`GPUError` with
    ``device: gpu`` and a recorded CPU fallback with ``device: auto``; CuPy's memory pool is
    emptied after every GPU run.

    Parameters
    ----------
    molecule : pymatgen.core.Molecule
        Geometry in Angstrom with ``charge`` and ``spin_multiplicity``.
    settings : CalcSettings
        Functional, basis, solvent, device, ...
    initial_dm : numpy.ndarray, optional
        Starting AO density matrix (e.g. superposition of monomer densities).
    chkfile : str, optional
        PySCF checkpoint file, updated as the SCF proceeds; an existing readable one that
        fits the molecule is the starting guess (restart after a walltime kill).
    mol : pyscf.gto.Mole, optional
        The Mole of ``molecule`` in ``settings`` if the caller built it already (built once
        per job: see :func:`superatom.engine.mole.build_mole`).
    progress : callable, optional
        Called after every SCF cycle (over all solvers) as ``progress(cycle, e_tot, delta)``
        with energies in Hartree. Every cycle is also logged (INFO) on this module's logger.
    restart_from : list of str, optional
        Checkpoints to try as starting guess instead of ``chkfile`` (the first that fits).
    df_file : str, optional
        Where to keep a DF tensor that goes to disk anyway, for a restart to reuse (CPU;
        :func:`superatom.engine.df_tensor.keep_df_tensor`); an existing one that fits is
        used instead of building the tensor again.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> from superatom.calc_settings import load_preset
    >>> o2 = Molecule(["O", "O"], [[0, 0, 0], [0, 0, 1.21]], spin_multiplicity=3)
    >>> res = run_scf(o2, load_preset("fast", device="cpu"))
    >>> res.restricted, res.mo_energy.shape[0]
    (False, 2)
    """
    start = time.perf_counter()
    mol = mol if mol is not None else build_mole(molecule, settings)
    name = molecule.composition.reduced_formula

    def solve(device: str) -> SCFResult:
        mf, attempts, total_cycles, guess = converge_scf(
            mol, settings, device, name, initial_dm, chkfile, progress, restart_from,
            df_file=df_file)
        stable = (_stability(mf, settings, device, name, chkfile, restart_from or [chkfile])
                  if settings.stability_check else None)
        result = _collect(mf, mol, settings, device, attempts, total_cycles, start)
        if stable is not None:
            result.scf_state["stability"] = stable
        result.extra["guess"] = guess
        result.extra["memory"] = memory_record(mf)
        if device == "gpu":
            result.extra["gpu_memory"] = _gpu_memory_record(mf, mol, settings)
        return result

    result, reason = run_on_device(mol, settings, name, solve)
    result.fallback_reason = reason
    return result


def _stability(mf, settings: CalcSettings, device: str, name: str, chkfile: str | None,
               checkpoints: list[str | None]) -> dict[str, Any]:
    """Internal stability of the converged state (CPU); a followed instability must converge.

    The trial rotations go into the SCF checkpoint ``chkfile`` (if any) as they are made,
    and those that earlier runs left in ``checkpoints`` start the solve
    (:mod:`superatom.engine.stability_restart`).
    """
    if device != "cpu":
        return {"internal_stable": None, "note": "stability analysis runs on the CPU path only"}
    from superatom.engine.stability import check_and_follow
    from superatom.engine.stability_restart import TrialRotations

    saved = TrialRotations(chkfile, checkpoints)
    record = check_and_follow(mf, saved=saved)
    log.info("%s: internal stability %s (lowest Hessian eigenvalue %s Ha, energy curvature "
             "%s Ha, %d followed: %s)", name,
             "stable" if record["internal_stable"] else "UNSTABLE",
             record["lowest_eigenvalue_ha"], record["energy_curvature_ha"], record["followed"],
             record["verdict"])
    if not mf.converged:
        raise SCFNotConvergedError(
            f"SCF of {name} did not converge after following an internal instability: "
            "restart from the stored checkpoint with a level shift, or check the "
            "multiplicity", attempts=[record])
    return record


def run_on_device(mol, settings: CalcSettings, name: str, work: Callable[[str], T]
                  ) -> tuple[T, str | None]:
    """Run ``work(device)`` on the device decided here, on the machine running the job.

    SMD with ECP atoms and unknown SMD solvents are refused first, on any device. On the GPU
    path the GPU4PySCF version and the basis limits are checked before any GPU work: a
    refusal is an :class:`InputError` with ``device: gpu`` and a CPU run with ``device:
    auto``. A GPU failure during ``work`` (out of memory, CUDA or kernel errors) is a
    :class:`GPUError` with ``device: gpu`` and a CPU rerun with ``device: auto``; CuPy's
    memory pool is emptied after the GPU attempt.

    Returns
    -------
    tuple
        ``work``'s result and the reason a GPU-bound ``auto`` job ran on the CPU (or None).
    """
    check_solvent(mol, settings)
    device = resolve_device(settings.device)
    reason = None
    if device == "gpu":
        reason = gpu_refusal(mol, settings)
        if reason is not None and settings.device == "gpu":
            raise InputError(reason)
        if reason is None:
            try:
                return work("gpu"), None
            except Exception as err:
                reason = gpu_failure_reason(err)
                if reason is None:
                    raise
            finally:
                release_gpu_memory()
        if settings.device == "gpu":
            raise GPUError(f"{name} on the GPU: {reason}; use device=cpu, or device=auto to "
                           "fall back to the CPU")
    return work("cpu"), reason


def gpu_refusal(mol, settings: CalcSettings) -> str | None:
    """Why this job must not start on the GPU (old GPU4PySCF, basis past the kernels'
    limits), as one line, or None. Runs on the CPU before any GPU work."""
    import gpu4pyscf

    try:
        check_gpu4pyscf_version(gpu4pyscf.__version__)
    except InputError as err:
        return str(err)
    return gpu_basis_problem(mol, settings)


def _gpu4pyscf_version(device: str) -> str | None:
    if device != "gpu":
        return None
    import gpu4pyscf

    return gpu4pyscf.__version__


def converge_scf(mol, settings: CalcSettings, device: str, name: str = "",
                 initial_dm: np.ndarray | None = None, chkfile: str | None = None,
                 progress: Callable[[int, float, float], None] | None = None,
                 restart_from: list[str] | None = None,
                 preconverge: bool | None = None, df_file: str | None = None):
    """Converge the SCF of a built ``mol`` through the fallback ladder on ``device``;
    ``progress`` as in :func:`run_scf`.

    The starting guess is the first of ``restart_from`` (default: ``chkfile``) that
    :func:`read_checkpoint` accepts, else ``initial_dm``, else :func:`default_guess`:
    PySCF's minao guess, the atomic-SCF guess for a closed shell whose lanthanides keep their
    4f shell in the valence, SAP where minao does not know an atom's core. On the CPU
    with density fitting a guess is carried with its natural orbitals
    (:func:`superatom.engine.guess.with_natural_orbitals`): the same density, and the first
    exchange build takes the occupied-orbital route instead of the ``nao**3`` one.
    Each attempt records the rung's parameters as really applied on that device
    (:func:`superatom.engine.gpu_checks.effective_rung`). Returns
    ``(mf, attempts, total_cycles, guess)``; ``preconverge`` forces the level-shifted start
    on or off (default: :func:`hard_scf_reason` decides); raises
    :class:`SCFNotConvergedError` (naming ``name``) when no rung converges.
    """
    mf = make_scf(mol, settings, device)
    if df_file and device == "cpu" and settings.density_fit:
        mf.superatom_memory = {**mf.superatom_memory, **keep_df_tensor(mf, df_file)}
    potential = LastPotential.install(mf) if device == "cpu" else None
    dm, guess, earlier_stall, orbitals = initial_dm, "initial_dm", None, None
    e_converged = None
    for candidate in restart_from if restart_from is not None else [chkfile]:
        orbitals = read_checkpoint(candidate, mol) if candidate else None
        if orbitals is not None:  # restart after a walltime kill or a crash
            dm = mf.make_rdm1(*orbitals)
            guess = "checkpoint"
            earlier_stall = stalled_before(candidate)
            e_converged = converged_before(candidate)
            break
    if dm is None:  # computed only when nothing better is at hand
        guess = default_guess(mol)
        if guess in _GUESS_DENSITIES:
            dm = _GUESS_DENSITIES[guess](mol)
    if chkfile:
        mf.chkfile = chkfile
        if earlier_stall:  # the next restart, from this run's checkpoint, knows it too
            _help_checkpoint(carry_stall_mark, chkfile, earlier_stall)
    if device == "cpu" and e_converged is not None:  # its SCF had converged: no step needed
        accepted = accept_if_converged(mf, *orbitals, e_converged, settings.conv_tol,
                                       float(mf.conv_tol_grad or np.sqrt(settings.conv_tol)))
        if accepted is not None:
            if chkfile:
                _help_checkpoint(_dump_orbitals, chkfile, mf)
            mf.level_shift, mf.conv_check = 0.0, True
            return mf, [accepted], 0, guess
    if device == "cpu" and settings.density_fit:  # first Fock build on the orbital route
        from superatom.engine.guess import with_natural_orbitals

        dm = with_natural_orbitals(mf.get_init_guess() if dm is None else dm, mf.get_ovlp())
    attempts: list[dict[str, Any]] = []
    total_cycles = 0
    converged = False
    version = _gpu4pyscf_version(device)
    pending = _ladder(settings, mol, preconverge, restarted=guess == "checkpoint")
    watch_stall = any(requested["name"] == "newton" for requested in pending)
    if earlier_stall and watch_stall:  # skip plain DIIS; Newton first if the held one stalled
        held_stalled = earlier_stall.startswith(HELD_STALL)
        _after_stall(pending, device, None if held_stalled else orbitals,
                     f"the checkpoint's DIIS had stalled ({earlier_stall})")
    while pending:
        requested = pending.pop(0)
        rung = effective_rung(requested, device, settings.solvent, version)
        mf.level_shift = rung["level_shift"]
        mf.damp = rung["damp"]
        mf.diis_start_cycle = rung["diis_start"]
        mf.conv_tol = requested.get("conv_tol", settings.conv_tol)
        mf.max_cycle = requested.get("max_cycle", settings.max_cycle)
        # PySCF's extra check cycle (one more Fock build) only where the result is reported
        mf.conv_check = requested["name"] != "preconverge"
        try:
            solver = (_second_order(mf, device) if rung["name"] == "newton"
                      else OrbitalLBFGS(mf) if rung["name"] == ORBITAL_LBFGS else mf)
        except (AttributeError, NotImplementedError):  # no second-order solver on this path
            attempts.append({"solver": rung["name"], "cycles": 0, "converged": False,
                             "e_tot": None, "wall_s": 0.0, "note": "not available"})
            continue
        cycles = {"n": 0}
        watch = _stall_watch(mf, requested["name"]) if watch_stall else None

        def count(envs, cycles=cycles, before=total_cycles, watch=watch):
            cycles["n"] += 1
            _report_cycle(before + cycles["n"], envs, progress)
            if watch is not None:
                watch.check(envs)

        solver.callback = count
        rung_start = time.perf_counter()
        builds_before = potential.builds if potential is not None else 0
        stalled, state = None, {}
        held = requested.get("hold")
        fixed = held is not None or rung["name"] == ORBITAL_LBFGS  # occupations not aufbau
        try:
            with occupations_held(mf, *held) if held else nullcontext():
                energy = solver.kernel(dm0=dm)
                converged = bool(solver.converged)
                if fixed and converged and not is_aufbau(solver.mo_energy, solver.mo_occ):
                    converged, state = False, {"state": "not aufbau"}  # not a ground state
        except DIISStalled as stall:
            stalled, energy, converged = stall, stall.e_tot, False
            if held:  # the fresh DIIS is flat too: the minimiser, Newton (then the rest)
                stall.reason = f"{HELD_STALL}: {stall.reason}"
                _minimisers_first(pending)
            else:
                _after_stall(pending, device, (stall.mo_coeff, stall.mo_occ),
                             "DIIS had stalled")
            log.info("%s stalled (%s): %s next", rung["name"], stall.reason, pending[0]["name"])
            if chkfile:
                _help_checkpoint(mark_stalled, chkfile, mol, stall)
        attempts.append({
            "solver": rung["name"],
            **{key: rung[key] for key in ("level_shift", "damp", "note") if rung.get(key)},
            **{key: requested[key] for key in ("conv_tol", "reason", "restart")
               if key in requested},
            **({"stalled": stalled.reason} if stalled is not None else {}),
            **state,
            "cycles": cycles["n"],
            **({"fock_builds": potential.builds - builds_before} if potential else {}),
            **_orbital_route_record(solver),
            **({"frames": solver.frames} if isinstance(solver, OrbitalLBFGS) else {}),
            "converged": converged,
            "e_tot": float(energy),
            "wall_s": round(time.perf_counter() - rung_start, 3),
        })
        total_cycles += cycles["n"]
        if requested["name"] == "preconverge":  # loose by design: DIIS finishes the job
            converged = False
        elif converged:
            if solver is not mf:
                for attr in ("mo_energy", "mo_occ", "mo_coeff", "e_tot", "converged"):
                    setattr(mf, attr, getattr(solver, attr))
            break
        dm = (solver.make_rdm1() if stalled is None
              else mf.make_rdm1(stalled.mo_coeff, stalled.mo_occ))
    if not converged:
        raise SCFNotConvergedError(
            f"SCF of {name} did not converge after "
            f"{total_cycles} cycles over {len(attempts)} solvers: loosen conv_tol, raise "
            "max_cycle or check charge/multiplicity and geometry",
            attempts=attempts,
        )
    # final clean-up: level shift must not stay in the reported orbital energies
    mf.level_shift = 0.0
    mf.conv_check = True
    return mf, attempts, total_cycles, guess


#: Prefix of the stall reason (and checkpoint mark) of a stalled held-occupation DIIS.
HELD_STALL = "held occupations"


def _stall_watch(mf, rung: str) -> StallWatch | None:
    """The stall watch of a ladder rung: plain DIIS stops on a flat gradient; the
    held-occupation DIIS, after which only Newton is left, on a flat gradient *and* a flat
    energy (:data:`superatom.engine.stall.STALL_ENERGY_GAIN`), with a lower floor."""
    tolerance = _gradient_tolerance(mf)
    if rung == "diis":
        return StallWatch(floor=STALL_FLOOR_FACTOR * tolerance)
    if rung == FIXED_OCCUPATION:
        return StallWatch(floor=HELD_FLOOR_FACTOR * tolerance, energy_gain=STALL_ENERGY_GAIN)
    return None


def _after_stall(pending: list[dict[str, Any]], device: str, orbitals, why: str) -> None:
    """Reorder the remaining rungs after a DIIS stall (``why``): on the CPU, DIIS with the
    occupations held on ``orbitals`` (:mod:`superatom.engine.fixed_occupation`) first, then
    the direct minimiser (:mod:`superatom.engine.orbital_lbfgs`), then Newton, then the
    rest; without ``orbitals`` (a restart after the held DIIS had stalled too) the
    minimiser first; elsewhere Newton first."""
    _minimisers_first(pending)
    if device == "cpu" and pending and pending[0]["name"] == "newton":
        pending.insert(0, {"name": ORBITAL_LBFGS,
                           "restart": f"{why}: the energy minimised over orbital rotations"})
    if device == "cpu" and orbitals is not None:
        pending.insert(0, {"name": FIXED_OCCUPATION, "hold": orbitals,
                           "restart": f"{why}: occupations held on its best orbitals"})
    elif device != "cpu" and pending and pending[0]["name"] == "newton":
        pending[0] = {**pending[0], "restart": f"{why}: Newton first"}


def _minimisers_first(pending: list[dict[str, Any]]) -> None:
    """Move the direct-minimiser and Newton rungs to the front of ``pending`` (in that
    order); the other rungs keep their order behind them, for a path where no second-order
    solver is available."""
    pending.sort(key=lambda rung: rung["name"] not in (ORBITAL_LBFGS, "newton"))


def _help_checkpoint(write: Callable[..., None], *args) -> None:
    """Write into a checkpoint (a stall mark, the accepted orbitals); a checkpoint is only
    ever a help, so a failure is a warning."""
    try:
        write(*args)
    except (OSError, ValueError, KeyError) as error:  # h5py: unwritable, locked, corrupt
        log.warning("could not write %s into the checkpoint %s: %s",
                    getattr(write, "__name__", "a record"), args[0], error)


def _dump_orbitals(chkfile: str, mf) -> None:
    """Save the state ``mf`` carries as PySCF's own kernel would (the ``scf`` group)."""
    from pyscf.scf import chkfile as pyscf_chkfile

    pyscf_chkfile.dump_scf(mf.mol, chkfile, mf.e_tot, mf.mo_energy, mf.mo_coeff, mf.mo_occ)


def _second_order(mf, device: str):
    """PySCF's Newton solver; on the CPU its orbital-Hessian products take the orbital
    route for their exchange (:func:`superatom.engine.response_exchange.newton_on_orbital_route`:
    about ``nao / (2 nocc)`` times fewer flops than PySCF's general route, same numbers)."""
    if device != "cpu":
        return mf.newton()
    from superatom.engine.response_exchange import newton_on_orbital_route

    return newton_on_orbital_route(mf)


def _orbital_route_record(solver) -> dict[str, int]:
    """How many orbital-Hessian products of a Newton run took the orbital route."""
    exchanges = getattr(solver, "orbital_route", None)
    if not exchanges:
        return {}
    return {"orbital_route_products": sum(item.transition_calls for item in exchanges),
            "jk_left_to_pyscf": sum(item.passed_on for item in exchanges)}


def _gradient_tolerance(mf) -> float:
    """The orbital-gradient tolerance PySCF's kernel applies (default ``sqrt(conv_tol)``)."""
    return float(mf.conv_tol_grad or np.sqrt(mf.conv_tol))


def memory_record(mf) -> dict[str, Any]:
    """The memory budget (MB) an SCF ran with, its split, and the PCM integral route."""
    record = dict(getattr(mf, "superatom_memory", {}) or {"budget_mb": mf.max_memory})
    route = getattr(getattr(mf, "with_solvent", None), "route", None)
    if callable(route):
        record["pcm"] = route()
    return record


def minao_guess_available(mol) -> bool:
    """Whether PySCF's minao guess can start ``mol``: not when a lanthanide's 4f shell is in
    its core (ECP core > 46 electrons). PySCF 2.14's minao then fails (Pr-Ho: shapes of the
    projected occupations disagree; Yb: no configuration for 59 core electrons) or starts
    from atomic occupations that count the 4f electrons as valence.

    Examples
    --------
    >>> from pyscf import gto
    >>> minao_guess_available(gto.M(atom="Mo 0 0 0", basis="def2-svp", ecp="def2-svp",
    ...                             spin=0, verbose=0))
    True
    """
    return not any(mol.atom_pure_symbol(i) in LANTHANIDES and mol.atom_nelec_core(i) > 46
                   for i in range(mol.natm))


def default_guess(mol) -> str:
    """Starting guess for ``mol`` without orbitals to start from: 'atom' for a closed shell
    with explicit-4f lanthanides (:func:`explicit_4f_atoms`), 'sap' where minao does not know
    a core (:func:`minao_guess_available`), else 'minao'.

    Examples
    --------
    >>> from pyscf import gto
    >>> default_guess(gto.M(atom="O 0 0 0; H 0 0.76 0.59; H 0 -0.76 0.59", verbose=0))
    'minao'
    """
    if mol.spin == 0 and explicit_4f_atoms(mol):
        return "atom"
    return "minao" if minao_guess_available(mol) else "sap"


def explicit_4f_atoms(mol) -> list[str]:
    """Lanthanides of ``mol`` (Ce-Lu) whose 4f electrons are in the valence (small-core
    ECP or all-electron), one symbol per element.

    PySCF's minao guess starts these far from any SCF solution: measured on LnF3 (Ln-F 2.1 A,
    PBE0/def2-svp with ECP28MWB), its density lies 173 Ha (Nd), 94 Ha (Yb) and 192 Ha (Lu)
    above that of the atomic-SCF guess and lacks 2.0-3.4 electrons; from it the level-shifted
    start of LuF3 settles 443 Ha above the ground state. The atomic-SCF guess (each element
    converged alone in its own basis and ECP) starts LuF3 0.6 Ha above it, and the engine
    then converges it in 17 cycles; so closed shells (Lu(III) 4f14) start from it. Open 4f
    shells keep minao: the atomic guess is spin-averaged, and NdF3 (4f3 quartet) from it needed
    every rung (179 cycles) to reach a UKS state 50 mHa above the one reached from minao.

    Examples
    --------
    >>> from pyscf import gto
    >>> lu = gto.M(atom="Lu 0 0 0; F 0 0 2", basis="def2-svp", ecp={"Lu": "def2-ecp"},
    ...            charge=2, verbose=0)
    >>> explicit_4f_atoms(lu)
    ['Lu']
    >>> explicit_4f_atoms(gto.M(atom="La 0 0 0; F 0 0 2", basis="def2-svp",
    ...                         ecp="def2-svp", charge=2, verbose=0))
    []
    """
    atoms = [(mol.atom_pure_symbol(i), mol.atom_nelec_core(i)) for i in range(mol.natm)]
    return sorted({symbol for symbol, core in atoms
                   if symbol in LANTHANIDES and ln_f_count(symbol) > 0
                   and core < large_core_electrons(symbol)})


def atomic_guess(mol) -> np.ndarray:
    """Superposition of spherically averaged atomic SCF densities (AO basis) in ``mol``'s
    own basis and ECPs, computed on the CPU."""
    from pyscf import scf

    return np.asarray((scf.RHF if mol.spin == 0 else scf.UHF)(mol).get_init_guess(key="atom"))


def sap_guess(mol) -> np.ndarray:
    """Superposition-of-atomic-potentials starting density (AO basis), computed on the CPU."""
    from pyscf import scf

    return np.asarray((scf.RHF if mol.spin == 0 else scf.UHF)(mol).get_init_guess(key="sap"))


#: guesses the engine computes itself (minao is PySCF's default: ``mf.get_init_guess()``)
_GUESS_DENSITIES: dict[str, Callable[[Any], np.ndarray]] = {"atom": atomic_guess,
                                                            "sap": sap_guess}


def _gpu_memory_record(mf, mol, settings: CalcSettings) -> dict[str, Any]:
    """Card size, the model's estimate and CuPy's pool size after the SCF (GB)."""
    solvent = getattr(mf, "with_solvent", None)
    surface = getattr(solvent, "surface", None) if solvent is not None else None
    points = len(surface["charge_exp"]) if surface is not None else 0
    lowmem = bool(getattr(solvent, "lowmem_intermediate_storage", False))
    estimate = gpu_memory_estimate(mol.nao, settings.density_fit, points, lowmem)
    return {"card_gb": round(gpu_memory_bytes() / 1e9, 2),
            "estimate_gb": round(estimate / 1e9, 2),
            "pool_gb": round(gpu_peak_bytes() / 1e9, 2),
            "pcm_surface_points": points, "pcm_lowmem": lowmem}


def _report_cycle(cycle: int, envs: dict, progress) -> None:
    energy = float(envs.get("e_tot", float("nan")))
    delta = energy - float(envs.get("last_hf_e", float("nan")))
    gradient = float(envs.get("norm_gorb", float("nan")))
    log.info("SCF cycle %3d  E = %.10f Ha  dE = %+.3e Ha  |g| = %.2e", cycle, energy, delta,
             gradient, extra={"scf_cycle": (cycle, energy, delta)})
    if progress is not None:
        progress(cycle, energy, delta)


def read_checkpoint(chkfile: str, mol) -> tuple[np.ndarray, np.ndarray] | None:
    """MO coefficients and occupations saved in a PySCF checkpoint, if they fit ``mol``.

    A missing, truncated, locked or foreign file (one without an ``scf`` group, as a job
    killed before its first SCF step leaves, or one of another molecule or spin) gives None:
    a checkpoint is only ever a starting guess.
    """
    if not os.path.isfile(chkfile):
        return None
    from pyscf.scf import chkfile as pyscf_chkfile

    try:
        data = pyscf_chkfile.load(chkfile, "scf")
        coeff, occ = np.asarray(data["mo_coeff"]), np.asarray(data["mo_occ"])
    except Exception:  # TypeError (no 'scf' group), KeyError, OSError (HDF5 lock), ...
        return None
    spin_axes = 2 if mol.spin == 0 else 3
    fits = (coeff.ndim == spin_axes and coeff.shape[-2] == mol.nao
            and occ.shape == coeff.shape[:-2] + coeff.shape[-1:]
            and np.all(np.isfinite(coeff)) and abs(occ.sum() - mol.nelectron) < 1e-6)
    return (coeff, occ) if fits else None


def _collect(mf, mol, settings, device, attempts, cycles, start) -> SCFResult:
    restricted = mol.spin == 0
    mo_energy = _numpy(mf.mo_energy)
    mo_occ = _numpy(mf.mo_occ)
    mo_coeff = _numpy(mf.mo_coeff)
    overlap = _numpy(mf.get_ovlp())
    if restricted:
        sc = overlap @ mo_coeff
        fock = (sc * mo_energy) @ sc.T
    else:
        fock = np.stack(
            [(overlap @ c * e) @ (overlap @ c).T for c, e in zip(mo_coeff, mo_energy, strict=True)]
        )
    spin_square = None
    if not restricted:  # the GPU object's own <S^2>: no CPU copy of a DF+PCM UKS
        spin_square = float(mf.spin_square()[0])
    solvent_energy = None
    with_solvent = getattr(mf, "with_solvent", None)
    if with_solvent is not None and getattr(with_solvent, "e", None) is not None:
        solvent_energy = float(_numpy(with_solvent.e))
    ao_atom, ao_l, ao_labels = ao_metadata(mol)
    basis_names, ecp_names = basis_plan(
        [mol.atom_pure_symbol(i) for i in range(mol.natm)], settings)
    return SCFResult(
        converged=True,
        restricted=restricted,
        e_tot=float(_numpy(mf.e_tot)),
        mo_energy=mo_energy,
        mo_occ=mo_occ,
        mo_coeff=mo_coeff,
        overlap=overlap,
        fock=fock,
        ao_atom=ao_atom,
        ao_l=ao_l,
        ao_labels=ao_labels,
        n_electrons=int(mol.nelectron),
        n_core_ecp=int(sum(mol.atom_nelec_core(i) for i in range(mol.natm))),
        nao=int(mol.nao),
        nmo=int(mo_coeff.shape[-1]),
        basis_by_element=basis_names,
        ecp_by_element=ecp_names,
        cycles=cycles,
        attempts=attempts,
        device=device,
        device_name=device_name(device),
        wall_s=time.perf_counter() - start,
        versions=code_versions(),
        spin_square=spin_square,
        solvent_energy=solvent_energy,
        scf_state=scf_state(mo_energy, mo_occ, restricted, spin_square),
        multiplicity=int(mol.spin) + 1,
    )


def scf_state(mo_energy: np.ndarray, mo_occ: np.ndarray, restricted: bool,
              spin_square: float | None = None) -> dict[str, Any]:
    """The electronic state an SCF reached: electrons per spin, aufbau or not, <S^2>.

    Two runs (GPU and CPU guesses differ) are in the same state when these agree. ``holes``
    lists the empty orbitals (per channel) more than 1e-6 Ha below the highest occupied one
    (:func:`~superatom.engine.fixed_occupation.holes`; closer levels are ties).

    Examples
    --------
    >>> e = np.array([[-1.0, -0.5, 0.2], [-0.9, -0.4, 0.3]])
    >>> occ = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    >>> scf_state(e, occ, restricted=False, spin_square=0.76)["n_alpha"]
    2
    >>> scf_state(np.array([-1.0, 0.1, 0.2]), np.array([2.0, 0.0, 2.0]), True)["aufbau"]
    False
    """
    channels = [mo_occ / 2, mo_occ / 2] if restricted else list(mo_occ)
    empty_below = holes(mo_energy, mo_occ)  # one definition with the ladder's is_aufbau
    if restricted:
        empty_below = empty_below * 2
    n_alpha, n_beta = (round(float(c.sum())) for c in channels)
    state: dict[str, Any] = {"n_alpha": n_alpha, "n_beta": n_beta, "aufbau": not any(empty_below),
                             "holes": empty_below if any(empty_below) else []}
    if spin_square is not None:
        s = abs(n_alpha - n_beta) / 2
        state["spin_square"] = round(float(spin_square), 6)
        state["spin_contamination"] = round(float(spin_square) - s * (s + 1), 6)
    return state
