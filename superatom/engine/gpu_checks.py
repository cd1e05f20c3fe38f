"""Checks that run before any GPU work: versions, solvent models, basis limits, failures.

Everything here inspects a built PySCF ``Mole`` and the settings on the CPU, so each guard is
tested without a GPU. A problem is reported as one line that says what to change.

Limits of GPU4PySCF 1.9 that these guards encode:

* orbital basis functions up to g (l = 4) and auxiliary functions up to i (l = 6) in the DF,
  ECP and PCM integral kernels;
* ECP projectors up to g (l = 4); ``stuttgart_rsc`` for Ce-Yb has g projectors, exactly at the
  limit, so it is allowed;
* versions before 1.8.0 overflow 32-bit PCM indices above about 46 000 surface points, and
  before 1.9.0 the solvent wrapper drops the previous Fock matrix, which switches damping off.

Examples
--------
>>> check_gpu4pyscf_version("1.9.0")
>>> check_gpu4pyscf_version("1.7.2")
Traceback (most recent call last):
...
superatom.errors.InputError: gpu4pyscf 1.7.2 is too old ...
"""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from superatom.calc_settings import CalcSettings
from superatom.engine.mole import HEAVY_Z
from superatom.errors import InputError

MIN_GPU4PYSCF = "1.8.0"  # PCM index overflow above ~46k surface points fixed
DAMPED_SOLVENT_GPU4PYSCF = "1.9.0"  # solvent wrapper passes the previous Fock to damping
GPU_MAX_L = 4
GPU_MAX_AUX_L = 6
GPU_MAX_ECP_L = 4
L_LETTERS = "spdfghiklm"


def check_gpu4pyscf_version(version: str) -> None:
    """Refuse GPU4PySCF builds with known wrong PCM numbers (< 1.8.0).

    Parameters
    ----------
    version : str
        ``gpu4pyscf.__version__``.
    """
    if Version(version) < Version(MIN_GPU4PYSCF):
        raise InputError(
            f"gpu4pyscf {version} is too old (PCM indices overflow above ~46k surface points): "
            f"pip install 'gpu4pyscf-cuda12x>={MIN_GPU4PYSCF}' (1.9 preferred) or use device=cpu"
        )


def effective_rung(rung: dict[str, Any], device: str, solvent: str,
                   gpu4pyscf_version: str | None = None) -> dict[str, Any]:
    """The solver parameters a fallback-ladder rung really applies on ``device``.

    PySCF damps the first ``diis_start - 1`` cycles. GPU4PySCF before 1.9.0 with a solvent
    model calls ``get_fock`` without the previous Fock matrix, so damping silently does
    nothing there: the rung is level shift only and is recorded as such.

    Parameters
    ----------
    rung : dict
        ``name`` plus optional ``level_shift`` (Hartree), ``damp`` and ``diis_start``.
    device : str
        ``'cpu'`` or ``'gpu'``.
    solvent : str
        ``'none'``, ``'pcm'`` or ``'smd'``.
    gpu4pyscf_version : str, optional
        Installed GPU4PySCF version (only used on the GPU).

    Returns
    -------
    dict
        ``name`` (what ran, e.g. ``'level_shift'``), ``requested`` (the rung's name),
        ``level_shift``, ``damp``, ``diis_start`` and a ``note`` when something was dropped.

    Examples
    --------
    >>> rung = {"name": "level_shift+damping", "level_shift": 0.3, "damp": 0.5, "diis_start": 6}
    >>> effective_rung(rung, "cpu", "pcm")["damp"]
    0.5
    >>> gpu = effective_rung(rung, "gpu", "pcm", "1.8.1")
    >>> gpu["name"], gpu["damp"], gpu["level_shift"]
    ('level_shift', 0.0, 0.3)
    >>> effective_rung(rung, "gpu", "pcm", "1.9.0")["name"]
    'level_shift+damping'
    """
    applied = {
        "name": rung["name"],
        "requested": rung["name"],
        "level_shift": float(rung.get("level_shift", 0.0)),
        "damp": float(rung.get("damp", 0.0)),
        "diis_start": int(rung.get("diis_start", 1)),
    }
    damping_lost = (
        device == "gpu" and solvent != "none" and applied["damp"] > 0
        and (gpu4pyscf_version is None
             or Version(gpu4pyscf_version) < Version(DAMPED_SOLVENT_GPU4PYSCF))
    )
    if damping_lost:
        applied["damp"] = 0.0
        applied["name"] = "level_shift" if applied["level_shift"] > 0 else "diis"
        applied["note"] = (f"damping is ignored by the GPU4PySCF {gpu4pyscf_version} solvent "
                           f"wrapper (fixed in {DAMPED_SOLVENT_GPU4PYSCF})")
    return applied


