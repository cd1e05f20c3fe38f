"""The one module that talks to PySCF and GPU4PySCF.

Everything else in superatom receives plain numpy arrays from here: energies in Hartree,
coordinates in Bohr inside, pymatgen ``Molecule`` (Angstrom) at the edges.

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.calc_settings import load_preset
>>> from superatom.workflows.engine import run_scf
>>> water = Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.757, 0.587], [0, -0.757, 0.587]])
>>> result = run_scf(water, load_preset("fast", device="cpu"))
>>> result.converged, result.restricted
(True, True)
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.errors import InputError, SCFNotConvergedError

HEAVY_Z = 36  # elements beyond Kr get an effective core potential when the basis has one


@dataclass
class SCFResult:
    """Plain-numpy outcome of one converged SCF (Hartree, Bohr).

    Spin-resolved arrays have a leading axis of 2 (alpha, beta) when ``restricted`` is False.
    ``fock`` is rebuilt as ``S C diag(e) C^T S``, exact for a converged SCF in a complete MO set.
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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def density_matrix(self) -> np.ndarray:
        """AO density matrix (total for RKS, (2, nao, nao) for UKS)."""
        if self.restricted:
            occ_c = self.mo_coeff * self.mo_occ
            return occ_c @ self.mo_coeff.T
        return np.stack([(c * o) @ c.T for c, o in zip(self.mo_coeff, self.mo_occ, strict=True)])


# --------------------------------------------------------------------------- device


@lru_cache(maxsize=1)
def gpu_available() -> bool:
    """True when gpu4pyscf imports and CuPy sees at least one CUDA device.

    Both an ``ImportError`` (no CUDA libraries) and a CUDA runtime error (no device)
    mean no GPU.

    Examples
    --------
    >>> isinstance(gpu_available(), bool)
    True
    """
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False
        import gpu4pyscf  # noqa: F401
    except Exception:
        return False
    return True


def resolve_device(requested: str) -> str:
    """Map ``auto|cpu|gpu`` to the device that will run; ``gpu`` without one is an error."""
    if requested == "cpu":
        return "cpu"
    if requested == "gpu":
        if not gpu_available():
            raise InputError(
                "device=gpu asked for but no CUDA GPU with gpu4pyscf is available: "
                "install 'superatom[gpu]' on a GPU node or use device=cpu"
            )
        return "gpu"
    return "gpu" if gpu_available() else "cpu"


def device_name(device: str) -> str:
    """Human-readable name of the CPU or GPU that ran the job."""
    if device == "gpu":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} cores)"


def code_versions() -> dict[str, str]:
    """Versions of the codes that shape a result."""
    import numpy
    import pymatgen.core
    import pyscf
    import scipy

    import superatom

    versions = {
        "superatom": superatom.__version__,
        "pyscf": pyscf.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pymatgen": getattr(pymatgen.core, "__version__", "unknown"),
        "python": platform.python_version(),
    }
    if gpu_available():
        import cupy
        import gpu4pyscf

        versions["gpu4pyscf"] = gpu4pyscf.__version__
        versions["cupy"] = cupy.__version__
    return versions


# --------------------------------------------------------------------------- molecule


def _basis_has(basis: str, element: str) -> bool:
    from pyscf import gto

    try:
        return bool(gto.basis.load(basis, element))
    except Exception:
        return False


def _ecp_has(ecp: str, element: str) -> bool:
    from pyscf import gto

    try:
        return bool(gto.basis.load_ecp(ecp, element))
    except Exception:
        return False


def basis_plan(elements: list[str], settings: CalcSettings) -> tuple[dict, dict]:
    """Choose basis and ECP per element.

    Elements beyond Kr get the basis's own ECP (``ecp='auto'``); an element the main basis
    lacks (Ce-Yb in def2) gets ``settings.fallback_basis`` with its matching ECP. An element
    that neither covers is an :class:`InputError`.

    Examples
    --------
    >>> from superatom.calc_settings import load_preset
    >>> basis, ecp = basis_plan(["W", "O", "Gd"], load_preset("fast"))
    >>> basis["W"], ecp["W"], basis["Gd"]
    ('def2-svp', 'def2-svp', 'stuttgart_rsc')
    """
    from pymatgen.core import Element

    basis: dict[str, str] = {}
    ecp: dict[str, str] = {}
    for symbol in sorted(set(elements)):
        chosen = settings.basis
        if not _basis_has(chosen, symbol):
            chosen = settings.fallback_basis
            if not _basis_has(chosen, symbol):
                raise InputError(
                    f"basis '{settings.basis}' (and fallback '{settings.fallback_basis}') has no "
                    f"functions for {symbol}: choose another basis with --set basis=..."
                )
        basis[symbol] = chosen
        if settings.ecp is not None and Element(symbol).Z > HEAVY_Z:
            ecp_name = chosen if settings.ecp == "auto" else settings.ecp
            if _ecp_has(ecp_name, symbol):
                ecp[symbol] = ecp_name
    return basis, ecp