def _ecp_elements(mol) -> list[str]:
    return sorted({mol.atom_pure_symbol(i) for i in range(mol.natm) if mol.atom_nelec_core(i)})


def check_solvent(mol, settings: CalcSettings) -> None:
    """Refuse SMD with ECP atoms and unknown SMD solvents, on any device, before the SCF.

    SMD's non-electrostatic term looks atoms up by their effective charge, so an ECP atom is
    treated as a lighter element (W as Si, La as Na) in PySCF and GPU4PySCF alike.

    Examples
    --------
    >>> from pyscf import gto
    >>> mol = gto.M(atom="Mo 0 0 0; O 0 0 1.7", basis="def2-svp", ecp={"Mo": "def2-svp"},
    ...             verbose=0)
    >>> check_solvent(mol, CalcSettings(solvent="smd"))
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: SMD treats ECP atoms (Mo) as lighter elements ...
    """
    if settings.solvent != "smd":
        return
    ecp_atoms = _ecp_elements(mol)
    if ecp_atoms:
        raise InputError(
            f"SMD treats ECP atoms ({', '.join(ecp_atoms)}) as lighter elements (non-electrostatic "
            "term looked up by effective charge): use solvent=pcm"
        )
    from pyscf.solvent.smd import solvent_db

    if settings.solvent_name not in solvent_db:
        close = [name for name in solvent_db if settings.solvent_name.lower() in name]
        hint = f" (did you mean {', '.join(close[:3])}?)" if close else ""
        raise InputError(
            f"unknown SMD solvent '{settings.solvent_name}'{hint}: set solvent_name to a name "
            "in pyscf.solvent.smd.solvent_db, e.g. water"
        )


def _max_l(mol) -> tuple[int, str]:
    """Highest angular momentum of ``mol``'s shells and one element that carries it."""
    top, where = -1, ""
    for shell in range(mol.nbas):
        l_value = int(mol.bas_angular(shell))
        if l_value > top:
            top, where = l_value, mol.atom_pure_symbol(mol.bas_atom(shell))
    return top, where