def check_molecule(molecule: Molecule, min_distance: float = 0.5) -> None:
    """Reject geometries no SCF should see: overlapping atoms and empty molecules.

    Parameters
    ----------
    min_distance : float
        Smallest allowed interatomic distance in Angstrom.
    """
    if len(molecule) == 0:
        raise InputError("the molecule has no atoms: check the input file")
    if len(molecule) > 1:
        from scipy.spatial import cKDTree

        distance, neighbour = cKDTree(molecule.cart_coords).query(molecule.cart_coords, k=2)
        first = int(np.argmin(distance[:, 1]))
        closest = float(distance[first, 1])
        i, j = sorted((first, int(neighbour[first, 1])))
        if closest < min_distance:
            raise InputError(
                f"atoms {i + 1} ({molecule[i].specie}) and {j + 1} ({molecule[j].specie}) are "
                f"{closest:.3f} A apart (< {min_distance} A): fix the geometry"
            )


def build_mole(molecule: Molecule, settings: CalcSettings, verbose: int = 0):
    """PySCF ``Mole`` for a pymatgen Molecule with checked ECPs, charge and spin.

    Raises :class:`InputError` when charge and multiplicity do not fit the electron count
    or when an element beyond Kr ends up without an ECP although one was requested.
    """
    from pyscf import gto

    check_molecule(molecule)
    symbols = [site.specie.symbol for site in molecule]
    basis, ecp = basis_plan(symbols, settings)
    mol = gto.Mole()
    mol.atom = [(s, tuple(site.coords)) for s, site in zip(symbols, molecule, strict=True)]
    mol.unit = "Angstrom"
    mol.basis = basis
    mol.ecp = ecp
    mol.charge = round(molecule.charge)
    mol.spin = int(molecule.spin_multiplicity) - 1
    mol.verbose = verbose
    mol.max_memory = settings.max_memory_mb
    try:
        mol.build(parse_arg=False, dump_input=False)
    except RuntimeError as err:
        raise InputError(
            f"charge {mol.charge} and multiplicity {molecule.spin_multiplicity} do not fit the "
            f"electron count: {err}".splitlines()[0]
        ) from None
    for index, symbol in enumerate(symbols):
        if symbol in ecp and mol.atom_nelec_core(index) == 0:
            raise InputError(f"ECP '{ecp[symbol]}' was not applied to {symbol}: report this bug")
    return mol


def _ao_metadata(mol) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ao_loc = mol.ao_loc_nr()
    ao_atom = np.empty(mol.nao, dtype=int)
    ao_l = np.empty(mol.nao, dtype=int)
    for shell in range(mol.nbas):
        ao_atom[ao_loc[shell] : ao_loc[shell + 1]] = mol.bas_atom(shell)
        ao_l[ao_loc[shell] : ao_loc[shell + 1]] = mol.bas_angular(shell)
    return ao_atom, ao_l, [label.strip() for label in mol.ao_labels()]


# --------------------------------------------------------------------------- SCF


def _numpy(array) -> np.ndarray:
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else (
        np.asarray(array)
    )


def _make_scf(mol, settings: CalcSettings, device: str):
    restricted = mol.spin == 0
    if device == "gpu":
        from gpu4pyscf import dft as gdft

        mf = (gdft.RKS if restricted else gdft.UKS)(mol, xc=settings.xc)
    else:
        from pyscf import dft

        mf = (dft.RKS if restricted else dft.UKS)(mol, xc=settings.xc)
    mf.grids.level = settings.grids_level
    mf.conv_tol = settings.conv_tol
    mf.max_cycle = settings.max_cycle
    mf.max_memory = settings.max_memory_mb
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
    if settings.solvent == "pcm":
        mf = mf.PCM()
        mf.with_solvent.method = "C-PCM"
        mf.with_solvent.eps = settings.solvent_eps
    elif settings.solvent == "smd":
        mf = mf.SMD()
        mf.with_solvent.solvent = settings.solvent_name
    return mf


def _ladder(settings: CalcSettings) -> list[dict[str, Any]]:
    rungs = [{"name": "diis"}]
    if settings.fallback_ladder:
        rungs += [
            {"name": "level_shift+damping", "level_shift": 0.3, "damp": 0.5, "diis_start": 6},
            {"name": "newton"},
        ]
    return rungs