def gpu_basis_problem(mol, settings: CalcSettings) -> str | None:
    """Why GPU4PySCF cannot take this basis, as one line, or None when it can.

    Checks the orbital basis (l <= 4), the ECP projectors (l <= 4), and with density fitting
    the auxiliary basis (l <= 6), which must be named explicitly when heavy elements are
    present (PySCF's automatic even-tempered choice gives them high-l functions).

    Examples
    --------
    >>> from pyscf import gto
    >>> mol = gto.M(atom="O 0 0 0; H 0 0 0.96", basis="def2-svp", spin=1, verbose=0)
    >>> gpu_basis_problem(mol, CalcSettings()) is None
    True
    """
    l_orb, where = _max_l(mol)
    if l_orb > GPU_MAX_L:
        return (f"orbital basis has {L_LETTERS[l_orb]} functions on {where} (GPU kernels stop at "
                f"l={GPU_MAX_L}): choose a smaller basis or device=cpu")
    if mol.has_ecp():
        from pyscf.gto import ANG_OF

        ecp_l = mol._ecpbas[:, ANG_OF]
        if ecp_l.size and int(ecp_l.max()) > GPU_MAX_ECP_L:
            atom = mol.atom_pure_symbol(int(mol._ecpbas[int(ecp_l.argmax()), 0]))
            return (f"ECP of {atom} has {L_LETTERS[int(ecp_l.max())]} projectors (GPU stops at "
                    f"l={GPU_MAX_ECP_L}): choose another ECP or device=cpu")
    if not settings.density_fit:
        return None
    from pyscf.data.elements import charge

    heavy = sorted({mol.atom_pure_symbol(i) for i in range(mol.natm)
                    if charge(mol.atom_pure_symbol(i)) > HEAVY_Z})
    if settings.aux_basis is None and heavy:
        return (f"density fitting on the GPU with heavy elements ({', '.join(heavy)}) needs an "
                "explicit auxiliary basis: set aux_basis=def2-universal-jkfit")
    from pyscf.df.addons import make_auxmol

    try:
        auxmol = make_auxmol(mol, settings.aux_basis)
    except (KeyError, RuntimeError, ValueError, OSError):
        return (f"auxiliary basis '{settings.aux_basis}' does not cover every element: "
                "choose another aux_basis")
    return auxiliary_l_problem(auxmol, settings.aux_basis)


def auxiliary_l_problem(auxmol, name: str | None) -> str | None:
    """One line when the auxiliary basis ``auxmol`` (a PySCF ``Mole``) has shells beyond
    what the GPU DF kernels take (l > 6), else None.

    Examples
    --------
    >>> from pyscf import gto
    >>> aux = gto.M(atom="He 0 0 0", basis={"He": [[7, [1.0, 1.0]]]}, verbose=0)
    >>> auxiliary_l_problem(aux, "custom")
    "auxiliary basis 'custom' has k functions on He (GPU stops at l=6): ..."
    """
    l_aux, where = _max_l(auxmol)
    if l_aux > GPU_MAX_AUX_L:
        return (f"auxiliary basis '{name}' has {L_LETTERS[l_aux]} functions on {where} (GPU "
                f"stops at l={GPU_MAX_AUX_L}): choose another aux_basis or device=cpu")
    return None


GPU_FAILURE_MARKERS = (
    ("OutOfMemoryError", "GPU out of memory"),
    ("no kernel image", "GPU4PySCF was built for another GPU architecture (no kernel image)"),
    ("CUDARuntimeError", "CUDA runtime error"),
    ("CUDADriverError", "CUDA driver error"),
    ("CUBLASError", "cuBLAS error"),
    ("CUSOLVERError", "cuSOLVER error"),
    ("cudaError", "CUDA error"),
    ("CUDA Error", "CUDA error"),
    ("kernel", "GPU integral kernel error"),
)


def gpu_failure_reason(error: BaseException) -> str | None:
    """A one-line reason when ``error`` comes from the GPU stack, else None.

    Recognises CuPy's ``OutOfMemoryError``, CUDA runtime/driver errors (by class name or
    message, e.g. "no kernel image is available") and GPU4PySCF kernel failures.

    Examples
    --------
    >>> gpu_failure_reason(RuntimeError("cudaErrorNoKernelImageForDevice: no kernel image"))
    'GPU4PySCF was built for another GPU architecture (no kernel image): ...'
    >>> gpu_failure_reason(ValueError("bad shape")) is None
    True
    """
    names = [cls.__name__ for cls in type(error).__mro__]
    module = type(error).__module__ or ""
    text = f"{' '.join(names)} {error}"
    gpu_origin = module.startswith(("cupy", "cupy_backends", "gpu4pyscf"))
    for marker, reason in GPU_FAILURE_MARKERS:
        if marker in text and (marker != "kernel" or gpu_origin or "CUDA" in text):
            first = str(error).strip().splitlines()[0] if str(error).strip() else names[0]
            return f"{reason}: {first[:160]}"
    return None