def run_scf(
    molecule: Molecule,
    settings: CalcSettings,
    initial_dm: np.ndarray | None = None,
    chkfile: str | None = None,
) -> SCFResult:
    """Run a Kohn-Sham SCF and return plain arrays; raise if it never converges.

    RKS for singlets, UKS otherwise. An unconverged SCF is retried from its last density
    with level shift + damping, then with second-order (Newton) SCF; if every rung fails,
    :class:`SCFNotConvergedError` is raised and nothing is reported as a result.

    Parameters
    ----------
    molecule : pymatgen.core.Molecule
        Geometry in Angstrom with ``charge`` and ``spin_multiplicity``.
    settings : CalcSettings
        Functional, basis, solvent, device, ...
    initial_dm : numpy.ndarray, optional
        Starting AO density matrix (e.g. superposition of monomer densities).
    chkfile : str, optional
        PySCF checkpoint file; an existing one is used as the starting guess (restart after
        a walltime kill) and it is updated as the SCF proceeds.

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
    device = resolve_device(settings.device)
    mol = build_mole(molecule, settings)
    mf = _make_scf(mol, settings, device)
    dm = initial_dm
    guess = "minao" if dm is None else "initial_dm"
    if chkfile and os.path.exists(chkfile):  # restart after a walltime kill or a crash
        from pyscf import scf as pyscf_scf

        try:
            dm = mf.make_rdm1(*_chk_orbitals(pyscf_scf, chkfile))
            guess = "checkpoint"
        except (KeyError, OSError, ValueError):
            pass  # unreadable or foreign checkpoint: keep the other guess
    if chkfile:
        mf.chkfile = chkfile
    attempts: list[dict[str, Any]] = []
    total_cycles = 0
    converged = False
    for rung in _ladder(settings):
        mf.level_shift = rung.get("level_shift", 0.0)
        mf.damp = rung.get("damp", 0.0)
        mf.diis_start_cycle = rung.get("diis_start", 1)
        try:
            solver = mf.newton() if rung["name"] == "newton" else mf
        except (AttributeError, NotImplementedError):  # no second-order solver on this path
            attempts.append({"solver": rung["name"], "cycles": 0, "converged": False,
                             "e_tot": None, "wall_s": 0.0, "note": "not available"})
            continue
        cycles = {"n": 0}

        def count(envs, cycles=cycles):
            cycles["n"] += 1

        solver.callback = count
        rung_start = time.perf_counter()
        energy = solver.kernel(dm0=dm)
        converged = bool(solver.converged)
        attempts.append(
            {
                "solver": rung["name"],
                "cycles": cycles["n"],
                "converged": converged,
                "e_tot": float(energy),
                "wall_s": round(time.perf_counter() - rung_start, 3),
            }
        )
        total_cycles += cycles["n"]
        if converged:
            if solver is not mf:
                for name in ("mo_energy", "mo_occ", "mo_coeff", "e_tot", "converged"):
                    setattr(mf, name, getattr(solver, name))
            break
        dm = solver.make_rdm1()
    if not converged:
        raise SCFNotConvergedError(
            f"SCF of {molecule.composition.reduced_formula} did not converge after "
            f"{total_cycles} cycles over {len(attempts)} solvers: loosen conv_tol, raise "
            "max_cycle or check charge/multiplicity and geometry",
            attempts=attempts,
        )
    # final clean-up: level shift must not stay in the reported orbital energies
    mf.level_shift = 0.0
    result = _collect(mf, mol, settings, device, attempts, total_cycles, start)
    result.extra["guess"] = guess
    return result


def _chk_orbitals(pyscf_scf, chkfile: str):
    data = pyscf_scf.chkfile.load(chkfile, "scf")
    return np.asarray(data["mo_coeff"]), np.asarray(data["mo_occ"])


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
    if not restricted:
        cpu_mf = mf.to_cpu() if device == "gpu" else mf
        spin_square = float(cpu_mf.spin_square()[0])
    solvent_energy = None
    with_solvent = getattr(mf, "with_solvent", None)
    if with_solvent is not None and getattr(with_solvent, "e", None) is not None:
        solvent_energy = float(_numpy(with_solvent.e))
    ao_atom, ao_l, ao_labels = _ao_metadata(mol)
    basis, ecp = basis_plan([mol.atom_pure_symbol(i) for i in range(mol.natm)], settings)
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
        basis_by_element=basis,
        ecp_by_element=ecp,
        cycles=cycles,
        attempts=attempts,
        device=device,
        device_name=device_name(device),
        wall_s=time.perf_counter() - start,
        versions=code_versions(),
        spin_square=spin_square,
        solvent_energy=solvent_energy,
    )


# --------------------------------------------------------------------------- orbitals on grids


def ao_values(molecule: Molecule, settings: CalcSettings, coords_bohr: np.ndarray) -> np.ndarray:
    """Atomic-orbital values ``(npoints, nao)`` at Cartesian points given in Bohr."""
    mol = build_mole(molecule, settings)
    return np.asarray(mol.eval_gto("GTOval_sph", np.asarray(coords_bohr, dtype=float)))


def orbital_values(
    molecule: Molecule, settings: CalcSettings, mo_coeff: np.ndarray, coords_bohr: np.ndarray
) -> np.ndarray:
    """Molecular-orbital values ``(npoints, nmo)`` for coefficient columns ``mo_coeff``."""
    return ao_values(molecule, settings, coords_bohr) @ np.asarray(mo_coeff)


def write_cube(
    molecule: Molecule,
    settings: CalcSettings,
    mo_vector: np.ndarray,
    path: str,
    resolution_bohr: float = 0.25,
) -> str:
    """Write one orbital (AO coefficient vector) as a Gaussian cube file; returns the path."""
    from pyscf.tools import cubegen

    mol = build_mole(molecule, settings)
    cubegen.orbital(mol, path, np.asarray(mo_vector), resolution=resolution_bohr)
    return path


def write_molden(
    molecule: Molecule,
    settings: CalcSettings,
    mo_coeff: np.ndarray,
    mo_energy: np.ndarray,
    mo_occ: np.ndarray,
    path: str,
) -> str:
    """Write geometry, basis and orbitals in Molden format (alpha/beta for UKS)."""
    from pyscf.tools import molden

    mol = build_mole(molecule, settings)
    with open(path, "w") as handle:
        molden.header(mol, handle)
        if np.ndim(mo_energy) == 2:
            molden.orbital_coeff(mol, handle, mo_coeff[0], ene=mo_energy[0], occ=mo_occ[0],
                                 spin="Alpha")
            molden.orbital_coeff(mol, handle, mo_coeff[1], ene=mo_energy[1], occ=mo_occ[1],
                                 spin="Beta", ignore_h=True)
        else:
            molden.orbital_coeff(mol, handle, mo_coeff, ene=mo_energy, occ=mo_occ)
    return path


def run_tda(molecule: Molecule, settings: CalcSettings, nstates: int = 3) -> dict[str, Any]:
    """Lowest singlet (or spin-conserving, for UKS) TDA excitations after a fresh SCF.

    Returns
    -------
    dict
        ``energies_ev`` (excitation energies, eV), ``oscillator_strengths``, ``converged``
        and ``wall_s``.
    """
    from superatom import HARTREE_TO_EV

    start = time.perf_counter()
    device = resolve_device(settings.device)
    mol = build_mole(molecule, settings)
    mf = _make_scf(mol, settings, device)
    mf.kernel()
    if not mf.converged:
        raise SCFNotConvergedError(
            f"ground-state SCF of {molecule.composition.reduced_formula} did not converge "
            "before TDA: loosen conv_tol or check the geometry"
        )
    td = mf.TDA()
    td.nstates = nstates
    td.kernel()
    energies = _numpy(td.e) * HARTREE_TO_EV
    strengths = _numpy(td.oscillator_strength())
    converged = np.atleast_1d(_numpy(td.converged)).astype(bool)
    return {
        "energies_ev": energies.tolist(),
        "oscillator_strengths": strengths.tolist(),
        "converged": bool(converged.all()),
        "device": device,
        "wall_s": time.perf_counter() - start,
    }


def ao_layout(molecule: Molecule, settings: CalcSettings) -> np.ndarray:
    """Atom index of every AO for ``molecule`` in ``settings``' basis, without any SCF.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> from superatom.calc_settings import load_preset
    >>> h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    >>> ao_layout(h2, load_preset("fast")).tolist()
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """
    return _ao_metadata(build_mole(molecule, settings))[0]


def orbital_values_blocked(
    molecule: Molecule,
    settings: CalcSettings,
    mo_coeff: np.ndarray,
    coords_bohr: np.ndarray,
    max_points: int = 20000,
) -> np.ndarray:
    """Like :func:`orbital_values` (``(npoints, nmo)``, points in Bohr) for many points.

    The Mole is built once and AO values are evaluated ``max_points`` at a time, so memory
    stays near ``max_points x nao`` doubles even for large clusters on fine grids.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> from superatom.calc_settings import load_preset
    >>> h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    >>> vals = orbital_values_blocked(h2, load_preset("fast"), np.eye(10)[:, :1],
    ...                               np.zeros((5, 3)), max_points=2)
    >>> vals.shape
    (5, 1)
    """
    mol = build_mole(molecule, settings)
    coeff = np.asarray(mo_coeff)
    points = np.asarray(coords_bohr, dtype=float).reshape(-1, 3)
    out = np.empty((len(points), coeff.shape[1]))
    for start in range(0, len(points), max_points):
        block = points[start : start + max_points]
        out[start : start + len(block)] = mol.eval_gto("GTOval_sph", block) @ coeff
    return out
